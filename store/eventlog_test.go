package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// TestEventLog: entries committed with a batch and written by the store's
// own transactions share one log, in commit order; pruning never lets an
// id be used again.
func TestEventLog(t *testing.T) { forEachDialect(t, testEventLog) }

func testEventLog(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := simpleContact("c1", router.ContactQueued, t0)
	commit(t, db, &router.Batch{Contacts: []router.Contact{c}, Log: []router.LogEntry{
		{Type: router.LogContactCreated, ContactID: "c1", At: t0, Data: json.RawMessage(`{"contact":{"id":"c1"}}`)},
		{Type: router.LogMessageIn, ContactID: "c1", At: t0, Data: json.RawMessage(`{"message":{"seq":1}}`)},
	}})
	if _, err := db.PutCustomer(ctx, Customer{ID: "cu1", Name: "Ada", UpdatedAt: t0}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.RecordOfferOutcomes(ctx, []OfferOutcome{{OfferID: "o1", ContactID: "c1", Outcome: OutcomeAccepted, At: t0}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.EventLog(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{router.LogContactCreated, router.LogMessageIn, router.LogCustomerChanged, router.LogOfferOutcome}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, e := range got {
		if e.Type != want[i] || e.ID != int64(i+1) {
			t.Errorf("entry %d: got %s id %d, want %s id %d", i, e.Type, e.ID, want[i], i+1)
		}
	}
	if string(got[2].Data) != `{"customer":{"id":"cu1","change":"put"}}` {
		t.Errorf("customer.changed data: got %s", got[2].Data)
	}
	if after, _ := db.EventLog(ctx, 2, 10); len(after) != 2 || after[0].ID != 3 {
		t.Errorf("after 2: got %+v, want entries 3 and 4", after)
	}
	db.pruneBatch = 3 // a full batch, then the rest
	n, err := db.PruneEventLog(ctx, 4, t0.Add(time.Second))
	if err != nil || n != 4 {
		t.Fatalf("prune: got %d, %v, want 4 deleted", n, err)
	}
	if last, err := db.LastLogID(ctx); err != nil || last != 4 {
		t.Fatalf("last id after pruning: got %d, %v, want 4", last, err)
	}
	commit(t, db, &router.Batch{Log: []router.LogEntry{{Type: router.LogContactEnded, ContactID: "c1", At: t0, Data: json.RawMessage(`{}`)}}})
	if got, _ := db.EventLog(ctx, 0, 10); len(got) != 1 || got[0].ID != 5 {
		t.Errorf("after pruning every entry: got %+v, want one entry with id 5", got)
	}
}

// TestWebhookStore: a webhook and its delivery state round-trip and go
// together.
func TestWebhookStore(t *testing.T) { forEachDialect(t, testWebhookStore) }

func testWebhookStore(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	w := Webhook{ID: "crm", URL: "https://crm.example/hook", Events: []string{"*"}, Secret: "s3cret", UpdatedAt: at}
	st := WebhookState{Cursor: 7, Scanned: 12, Delivered: 3, Failures: 1, Attempts: 2, LastAttemptAt: at, LastStatus: 500,
		LastError: "boom", LastFailedEvent: 6, LastFailure: "bang", NextAttemptAt: at.Add(time.Second), Disabled: true, DisabledAt: at, DisabledURL: w.URL,
		Held: []HeldContact{{ContactID: "c1", Next: 8, Attempts: 3, NextAttemptAt: at.Add(time.Minute), LastStatus: 400, LastError: "refused"},
			{ContactID: "", Next: 11, Attempts: 1, NextAttemptAt: at.Add(2 * time.Minute), LastStatus: 422, LastError: "no"}}}
	if err := db.PutWebhook(ctx, w, st); err != nil {
		t.Fatal(err)
	}
	ws, err := db.Webhooks(ctx)
	if err != nil || len(ws) != 1 || ws[0].URL != w.URL || ws[0].Secret != w.Secret || len(ws[0].Events) != 1 || !ws[0].UpdatedAt.Equal(at) {
		t.Fatalf("got %+v, %v, want %+v", ws, err, w)
	}
	got, found, err := db.WebhookState(ctx, "crm")
	if err != nil || !found || !reflect.DeepEqual(got, st) {
		t.Fatalf("state: got %+v, %v, %v, want %+v", got, found, err, st)
	}
	// A state stored before contacts were held has no scanned: it
	// reads as its cursor.
	if _, err := db.write.ExecContext(ctx, rebind(db.dialect, `UPDATE webhook_state SET state = ? WHERE id = ?`),
		`{"cursor":9,"delivered":4,"failures":0,"attempts":1,"last_attempt_at":0,"last_status":503,"last_error":"down","last_failed_event":0,"last_failure":"","next_attempt_at":0,"disabled":false,"disabled_at":0,"disabled_url":""}`, "crm"); err != nil {
		t.Fatal(err)
	}
	old := WebhookState{Cursor: 9, Scanned: 9, Delivered: 4, Attempts: 1, LastStatus: 503, LastError: "down"}
	if got, _, err := db.WebhookState(ctx, "crm"); err != nil || !reflect.DeepEqual(got, old) {
		t.Fatalf("a state of the previous release: got %+v, %v, want %+v", got, err, old)
	}
	if err := db.DeleteWebhook(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := db.WebhookState(ctx, "crm"); found {
		t.Error("the state outlived its webhook")
	}
	if err := db.DeleteWebhook(ctx, "crm"); err == nil {
		t.Error("deleting a missing webhook: no error")
	}
}

// TestEventLogOf: one contact's entries in a range of ids, in order, and
// the entries without a contact as one contact "".
func TestEventLogOf(t *testing.T) { forEachDialect(t, testEventLogOf) }

func testEventLogOf(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var b router.Batch
	for i, contact := range []string{"a", "b", "a", "", "b", "a", "a"} { // ids 1 to 7
		b.Log = append(b.Log, router.LogEntry{Type: router.LogMessageIn, ContactID: contact, At: t0, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i+1))})
	}
	commit(t, db, &b)
	ids := func(es []router.LogEntry) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		contact    string
		from, upTo int64
		limit      int
		want       []int64
	}{
		{"a", 1, 7, 10, []int64{1, 3, 6, 7}},
		{"a", 3, 6, 10, []int64{3, 6}},
		{"a", 2, 7, 2, []int64{3, 6}},
		{"b", 3, 7, 10, []int64{5}},
		{"", 1, 7, 10, []int64{4}},
		{"c", 1, 7, 10, nil},
	} {
		got, err := db.EventLogOf(ctx, tc.contact, tc.from, tc.upTo, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), tc.want) {
			t.Errorf("contact %q from %d to %d, limit %d: got ids %v, want %v", tc.contact, tc.from, tc.upTo, tc.limit, ids(got), tc.want)
		}
		for _, e := range got {
			if e.ContactID != tc.contact || string(e.Data) != fmt.Sprintf(`{"n":%d}`, e.ID) {
				t.Errorf("entry %d: got contact %q data %s", e.ID, e.ContactID, e.Data)
			}
		}
	}
}
