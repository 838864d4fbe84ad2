package nextbest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

type env struct {
	ctx     context.Context
	db      *store.DB
	rt      *router.Router
	learner *offers.Learner
	src     *Engine
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rt, err := router.New(db, &router.Options{Clock: router.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	for _, q := range []string{"billing", "complaints"} {
		if _, err := rt.PutQueue(ctx, router.Queue{Name: q}); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := offers.NewCatalog(offers.Demo())
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, c := range []store.Customer{
		{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, Consent: consent.Flags{Marketing: &yes, Profiling: &yes},
			Products: []string{"credit_card", "mortgage", "broadband"}},
		{ID: "nosms", Segment: "premium", Value: 12000, Consent: consent.Flags{Marketing: &yes, Profiling: &yes}, SMSOptOut: true,
			Products: []string{"credit_card", "mortgage", "broadband"}},
		{ID: "nomarketing", Segment: "premium", Value: 12000, Consent: consent.Flags{Marketing: &no, Profiling: &yes},
			Products: []string{"credit_card", "mortgage", "broadband"}},
		{ID: "noprofiling", Segment: "premium", Value: 12000, Consent: consent.Flags{Marketing: &yes, Profiling: &no},
			Products: []string{"credit_card", "mortgage", "broadband"}},
	} {
		if _, err := db.PutCustomer(ctx, c, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	// stopped texted STOP from +15550001111: the ledger's opt-out is in
	// force on every channel; ada's number texted STOP, then START.
	stopped := store.Customer{ID: "stopped", Segment: "premium", Value: 12000, Consent: consent.Flags{Marketing: &yes, Profiling: &yes},
		Products: []string{"credit_card", "mortgage", "broadband"}}
	if _, err := db.PutCustomer(ctx, stopped, []store.Identity{{Kind: store.IdentityPhone, Value: "+15550001111", Verified: true}}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, e := range []consent.Entry{
		{CustomerID: "stopped", Channel: "sms", Address: "+15550001111", Action: consent.OptOut, At: time.Now(), MessageID: "SM-stop-1", Detail: "STOP"},
		{CustomerID: "ada", Channel: "sms", Address: "+15550002222", Action: consent.OptOut, At: time.Now(), MessageID: "SM-stop-2", Detail: "STOP"},
		{CustomerID: "ada", Channel: "sms", Address: "+15550002222", Action: consent.OptIn, At: time.Now(), MessageID: "SM-start-2", Detail: "START"},
		{Channel: "sms", Address: "+15550003333", Action: consent.OptOut, At: time.Now(), MessageID: "SM-stop-3", Detail: "STOP"},
	} {
		if _, err := db.RecordConsent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	l := offers.NewLearner(offers.Prior{})
	src := NewEngine(cat, l, DefaultRules(), db, rt, nil)
	t.Cleanup(src.Close)
	return &env{ctx: ctx, db: db, rt: rt, learner: l, src: src}
}

func (e *env) submit(t *testing.T, nc router.NewContact) router.Contact {
	t.Helper()
	c, _, err := e.rt.Submit(e.ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOffers(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name         string
		nc           router.NewContact
		want         int    // how many offers
		wantWithheld string // why none may be made
	}{
		{"eligible-consenting", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}, Body: "A question about my statement"}, 3, ""},
		{"sms-opt-out-by-sms", router.NewContact{Channel: "sms", Queue: "billing", Customer: router.Customer{ID: "nosms"}}, 0, offers.SMSOptOut},
		{"sms-opt-out-by-chat", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "nosms"}}, 3, ""},
		{"sms-stop-by-chat", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "stopped"}}, 0, offers.SMSStopped},
		{"sms-stop-of-the-contacts-number", router.NewContact{Channel: "sms", Queue: "billing", Customer: router.Customer{ID: "ada", Phone: "+15550003333"}}, 0, offers.SMSStopped},
		{"sms-stop-then-start", router.NewContact{Channel: "sms", Queue: "billing", Customer: router.Customer{ID: "ada", Phone: "+15550002222"}}, 3, ""},
		{"no-marketing-consent", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "nomarketing"}}, 0, offers.NoMarketingConsent},
		{"profiling-refused", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "noprofiling"}}, 0, offers.NoProfiling},
		{"complaint-queue", router.NewContact{Channel: "chat", Queue: "complaints", Customer: router.Customer{ID: "ada"}}, 0, offers.Complaint},
		{"complaint-keyword", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}, Body: "I want a REFUND now"}, 0, offers.Complaint},
		{"complaint-subject", router.NewContact{Channel: "email", Queue: "billing", Customer: router.Customer{ID: "ada"}, Subject: "Formal complaint"}, 0, offers.Complaint},
		{"no-profile", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "nobody"}}, 0, NoProfile},
		{"no-customer", router.NewContact{Channel: "chat", Queue: "billing"}, 0, NoProfile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.submit(t, tt.nc)
			got, withheld, err := e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: c})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want || withheld != tt.wantWithheld {
				t.Fatalf("got %d offers %+v, withheld %q; want %d, withheld %q", len(got), got, withheld, tt.want, tt.wantWithheld)
			}
			for _, o := range got {
				if o.ID == "" || o.Title == "" || !strings.HasPrefix(o.Reason, "premium, ") || !strings.HasSuffix(o.Reason, " % accept") {
					t.Errorf("got %+v, want an id, a title and a reason like \"premium, no savings account, 50 %% accept\"", o)
				}
			}
		})
	}
}

