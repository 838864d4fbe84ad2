package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/nextbest"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

func TestSeedDemoCustomers(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	cfg := config.Demo()
	if err := seedDemoCustomers(ctx, cfg, db, log); err != nil {
		t.Fatal(err)
	}
	ada, err := db.Customer(ctx, customers.AdaID)
	if err != nil || ada.Name != "Ada Lovelace" {
		t.Fatalf("got %+v, %v, want Ada Lovelace", ada, err)
	}

	// The synthetic past taught the learner: the offers' acceptance
	// differs by offer and segment, and is near SyntheticAcceptance
	// where there are enough outcomes.
	stats, err := db.OfferStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) < 4 {
		t.Fatalf("got %d learned counts, want several offers and segments: %+v", len(stats), stats)
	}
	rates := map[int]bool{}
	for _, st := range stats {
		n := st.Accepted + st.Rejected
		if n < 30 {
			continue
		}
		got, want := float64(st.Accepted)/float64(n), nextbest.SyntheticAcceptance(st.OfferID, st.Segment)
		if got < want-0.25 || got > want+0.25 {
			t.Errorf("%s in %s: accepted %d of %d, want about %.0f %%", st.OfferID, st.Segment, st.Accepted, n, want*100)
		}
		rates[int(got*100)] = true
	}
	if len(rates) < 2 {
		t.Errorf("got acceptance rates %v, want them to differ", rates)
	}
	// Older than every cooldown: no synthetic decline holds an offer back.
	history, err := db.OfferHistory(ctx, ada.ID, time.Now().Add(-90*24*time.Hour), 100)
	if err != nil || len(history) != 0 {
		t.Errorf("Ada's outcomes of the last 90 days: got %d, %v; want none", len(history), err)
	}
	// Ada's screen pop offers show what was learned.
	cat, err := offers.NewCatalog(cfg.OfferCatalog())
	if err != nil {
		t.Fatal(err)
	}
	learner := offers.NewLearner(cfg.OfferPrior())
	if err := nextbest.LoadLearner(ctx, db, learner); err != nil {
		t.Fatal(err)
	}
	src := nextbest.NewEngine(cat, learner, cfg.OfferRules(), db, nil, nil)
	defer src.Close()
	got, err := src.Offers(ctx, router.Contact{ID: "c", Channel: router.ChannelChat, Queue: "billing", Customer: router.Customer{ID: ada.ID}})
	if err != nil || len(got) == 0 {
		t.Fatalf("Ada's offers: got %+v, %v", got, err)
	}
	for _, o := range got {
		if strings.HasSuffix(o.Reason, " 50 % accept") {
			t.Errorf("offer %s: got reason %q, want a learned rate, not the prior's 50 %%", o.ID, o.Reason)
		}
	}

	// A second start leaves the customers as they are (Ada's edit stays)
	// and records no more outcomes.
	ada.Value = 1
	if _, err := db.PutCustomer(ctx, ada, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoCustomers(ctx, cfg, db, log); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Customer(ctx, customers.AdaID); err != nil || got.Value != 1 {
		t.Errorf("got Ada's value %v, %v after a second seed, want 1 (untouched)", got.Value, err)
	}
	again, err := db.OfferStats(ctx)
	if err != nil || len(again) != len(stats) || again[0] != stats[0] {
		t.Errorf("learned counts after a second seed: got %+v, %v; want %+v", again, err, stats)
	}
}
