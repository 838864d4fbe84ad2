package customers

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/store"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), &store.Options{Path: filepath.Join(t.TempDir(), "c.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// holder is an identity held before the case runs.
type holder struct {
	customer string
	id       Identity
}

func seedHolders(t *testing.T, db *store.DB, hs []holder) {
	t.Helper()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, h := range hs {
		if _, err := db.PutCustomer(context.Background(), store.Customer{ID: h.customer, CreatedAt: at, UpdatedAt: at}, []store.Identity{{Kind: h.id.Kind, Value: h.id.Value, Verified: h.id.Verified}}, "test"); err != nil {
			t.Fatalf("PutCustomer: %v", err)
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name         string
		held         []holder
		id           Identity
		wantCustomer string // empty: a new customer
		wantCreated  bool
		wantVerified bool
		wantErr      error
	}{
		{"unknown-creates", nil, Identity{Kind: KindEmail, Value: "ada@example.com"}, "", true, false, nil},
		{"unknown-verified-creates-verified", nil, Identity{Kind: KindPhone, Value: "+15551234567", Verified: true}, "", true, true, nil},
		{"known-found", []holder{{"ada", Identity{KindEmail, "ada@example.com", false}}},
			Identity{Kind: KindEmail, Value: "ada@example.com"}, "ada", false, false, nil},
		{"known-normalized", []holder{{"ada", Identity{KindEmail, "ada@example.com", false}}},
			Identity{Kind: KindEmail, Value: " ADA@example.com"}, "ada", false, false, nil},
		{"verified-upgrades-claim", []holder{{"ada", Identity{KindEmail, "ada@example.com", false}}},
			Identity{Kind: KindEmail, Value: "ada@example.com", Verified: true}, "ada", false, true, nil},
		{"claim-keeps-verified", []holder{{"ada", Identity{KindPhone, "+15551234567", true}}},
			Identity{Kind: KindPhone, Value: "+15551234567"}, "ada", false, true, nil},
		{"invalid", nil, Identity{Kind: KindPhone, Value: "555"}, "", false, false, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t)
			seedHolders(t, db, tt.held)
			got, created, err := Resolve(ctx, db, tt.id, "Ada")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if created != tt.wantCreated || (tt.wantCustomer != "" && got != tt.wantCustomer) || got == "" {
				t.Errorf("got %q created %v, want %q created %v", got, created, tt.wantCustomer, tt.wantCreated)
			}
			norm, _ := Normalize(tt.id)
			owner, err := db.IdentityOwner(ctx, norm.Kind, norm.Value)
			if err != nil || owner.CustomerID != got || owner.Verified != tt.wantVerified {
				t.Errorf("identity: got %+v %v, want held by %q verified %v", owner, err, got, tt.wantVerified)
			}
			if created {
				if c, err := db.Customer(ctx, got); err != nil || c.Name != "Ada" {
					t.Errorf("created customer: got %+v %v, want name Ada", c, err)
				}
			}
		})
	}
}

