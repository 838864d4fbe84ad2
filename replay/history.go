package replay

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Contact is one recorded arrival and what is known of its customer's
// patience and its handling, as Read derives them from the contact and
// its timeline.
type Contact struct {
	// ID is the recorded contact's id.
	ID string
	// Arrival is when it was created; Queue the queue it was created in
	// (its timeline's created event: later transfers and overflows are
	// the router's to redo).
	Arrival time.Time
	Queue   string
	Channel router.Channel
	Subject string
	// Disposition is the recorded wrap-up code (the offers' complaint
	// rules read it).
	Disposition string
	// Requirements are the recorded contact's own; nil when they were
	// its queue's defaults at the time (the replayed queue's apply).
	Requirements []router.Requirement
	Priority     int
	// Customer is who it was from: only what routing reads (id,
	// verification, value, segment, the claim), never name, email or
	// phone.
	Customer  router.Customer
	Preferred []string
	// PreferredFor is how long the preferred agents had it to
	// themselves.
	PreferredFor time.Duration

	// Answered is set when an agent accepted it: AnsweredAt, by
	// AnsweredBy, after ringing Pickup (the accepted offer's offered to
	// assigned).
	Answered   bool
	AnsweredAt time.Time
	AnsweredBy string
	Pickup     time.Duration
	// Talk is from the first accept to the start of the wrap-up (or to
	// the close when it had none); zero with Open.
	Talk time.Duration
	// WrappedUp says the agent wrapped it up (the replay does too, for
	// the replayed queue's wrap-up time); otherwise it was closed
	// without one, and the replay closes it after Talk.
	WrappedUp bool
	// Open is set when it had not ended by the end of the period: the
	// replay holds it as long as the period lasts.
	Open bool

	// Abandoned is set when the customer left before an agent accepted;
	// Patience is then how long they waited (created to abandoned). For
	// every other contact the patience is unknown, at least the wait
	// they had (censored): the replay lets them wait for as long as it
	// takes (PatienceKnown false).
	Abandoned     bool
	Patience      time.Duration
	PatienceKnown bool
}

// StateChange is one change of an agent's availability: from At on, the
// agent is State (available, away with Reason, or offline).
type StateChange struct {
	Agent  string
	At     time.Time
	State  router.AgentState
	Reason string
}

// History is what a period [From, To) recorded: the arrivals, oldest
// first, and the agents' availability (the state in force at From, then
// each change), by time, then agent.
type History struct {
	From, To time.Time
	Contacts []Contact
	States   []StateChange
	// Agents are the agents the store knows, by id.
	Agents map[string]router.Agent
	// Queues are the queues the store knows, by name.
	Queues map[string]router.Queue
	// Offers are the offer outcomes recorded during the period's
	// contacts, by time.
	Offers []store.OfferOutcome
	// OfferStats are the learned counts of every offer and segment.
	OfferStats []store.OfferStat
}

// Source is what Read reads: store.DB.
type Source interface {
	Load(ctx context.Context) (*router.Loaded, error)
	EachContactHistory(ctx context.Context, from, to time.Time, fn func(router.Contact, []router.Event) error) error
	EachAgentStateSpan(ctx context.Context, from, to time.Time, fn func(agentID string, state router.AgentState, start, end time.Time) error) error
	OfferOutcomesOf(ctx context.Context, from, to time.Time) ([]store.OfferOutcome, error)
	OfferStats(ctx context.Context) ([]store.OfferStat, error)
}

var _ Source = (*store.DB)(nil)

// Read reads the history of [from, to) from src.
func Read(ctx context.Context, src Source, from, to time.Time) (*History, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("replay: the period's end (%s) is not after its start (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	loaded, err := src.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay: read agents and queues: %w", err)
	}
	h := &History{From: from, To: to, Agents: map[string]router.Agent{}, Queues: map[string]router.Queue{}}
	for _, a := range loaded.Agents {
		h.Agents[a.ID] = a
	}
	for _, q := range loaded.Queues {
		h.Queues[q.Name] = q
	}
	err = src.EachContactHistory(ctx, from, to, func(c router.Contact, events []router.Event) error {
		h.Contacts = append(h.Contacts, contactOf(c, events, h.Queues, to))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay: read contacts: %w", err)
	}
	if h.States, err = statesOf(ctx, src, from, to); err != nil {
		return nil, err
	}
	if h.Offers, err = src.OfferOutcomesOf(ctx, from, to); err != nil {
		return nil, fmt.Errorf("replay: read offer outcomes: %w", err)
	}
	if h.OfferStats, err = src.OfferStats(ctx); err != nil {
		return nil, fmt.Errorf("replay: read offer counts: %w", err)
	}
	return h, nil
}