func (e *env) outcome(t *testing.T, contactID, offerID, outcome, agent string) {
	t.Helper()
	if err := e.src.Outcome(e.ctx, screenpop.OfferOutcome{ContactID: contactID, OfferID: offerID, Outcome: outcome, AgentID: agent}); err != nil {
		t.Fatalf("outcome %s %s: %v", offerID, outcome, err)
	}
}

// present records offerIDs as presented to alice during contactID, as
// her desktop's screen pop would.
func (e *env) present(t *testing.T, contactID string, offerIDs ...string) {
	t.Helper()
	var outs []store.OfferOutcome
	for _, id := range offerIDs {
		outs = append(outs, store.OfferOutcome{OfferID: id, ContactID: contactID, AgentID: "alice", Outcome: store.OutcomePresented, At: time.Now()})
	}
	if _, _, err := e.db.RecordOfferOutcomes(e.ctx, outs); err != nil {
		t.Fatal(err)
	}
}

func TestOutcomePersistedAndLearned(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	e.present(t, c.ID, "savings", "fiber", "card-upgrade")
	e.outcome(t, c.ID, "savings", "presented", "alice")
	e.outcome(t, c.ID, "savings", "declined", "alice")
	e.outcome(t, c.ID, "savings", "declined", "alice") // a retry
	e.outcome(t, c.ID, "fiber", "accepted", "alice")
	if got, want := e.learner.Counts("savings", "premium"), (offers.Counts{Rejected: 1}); got != want {
		t.Errorf("got %+v, want %+v (the retry counted once)", got, want)
	}
	// A correction moves the count.
	e.outcome(t, c.ID, "savings", "accepted", "alice")
	if got, want := e.learner.Counts("savings", "premium"), (offers.Counts{Accepted: 1}); got != want {
		t.Errorf("got %+v after a correction, want %+v", got, want)
	}
	// An ended contact is read from the store.
	if _, err := e.rt.CloseContact(e.ctx, c.ID, "", "", ""); err != nil {
		t.Fatal(err)
	}
	e.outcome(t, c.ID, "card-upgrade", "not_relevant", "alice")
	for _, tt := range []struct {
		name, contact, offer, outcome string
		want                          error
	}{
		{"unknown-offer", c.ID, "no-such-offer", "accepted", router.ErrInvalid},
		{"not-presented", c.ID, "home-insurance", "accepted", router.ErrInvalid},
		{"unknown-outcome", c.ID, "savings", "maybe", router.ErrInvalid},
		{"unknown-contact", "no-such-contact", "savings", "accepted", router.ErrInvalid}, // nothing was presented there
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := e.src.Outcome(e.ctx, screenpop.OfferOutcome{ContactID: tt.contact, OfferID: tt.offer, Outcome: tt.outcome, AgentID: "alice"})
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	// A restart: a new learner loaded from the store believes the same.
	restarted := offers.NewLearner(offers.Prior{})
	if err := LoadLearner(e.ctx, e.db, restarted); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"savings", "fiber", "card-upgrade", "home-insurance"} {
		if got, want := restarted.Counts(id, "premium"), e.learner.Counts(id, "premium"); got != want {
			t.Errorf("%s: got %+v after a restart, want %+v", id, got, want)
		}
	}
}

