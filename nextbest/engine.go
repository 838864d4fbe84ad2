package nextbest

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

const (
	// historyLimit bounds the outcomes a screen pop reads of a customer
	// (within the catalog's longest cooldown).
	historyLimit = 200
	// presentTimeout bounds one write of presentations, which has no
	// caller context.
	presentTimeout = 5 * time.Second
	// presentQueue is how many screen pops' presentations may wait for
	// the writer; beyond, they are dropped (and logged), never waited on.
	presentQueue = 1024
)

// Store is what the Engine reads and writes: profiles, ended contacts and
// their first message, and offer outcomes. *store.DB implements it.
type Store interface {
	Customer(ctx context.Context, id string) (store.Customer, error)
	Contact(ctx context.Context, id string) (router.Contact, error)
	Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error)
	OfferHistory(ctx context.Context, customerID string, since time.Time, limit int) ([]store.OfferOutcome, error)
	RecordOfferOutcomes(ctx context.Context, outs []store.OfferOutcome) ([]store.OfferStat, int, error)
	OfferPresented(ctx context.Context, contactID, offerID string) (bool, error)
	CustomerTimeline(ctx context.Context, f store.TimelineFilter) (store.TimelinePage, error)
	// The consent ledger: a customer who texted STOP is offered nothing.
	ConsentState(ctx context.Context, channel, address string) (consent.Entry, bool, error)
	ConsentBlocked(ctx context.Context, customerID, channel string) ([]consent.Entry, error)
}

var _ Store = (*store.DB)(nil)

// DefaultRules are suppression rules for tests and examples: the
// complaints queue, the "complaint" disposition, and a few words of an
// unhappy customer. routerd takes its rules from the configuration
// (offers.complaints).
func DefaultRules() offers.Rules {
	return offers.Rules{
		ComplaintQueues:       []string{"complaints"},
		ComplaintDispositions: []string{"complaint"},
		ComplaintKeywords:     []string{"complaint", "complain", "charged twice", "overcharged", "refund", "cancel", "angry", "unacceptable"},
	}
}

// Engine proposes offers for the screen pop from a catalog, suppression
// rules and a learner, records the agents' outcomes durably and teaches
// them to the learner. It implements screenpop.OfferSource and is safe for
// concurrent use. Close it to stop its writer of presentations.
type Engine struct {
	cat     atomic.Pointer[offers.Catalog] // never nil; swapped whole by SetCatalog
	learner *offers.Learner
	rules   offers.Rules
	store   Store
	rt      *router.Router // may be nil: contacts are read from the store
	log     *slog.Logger   // never nil
	// now is the wall clock; tests give the router's manual clock.
	now func() time.Time

	mu  sync.Mutex
	rng *rand.Rand // guarded by mu; a *rand.Rand is not safe for concurrent use

	// recordMu orders each outcome's commit with the learner's update
	// from it, so the learner holds the latest counts.
	recordMu sync.Mutex

	// shown holds the offers presented in agents' screen pops and not yet
	// written (the store's presentations are written behind a queue):
	// the writer forgets what it wrote. Only presentations the writer
	// dropped or failed to write stay; past maxShown of those it starts
	// afresh. Guarded by shownMu.
	shownMu sync.Mutex
	shown   map[shownKey]bool

	// The writer of presentations: pops queue them on present; pending
	// counts the batches not yet written.
	present chan []store.OfferOutcome
	pending sync.WaitGroup
	closed  atomic.Bool
	done    chan struct{}
	stopped chan struct{}
}

var _ screenpop.OfferSource = (*Engine)(nil)

// NewOffers returns an offer source over cat, ranking with learner under
// rules, and starts its writer of presentations. rt, when not nil, gives
// Outcome the live contacts; log may be nil. The ranking's random source
// is seeded from crypto/rand. The learner should hold the store's counts
// (LoadLearner).
func NewEngine(cat *offers.Catalog, learner *offers.Learner, rules offers.Rules, s Store, rt *router.Router, log *slog.Logger) *Engine {
	var seed [16]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand.Read panics instead)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Engine{
		learner: learner, rules: rules, store: s, rt: rt, log: log, now: time.Now,
		rng:     rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))),
		present: make(chan []store.OfferOutcome, presentQueue),
		shown:   map[shownKey]bool{},
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	o.cat.Store(cat)
	go o.writePresentations()
	return o
}

