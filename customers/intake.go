package customers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard/switchboard/inbound"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// lastAgentLookback is how many of the customer's latest contacts Intake
// searches for the last agent who handled one.
const lastAgentLookback = 5

// IntakeStore is what Intake reads and writes: the customers, and the
// customer's timeline for the last agent. *store.DB implements it.
type IntakeStore interface {
	Store
	CustomerTimeline(ctx context.Context, f store.TimelineFilter) (store.TimelinePage, error)
}

var _ IntakeStore = (*store.DB)(nil)

// Routing says how a customer's profile feeds the routing of their new
// contacts, besides value and segment (which always do, with profiling
// consent). The zero value prefers nobody.
type Routing struct {
	// PreferManager prefers the relationship manager named on the profile.
	PreferManager bool
	// PreferLastAgent prefers the agent who last handled one of the
	// customer's contacts, if that contact was created within
	// LastAgentWithin.
	PreferLastAgent bool
	LastAgentWithin time.Duration
	// PreferredTimeout is how long the preferred agents have the contact
	// to themselves; 0 is the router's default.
	PreferredTimeout time.Duration
	// IsAgent reports whether an agent exists, so that a departed
	// relationship manager or last agent does not hold a contact for
	// nobody; nil accepts every id.
	IsAgent func(id string) bool
	// Now is the clock of LastAgentWithin; nil is time.Now.
	Now func() time.Time
}

// Intake resolves the customer of a new contact and applies what their
// profile says about routing it. It is safe for concurrent use if s is.
//
// What the contact carries (email, phone, an integration's customer id)
// is either verified (nc.Customer.Verified: the channel proved it, or an
// integration says so) or a claim, typed by whoever is on the other end.
//
// A verified contact is the customer: the email is resolved first
// (creating a customer when nobody holds it), then the phone is attached
// to the same customer (merging a customer that only claimed it; one
// that holds it verified keeps it, and the contact drops it unless its
// channel answers on it). With only a phone, the phone is
// resolved; with neither, the contact's customer id names the profile.
// From that profile (the one it was merged into, following a chain of
// merges) the contact gets its id and:
//   - the value and segment, for the queue's value tiers and segment
//     boosts, only when the customer consented to profiling; else none;
//   - unless the contact names its own preferred agents, the relationship
//     manager and the last agent as r allows, for r.PreferredTimeout.
//
// A claim is never the customer: it writes nothing, selects no profile
// (the contact's customer id, value and segment are cleared) and raises
// no priority. When it matches a known customer (the email's holder,
// else the phone's, else the profile the integration named), the contact
// records it as ClaimedID, for an agent to verify, and gets that
// customer's preferred agents as above: routing a customer to their own
// relationship manager shows nobody anything.
//
// An identity that cannot be normalized is ignored.
func Intake(ctx context.Context, s IntakeStore, nc router.NewContact, r Routing) (router.NewContact, error) {
	// The name may name a new profile: cleaned as the router cleans it.
	nc.Customer.Name = inbound.Text(nc.Customer.Name)
	cu := nc.Customer
	nc.Customer.ClaimedID = ""
	var ids []Identity
	if cu.Email != "" {
		ids = append(ids, Identity{Kind: KindEmail, Value: cu.Email, Verified: cu.Verified})
	}
	if cu.Phone != "" {
		ids = append(ids, Identity{Kind: KindPhone, Value: cu.Phone, Verified: cu.Verified})
	}
	var id string
	var err error
	if cu.Verified {
		var held []Identity
		id, held, err = resolveVerified(ctx, s, ids, cu.Name)
		// Another customer proved it: not this customer's, so not on
		// their contact, where it would show as theirs and bring the
		// other's history into their screen pop; unless it is the
		// address the channel answers on.
		for _, h := range held {
			switch {
			case h.Kind == KindEmail && nc.Channel != router.ChannelEmail:
				nc.Customer.Email = ""
			case h.Kind == KindPhone && nc.Channel != router.ChannelSMS:
				nc.Customer.Phone = ""
			}
		}
	} else {
		nc.Customer.ID, nc.Customer.Value, nc.Customer.Segment = "", 0, ""
		id, err = claimed(ctx, s, ids)
	}
	if err != nil {
		return nc, err
	}
	if id == "" {
		id = cu.ID
	}
	if id == "" {
		return nc, nil
	}
	p, err := Current(ctx, s, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nc, nil
	case err != nil:
		return nc, fmt.Errorf("customers: intake: read profile: %w", err)
	}
	if cu.Verified {
		nc.Customer.ID = p.ID
		nc.Customer.Value, nc.Customer.Segment = 0, ""
	}
	if !p.ErasedAt.IsZero() {
		return nc, nil // an erased customer keeps no profile to route by
	}
	if !cu.Verified {
		nc.Customer.ClaimedID = p.ID
	} else if p.Consent.ProfilingGiven() {
		nc.Customer.Value, nc.Customer.Segment = max(p.Value, 0), p.Segment
	}
	if len(nc.Preferred) > 0 {
		return nc, nil
	}
	preferred, err := r.preferred(ctx, s, p)
	if err != nil {
		return nc, err
	}
	if len(preferred) > 0 {
		nc.Preferred = preferred
		if nc.PreferredTimeout == 0 {
			nc.PreferredTimeout = r.PreferredTimeout
		}
	}
	return nc, nil
}