// TestRestartKeepsRanking teaches the learner that one offer is always
// accepted and another always declined, then checks that a fresh offer
// source over the same store (a restart) ranks and explains them so.
func TestRestartKeepsRanking(t *testing.T) {
	e := newEnv(t)
	for range 40 {
		c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "nosms"}})
		e.present(t, c.ID, "home-insurance", "card-upgrade")
		e.outcome(t, c.ID, "home-insurance", "accepted", "alice")
		e.outcome(t, c.ID, "card-upgrade", "declined", "alice")
	}
	cat, err := offers.NewCatalog(offers.Demo())
	if err != nil {
		t.Fatal(err)
	}
	l := offers.NewLearner(offers.Prior{})
	if err := LoadLearner(e.ctx, e.db, l); err != nil {
		t.Fatal(err)
	}
	src := NewEngine(cat, l, DefaultRules(), e.db, e.rt, nil)
	t.Cleanup(src.Close)
	src.rng = rand.New(rand.NewPCG(1, 2)) // reproducible draws
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	got, err := src.Offers(e.ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].ID != "home-insurance" || got[0].Reason != "premium, mortgage without home insurance, 98 % accept" {
		t.Errorf("got %+v, want home-insurance first with its learned 98 %% (41/42)", got)
	}
	for _, o := range got {
		if o.ID == "card-upgrade" && o.Reason != "premium, card holder, high value, 2 % accept" {
			t.Errorf("got %+v, want card-upgrade at 2 %% (1/42)", o)
		}
	}
}

func TestCooldownAndCap(t *testing.T) {
	e := newEnv(t)
	ids := func(os []screenpop.Offer) []string {
		var s []string
		for _, o := range os {
			s = append(s, o.ID)
		}
		slices.Sort(s)
		return s
	}
	pop := func(c router.Contact) []string {
		t.Helper()
		got, err := e.src.Offers(e.ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		e.src.Flush()
		return ids(got)
	}
	yes := true
	if _, err := e.db.PutCustomer(e.ctx, store.Customer{ID: "grace", Segment: "premium", Value: 5000, Consent: consent.Flags{Marketing: &yes},
		Products: []string{"credit_card", "mortgage"}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	all := []string{"card-upgrade", "home-insurance", "savings"} // grace's eligible offers on chat: no more than shown
	first := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "grace"}})
	held := first
	held.AgentID, held.State = "alice", router.ContactOffered
	if got := pop(held); !slices.Equal(got, all) {
		t.Fatalf("got %v, want %v", got, all)
	}
	// Presented to alice (cap 1): alice keeps seeing them on this
	// contact, to record their outcomes; bob, taking the contact over,
	// does not.
	if got := pop(held); !slices.Equal(got, all) {
		t.Errorf("got %v for alice again, want %v (her own presentation is not counted)", got, all)
	}
	held.AgentID = "bob"
	if got := pop(held); len(got) != 0 {
		t.Errorf("got %v for bob on the same contact, want none: each was presented once already (cap 1)", got)
	}
	// A decline puts the offer in cooldown for the customer's next
	// contacts; a contact on which nothing was presented shows the rest.
	e.outcome(t, first.ID, "savings", "declined", "alice")
	next := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "grace"}})
	if got, want := pop(next), []string{"card-upgrade", "home-insurance"}; !slices.Equal(got, want) {
		t.Errorf("got %v on the next contact, want %v (savings in its 30-day cooldown)", got, want)
	}
	// Corrected to accepted: no cooldown any more.
	e.outcome(t, first.ID, "savings", "accepted", "alice")
	if got := pop(next); !slices.Equal(got, all) {
		t.Errorf("got %v after the decline was corrected, want %v", got, all)
	}
}

// A screen pop not shown to the agent holding the contact (one read over
// the API) records no presentation; the desktop's does.
func TestPresentedOnlyWhenShown(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	c.AgentID, c.State = "alice", router.ContactOffered
	presented := func() int {
		t.Helper()
		e.src.Flush()
		h, err := e.db.OfferHistory(e.ctx, "ada", time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(h)
	}
	got, _, err := e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: c})
	if err != nil || len(got) == 0 {
		t.Fatalf("got %v %v, want offers", got, err)
	}
	if n := presented(); n != 0 {
		t.Errorf("got %d presentations after a screen pop not shown, want none", n)
	}
	got, _, err = e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: c, Shown: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := presented(); n != len(got) {
		t.Errorf("got %d presentations after the shown screen pop, want %d", n, len(got))
	}
}