// contactOf derives what the replay needs of recorded contact c from its
// timeline; to ends the period.
func contactOf(c router.Contact, events []router.Event, queues map[string]router.Queue, to time.Time) Contact {
	out := Contact{
		ID: c.ID, Arrival: c.CreatedAt, Queue: c.Queue, Channel: c.Channel, Subject: c.Subject,
		Disposition: c.Disposition, Priority: c.Priority, Preferred: slices.Clone(c.Preferred),
		Customer: router.Customer{ID: c.Customer.ID, Verified: c.Customer.Verified, Value: c.Customer.Value,
			Segment: c.Customer.Segment, ClaimedID: c.Customer.ClaimedID},
	}
	if !c.PreferredUntil.IsZero() && c.PreferredUntil.After(c.CreatedAt) {
		out.PreferredFor = c.PreferredUntil.Sub(c.CreatedAt)
	}
	var offeredAt, wrapAt, closedAt time.Time
	for _, e := range events {
		switch e.Event {
		case router.EventCreated:
			if e.Queue != "" {
				out.Queue = e.Queue
			}
		case router.EventOffered:
			if !out.Answered {
				offeredAt = e.At
			}
		case router.EventAssigned:
			if !out.Answered {
				out.Answered, out.AnsweredAt, out.AnsweredBy = true, e.At, e.AgentID
				if !offeredAt.IsZero() && !e.At.Before(offeredAt) {
					out.Pickup = e.At.Sub(offeredAt)
				}
			}
		case router.EventWrapup:
			wrapAt = e.At
		case router.EventClosed:
			closedAt = e.At
		case router.EventAbandoned:
			if !out.Answered {
				out.Abandoned, out.Patience, out.PatienceKnown = true, e.At.Sub(c.CreatedAt), true
			}
		}
	}
	// Requirements equal to the queue's are its defaults (a contact
	// created with the very same ones is indistinguishable, and routes
	// the same under an unchanged queue).
	if q, ok := queues[out.Queue]; !ok || !slices.Equal(q.Requirements, c.Requirements) {
		out.Requirements = slices.Clone(c.Requirements)
	}
	switch {
	case !out.Answered:
	case !wrapAt.IsZero() && !wrapAt.Before(out.AnsweredAt) && wrapAt.Before(to):
		out.Talk, out.WrappedUp = wrapAt.Sub(out.AnsweredAt), true
	case !closedAt.IsZero() && !closedAt.Before(out.AnsweredAt) && closedAt.Before(to):
		out.Talk = closedAt.Sub(out.AnsweredAt)
	default:
		out.Open = true
	}
	return out
}

// statesOf reads the agents' availability over [from, to) from their
// state history: wrap-up counts as available (the replayed router puts
// its own agents in wrap-up), and consecutive spans of one state merge
// into one change.
func statesOf(ctx context.Context, src Source, from, to time.Time) ([]StateChange, error) {
	var (
		out  []StateChange
		last = map[string]router.AgentState{}
	)
	err := src.EachAgentStateSpan(ctx, from, to, func(agent string, state router.AgentState, start, _ time.Time) error {
		if state == router.AgentWrapUp {
			state = router.AgentAvailable
		}
		if prev, ok := last[agent]; ok && prev == state {
			return nil
		}
		last[agent] = state
		out = append(out, StateChange{Agent: agent, At: start, State: state})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay: read agent states: %w", err)
	}
	slices.SortStableFunc(out, func(a, b StateChange) int {
		if n := a.At.Compare(b.At); n != 0 {
			return n
		}
		return strings.Compare(a.Agent, b.Agent)
	})
	return out, nil
}
