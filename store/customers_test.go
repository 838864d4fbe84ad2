package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/router"
)

var custEpoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestPutCustomerRoundTripAndConflicts(t *testing.T) {
	forEachDialect(t, testPutCustomerRoundTripAndConflicts)
}

func testPutCustomerRoundTripAndConflicts(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	yes := true
	ada := Customer{ID: "ada", Name: "Ada", Segment: "premium", Value: 1200, Language: "en", Consent: consent.Flags{Marketing: &yes},
		RelationshipManager: "alice", SMSOptOut: true, Products: []string{"card"}, Tags: []string{"vip"}, CreatedAt: custEpoch, UpdatedAt: custEpoch}
	created, err := db.PutCustomer(ctx, ada, []Identity{{Kind: IdentityEmail, Value: "ada@example.com"}}, "test")
	if err != nil || !created {
		t.Fatalf("PutCustomer: got created %v err %v, want true nil", created, err)
	}
	got, err := db.Customer(ctx, "ada")
	if err != nil {
		t.Fatalf("Customer: %v", err)
	}
	if !reflect.DeepEqual(got, ada) {
		t.Errorf("Customer: got %+v, want %+v", got, ada)
	}

	// The same identity again, verified: upgraded, not duplicated.
	later := ada
	later.UpdatedAt = custEpoch.Add(time.Hour)
	later.CreatedAt = time.Time{}
	if created, err := db.PutCustomer(ctx, later, []Identity{{Kind: IdentityEmail, Value: "ada@example.com", Verified: true}}, "test"); err != nil || created {
		t.Fatalf("PutCustomer again: got created %v err %v, want false nil", created, err)
	}
	if got, _ := db.Customer(ctx, "ada"); !got.CreatedAt.Equal(custEpoch) {
		t.Errorf("CreatedAt: got %v, want %v kept", got.CreatedAt, custEpoch)
	}
	ids, err := db.CustomerIdentities(ctx, "ada")
	if err != nil || len(ids) != 1 || !ids[0].Verified {
		t.Errorf("identities: got %+v %v, want one verified", ids, err)
	}

	// Another customer cannot take it, and nothing of that put is kept.
	_, err = db.PutCustomer(ctx, Customer{ID: "bob", CreatedAt: custEpoch}, []Identity{{Kind: IdentityEmail, Value: "ada@example.com"}}, "test")
	var ice *IdentityConflictError
	if !errors.As(err, &ice) || ice.Owner != "ada" || !errors.Is(err, ErrConflict) {
		t.Errorf("conflicting put: got %v, want an IdentityConflictError owned by ada", err)
	}
	if _, err := db.Customer(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob after a failed put: got %v, want ErrNotFound", err)
	}
}

func TestMergeCustomers(t *testing.T) { forEachDialect(t, testMergeCustomers) }

