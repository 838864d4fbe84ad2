package email

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
)

// DefaultAckEvery is how often one sender gets an acknowledgement at
// most (Acknowledge.Every).
const DefaultAckEvery = time.Hour

// ackClientID is the client id of a contact's acknowledgement: the
// router stores one per contact, so a replay never sends a second.
const ackClientID = "email-acknowledgement"

// AckRouter is what acknowledgements need of the router; *router.Router
// implements it.
type AckRouter interface {
	AddMessage(ctx context.Context, contactID string, m router.Message) (router.Message, bool, error)
	Snapshot() *router.Snapshot
}

var _ AckRouter = (*router.Router)(nil)

// Acknowledge configures the automatic answer to an email that starts a
// contact: its reference token and, when the queue is closed, when it
// opens (the queue's business hours). Never to automatic mail (RFC
// 3834), at most one a contact, and one a sender per Every; it goes
// out through the outbox with Auto-Submitted: auto-replied.
type Acknowledge struct {
	Router AckRouter
	// Every: zero means DefaultAckEvery.
	Every time.Duration
	// Now is the clock of the hours and the rate; nil is time.Now.
	Now func() time.Time
}

// acker sends acknowledgements. Safe for concurrent use.
type acker struct {
	a  Acknowledge
	mu sync.Mutex
	// last is when each sender was last acknowledged. Guarded by mu.
	last map[string]time.Time
}

func newAcker(a *Acknowledge) *acker {
	if a == nil || a.Router == nil {
		return nil
	}
	if a.Every <= 0 {
		a.Every = DefaultAckEvery
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	return &acker{a: *a, last: map[string]time.Time{}}
}

// acknowledge answers m, the first message of contact c (just created)
// of queue, unless it is automatic mail or its sender was answered within
// Every. The router keeps one acknowledgement a contact (its client id).
func (k *acker) acknowledge(ctx context.Context, c router.Contact, queue string, m *Mail) error {
	if k == nil || Automatic(m) != "" || !validEmail(m.From.Address) {
		return nil
	}
	now := k.a.Now()
	from := strings.ToLower(m.From.Address)
	k.mu.Lock()
	if t, ok := k.last[from]; ok && now.Sub(t) < k.a.Every {
		k.mu.Unlock()
		return nil
	}
	k.last[from] = now
	for s, t := range k.last {
		if now.Sub(t) >= k.a.Every {
			delete(k.last, s)
		}
	}
	k.mu.Unlock()
	_, _, err := k.a.Router.AddMessage(ctx, c.ID, router.Message{Direction: "out", AuthorKind: router.AuthorSystem,
		ClientID: ackClientID, Body: ackText(c.ID, k.a.Router.Snapshot(), queue, now)})
	if router.CodeOf(err) == router.CodeNoContact {
		return nil // ended already: nothing to acknowledge
	}
	return err
}

// ackText is the acknowledgement's text.
func ackText(contactID string, snap *router.Snapshot, queue string, now time.Time) string {
	var b strings.Builder
	b.WriteString("Thank you for your email. We have received it under the reference ")
	b.WriteString(SubjectToken(contactID))
	b.WriteString("; please keep it in the subject when you write again.")
	if cal := snap.Hours(queue); cal != nil && !cal.Open(now) {
		if next, ok := cal.NextOpen(now); ok {
			b.WriteString(" We are closed now and answer from " + next.Format("Monday 2 January 15:04") + ".")
		}
	}
	b.WriteString("\n\nThis is an automatic message.")
	return b.String()
}
