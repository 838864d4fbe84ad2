package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/router"
)

// TestCSAT: one answer per contact, kept whole; a second, an invalid one
// and one about an unknown contact change nothing; the reports' read
// carries the score (erasure: TestEraseCustomerBlanksContacts).
func TestCSAT(t *testing.T) { forEachDialect(t, testCSAT) }

func testCSAT(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	c := simpleContact("c-1", router.ContactClosed, t0)
	c.AssignedAt, c.EndedAt = t0.Add(time.Second), t0.Add(time.Minute)
	commit(t, db, &router.Batch{Contacts: []router.Contact{c}})

	want := csat.Response{ContactID: "c-1", Queue: c.Queue, Score: 4, Comment: "quick and kind", At: t0.Add(2 * time.Minute)}
	if err := db.RecordCSAT(ctx, want); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		r    csat.Response
		err  error
	}{
		{"second", csat.Response{ContactID: "c-1", Queue: c.Queue, Score: 1, At: t0}, ErrConflict},
		{"score 6", csat.Response{ContactID: "c-1", Queue: c.Queue, Score: 6, At: t0}, csat.ErrInvalid},
		{"score 0", csat.Response{ContactID: "c-1", Queue: c.Queue, Score: 0, At: t0}, csat.ErrInvalid},
		{"unknown contact", csat.Response{ContactID: "c-2", Queue: c.Queue, Score: 3, At: t0}, ErrNotFound},
	} {
		if err := db.RecordCSAT(ctx, tt.r); !errors.Is(err, tt.err) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.err)
		}
	}
	got, err := db.CSATs(ctx, []string{"c-1", "c-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["c-1"] != want {
		t.Errorf("CSATs: %+v, want only %+v", got, want)
	}
	times, err := db.ContactTimes(ctx, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 1 || times[0].CSAT != 4 {
		t.Errorf("contact times: %+v, want the score 4", times)
	}
}

// TestCSATAfterErasure: an answer that arrives after its customer was
// erased (the survey's window outlives the data) keeps its score and
// loses its comment, whichever way the contact was the customer's; an
// answer about another customer's contact keeps its comment.
func TestCSATAfterErasure(t *testing.T) { forEachDialect(t, testCSATAfterErasure) }

func testCSATAfterErasure(t *testing.T) {
	f := newEraseFixture(t)
	db, ctx := f.db, context.Background()
	if err := db.EraseCustomer(ctx, "ada", custEpoch.Add(time.Hour)); err != nil {
		t.Fatalf("EraseCustomer: %v", err)
	}
	at := custEpoch.Add(2 * time.Hour)
	// c2 by phone, c3 by the merged customer's id, c4 by its email; c1
	// was answered before the erasure.
	for _, c := range f.ada[1:] {
		if err := db.RecordCSAT(ctx, csat.Response{ContactID: c.ID, Queue: c.Queue, Score: 3, Comment: "Ada Lovelace: my neighbour Clara waited too", At: at}); err != nil {
			t.Fatalf("RecordCSAT %s: %v", c.ID, err)
		}
	}
	if err := db.RecordCSAT(ctx, csat.Response{ContactID: f.bob.ID, Queue: f.bob.Queue, Score: 4, Comment: "Bob Stone is happy", At: at}); err != nil {
		t.Fatalf("RecordCSAT bob: %v", err)
	}
	for needle, where := range textHits(t, db, adaSecrets...) {
		t.Errorf("after a late answer, %q is in %v", needle, where)
	}
	got, err := db.CSATs(ctx, []string{"c1", "c2", "c3", "c4", f.bob.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.ada[1:] {
		if want := (csat.Response{ContactID: c.ID, Queue: c.Queue, Score: 3, At: at}); got[c.ID] != want {
			t.Errorf("%s: got %+v, want %+v", c.ID, got[c.ID], want)
		}
	}
	if got["c1"].Score != 2 || got["c1"].Comment != "" {
		t.Errorf("c1, answered before the erasure: got %+v, want the score 2 without the comment", got["c1"])
	}
	if got[f.bob.ID].Comment != "Bob Stone is happy" {
		t.Errorf("bob's: got %+v, want the comment kept", got[f.bob.ID])
	}
}