// TestOffersConcurrent shares the source's random source between screen
// pops; run with -race.
func TestOffersConcurrent(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	e.present(t, c.ID, "fiber")
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 20 {
				if _, err = e.src.Offers(e.ctx, c); err != nil {
					break
				}
				if err = e.src.Outcome(e.ctx, screenpop.OfferOutcome{ContactID: c.ID, OfferID: "fiber", Outcome: "declined", AgentID: "alice"}); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if got := e.learner.Counts("fiber", "premium").Rejected; got != 1 {
		t.Errorf("got %d rejections, want 1: the same decline on one contact counts once", got)
	}
}

// An agent records outcomes only of the offers a screen pop of the
// contact presented: at once (before the presentations' writer stored
// them), and never of another offer, which changes neither the learner
// nor the customer's history.
func TestOutcomeOnlyForPresentedOffers(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	held := c
	held.AgentID, held.State = "alice", router.ContactAssigned
	shown, _, err := e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: held, Shown: true})
	if err != nil || len(shown) == 0 {
		t.Fatalf("screen pop offers: got %v, %v", shown, err)
	}
	e.outcome(t, c.ID, shown[0].ID, "accepted", "alice")
	var other string
	for _, id := range []string{"savings", "fiber", "card-upgrade", "home-insurance", "paperless"} {
		if !slices.ContainsFunc(shown, func(o screenpop.Offer) bool { return o.ID == id }) {
			other = id
			break
		}
	}
	if other == "" {
		t.Fatalf("every demo offer was shown: %v", shown)
	}
	e.src.Flush()
	before := e.learner.Counts(other, "premium")
	err = e.src.Outcome(e.ctx, screenpop.OfferOutcome{ContactID: c.ID, OfferID: other, Outcome: "accepted", AgentID: "alice"})
	if !errors.Is(err, router.ErrInvalid) {
		t.Fatalf("outcome of %s, never shown: got %v, want ErrInvalid", other, err)
	}
	if got := e.learner.Counts(other, "premium"); got != before {
		t.Errorf("learner: got %+v, want %+v unchanged", got, before)
	}
	hist, err := e.db.OfferHistory(e.ctx, "ada", time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hist {
		if h.OfferID == other {
			t.Errorf("history holds the refused outcome: %+v", h)
		}
	}
}

// TestComplaintTypedLater: a complaint typed after the first message
// withholds the offers from then on, and the engine says the message
// changes them (so that the desktop's screen pop is built again).
func TestComplaintTypedLater(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}, Body: ""})
	got, withheld, err := e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: c})
	if err != nil || len(got) == 0 || withheld != "" {
		t.Fatalf("before the complaint: %d offers, withheld %q, err %v; want offers", len(got), withheld, err)
	}
	hello := router.Message{Direction: "in", Body: "hello?"}
	complaint := router.Message{Direction: "in", Body: "I was charged twice, this is unacceptable"}
	if e.src.ChangesOffers(c, hello) || !e.src.ChangesOffers(c, complaint) || e.src.ChangesOffers(c, router.Message{Direction: "out", Body: complaint.Body}) {
		t.Error("ChangesOffers: want true only for the customer's complaint")
	}
	for _, m := range []router.Message{hello, complaint} {
		if _, _, err := e.rt.AddMessage(e.ctx, c.ID, m); err != nil {
			t.Fatal(err)
		}
	}
	got, withheld, err = e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: c})
	if err != nil || len(got) != 0 || withheld != offers.Complaint {
		t.Fatalf("after the complaint: %d offers, withheld %q, err %v; want none, withheld %q", len(got), withheld, err, offers.Complaint)
	}
}

