package profiles

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/switchboard/switchboard/agents"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// outcomeTimeout bounds the store reads of Outcome, which has no caller
// context.
const outcomeTimeout = 5 * time.Second

// Store is what Offers reads: profiles, ended contacts and their first
// message. *store.DB implements it.
type Store interface {
	Customer(ctx context.Context, id string) (store.Customer, error)
	Contact(ctx context.Context, id string) (router.Contact, error)
	Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error)
}

var _ Store = (*store.DB)(nil)

// DefaultRules are the suppression rules of the demo: the complaints
// queue, the "complaint" disposition, and a few words of an unhappy
// customer.
func DefaultRules() offers.Rules {
	return offers.Rules{
		ComplaintQueues:       []string{"complaints"},
		ComplaintDispositions: []string{"complaint"},
		ComplaintKeywords:     []string{"complaint", "complain", "refund", "cancel", "angry", "unacceptable"},
	}
}

// Offers proposes offers for the screen pop from a catalog, suppression
// rules and a learner shared with Outcome. It implements
// agents.OfferSource and is safe for concurrent use.
type Offers struct {
	cat     *offers.Catalog
	learner *offers.Learner
	rules   offers.Rules
	store   Store
	rt      *router.Router // may be nil: contacts are read from the store
	log     *slog.Logger   // never nil

	mu  sync.Mutex
	rng *rand.Rand // guarded by mu; a *rand.Rand is not safe for concurrent use
}

var _ agents.OfferSource = (*Offers)(nil)

// NewOffers returns an offer source over cat, ranking with learner under
// rules. rt, when not nil, gives Outcome the live contacts; log may be
// nil. The ranking's random source is seeded from crypto/rand.
func NewOffers(cat *offers.Catalog, learner *offers.Learner, rules offers.Rules, s Store, rt *router.Router, log *slog.Logger) *Offers {
	var seed [16]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand.Read panics instead)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Offers{
		cat: cat, learner: learner, rules: rules, store: s, rt: rt, log: log,
		rng: rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))),
	}
}

// Offers returns at most offers.MaxRanked offers for contact c, best
// first, each with its one-line reason: none for a contact without a
// customer profile, a customer without marketing consent (or who refused
// profiling), or a complaint.
func (o *Offers) Offers(ctx context.Context, c router.Contact) ([]agents.PopOffer, error) {
	env, ok, err := o.env(ctx, c)
	if err != nil || !ok {
		return nil, err
	}
	o.mu.Lock()
	ranked, err := offers.Recommend(o.cat, o.learner, o.rules, offers.Request{Env: env, ContactID: c.ID, Now: time.Now()}, o.rng)
	o.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("profiles: offers for %q: %w", c.ID, err)
	}
	out := make([]agents.PopOffer, 0, len(ranked))
	for _, r := range ranked {
		out = append(out, agents.PopOffer{ID: r.Offer.ID, Title: r.Offer.Title, Reason: r.Reason})
	}
	return out, nil
}

// env is what the offers see of c and its customer; ok is false when
// the contact has no live profile.
func (o *Offers) env(ctx context.Context, c router.Contact) (env offers.Env, ok bool, err error) {
	p, ok, err := o.profile(ctx, c.Customer.ID)
	if err != nil || !ok {
		return env, false, err
	}
	env.Customer = offers.CustomerView{
		Segment: p.Segment, Value: p.Value, Products: p.Products, Tags: p.Tags, Language: p.Language,
		Consent:   offers.Consent{Marketing: p.ConsentMarketing, Profiling: p.ConsentProfiling},
		SMSOptOut: p.SMSOptOut,
	}
	env.Contact = offers.ContactView{
		Channel: c.Channel, Queue: c.Queue, Subject: c.Subject, Disposition: c.Disposition,
	}
	msgs, err := o.store.Messages(ctx, c.ID, 0, 1)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Live, not yet durable: no first message to read.
	case err != nil:
		return env, false, fmt.Errorf("profiles: offers for %q: first message: %w", c.ID, err)
	case len(msgs) > 0 && msgs[0].Direction == "in":
		env.Contact.FirstMessage = msgs[0].Body
	}
	return env, true, nil
}

// profile reads the profile of customerID, following one merge; ok is
// false for no id, an unknown or an erased profile.
func (o *Offers) profile(ctx context.Context, customerID string) (p store.Customer, ok bool, err error) {
	if customerID == "" {
		return p, false, nil
	}
	p, err = o.store.Customer(ctx, customerID)
	if err == nil && p.MergedInto != "" {
		p, err = o.store.Customer(ctx, p.MergedInto)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p, false, nil
	case err != nil:
		return p, false, fmt.Errorf("profiles: profile %q: %w", customerID, err)
	}
	return p, p.ErasedAt.IsZero(), nil
}

// Outcome teaches the learner what became of offerID during contactID,
// under the segment of the contact's customer. It is the agents hub's
// OnOfferOutcome; a contact or customer that cannot be read is logged and
// skipped.
func (o *Offers) Outcome(contactID, offerID, outcome string) {
	ctx, cancel := context.WithTimeout(context.Background(), outcomeTimeout)
	defer cancel()
	c, err := o.contact(ctx, contactID)
	if err != nil {
		o.log.Warn("profiles: offer outcome not learned", "contact", contactID, "offer", offerID, "err", err)
		return
	}
	p, ok, err := o.profile(ctx, c.Customer.ID)
	if err != nil {
		o.log.Warn("profiles: offer outcome not learned", "contact", contactID, "offer", offerID, "err", err)
		return
	}
	segment := ""
	if ok {
		segment = p.Segment
	}
	o.learner.Record(offerID, segment, offers.Outcome(outcome))
}

// contact reads a contact, live from the router or ended from the store.
func (o *Offers) contact(ctx context.Context, id string) (router.Contact, error) {
	if o.rt != nil {
		if c, ok := o.rt.Snapshot().Contact(id); ok {
			return c, nil
		}
	}
	c, err := o.store.Contact(ctx, id)
	if err != nil {
		return c, fmt.Errorf("profiles: contact %q: %w", id, err)
	}
	return c, nil
}