// Simulate makes o judge cooldowns and recent complaints as at the
// times now returns, and draw its rankings from a source seeded with
// seed, so that a what-if replay (package replay) may ask PopOffers,
// without Shown, what a contact of the past would have been offered, the
// same way every time. Call it before any other method.
func (o *Engine) Simulate(now func() time.Time, seed uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.now = now
	o.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// LoadLearner teaches l the counts the store holds (at start-up).
func LoadLearner(ctx context.Context, s interface {
	OfferStats(ctx context.Context) ([]store.OfferStat, error)
}, l *offers.Learner) error {
	stats, err := s.OfferStats(ctx)
	if err != nil {
		return fmt.Errorf("nextbest: load learner: %w", err)
	}
	for _, st := range stats {
		l.Load(st.OfferID, st.Segment, offers.Counts{Accepted: st.Accepted, Rejected: st.Rejected})
	}
	return nil
}

// Catalog returns the live catalog.
func (o *Engine) Catalog() *offers.Catalog { return o.cat.Load() }

// SetCatalog replaces the live catalog at once: a screen pop sees the
// old one or the new one, never a mix.
func (o *Engine) SetCatalog(c *offers.Catalog) { o.cat.Store(c) }

// Learner returns the learner.
func (o *Engine) Learner() *offers.Learner { return o.learner }

// Close stops the writer of presentations after it wrote what was
// queued. Offers made after Close are not recorded as presented.
func (o *Engine) Close() {
	if o.closed.Swap(true) {
		return
	}
	close(o.done)
	<-o.stopped
}

// Flush waits until the presentations queued so far are written (for
// tests; not after Close).
func (o *Engine) Flush() { o.pending.Wait() }

// Offers returns at most offers.MaxRanked offers for contact c, best
// first, each with its one-line reason: none for a contact without a
// customer profile, a customer without marketing consent (or who refused
// profiling), a complaint, or an SMS contact of a customer who opted out
// of SMS. Offers in cooldown after the customer declined them, or
// presented CapPerContact times during c, are left out: the customer's
// outcomes are read from the store, within the catalog's longest
// cooldown. Those of c with its current agent are not counted, so that
// an agent's screen pop keeps the offers it shows while the agent records
// their outcomes.
//
// The offers returned to a contact held by an agent (offered, assigned,
// wrap-up) are recorded as presented by that agent, as the agent's
// desktop shows them, once per contact, offer and agent, by a writer
// behind a queue: the screen pop never waits for that write.
func (o *Engine) Offers(ctx context.Context, c router.Contact) ([]screenpop.Offer, error) {
	offers, _, err := o.PopOffers(ctx, screenpop.OfferRequest{Contact: c, Shown: true})
	return offers, err
}

// NoProfile is why PopOffers withholds every offer from a contact whose
// customer has no profile (none, unknown or erased).
const NoProfile = "no profile"

// PopOffers is Offers for the screen pop, which has read the customer's
// profile and the contact's first messages: r.Profile, when not nil, is
// used as it is, and r.FirstMessages instead of a read of the contact's
// first message. Without r.Profile, the profile is read (an unknown or
// erased one gets no offers). Only with r.Shown are the offers recorded
// as presented. When no offer at all may be made during the
// contact it says why: NoProfile or a reason of offers.Rules.Suppressed.
func (o *Engine) PopOffers(ctx context.Context, r screenpop.OfferRequest) (_ []screenpop.Offer, withheld string, err error) {
	c := r.Contact
	cat := o.cat.Load()
	p, first := r.Profile, r.FirstMessages
	if p == nil {
		prof, ok, err := o.profile(ctx, c.Customer.ID)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			return nil, NoProfile, nil
		}
		p = &prof
		msgs, err := o.store.Messages(ctx, c.ID, 0, 1)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Live, not yet durable: no first message to read.
		case err != nil:
			return nil, "", fmt.Errorf("nextbest: offers for %q: first message: %w", c.ID, err)
		default:
			first = msgs
		}
	}
	now := o.now()
	env, err := o.env(ctx, c, *p, first, r.History, now)
	if err != nil {
		return nil, "", err
	}
	if reason, suppressed := o.rules.Suppressed(env); suppressed {
		return nil, reason, nil
	}
	// Suppression (above) and eligibility first: the customer's outcomes
	// are read only when an eligible offer has a cooldown or a cap.
	cands, err := cat.Eligible(env)
	if err != nil {
		return nil, "", fmt.Errorf("nextbest: offers for %q: %w", c.ID, err)
	}
	if slices.ContainsFunc(cands, func(x offers.Offer) bool { return x.Cooldown > 0 || x.CapPerContact > 0 }) {
		history, err := o.history(ctx, cat, c, p.ID, now)
		if err != nil {
			return nil, "", err
		}
		cands = slices.DeleteFunc(cands, func(x offers.Offer) bool { return !offers.Allowed(x, c.ID, now, history) })
	}
	if len(cands) == 0 {
		return nil, "", nil
	}
	o.mu.Lock()
	ranked := o.learner.Rank(env, cands, o.rng)
	o.mu.Unlock()
	out := make([]screenpop.Offer, 0, len(ranked))
	var shown []store.OfferOutcome
	held := r.Shown && c.AgentID != "" && (c.State == router.ContactOffered || c.State == router.ContactAssigned || c.State == router.ContactWrapUp)
	for _, r := range ranked {
		out = append(out, screenpop.Offer{ID: r.Offer.ID, Title: r.Offer.Title, Reason: r.Reason, TalkingPoints: slices.Clone(r.Offer.TalkingPoints)})
		if held {
			shown = append(shown, store.OfferOutcome{OfferID: r.Offer.ID, ContactID: c.ID, CustomerID: p.ID,
				Segment: p.Segment, AgentID: c.AgentID, Outcome: store.OutcomePresented, At: now})
		}
	}
	if len(shown) > 0 {
		o.remember(shown)
		o.queuePresented(shown)
	}
	return out, "", nil
}