// resolveVerified returns the customer that the verified identities ids
// prove, creating one named name when nobody holds the first ("" when
// none can be normalized), and those of ids another customer holds
// verified (not attached).
func resolveVerified(ctx context.Context, s IntakeStore, ids []Identity, name string) (id string, held []Identity, err error) {
	for _, v := range ids {
		if id == "" {
			id, _, err = Resolve(ctx, s, v, name)
		} else {
			_, _, err = Attach(ctx, s, id, v)
		}
		switch {
		case errors.Is(err, ErrHeld):
			held = append(held, v) // somebody else already proved it
		case errors.Is(err, ErrInvalid):
			// identifies nobody
		case err != nil:
			return "", nil, fmt.Errorf("customers: intake: %w", err)
		}
	}
	return id, held, nil
}

// claimed returns the customer holding the first of the claimed
// identities ids that anybody holds, without writing anything; "" when
// nobody holds any.
func claimed(ctx context.Context, s IntakeStore, ids []Identity) (string, error) {
	for _, c := range ids {
		n, err := Normalize(c)
		if err != nil {
			continue // a malformed claim identifies nobody
		}
		owner, err := s.IdentityOwner(ctx, n.Kind, n.Value)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return "", fmt.Errorf("customers: intake: look up claim: %w", err)
		}
		return owner.CustomerID, nil
	}
	return "", nil
}

// preferred returns the agents p's contacts go to first: the relationship
// manager, then the last agent, each if r allows and the agent exists.
func (r Routing) preferred(ctx context.Context, s IntakeStore, p store.Customer) ([]string, error) {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) && (r.IsAgent == nil || r.IsAgent(id)) {
			out = append(out, id)
		}
	}
	if r.PreferManager {
		add(p.RelationshipManager)
	}
	if r.PreferLastAgent {
		last, err := r.lastAgent(ctx, s, p.ID)
		if err != nil {
			return nil, err
		}
		add(last)
	}
	return out, nil
}

// lastAgent is the agent who handled the latest contact an agent handled
// among the lastAgentLookback newest of the customer's timeline (merged
// customers' and those by the customer's identities included), if it was
// created within r.LastAgentWithin; "" if none.
func (r Routing) lastAgent(ctx context.Context, s IntakeStore, customerID string) (string, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	since := now().Add(-r.LastAgentWithin)
	page, err := s.CustomerTimeline(ctx, store.TimelineFilter{CustomerID: customerID, Limit: lastAgentLookback, Brief: true})
	if err != nil {
		return "", fmt.Errorf("customers: intake: last agent: %w", err)
	}
	for _, c := range page.Contacts { // newest first
		if c.CreatedAt.Before(since) {
			break
		}
		if c.AgentID != "" && !c.AssignedAt.IsZero() {
			return c.AgentID, nil
		}
	}
	return "", nil
}
