// Package intake is the one way in for every channel. A channel turns
// what arrives (a chat's start frame, an API request, an email, an SMS)
// into the router's types and hands them here:
//
//	in := &intake.Intake{Router: rt, Store: db, Resolve: resolve}
//	c, created, err := in.Contact(ctx, router.NewContact{Channel: router.ChannelChat, Queue: "billing",
//		Customer: router.Customer{Name: "Ada", Email: "ada@example.com"}, Body: "Hello"})
//	m, to, err := in.Message(ctx, c.ID, router.Message{Direction: "in", Body: "Are you there?"})
//
// Contact checks the contact with the router before anything is written,
// resolves its customer (Resolve: customers.Intake, which tells claims
// from what the channel proved, see docs/security.md), and submits it.
// Message adds a customer's message to a live contact, or, when that
// contact has ended, starts a follow-up contact linked to it (Follows)
// and offered first to the agent who handled it, so that an answer a week
// later is neither lost nor glued to a closed case.
package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Store reads the contacts that ended and their messages; *store.DB
// implements it.
type Store interface {
	Contact(ctx context.Context, id string) (router.Contact, error)
	Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error)
}

var _ Store = (*store.DB)(nil)

// Intake hands contacts and messages from the channels to the router.
// Router and Store are required; Resolve may be nil (the contact is
// submitted as given). It is safe for concurrent use if Resolve is.
type Intake struct {
	Router *router.Router
	Store  Store
	// Resolve resolves the customer of a new contact and applies their
	// profile to its routing (customers.Intake); it may write customer
	// profiles, so it runs only for a contact the router would take.
	Resolve func(ctx context.Context, nc router.NewContact) (router.NewContact, error)
	// PreferredTimeout is how long the agent who handled an ended
	// contact has its follow-up to themselves; 0 is the router's default.
	PreferredTimeout time.Duration
	// Admit, if set, may refuse every new contact for now (the data
	// directory's disk is nearly full: diskspace.Guard.Admit): Contact
	// then writes nothing and returns an error wrapping ErrRefused and
	// Admit's. Messages on live contacts are still taken.
	Admit func() error
}

// ErrRefused is what Contact returns while Admit refuses new contacts.
// The channel answers "try again later" and does not acknowledge what
// came in (a webhook's non-2xx, a mail left unflagged): it comes again
// where the sender retries (a mailbox always; Twilio when configured to,
// docs/sms.md).
var ErrRefused = errors.New("intake: new contacts are refused for now")

// Contact checks nc with the router, resolves its customer and submits
// it. It returns the contact and whether it was created (false: an
// idempotent retry, or a first message whose external id is already
// stored; if that contact has ended, only its ID is set). A contact the
// router refuses writes nothing: its error is the router's.
func (in *Intake) Contact(ctx context.Context, nc router.NewContact) (router.Contact, bool, error) {
	if in.Admit != nil {
		if err := in.Admit(); err != nil {
			return router.Contact{}, false, fmt.Errorf("%w: %w", ErrRefused, err)
		}
	}
	if in.Resolve != nil {
		if err := in.Router.Check(nc); err != nil {
			return router.Contact{}, false, err
		}
		// The profile's writes are made durable by the contact's own
		// commit, which follows at once (store.DeferSync): one fsync
		// for a new customer's first contact, not two in series.
		resolved, err := in.Resolve(store.DeferSync(ctx), nc)
		if err != nil {
			return router.Contact{}, false, fmt.Errorf("intake: resolve customer: %w", err)
		}
		nc = resolved
	}
	return in.Router.Submit(ctx, nc)
}

// Message adds m, a message from the customer (Direction "in"), to the
// contact contactID and returns it with the contact that holds it. When
// that contact has ended, m starts a new contact instead, on the same
// channel, queue and customer, with the same subject, Follows set to the
// ended contact, and the agent who handled it preferred (for the router's
// preferred timeout, if the agent still exists); created is then true. A
// message whose external id is already stored is returned as stored, on
// the contact that holds it. An unknown contact wraps router.ErrNoContact.
func (in *Intake) Message(ctx context.Context, contactID string, m router.Message) (_ router.Message, to router.Contact, created bool, err error) {
	if m.Direction != "in" {
		return router.Message{}, router.Contact{}, false, router.Errorf(router.CodeInvalid, "direction", "a customer's message has direction in, not %q", m.Direction)
	}
	stored, _, err := in.Router.AddMessage(ctx, contactID, m)
	if err == nil {
		c, ok := in.Router.Snapshot().Contact(stored.ContactID)
		if !ok {
			c = router.Contact{ID: stored.ContactID}
		}
		return stored, c, false, nil
	}
	if !errors.Is(err, router.ErrNoContact) {
		return router.Message{}, router.Contact{}, false, err
	}
	prev, serr := in.Store.Contact(ctx, contactID)
	switch {
	case errors.Is(serr, store.ErrNotFound):
		return router.Message{}, router.Contact{}, false, err
	case serr != nil:
		return router.Message{}, router.Contact{}, false, fmt.Errorf("intake: read contact %q: %w", contactID, serr)
	case !prev.State.Final():
		// Ended in the router, not yet in the store: it is ending.
		return router.Message{}, router.Contact{}, false, router.Errorf(router.CodeConflict, "", "contact %s is ending; send again", contactID)
	}
	return in.followUp(ctx, prev, m)
}

// followUp starts the contact that follows prev, with m as its first
// message.
func (in *Intake) followUp(ctx context.Context, prev router.Contact, m router.Message) (router.Message, router.Contact, bool, error) {
	nc := router.NewContact{
		Channel: prev.Channel, Queue: prev.Queue, Subject: prev.Subject, Follows: prev.ID,
		Customer: carriedOver(prev.Customer), Body: m.Body, First: m,
	}
	if m.Subject != "" {
		nc.Subject = m.Subject
	}
	if prev.AgentID != "" {
		if _, ok := in.Router.Snapshot().Agent(prev.AgentID); ok {
			nc.Preferred, nc.PreferredTimeout = []string{prev.AgentID}, in.PreferredTimeout
		}
	}
	c, created, err := in.Contact(ctx, nc)
	if err != nil {
		return router.Message{}, router.Contact{}, false, err
	}
	// Submit answers once the contact and its first message are stored.
	msgs, err := in.Store.Messages(ctx, c.ID, 0, 1)
	if err != nil || len(msgs) == 0 {
		return router.Message{}, router.Contact{}, false, fmt.Errorf("intake: first message of follow-up %s: %w", c.ID, errors.Join(err, store.ErrNotFound))
	}
	return msgs[0], c, created, nil
}

// carriedOver is the customer of an ended contact as its follow-up takes
// it: who they are (not what routing made of them), fitted to the
// router's rule of a customer (router.Customer.Fitted), so that a
// follow-up is never refused for what its ended contact holds, stored
// before the rule.
func carriedOver(cu router.Customer) router.Customer {
	return router.Customer{ID: cu.ID, Name: cu.Name, Email: cu.Email, Phone: cu.Phone, Verified: cu.Verified}.Fitted()
}