// env is what the offers' rules and expressions see of contact c of the
// customer with profile p, whose first messages are first, at now:
// envOf, with what the store says of the customer's opt-outs and
// complaints and of the contact's messages.
func (o *Engine) env(ctx context.Context, c router.Contact, p store.Customer, first []router.Message, history []screenpop.History, now time.Time) (offers.Env, error) {
	env := envOf(c, p, first)
	var err error
	if env.Customer.SMSStopped, err = o.smsStopped(ctx, c, p.ID); err != nil {
		return env, err
	}
	if env.Contact.CustomerMessages, err = o.customerMessages(ctx, c.ID); err != nil {
		return env, err
	}
	if env.Customer.RecentComplaint, err = o.recentComplaint(ctx, c, p.ID, history, now); err != nil {
		return env, err
	}
	return env, nil
}

// maxShown bounds the presentations an Engine remembers in memory.
const maxShown = 100_000

// shownKey is an offer presented during a contact.
type shownKey struct{ contact, offer string }

// remember notes presentations, so that their outcomes may be recorded
// before the writer has stored them.
func (o *Engine) remember(outs []store.OfferOutcome) {
	o.shownMu.Lock()
	defer o.shownMu.Unlock()
	if len(o.shown)+len(outs) > maxShown {
		clear(o.shown) // only presentations the writer dropped were here
	}
	for _, p := range outs {
		o.shown[shownKey{p.ContactID, p.OfferID}] = true
	}
}

// presented reports whether offerID was presented in a screen pop of the
// contact contactID: remembered (not yet written), or stored.
func (o *Engine) presented(ctx context.Context, contactID, offerID string) (bool, error) {
	o.shownMu.Lock()
	ok := o.shown[shownKey{contactID, offerID}]
	o.shownMu.Unlock()
	if ok {
		return true, nil
	}
	return o.store.OfferPresented(ctx, contactID, offerID)
}

