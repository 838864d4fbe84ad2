package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
)

func TestImportCustomers(t *testing.T) { forEachDialect(t, testImportCustomers) }

func testImportCustomers(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	email := func(v string) Identity { return Identity{Kind: IdentityEmail, Value: v} }
	// Before: ada holds ada@ (claimed); gone was erased; old was merged
	// into ada.
	if _, err := db.PutCustomer(ctx, Customer{ID: "ada", Name: "Ada", CreatedAt: custEpoch, UpdatedAt: custEpoch}, []Identity{email("ada@example.com")}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gone", "old"} {
		if _, err := db.PutCustomer(ctx, Customer{ID: id, CreatedAt: custEpoch, UpdatedAt: custEpoch}, []Identity{email(id + "@example.com")}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.EraseCustomer(ctx, "gone", custEpoch); err != nil {
		t.Fatal(err)
	}
	if err := db.MergeCustomers(ctx, Merge{FromID: "old", IntoID: "ada", IdentityKind: IdentityEmail, IdentityValue: "old@example.com", At: custEpoch}); err != nil {
		t.Fatal(err)
	}

	later := custEpoch.Add(time.Hour)
	row := func(id, name string, ids ...Identity) CustomerImport {
		return CustomerImport{Customer: Customer{ID: id, Name: name, CreatedAt: later, UpdatedAt: later}, Identities: ids}
	}
	verified := email("ada@example.com")
	verified.Verified = true
	batch := []CustomerImport{
		row("new", "New", email("new@example.com")),                           // created
		row("bob", "Bob", email("bob@example.com"), email("ada@example.com")), // ada's email: rejected, bob@ not taken
		row("gone", "Back"),                            // erased: rejected
		row("old", "Old"),                              // merged: rejected
		row("ada", "Ada", email("ada@example.com")),    // as stored: unchanged
		row("eve", "Eve", email("new@example.com")),    // held by an earlier row: rejected
		row("new", "Newer", email("new2@example.com")), // again: the later profile, both identities
		row("ada", "Ada", verified),                    // the claim becomes verified
		row("bob2", "Bob", Identity{Kind: IdentityPhone, Value: "+15551234567", Verified: true}), // created
	}
	want := []struct {
		outcome ImportOutcome
		owner   string // of an identity conflict
		err     string // in another rejection
	}{
		{ImportCreated, "", ""},
		{ImportRejected, "ada", ""},
		{ImportRejected, "", "erased"},
		{ImportRejected, "", `merged into "ada"`},
		{ImportUnchanged, "", ""},
		{ImportRejected, "new", ""},
		{ImportUpdated, "", ""},
		{ImportUpdated, "", ""},
		{ImportCreated, "", ""},
	}
	got, err := db.ImportCustomers(ctx, batch)
	if err != nil {
		t.Fatalf("ImportCustomers: %v", err)
	}
	for i, w := range want {
		g := got[i]
		var ice *IdentityConflictError
		switch {
		case g.Outcome != w.outcome:
			t.Errorf("row %d (%s): got outcome %v (%v), want %v", i, batch[i].Customer.ID, g.Outcome, g.Err, w.outcome)
		case w.owner != "" && (!errors.As(g.Err, &ice) || ice.Owner != w.owner):
			t.Errorf("row %d: got %v, want an identity conflict with %s", i, g.Err, w.owner)
		case w.err != "" && (!errors.Is(g.Err, ErrConflict) || !strings.Contains(g.Err.Error(), w.err)):
			t.Errorf("row %d: got %v, want a conflict saying %q", i, g.Err, w.err)
		case w.outcome != ImportRejected && g.Err != nil:
			t.Errorf("row %d: got error %v with outcome %v", i, g.Err, g.Outcome)
		}
	}

	for _, id := range []string{"bob", "eve"} {
		if _, err := db.Customer(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: got %v, want no customer", id, err)
		}
	}
	if _, err := db.IdentityOwner(ctx, IdentityEmail, "bob@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob@ of a rejected row: got %v, want nobody holds it", err)
	}
	if c, _ := db.Customer(ctx, "gone"); c.Name != "" || c.ErasedAt.IsZero() {
		t.Errorf("gone: got %+v, want still erased", c)
	}
	if c, _ := db.Customer(ctx, "new"); c.Name != "Newer" {
		t.Errorf("new: got name %q, want the later row's Newer", c.Name)
	}
	if ids, _ := db.CustomerIdentities(ctx, "new"); len(ids) != 2 {
		t.Errorf("new: got identities %+v, want both rows'", ids)
	}
	ada, _ := db.Customer(ctx, "ada")
	if !ada.CreatedAt.Equal(custEpoch) || !ada.UpdatedAt.Equal(later) {
		t.Errorf("ada: got created %v updated %v, want %v kept and %v for the verification", ada.CreatedAt, ada.UpdatedAt, custEpoch, later)
	}
	if id, _ := db.IdentityOwner(ctx, IdentityEmail, "ada@example.com"); !id.Verified || id.CustomerID != "ada" {
		t.Errorf("ada@: got %+v, want ada's, verified", id)
	}

	// The same accepted rows again change nothing.
	var again []CustomerImport
	for i, r := range batch {
		if got[i].Outcome != ImportRejected {
			again = append(again, r)
		}
	}
	again = again[1:] // "new" as its first row would be an update back
	res, err := db.ImportCustomers(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Outcome != ImportUnchanged {
			t.Errorf("re-run row %d (%s): got %v %v, want unchanged", i, again[i].Customer.ID, r.Outcome, r.Err)
		}
	}
}

// TestImportMatchesPutCustomer imports random profiles that often share
// ids and identities, in batches, and puts the same profiles one by one
// into another store with PutCustomer: the outcomes and the stores must
// agree.
func TestImportMatchesPutCustomer(t *testing.T) { forEachDialect(t, testImportMatchesPutCustomer) }

func testImportMatchesPutCustomer(t *testing.T) {
	ctx := context.Background()
	imported, put := openTest(t), openTest(t)
	rng := rand.New(rand.NewPCG(7, 11))
	at := custEpoch
	yes, no := true, false
	consents := []*bool{nil, &yes, &no}
	var profiles []CustomerImport
	for range 600 {
		c := Customer{ID: fmt.Sprintf("c%d", rng.IntN(150)), Name: []string{"A", "B"}[rng.IntN(2)],
			Value: float64(rng.IntN(3)), Consent: consent.Flags{Marketing: consents[rng.IntN(3)]}, CreatedAt: at, UpdatedAt: at}
		if rng.IntN(2) == 0 {
			c.Products = []string{"card"}
		}
		var ids []Identity
		for range rng.IntN(3) {
			kind := []string{IdentityEmail, IdentityPhone, IdentityExternal}[rng.IntN(3)]
			ids = append(ids, Identity{Kind: kind, Value: fmt.Sprint(rng.IntN(200)), Verified: rng.IntN(3) == 0})
		}
		profiles = append(profiles, CustomerImport{Customer: c, Identities: ids, By: "test"})
	}
	outcomes := map[ImportOutcome]int{}
	for start := 0; start < len(profiles); start += 97 {
		batch := profiles[start:min(start+97, len(profiles))]
		if start <= 300 && 300 < start+97 {
			// Erase c1 in both stores between two batches.
			for _, db := range []*DB{imported, put} {
				if err := db.EraseCustomer(ctx, "c1", at); err != nil && !errors.Is(err, ErrNotFound) {
					t.Fatal(err)
				}
			}
		}
		res, err := imported.ImportCustomers(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range batch {
			created, err := put.PutCustomer(ctx, p.Customer, p.Identities, "test")
			r := res[i]
			outcomes[r.Outcome]++
			var a, b *IdentityConflictError
			switch {
			case err != nil && r.Outcome != ImportRejected:
				t.Fatalf("profile %d: PutCustomer failed with %v, import gave %v", start+i, err, r.Outcome)
			case err == nil && r.Outcome == ImportRejected:
				t.Fatalf("profile %d: PutCustomer succeeded, import rejected it: %v", start+i, r.Err)
			case errors.As(err, &a) != errors.As(r.Err, &b) || (a != nil && *a != *b):
				t.Fatalf("profile %d: PutCustomer said %v, import %v", start+i, err, r.Err)
			case err == nil && created != (r.Outcome == ImportCreated):
				t.Fatalf("profile %d: PutCustomer created %v, import %v", start+i, created, r.Outcome)
			}
		}
	}
	for _, o := range []ImportOutcome{ImportCreated, ImportUpdated, ImportUnchanged, ImportRejected} {
		if outcomes[o] == 0 {
			t.Errorf("got no profile with outcome %v (%v): the case is not exercised", o, outcomes)
		}
	}
	for i := range 150 {
		id := fmt.Sprintf("c%d", i)
		a, errA := imported.ExportCustomer(ctx, id)
		b, errB := put.ExportCustomer(ctx, id)
		if !errors.Is(errA, ErrNotFound) || !errors.Is(errB, ErrNotFound) {
			for _, x := range []*CustomerExport{&a, &b} {
				for j := range x.Audit {
					x.Audit[j].ID = "" // random, and so their order at one time
				}
				slices.SortFunc(x.Audit, func(a, b AuditEntry) int { return strings.Compare(a.Detail, b.Detail) })
			}
			if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
				t.Errorf("%s: imported %+v %v, put %+v %v", id, a, errA, b, errB)
			}
		}
	}
}
