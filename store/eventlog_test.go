package store

import (
	"context"
	"encoding/json"
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
	st := WebhookState{Cursor: 7, Delivered: 3, Failures: 1, Attempts: 2, LastAttemptAt: at, LastStatus: 500,
		LastError: "boom", LastFailedEvent: 6, LastFailure: "bang", NextAttemptAt: at.Add(time.Second), Disabled: true, DisabledAt: at, DisabledURL: w.URL}
	if err := db.PutWebhook(ctx, w, st); err != nil {
		t.Fatal(err)
	}
	ws, err := db.Webhooks(ctx)
	if err != nil || len(ws) != 1 || ws[0].URL != w.URL || ws[0].Secret != w.Secret || len(ws[0].Events) != 1 || !ws[0].UpdatedAt.Equal(at) {
		t.Fatalf("got %+v, %v, want %+v", ws, err, w)
	}
	got, found, err := db.WebhookState(ctx, "crm")
	if err != nil || !found || got != st {
		t.Fatalf("state: got %+v, %v, %v, want %+v", got, found, err, st)
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