// history reads the outcomes of customerID that may matter to c now: in
// the catalog's longest cooldown or since c began, without those of c
// with its current agent, and with only the latest decision of each
// contact and offer (a correction replaces what it corrects).
func (o *Engine) history(ctx context.Context, cat *offers.Catalog, c router.Contact, customerID string, now time.Time) ([]offers.Result, error) {
	since := now.Add(-cat.MaxCooldown())
	if !c.CreatedAt.IsZero() && c.CreatedAt.Before(since) {
		since = c.CreatedAt
	}
	rows, err := o.store.OfferHistory(ctx, customerID, since, historyLimit)
	if err != nil {
		return nil, fmt.Errorf("nextbest: offers for %q: history: %w", c.ID, err)
	}
	type key struct{ contact, offer string }
	decided := map[key]bool{}
	var out []offers.Result
	for _, h := range rows { // newest first
		if h.At.After(now) {
			continue // later than the time judged (a replay of the past, Simulate)
		}
		if c.AgentID != "" && h.ContactID == c.ID && h.AgentID == c.AgentID {
			continue
		}
		if h.Outcome != store.OutcomePresented {
			k := key{h.ContactID, h.OfferID}
			if decided[k] {
				continue
			}
			decided[k] = true
		}
		out = append(out, offers.Result{OfferID: h.OfferID, ContactID: h.ContactID, Outcome: offers.Outcome(h.Outcome), At: h.At})
	}
	return out, nil
}

// queuePresented hands presentations to the writer, or drops them if it
// is behind or closed.
func (o *Engine) queuePresented(outs []store.OfferOutcome) {
	if o.closed.Load() {
		return
	}
	o.pending.Add(1)
	select {
	case o.present <- outs:
	default:
		o.pending.Done()
		o.log.Warn("nextbest: presentations not recorded: the writer is behind", "contact", outs[0].ContactID)
	}
}

// writePresentations writes queued presentations, several screen pops'
// in one transaction, until Close.
func (o *Engine) writePresentations() {
	defer close(o.stopped)
	for {
		var batch []store.OfferOutcome
		n := 0
		select {
		case outs := <-o.present:
			batch, n = append(batch, outs...), 1
		case <-o.done:
			for {
				select {
				case outs := <-o.present:
					o.writePresented(outs, 1)
				default:
					return
				}
			}
		}
	more:
		for n < 64 {
			select {
			case outs := <-o.present:
				batch, n = append(batch, outs...), n+1
			default:
				break more
			}
		}
		o.writePresented(batch, n)
	}
}

func (o *Engine) writePresented(batch []store.OfferOutcome, n int) {
	defer o.pending.Add(-n)
	ctx, cancel := context.WithTimeout(context.Background(), presentTimeout)
	defer cancel()
	if _, _, err := o.store.RecordOfferOutcomes(ctx, batch); err != nil {
		o.log.Warn("nextbest: presentations not recorded", "contact", batch[0].ContactID, "err", err)
		return
	}
	// Stored: the store answers for them from now on.
	o.shownMu.Lock()
	for _, p := range batch {
		delete(o.shown, shownKey{p.ContactID, p.OfferID})
	}
	o.shownMu.Unlock()
}

// smsStopped reports whether the consent ledger's opt-out is in force
// for the number of contact c or for one of customer customerID's.
func (o *Engine) smsStopped(ctx context.Context, c router.Contact, customerID string) (bool, error) {
	if c.Customer.Phone != "" {
		e, found, err := o.store.ConsentState(ctx, router.ChannelSMS, c.Customer.Phone)
		if err != nil {
			return false, fmt.Errorf("nextbest: offers for %q: %w", c.ID, err)
		}
		if found && e.Blocks() {
			return true, nil
		}
	}
	if customerID == "" {
		return false, nil
	}
	blocked, err := o.store.ConsentBlocked(ctx, customerID, router.ChannelSMS)
	if err != nil {
		return false, fmt.Errorf("nextbest: offers for %q: %w", c.ID, err)
	}
	return len(blocked) > 0, nil
}

// envOf is what the eligibility expressions see of contact c of the
// customer with profile p, whose first messages are first.
func envOf(c router.Contact, p store.Customer, first []router.Message) offers.Env {
	env := offers.Env{
		Customer: offers.CustomerView{
			Segment: p.Segment, Value: p.Value, Products: p.Products, Tags: p.Tags, Language: p.Language,
			Consent:   p.Consent,
			SMSOptOut: p.SMSOptOut,
		},
		Contact: offers.ContactView{Channel: c.Channel, Queue: c.Queue, Subject: c.Subject, Disposition: c.Disposition},
	}
	if len(first) > 0 && first[0].Direction == "in" {
		env.Contact.FirstMessage = first[0].Body
	}
	return env
}