func TestAttach(t *testing.T) {
	const email = "ada@example.com"
	tests := []struct {
		name       string
		held       []holder // customer "x" always exists, holding a chat token
		id         Identity // attached to "x"
		wantOwner  string   // who holds id afterwards; empty: nobody
		wantMerged bool
		wantErr    error
	}{
		{"unheld-claim-attached", nil, Identity{KindEmail, email, false}, "x", false, nil},
		{"unheld-verified-attached", nil, Identity{KindEmail, email, true}, "x", false, nil},
		{"own-claim-verified", []holder{{"x", Identity{KindEmail, email, false}}}, Identity{KindEmail, email, true}, "x", false, nil},
		{"claim-never-merges", []holder{{"y", Identity{KindEmail, email, false}}}, Identity{KindEmail, email, false}, "y", false, nil},
		{"claim-never-takes-verified", []holder{{"y", Identity{KindEmail, email, true}}}, Identity{KindEmail, email, false}, "y", false, nil},
		{"verified-merges-claimer", []holder{{"y", Identity{KindEmail, email, false}}}, Identity{KindEmail, email, true}, "x", true, nil},
		{"verified-both-sides-held", []holder{{"y", Identity{KindEmail, email, true}}}, Identity{KindEmail, email, true}, "y", false, ErrHeld},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t)
			seedHolders(t, db, append([]holder{{"x", Identity{KindChat, "tok-x", true}}}, tt.held...))
			into, merged, err := Attach(ctx, db, "x", tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got err %v, want %v", err, tt.wantErr)
			}
			if err == nil && (into != "x" || merged != tt.wantMerged) {
				t.Errorf("got into %q merged %v, want x %v", into, merged, tt.wantMerged)
			}
			owner, err := db.IdentityOwner(ctx, tt.id.Kind, tt.id.Value)
			if err != nil || owner.CustomerID != tt.wantOwner {
				t.Errorf("owner: got %+v %v, want %q", owner, err, tt.wantOwner)
			}
			merges, err := db.CustomerMerges(ctx, "x")
			if err != nil {
				t.Fatalf("CustomerMerges: %v", err)
			}
			if !tt.wantMerged {
				if len(merges) != 0 {
					t.Errorf("merges: got %+v, want none", merges)
				}
				return
			}
			if len(merges) != 1 || merges[0].FromID != "y" || merges[0].IntoID != "x" || merges[0].IdentityValue != email || merges[0].Reason == "" {
				t.Errorf("merges: got %+v, want one audit record y into x by %s", merges, email)
			}
			if y, _ := db.Customer(ctx, "y"); y.MergedInto != "x" {
				t.Errorf("y.MergedInto: got %q, want x", y.MergedInto)
			}
			if !owner.Verified {
				t.Errorf("merged identity: got claimed, want verified")
			}
			// Attaching to the merged-away customer lands on the survivor.
			if into, _, err := Attach(ctx, db, "y", Identity{KindExternal, "crm-1", false}); err != nil || into != "x" {
				t.Errorf("attach to merged y: got %q %v, want x", into, err)
			}
		})
	}
}

// profileMap is a ProfileReader over a map, for chains the store refuses
// to build (a loop).
type profileMap map[string]store.Customer

func (m profileMap) Customer(_ context.Context, id string) (store.Customer, error) {
	c, ok := m[id]
	if !ok {
		return store.Customer{}, store.ErrNotFound
	}
	return c, nil
}

func TestCurrent(t *testing.T) {
	erased := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m := profileMap{
		"a":    {ID: "a", MergedInto: "b"},
		"b":    {ID: "b", MergedInto: "c"},
		"c":    {ID: "c", Name: "C"},
		"x":    {ID: "x", MergedInto: "gone"},
		"e":    {ID: "e", MergedInto: "f"},
		"f":    {ID: "f", ErasedAt: erased},
		"loop": {ID: "loop", MergedInto: "pool"},
		"pool": {ID: "pool", MergedInto: "loop"},
	}
	tests := []struct {
		id, wantID string
		wantErr    error
	}{
		{"c", "c", nil},
		{"b", "c", nil},
		{"a", "c", nil},
		{"e", "f", nil}, // erased, returned as such
		{"nobody", "", store.ErrNotFound},
		{"x", "", store.ErrNotFound},
	}
	for _, tt := range tests {
		c, err := Current(context.Background(), m, tt.id)
		if !errors.Is(err, tt.wantErr) || c.ID != tt.wantID {
			t.Errorf("Current(%q): got %q %v, want %q %v", tt.id, c.ID, err, tt.wantID, tt.wantErr)
		}
	}
	if c, err := Current(context.Background(), m, "e"); err != nil || c.ErasedAt.IsZero() {
		t.Errorf("Current(e): got %+v %v, want the erased profile f", c, err)
	}
	if _, err := Current(context.Background(), m, "loop"); err == nil {
		t.Errorf("Current(loop): got no error, want one about nested merges")
	}

	// A chain built by the store: a into b, then b into c.
	db := openStore(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		seedHolders(t, db, []holder{{id, Identity{KindEmail, id + "@example.com", true}}})
	}
	for _, mg := range [][2]string{{"a", "b"}, {"b", "c"}} {
		if err := db.MergeCustomers(ctx, store.Merge{FromID: mg[0], IntoID: mg[1], IdentityKind: KindEmail,
			IdentityValue: mg[0] + "@example.com", At: erased, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := Current(ctx, db, "a"); err != nil || c.ID != "c" {
		t.Errorf("Current(a) in the store: got %q %v, want c", c.ID, err)
	}
	if into, _, err := Attach(ctx, db, "a", Identity{KindExternal, "crm-a", false}); err != nil || into != "c" {
		t.Errorf("attach to a: got %q %v, want c", into, err)
	}
}
