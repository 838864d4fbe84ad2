package nextbest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

func entryIDs(es []offers.Entry) string {
	var s string
	for _, e := range es {
		s += e.Offer.ID + ":" + e.Source + " "
	}
	return s
}

func TestCatalogOverlay(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	config := offers.Demo()[:2] // savings, card-upgrade
	// A stored offer that no longer compiles is left out; the configured
	// one of its id applies.
	if err := e.db.PutCatalogOffer(e.ctx, store.CatalogOffer{ID: "savings", Definition: []byte(`{"id":"savings","title":"X","eligible":"nope"}`), UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	cat, err := NewLiveCatalog(e.ctx, config, e.db, e.src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := entryIDs(cat.Entries()), "savings:config card-upgrade:config "; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"put-new", func() error {
			_, err := cat.Put(e.ctx, offers.Offer{ID: "gift", Title: "Gift", Value: 5}, at)
			return err
		}, "savings:config card-upgrade:config gift:api "},
		{"put-over-config", func() error {
			_, err := cat.Put(e.ctx, offers.Offer{ID: "card-upgrade", Title: "Card", Value: 1}, at)
			return err
		}, "savings:config card-upgrade:api gift:api "},
		{"delete-config", func() error { return cat.Delete(e.ctx, "savings", at) }, "card-upgrade:api gift:api "},
		{"bad-put-changes-nothing", func() error {
			_, err := cat.Put(e.ctx, offers.Offer{ID: "bad", Title: "Bad", Eligible: "customer.nope"}, at)
			var oe *offers.OfferError
			if !errors.As(err, &oe) || oe.ID != "bad" || oe.Field != "eligible" {
				return fmt.Errorf("got %v, want an *offers.OfferError naming bad's eligible", err)
			}
			return nil
		}, "card-upgrade:api gift:api "},
		{"delete-unknown", func() error {
			if err := cat.Delete(e.ctx, "savings", at); !errors.Is(err, offers.ErrUnknownOffer) {
				return fmt.Errorf("got %v, want ErrUnknownOffer", err)
			}
			return nil
		}, "card-upgrade:api gift:api "},
		{"put-back", func() error {
			created, err := cat.Put(e.ctx, offers.Offer{ID: "savings", Title: "Savings again", Value: 3}, at)
			if err == nil && !created {
				err = errors.New("got created false, want true: savings was withdrawn")
			}
			return err
		}, "savings:api card-upgrade:api gift:api "},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			if got := entryIDs(cat.Entries()); got != st.want {
				t.Errorf("got %q, want %q", got, st.want)
			}
			// The screen pops' catalog is the same.
			live := e.src.Catalog().Offers()
			if len(live) != len(cat.Entries()) {
				t.Errorf("got %d offers live, want %d", len(live), len(cat.Entries()))
			}
		})
	}
	// A restart reads the same.
	again, err := NewLiveCatalog(e.ctx, config, e.db, e.src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := entryIDs(again.Entries()), "savings:api card-upgrade:api gift:api "; got != want {
		t.Errorf("got %q after a restart, want %q", got, want)
	}
}

// TestCatalogSwapWhilePopping changes the catalog while screen pops
// run; under -race it shows that a pop reads one whole catalog.
func TestCatalogSwapWhilePopping(t *testing.T) {
	e := newEnv(t)
	cat, err := NewLiveCatalog(e.ctx, offers.Demo(), e.db, e.src, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.submit(t, router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	done := make(chan error)
	go func() {
		var err error
		for i := range 50 {
			if _, err = cat.Put(e.ctx, offers.Offer{ID: "savings", Title: fmt.Sprint("Savings ", i), Value: float64(i)}, time.Now()); err != nil {
				break
			}
		}
		done <- err
	}()
	for range 50 {
		got, err := e.src.Offers(e.ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range got {
			if o.ID == "" || o.Title == "" {
				t.Fatalf("got %+v, want whole offers", o)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