// ChangesOffers reports whether m, a message of contact c, changes its
// offers: a customer's message with a complaint keyword withholds them
// all, and on an SMS contact a STOP or START (consent.KeywordOf) opted
// the number out or back in just before it joined the conversation. (An
// opt-out Twilio names by OptOutType alone, a word of the firm's own,
// withholds the offers from the next screen pop on; an acceptance is
// refused meanwhile, Outcome.)
func (o *Engine) ChangesOffers(c router.Contact, m router.Message) bool {
	if m.Direction != "in" {
		return false
	}
	if k, _ := consent.KeywordOf(m.Body); c.Channel == router.ChannelSMS && (k == consent.KeywordStop || k == consent.KeywordStart) {
		return true
	}
	return o.rules.ComplaintText(m.Body)
}

var _ screenpop.MessageSensitive = (*Engine)(nil)

// customerMessages returns the bodies of the customer's messages during
// contact id so far (at most the router's customer limit of them), for
// the complaint keywords: a complaint typed after the first message
// withholds offers as one in it does.
func (o *Engine) customerMessages(ctx context.Context, id string) ([]string, error) {
	var out []string
	for after := 0; ; {
		page, err := o.store.Messages(ctx, id, after, store.MaxMessageLimit)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return out, nil // live, not yet durable
		case err != nil:
			return nil, fmt.Errorf("nextbest: offers for %q: messages: %w", id, err)
		}
		for _, m := range page {
			if m.Direction == "in" {
				out = append(out, m.Body)
			}
		}
		if len(page) < store.MaxMessageLimit {
			return out, nil
		}
		after = page[len(page)-1].Seq
	}
}

// recentComplaint reports whether one of the customer's earlier contacts
// ended with a complaint disposition within the rules' RecentComplaint
// of now. history are the newest of them as the screen pop read them
// (nil: none read); when they do not decide it (no complaint among them
// and there may be older ones), the customer's timeline is read on, a
// page at a time, back to the contacts created a day before the window
// (a contact ends at most that long after it starts, in practice).
func (o *Engine) recentComplaint(ctx context.Context, c router.Contact, customerID string, history []screenpop.History, now time.Time) (bool, error) {
	window := o.rules.RecentComplaint
	if window <= 0 || customerID == "" {
		return false, nil
	}
	complaint := func(id, disposition string, ended time.Time) bool {
		return id != c.ID && !ended.IsZero() && now.Sub(ended) < window && o.rules.ComplaintDisposition(disposition)
	}
	for _, h := range history {
		if complaint(h.ID, h.Disposition, h.EndedAt) {
			return true, nil
		}
	}
	if history != nil && len(history) < screenpop.MaxHistory {
		return false, nil // the screen pop read them all
	}
	oldest := now.Add(-window - 24*time.Hour)
	f := store.TimelineFilter{CustomerID: customerID, Limit: store.MaxTimelineLimit, Brief: true}
	for {
		page, err := o.store.CustomerTimeline(ctx, f)
		if err != nil {
			return false, fmt.Errorf("nextbest: offers for %q: recent contacts: %w", c.ID, err)
		}
		for _, h := range page.Contacts {
			if complaint(h.ID, h.Disposition, h.EndedAt) {
				return true, nil
			}
			if h.CreatedAt.Before(oldest) {
				return false, nil
			}
		}
		if page.Next == "" {
			return false, nil
		}
		f.Cursor = page.Next
	}
}

// profile reads the profile of customerID, following its merges; ok is
// false for no id, an unknown or an erased profile.
func (o *Engine) profile(ctx context.Context, customerID string) (p store.Customer, ok bool, err error) {
	if customerID == "" {
		return p, false, nil
	}
	p, err = customers.Current(ctx, o.store, customerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p, false, nil
	case err != nil:
		return p, false, fmt.Errorf("nextbest: profile %q: %w", customerID, err)
	}
	return p, p.ErasedAt.IsZero(), nil
}

