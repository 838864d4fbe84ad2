package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhooks"
)

// The webhook routes put, show (never the secret), refuse what is
// invalid with its field, keep configured webhooks read only, and delete.
func TestWebhookRoutes(t *testing.T) {
	e := newEnvWith(t, envOptions{webhooks: func(db *store.DB) WebhookRegistry {
		d, err := webhooks.New(webhooks.Options{Store: db, Webhooks: []webhooks.Webhook{
			{ID: "configured", URL: "https://crm.example/hook", Events: []string{"*"}, Secret: "configured-secret-0123"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Close)
		return d
	}})
	const secret = "api-secret-0123456789abcdef"
	res := e.must(http.StatusCreated, "PUT", "/api/v1/webhooks/crm",
		`{"url":"https://crm.example/a","events":["contact.created","message.out"],"secret":"`+secret+`"}`)
	if strings.Contains(string(res.body), secret) || res.header.Get("Location") != "/api/v1/webhooks/crm" {
		t.Errorf("put: %s (Location %q)", res.body, res.header.Get("Location"))
	}
	v := decodeAs[webhookView](t, res)
	if v.Source != "api" || v.Delivery.Status != "active" || len(v.Events) != 2 {
		t.Errorf("put: got %+v", v)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/webhooks/crm", `{"url":"https://crm.example/b","events":["*"],"secret":"`+secret+`"}`)
	list := e.must(http.StatusOK, "GET", "/api/v1/webhooks", "")
	if strings.Contains(string(list.body), secret) || strings.Contains(string(list.body), "configured-secret") {
		t.Errorf("the list shows a secret: %s", list.body)
	}
	l := decodeAs[struct{ Webhooks []webhookView }](t, list)
	if len(l.Webhooks) != 2 || l.Webhooks[0].ID != "configured" || l.Webhooks[0].Source != "config" || l.Webhooks[1].URL != "https://crm.example/b" {
		t.Errorf("list: got %+v", l.Webhooks)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"url":"http://crm.example/a","events":["*"],"secret":"` + secret + `"}`, "url"},
		{`{"url":"https://crm.example/a","events":["contact.exploded"],"secret":"` + secret + `"}`, "events[0]"},
		{`{"url":"https://crm.example/a","events":["*"],"secret":"short"}`, "secret"},
		{`{"id":"other","url":"https://crm.example/a","events":["*"],"secret":"` + secret + `"}`, "id"},
	} {
		res := e.must(http.StatusBadRequest, "PUT", "/api/v1/webhooks/crm", tc.body)
		if got := decodeAs[errorBody](t, res).Error.Field; got != tc.field {
			t.Errorf("%s: got field %q, want %q", tc.body, got, tc.field)
		}
	}
	e.must(http.StatusConflict, "PUT", "/api/v1/webhooks/configured", `{"url":"https://crm.example/a","events":["*"],"secret":"`+secret+`"}`)
	e.must(http.StatusConflict, "DELETE", "/api/v1/webhooks/configured", "")
	e.must(http.StatusNoContent, "DELETE", "/api/v1/webhooks/crm", "")
	e.must(http.StatusNotFound, "GET", "/api/v1/webhooks/crm", "")
	e.must(http.StatusNotFound, "DELETE", "/api/v1/webhooks/crm", "")
}

// A webhook's delivery state as the API shows it: the whole webhook
// waiting for the receiver, contacts held for a refused event, or
// neither.
func TestWebhookDeliveryView(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		st     store.WebhookState
		status string
		held   string
	}{
		{"active", store.WebhookState{Cursor: 9, Scanned: 9}, "active", "[]"},
		{"receiver-down", store.WebhookState{Cursor: 9, Scanned: 9, Attempts: 2, NextAttemptAt: at}, "retrying", "[]"},
		{"contact-held", store.WebhookState{Cursor: 4, Scanned: 9, Held: []store.HeldContact{{ContactID: "c1", Next: 5, Attempts: 3, NextAttemptAt: at, LastStatus: 400, LastError: "refused"}}},
			"retrying", `[{"contact_id":"c1","event":"evt_5","attempts":3,"next_attempt_at":"2026-03-01T09:00:00Z","last_status":400,"last_error":"refused"}]`},
		{"unsubscribed", store.WebhookState{Disabled: true, DisabledAt: at}, "unsubscribed", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newWebhookView(webhooks.Status{ID: "crm", State: tc.st})
			held, err := json.Marshal(v.Delivery.Held)
			if err != nil {
				t.Fatal(err)
			}
			if v.Delivery.Status != tc.status || string(held) != tc.held || v.Delivery.Cursor != tc.st.Cursor || v.Delivery.Scanned != tc.st.Scanned {
				t.Errorf("got status %q, held %s, cursor %d, scanned %d; want %q, %s, %d, %d",
					v.Delivery.Status, held, v.Delivery.Cursor, v.Delivery.Scanned, tc.status, tc.held, tc.st.Cursor, tc.st.Scanned)
			}
		})
	}
}