func testMergeCustomers(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	put := func(id string, ids ...Identity) {
		t.Helper()
		if _, err := db.PutCustomer(ctx, Customer{ID: id, CreatedAt: custEpoch, UpdatedAt: custEpoch}, ids, "test"); err != nil {
			t.Fatalf("PutCustomer %s: %v", id, err)
		}
	}
	put("a", Identity{Kind: IdentityPhone, Value: "+15550000001", Verified: true})
	put("b", Identity{Kind: IdentityEmail, Value: "b@example.com"}, Identity{Kind: IdentityChat, Value: "tok"})
	m := Merge{FromID: "b", IntoID: "a", IdentityKind: IdentityEmail, IdentityValue: "b@example.com", At: custEpoch.Add(time.Minute), Reason: "verified email"}
	if err := db.MergeCustomers(ctx, m); err != nil {
		t.Fatalf("MergeCustomers: %v", err)
	}
	ids, _ := db.CustomerIdentities(ctx, "a")
	if len(ids) != 3 {
		t.Fatalf("identities of a: got %+v, want 3", ids)
	}
	for _, id := range ids {
		wantVerified := id.Kind != IdentityChat
		if id.Verified != wantVerified {
			t.Errorf("%s %s verified: got %v, want %v", id.Kind, id.Value, id.Verified, wantVerified)
		}
	}
	b, _ := db.Customer(ctx, "b")
	if b.MergedInto != "a" {
		t.Errorf("b.MergedInto: got %q, want a", b.MergedInto)
	}
	for _, id := range []string{"a", "b"} {
		ms, err := db.CustomerMerges(ctx, id)
		if err != nil || len(ms) != 1 || ms[0].FromID != "b" || ms[0].Reason != "verified email" || ms[0].ID == "" || !ms[0].At.Equal(m.At) {
			t.Errorf("merges of %s: got %+v %v, want the one audit record", id, ms, err)
		}
	}
	if err := db.MergeCustomers(ctx, Merge{FromID: "b", IntoID: "a"}); !errors.Is(err, ErrConflict) {
		t.Errorf("merging again: got %v, want ErrConflict", err)
	}
	if err := db.MergeCustomers(ctx, Merge{FromID: "x", IntoID: "a"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("merging unknown: got %v, want ErrNotFound", err)
	}
}

func TestExportAndEraseCustomer(t *testing.T) { forEachDialect(t, testExportAndEraseCustomer) }

func testExportAndEraseCustomer(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	yes := true
	if _, err := db.PutCustomer(ctx, Customer{ID: "ada", Name: "Ada", Segment: "premium", Value: 1234, Consent: consent.Flags{Profiling: &yes},
		Products: []string{"card"}, CreatedAt: custEpoch, UpdatedAt: custEpoch}, []Identity{{Kind: IdentityEmail, Value: "ada@example.com"}, {Kind: IdentityPhone, Value: "+15551234567"}}, "test"); err != nil {
		t.Fatalf("PutCustomer: %v", err)
	}
	byEmail := simpleContact("c1", router.ContactClosed, custEpoch)
	byEmail.Customer = router.Customer{Email: "ada@example.com"}
	byPhone := simpleContact("c2", router.ContactClosed, custEpoch.Add(time.Second))
	byPhone.Customer = router.Customer{Phone: "+15551234567"}
	other := simpleContact("c3", router.ContactClosed, custEpoch.Add(2*time.Second))
	other.Customer = router.Customer{Email: "bob@example.com"}
	commit(t, db, &router.Batch{Contacts: []router.Contact{byEmail, byPhone, other}})
	// Survey answers: the customer's (c2 answered before c1: the export
	// follows the contacts), and Bob's, which is not hers.
	answers := []csat.Response{
		{ContactID: "c2", Queue: byPhone.Queue, Score: 2, Comment: "slow", At: custEpoch.Add(time.Minute)},
		{ContactID: "c1", Queue: byEmail.Queue, Score: 5, At: custEpoch.Add(2 * time.Minute)},
		{ContactID: "c3", Queue: other.Queue, Score: 1, Comment: "Bob's", At: custEpoch.Add(3 * time.Minute)},
	}
	for _, a := range answers {
		if err := db.RecordCSAT(ctx, a); err != nil {
			t.Fatalf("RecordCSAT %s: %v", a.ContactID, err)
		}
	}

	x, err := db.ExportCustomer(ctx, "ada")
	if err != nil {
		t.Fatalf("ExportCustomer: %v", err)
	}
	var got []string
	for _, c := range x.Contacts {
		got = append(got, c.ID)
	}
	if !reflect.DeepEqual(got, []string{"c1", "c2"}) || len(x.Identities) != 2 || x.Customer.Name != "Ada" {
		t.Errorf("export: got contacts %v, %d identities, name %q; want [c1 c2], 2, Ada", got, len(x.Identities), x.Customer.Name)
	}
	if want := []csat.Response{answers[1], answers[0]}; !reflect.DeepEqual(x.CSAT, want) {
		t.Errorf("export: got survey answers %+v, want %+v", x.CSAT, want)
	}

	at := custEpoch.Add(time.Hour)
	for range 2 { // erasing twice changes nothing more
		if err := db.EraseCustomer(ctx, "ada", at); err != nil {
			t.Fatalf("EraseCustomer: %v", err)
		}
	}
	want := Customer{ID: "ada", Segment: "premium", Value: 1000, Products: []string{}, Tags: []string{},
		ContactCount: 2, IdentityCount: 2, CreatedAt: custEpoch, UpdatedAt: at, ErasedAt: at}
	if c, _ := db.Customer(ctx, "ada"); !reflect.DeepEqual(c, want) {
		t.Errorf("after erase: got %+v, want %+v", c, want)
	}
	if x, err := db.ExportCustomer(ctx, "ada"); err != nil || len(x.CSAT) != 2 || x.CSAT[0].Score != 5 || x.CSAT[1].Score != 2 || x.CSAT[1].Comment != "" {
		t.Errorf("export after erase: got survey answers %+v (%v), want the scores without the comment", x.CSAT, err)
	}
	if ids, _ := db.CustomerIdentities(ctx, "ada"); len(ids) != 0 {
		t.Errorf("identities after erase: got %+v, want none", ids)
	}
	if _, err := db.IdentityOwner(ctx, IdentityEmail, "ada@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("IdentityOwner after erase: got %v, want ErrNotFound", err)
	}
	if _, err := db.PutCustomer(ctx, Customer{ID: "ada"}, nil, "test"); !errors.Is(err, ErrConflict) {
		t.Errorf("put after erase: got %v, want ErrConflict", err)
	}
	if err := db.EraseCustomer(ctx, "nobody", at); !errors.Is(err, ErrNotFound) {
		t.Errorf("erase unknown: got %v, want ErrNotFound", err)
	}
}

func TestValueBucket(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0, 0}, {0.5, 0}, {1, 1}, {9.9, 1}, {10, 10}, {1234, 1000}, {99999, 10000}} {
		if got := valueBucket(tt.in); got != tt.want {
			t.Errorf("valueBucket(%v): got %v, want %v", tt.in, got, tt.want)
		}
	}
}
