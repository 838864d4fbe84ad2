package profiles

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

type env struct {
	ctx     context.Context
	db      *store.DB
	rt      *router.Router
	learner *offers.Learner
	src     *Offers
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
		{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, ConsentMarketing: &yes, ConsentProfiling: &yes,
			Products: []string{"credit_card", "mortgage", "broadband"}},
		{ID: "nosms", Segment: "premium", Value: 12000, ConsentMarketing: &yes, ConsentProfiling: &yes, SMSOptOut: true,
			Products: []string{"credit_card", "mortgage", "broadband"}},
		{ID: "nomarketing", Segment: "premium", Value: 12000, ConsentMarketing: &no, ConsentProfiling: &yes,
			Products: []string{"credit_card", "mortgage", "broadband"}},
		{ID: "noprofiling", Segment: "premium", Value: 12000, ConsentMarketing: &yes, ConsentProfiling: &no,
			Products: []string{"credit_card", "mortgage", "broadband"}},
	} {
		if _, err := db.PutCustomer(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	l := offers.NewLearner(offers.Prior{})
	return &env{ctx: ctx, db: db, rt: rt, learner: l, src: NewOffers(cat, l, DefaultRules(), db, rt, nil)}
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
		name string
		nc   router.NewContact
		want int // how many offers
	}{
		{"eligible-consenting", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}, Body: "A question about my statement"}, 3},
		{"sms-opt-out-by-sms", router.NewContact{Channel: "sms", Queue: "billing", Customer: router.Customer{ID: "nosms"}}, 0},
		{"sms-opt-out-by-chat", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "nosms"}}, 3},
		{"no-marketing-consent", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "nomarketing"}}, 0},
		{"profiling-refused", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "noprofiling"}}, 0},
		{"complaint-queue", router.NewContact{Channel: "chat", Queue: "complaints", Customer: router.Customer{ID: "ada"}}, 0},
		{"complaint-keyword", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}, Body: "I want a REFUND now"}, 0},
		{"complaint-subject", router.NewContact{Channel: "email", Queue: "billing", Customer: router.Customer{ID: "ada"}, Subject: "Formal complaint"}, 0},
		{"no-profile", router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "nobody"}}, 0},
		{"no-customer", router.NewContact{Channel: "chat", Queue: "billing"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.submit(t, tt.nc)
			got, err := e.src.Offers(e.ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("got %d offers %+v, want %d", len(got), got, tt.want)
			}
			for _, o := range got {
				if o.ID == "" || o.Title == "" || !strings.HasPrefix(o.Reason, "premium, ") || !strings.HasSuffix(o.Reason, " % accept") {
					t.Errorf("got %+v, want an id, a title and a reason like \"premium, no savings account, 50 %% accept\"", o)
				}
			}
		})
	}
}

func TestOutcomeTeachesLearner(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	e.src.Outcome(c.ID, "savings", "accepted")
	e.src.Outcome(c.ID, "savings", "declined")
	e.src.Outcome(c.ID, "savings", "presented")
	if got, want := e.learner.Counts("savings", "premium"), (offers.Counts{Accepted: 1, Rejected: 1}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// An ended contact is read from the store.
	if _, err := e.rt.CloseContact(e.ctx, c.ID, "", "", ""); err != nil {
		t.Fatal(err)
	}
	e.src.Outcome(c.ID, "savings", "accepted")
	if got := e.learner.Counts("savings", "premium").Accepted; got != 2 {
		t.Errorf("got %d accepted after an ended contact's outcome, want 2", got)
	}
	e.src.Outcome("no-such-contact", "savings", "accepted")
	if got := e.learner.Counts("savings", "premium").Accepted; got != 2 {
		t.Errorf("got %d accepted after an unknown contact's outcome, want still 2", got)
	}
}

// TestOffersConcurrent shares the source's random source between screen
// pops; run with -race.
func TestOffersConcurrent(t *testing.T) {
	e := newEnv(t)
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 20 {
				if _, err = e.src.Offers(e.ctx, c); err != nil {
					break
				}
				e.src.Outcome(c.ID, "fiber", "declined")
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if got := e.learner.Counts("fiber", "premium").Rejected; got != 160 {
		t.Errorf("got %d rejections, want 160", got)
	}
}
