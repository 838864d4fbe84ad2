package email

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Mailbox states (MailboxStatus.State).
const (
	StateConnecting = "connecting"
	StateOK         = "ok"
	StateFailing    = "failing"
	StateStopped    = "stopped"
)

// MailboxStatus is where one mailbox stands, for /readyz and the logs.
type MailboxStatus struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Error is the last failure while failing: what the server or the
	// network said (never a password).
	Error    string    `json:"error,omitempty"`
	Failures int       `json:"failures,omitempty"`
	Since    time.Time `json:"since"`
	// NextAttempt is when a failing mailbox connects again.
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// UIDValidity and LastUID are the checkpoint: what is committed.
	UIDValidity uint32 `json:"uid_validity,omitempty"`
	LastUID     uint32 `json:"last_uid,omitempty"`
	// Taken counts the messages taken in since the channel started.
	Taken int64 `json:"taken"`
	// Swept is when the last resynchronisation's sweep ended (zero
	// before the first), and SweptIn how many messages the sweeps took
	// in that had been missed (docs/email.md): above 0, something
	// skipped mail and the safety net caught it.
	Swept   time.Time `json:"swept,omitzero"`
	SweptIn int64     `json:"swept_in,omitempty"`
	// Idle says the server pushes new mail (IDLE); otherwise it is
	// polled.
	Idle bool `json:"idle"`
	// Waiting says the mailbox is caught up and waits for new mail (in
	// IDLE, acknowledged by the server, or between polls).
	Waiting bool `json:"waiting"`
}

// Channel reads the mailboxes: one fetcher each, on its own goroutine,
// with its own reconnects. It is safe for concurrent use.
type Channel struct {
	o        Options
	ack      *acker // nil without Options.Acknowledge
	fetchers []*fetcher
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// New checks o and returns the channel; Start it.
func New(o Options) (*Channel, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ch := &Channel{o: o, ack: newAcker(o.Acknowledge)}
	for _, mb := range o.Mailboxes {
		ch.fetchers = append(ch.fetchers, &fetcher{ch: ch, mb: mb, log: o.Logger.With("mailbox", mb.Name),
			status: MailboxStatus{Name: mb.Name, State: StateStopped}})
	}
	return ch, nil
}

// Start starts a fetcher per mailbox; each connects, catches up from its
// checkpoint, then waits for new mail until Close.
func (ch *Channel) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	ch.cancel = cancel
	for _, f := range ch.fetchers {
		ch.wg.Add(1)
		go func() {
			defer ch.wg.Done()
			f.run(ctx)
		}()
	}
}

// Close stops the fetchers and waits for them: a message being taken in
// is committed or left for the next start, never half done.
func (ch *Channel) Close() {
	if ch.cancel != nil {
		ch.cancel()
	}
	ch.wg.Wait()
}

// Status returns each mailbox's status, by name.
func (ch *Channel) Status() []MailboxStatus {
	out := make([]MailboxStatus, 0, len(ch.fetchers))
	for _, f := range ch.fetchers {
		out = append(out, f.Status())
	}
	slices.SortFunc(out, func(a, b MailboxStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}
