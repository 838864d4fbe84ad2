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
