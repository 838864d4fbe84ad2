package customers

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/store"
)

func TestSynthetic(t *testing.T) {
	const n = 500
	got := Synthetic(n, 1)
	if len(got) != n {
		t.Fatalf("got %d profiles, want %d", len(got), n)
	}
	if !reflect.DeepEqual(got, Synthetic(n, 1)) {
		t.Errorf("got different profiles for the same seed, want the same")
	}
	if reflect.DeepEqual(got[1:], Synthetic(n, 2)[1:]) {
		t.Errorf("got the same profiles for another seed, want different")
	}
	ada := got[0].Customer
	if ada.ID != AdaID || ada.Name != "Ada Lovelace" || ada.Segment != "premium" || ada.Value != 12000 ||
		!*ada.Consent.Marketing || !*ada.Consent.Profiling || slices.Contains(ada.Products, "savings") ||
		got[0].Identities[0].Value != "ada@example.com" {
		t.Errorf("got first %+v, want Ada Lovelace", got[0])
	}
	vocab := append(slices.Clone(syntheticProducts), syntheticTags...)
	ids, segments := map[string]bool{}, map[string]int{}
	consenting := 0
	for _, p := range got {
		segments[p.Customer.Segment]++
		if *p.Customer.Consent.Marketing {
			consenting++
		}
		for _, x := range append(slices.Clone(p.Customer.Products), p.Customer.Tags...) {
			if !slices.Contains(vocab, x) {
				t.Errorf("%s: got %q, want the demo offers' vocabulary", p.Customer.ID, x)
			}
		}
		for _, id := range p.Identities {
			n, err := Normalize(Identity{Kind: id.Kind, Value: id.Value})
			if err != nil || n.Value != id.Value {
				t.Errorf("%s: got identity %q (%v), want it normalized", p.Customer.ID, id.Value, err)
			}
			if ids[id.Kind+id.Value] {
				t.Errorf("%s: got identity %q twice", p.Customer.ID, id.Value)
			}
			ids[id.Kind+id.Value] = true
		}
	}
	for _, s := range []string{"standard", "premium", "private"} {
		if segments[s] == 0 {
			t.Errorf("got no %s customer in %v", s, segments)
		}
	}
	if consenting < n*7/10 || consenting == n {
		t.Errorf("got %d of %d consenting to marketing, want most but not all", consenting, n)
	}

	// They load into the store.
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if has, err := db.HasCustomers(ctx); err != nil || has {
		t.Fatalf("got HasCustomers %v, %v on an empty store, want false", has, err)
	}
	for _, p := range got[:20] {
		if _, err := db.PutCustomer(ctx, p.Customer, p.Identities, "test"); err != nil {
			t.Fatalf("put %s: %v", p.Customer.ID, err)
		}
	}
	if has, err := db.HasCustomers(ctx); err != nil || !has {
		t.Fatalf("got HasCustomers %v, %v, want true", has, err)
	}
	owner, err := db.IdentityOwner(ctx, KindEmail, "ada@example.com")
	if err != nil || owner.CustomerID != AdaID {
		t.Errorf("got ada's email owner %+v, %v, want %s", owner, err, AdaID)
	}
}
