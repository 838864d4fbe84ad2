package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/nextbest"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

// OfferFigures are the offers shown and accepted during a period's
// contacts, each offer counted once per contact.
//
// Recorded, they are what the agents reported. Replayed, the offers
// shown are those the configuration's offer policy (catalog, complaint
// rules, learner) would show during each contact an agent answered in
// the replay, asked of the real engine (nextbest.Engine.PopOffers) as at
// the replayed answer; an offer shown in the replay that was also shown
// during the recorded contact keeps its recorded outcome, and one that
// never was is accepted with the recorded acceptance rate of that offer
// in the customer's segment (the learner's posterior mean): an estimate,
// counted apart in EstimatedShown and EstimatedAccepted.
type OfferFigures struct {
	Shown    int     `json:"shown"`
	Accepted float64 `json:"accepted"`
	// EstimatedShown counts the offers shown in the replay only;
	// EstimatedAccepted is the part of Accepted estimated for them.
	EstimatedShown    int     `json:"estimated_shown"`
	EstimatedAccepted float64 `json:"estimated_accepted"`
}

// offerKey is one offer during one contact.
type offerKey struct{ contact, offer string }

// recordedOutcomes returns what became of each offer shown during each
// contact: its latest decision (accepted, declined, not relevant) or
// presented.
func recordedOutcomes(outs []store.OfferOutcome) map[offerKey]string {
	m := map[offerKey]string{}
	for _, o := range outs { // by time
		k := offerKey{o.ContactID, o.OfferID}
		if o.Outcome == store.OutcomePresented {
			if _, ok := m[k]; !ok {
				m[k] = o.Outcome
			}
			continue
		}
		m[k] = o.Outcome
	}
	return m
}

// RecordedOffers are the offers shown and accepted during h's contacts.
func RecordedOffers(h *History) OfferFigures {
	var f OfferFigures
	for _, outcome := range recordedOutcomes(h.Offers) {
		f.Shown++
		if outcome == store.OutcomeAccepted {
			f.Accepted++
		}
	}
	return f
}

// OfferStore is what ReplayedOffers reads of the real store: store.DB.
type OfferStore interface {
	nextbest.Store
	customers.ProfileReader
}

var _ OfferStore = (*store.DB)(nil)

// offerSeed seeds the rankings of a replay's offers.
const offerSeed = 18

// ReplayedOffers are the offers shown and accepted during the contacts
// answered in the replay res of h under cfg (see OfferFigures); real is
// the store h was read from.
func ReplayedOffers(ctx context.Context, h *History, res *Result, cfg *config.Config, real OfferStore) (OfferFigures, error) {
	var f OfferFigures
	cat, err := offers.NewCatalog(cfg.OfferCatalog())
	if err != nil {
		return f, fmt.Errorf("replay: offer catalog: %w", err)
	}
	learner := offers.NewLearner(cfg.OfferPrior())
	for _, s := range h.OfferStats {
		learner.Load(s.OfferID, s.Segment, offers.Counts{Accepted: s.Accepted, Rejected: s.Rejected})
	}
	var now time.Time
	engine := nextbest.NewEngine(cat, learner, cfg.OfferRules(), real, nil, nil)
	defer engine.Close()
	engine.Simulate(func() time.Time { return now }, offerSeed)

	recorded := recordedOutcomes(h.Offers)
	byID := make(map[string]*Contact, len(h.Contacts))
	for i := range h.Contacts {
		byID[h.Contacts[i].ID] = &h.Contacts[i]
	}
	return f, res.Store.EachContactTimes(ctx, h.From, h.To, func(ct store.ContactTimes) error {
		rec := byID[res.Origin[ct.ID]]
		if rec == nil || ct.AssignedAt.IsZero() || ct.AssignedAt.Before(h.From) || !ct.AssignedAt.Before(h.To) {
			return nil
		}
		if rec.Customer.ID == "" {
			return nil // no profile, no offers (nextbest.NoProfile)
		}
		p, err := customers.Current(ctx, real, rec.Customer.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("replay: offers: %w", err)
		case !p.ErasedAt.IsZero():
			return nil
		}
		first, err := real.Messages(ctx, rec.ID, 0, 1)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("replay: offers: %w", err)
		}
		now = ct.AssignedAt
		c := router.Contact{ID: ct.ID, Channel: rec.Channel, Queue: ct.Queue, Customer: rec.Customer, Subject: rec.Subject,
			Disposition: rec.Disposition, State: router.ContactAssigned, AgentID: ct.AgentID, CreatedAt: rec.Arrival, AssignedAt: ct.AssignedAt}
		shown, _, err := engine.PopOffers(ctx, screenpop.OfferRequest{Contact: c, Profile: &p, FirstMessages: first})
		if err != nil {
			return fmt.Errorf("replay: offers: %w", err)
		}
		for _, o := range shown {
			f.Shown++
			outcome, ok := recorded[offerKey{rec.ID, o.ID}]
			switch {
			case ok && outcome == store.OutcomeAccepted:
				f.Accepted++
			case !ok:
				rate := learner.Mean(o.ID, p.Segment)
				f.EstimatedShown++
				f.EstimatedAccepted += rate
				f.Accepted += rate
			}
		}
		return nil
	})
}