// A text's STOP during the contact changes its offers (the desktop
// builds the screen pop again), and an outcome of an offer shown before
// it is refused: nobody may make the customer an offer now, and what
// they said of one shown before does not teach the ranking.
func TestStopDuringTheContact(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.PutCustomer(e.ctx, store.Customer{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000,
		Consent: consent.Flags{Marketing: ptr(true), Profiling: ptr(true)}, Products: []string{"credit_card", "mortgage", "broadband"}},
		[]store.Identity{{Kind: store.IdentityPhone, Value: "+15550004444", Verified: true}}, "test"); err != nil {
		t.Fatal(err)
	}
	c := e.submit(t, router.NewContact{Channel: "sms", Queue: "billing", Customer: router.Customer{ID: "ada", Phone: "+15550004444", Verified: true}})
	held := c
	held.AgentID, held.State = "alice", router.ContactAssigned
	shown, _, err := e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: held, Shown: true})
	if err != nil || len(shown) == 0 {
		t.Fatalf("screen pop offers: got %v, %v", shown, err)
	}
	chat := c
	chat.Channel = router.ChannelChat
	for body, want := range map[string]bool{"STOP": true, " yes ": true, "stop calling me": false, "hello": false} {
		if got := e.src.ChangesOffers(c, router.Message{Direction: "in", Body: body}); got != want {
			t.Errorf("ChangesOffers(%q) = %v, want %v", body, got, want)
		}
		// In a chat, "yes" and "stop" are words, not the number's consent.
		if got := e.src.ChangesOffers(chat, router.Message{Direction: "in", Body: body}); got {
			t.Errorf("ChangesOffers(%q) in a chat = true, want false", body)
		}
	}
	if _, err := e.db.RecordConsent(e.ctx, consent.Entry{CustomerID: "ada", Channel: "sms", Address: "+15550004444", Action: consent.OptOut,
		At: time.Now(), MessageID: "SM-stop-4", Detail: "STOP"}); err != nil {
		t.Fatal(err)
	}
	if got, withheld, err := e.src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: held}); err != nil || len(got) != 0 || withheld == "" {
		t.Fatalf("after STOP: %d offers, withheld %q, %v; want none, withheld", len(got), withheld, err)
	}
	e.src.Flush()
	before := e.learner.Counts(shown[0].ID, "premium")
	err = e.src.Outcome(e.ctx, screenpop.OfferOutcome{ContactID: c.ID, OfferID: shown[0].ID, Outcome: "accepted", AgentID: "alice"})
	if !errors.Is(err, router.ErrConflict) {
		t.Fatalf("an acceptance after STOP: %v, want ErrConflict", err)
	}
	if got := e.learner.Counts(shown[0].ID, "premium"); got != before {
		t.Errorf("learner: %+v, want %+v unchanged", got, before)
	}
	// A no is recorded: it starts the offer's cooldown.
	if err := e.src.Outcome(e.ctx, screenpop.OfferOutcome{ContactID: c.ID, OfferID: shown[0].ID, Outcome: "declined", AgentID: "alice"}); err != nil {
		t.Fatalf("a decline after STOP: %v, want it recorded", err)
	}
}

// TestRecentComplaint: a customer whose contact ended with a complaint
// disposition within the window gets no offers on the next one, read from
// the store or from the screen pop's history; after the window, offers
// again.
func TestRecentComplaint(t *testing.T) {
	e := newEnv(t)
	ended := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // the router's clock
	if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: "alice", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.SetAgentState(e.ctx, "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	first := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}, Body: "about my card"})
	if _, err := e.rt.Accept(e.ctx, first.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.CloseContact(e.ctx, first.ID, "alice", "complaint", ""); err != nil {
		t.Fatal(err)
	}
	rules := DefaultRules()
	rules.RecentComplaint = 30 * 24 * time.Hour
	cat, err := offers.NewCatalog(offers.Demo())
	if err != nil {
		t.Fatal(err)
	}
	src := NewEngine(cat, offers.NewLearner(offers.Prior{}), rules, e.db, e.rt, nil)
	t.Cleanup(src.Close)
	next := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}, Body: "a new question"})
	for _, tt := range []struct {
		name         string
		after        time.Duration
		history      []screenpop.History
		wantWithheld string
	}{
		{"read-from-the-store", 10 * 24 * time.Hour, nil, offers.RecentComplaint},
		{"from-the-screen-pop", 10 * 24 * time.Hour, []screenpop.History{{ID: first.ID, Disposition: "complaint", EndedAt: ended}}, offers.RecentComplaint},
		{"after-the-window", 40 * 24 * time.Hour, nil, ""},
		{"other-disposition", 10 * 24 * time.Hour, []screenpop.History{{ID: first.ID, Disposition: "solved", EndedAt: ended}}, ""},
		// Ten newer contacts fill the screen pop's history: the store
		// is read on, and the complaint found.
		{"behind-ten-newer", 10 * 24 * time.Hour, tenSolved(ended), offers.RecentComplaint},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src.now = func() time.Time { return ended.Add(tt.after) }
			got, withheld, err := src.PopOffers(e.ctx, screenpop.OfferRequest{Contact: next, History: tt.history})
			if err != nil {
				t.Fatal(err)
			}
			if withheld != tt.wantWithheld || (withheld == "") != (len(got) > 0) {
				t.Errorf("got %d offers, withheld %q; want withheld %q", len(got), withheld, tt.wantWithheld)
			}
		})
	}
}

// tenSolved is a screen pop's full history of ten contacts solved after
// ended, none of them stored: the complaint behind them is in the store.
func tenSolved(ended time.Time) []screenpop.History {
	h := make([]screenpop.History, screenpop.MaxHistory)
	for i := range h {
		h[i] = screenpop.History{ID: fmt.Sprint("newer-", i), Disposition: "solved", EndedAt: ended.Add(time.Duration(i+1) * time.Hour)}
	}
	return h
}

func ptr[T any](v T) *T { return &v }