// Outcome records what became of an offer during a contact, as its agent
// reports it (the hub's OnOfferOutcome, called for a contact the agent
// holds), and teaches the learner, under the segment of the contact's
// customer, before it returns. The offer must be in the live catalog
// and the outcome one of presented, accepted, declined and not_relevant
// (else a *router.Error of router.CodeInvalid, which wraps
// router.ErrInvalid, naming the field). A retry records nothing
// twice, and a different decision on the same offer and contact
// corrects the previous one (store.RecordOfferOutcomes). A store failure
// wraps screenpop.ErrNotRecorded.
func (o *Engine) Outcome(ctx context.Context, oo screenpop.OfferOutcome) error {
	if _, ok := o.cat.Load().Offer(oo.OfferID); !ok {
		return router.Errorf(router.CodeInvalid, "offer_id", "offer %q is not in the catalog", oo.OfferID)
	}
	if !offers.Outcome(oo.Outcome).Valid() {
		return router.Errorf(router.CodeInvalid, "outcome", "outcome %q: want presented, accepted, declined or not_relevant", oo.Outcome)
	}
	shown, err := o.presented(ctx, oo.ContactID, oo.OfferID)
	if err != nil {
		return fmt.Errorf("nextbest: offer outcome: %w: %w", screenpop.ErrNotRecorded, err)
	}
	if !shown {
		return router.Errorf(router.CodeInvalid, "offer_id", "offer %q was not presented in the screen pop of contact %s; record outcomes of the offers it shows", oo.OfferID, oo.ContactID)
	}
	c, err := o.contact(ctx, oo.ContactID)
	if err != nil {
		return fmt.Errorf("nextbest: offer outcome: %w: %w", screenpop.ErrNotRecorded, err)
	}
	p, ok, err := o.profile(ctx, c.Customer.ID)
	if err != nil {
		return fmt.Errorf("nextbest: offer outcome: %w: %w", screenpop.ErrNotRecorded, err)
	}
	rec := store.OfferOutcome{OfferID: oo.OfferID, ContactID: oo.ContactID, AgentID: oo.AgentID, Outcome: oo.Outcome, At: o.now()}
	if ok {
		rec.CustomerID, rec.Segment = p.ID, p.Segment
	}
	if ok && oo.Outcome == store.OutcomeAccepted {
		// Withheld since it was shown (the customer texted STOP, took
		// their consent back, complained): no yes is recorded to an
		// offer nobody may make them now. A no is: it starts the
		// offer's cooldown, for when offers may be made again.
		first, err := o.store.Messages(ctx, c.ID, 0, 1)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("nextbest: offer outcome: %w: %w", screenpop.ErrNotRecorded, err)
		}
		env, err := o.env(ctx, c, p, first, nil, rec.At)
		if err != nil {
			return fmt.Errorf("nextbest: offer outcome: %w: %w", screenpop.ErrNotRecorded, err)
		}
		if reason, suppressed := o.rules.Suppressed(env); suppressed {
			return router.Errorf(router.CodeConflict, "", "offers are withheld from this customer now (%s): an acceptance is not recorded", reason)
		}
	}
	o.recordMu.Lock()
	defer o.recordMu.Unlock()
	changed, _, err := o.store.RecordOfferOutcomes(ctx, []store.OfferOutcome{rec})
	if err != nil {
		return fmt.Errorf("nextbest: offer outcome: %w: %w", screenpop.ErrNotRecorded, err)
	}
	for _, s := range changed {
		o.learner.Load(s.OfferID, s.Segment, offers.Counts{Accepted: s.Accepted, Rejected: s.Rejected})
	}
	return nil
}

// contact reads a contact, live from the router or ended from the store.
func (o *Engine) contact(ctx context.Context, id string) (router.Contact, error) {
	if o.rt != nil {
		if c, ok := o.rt.Snapshot().Contact(id); ok {
			return c, nil
		}
	}
	c, err := o.store.Contact(ctx, id)
	if err != nil {
		return c, fmt.Errorf("nextbest: contact %q: %w", id, err)
	}
	return c, nil
}
