package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/store"

	"github.com/switchboard/switchboard/router"
)

func TestIdempotentCreate(t *testing.T) {
	e := newEnv(t)
	e.seed()
	const body = `{"channel":"api","queue":"billing","customer":{"email":"x@example.com"},"preferred_agents":["bob"],"preferred_timeout":"30s"}`
	// The same request, spelled differently: key order, spacing, "30000ms".
	const same = `{ "preferred_timeout": "30000ms", "preferred_agents": ["bob"], "customer": {"email": "x@example.com"}, "queue": "billing", "channel": "api" }`

	first := e.do("POST", "/api/v1/contacts", integrationToken, body, "Idempotency-Key", "order-1042")
	if first.status != http.StatusCreated || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first create: got %d replayed %q, want 201 not replayed; %s", first.status, first.header.Get("Idempotent-Replayed"), first.body)
	}
	created := decodeAs[router.Contact](t, first)
	stored, err := e.db.ContactByIdempotencyKey(context.Background(), "order-1042")
	if err != nil {
		t.Fatalf("ContactByIdempotencyKey: %v", err)
	}
	if stored.ID != created.ID || len(stored.IdempotencyHash) != 64 {
		t.Errorf("stored: got id %s hash %q, want id %s and a SHA-256 hex digest", stored.ID, stored.IdempotencyHash, created.ID)
	}

	tests := []struct {
		name         string
		body         string
		key          string
		wantStatus   int
		wantReplayed string
		wantSameID   bool
	}{
		{"retry", body, "order-1042", http.StatusOK, "true", true},
		{"retry-respelled", same, "order-1042", http.StatusOK, "true", true},
		{"different-body", strings.Replace(body, "x@example", "y@example", 1), "order-1042", http.StatusUnprocessableEntity, "", false},
		{"different-timeout", strings.Replace(body, "30s", "31s", 1), "order-1042", http.StatusUnprocessableEntity, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state()
			res := e.do("POST", "/api/v1/contacts", integrationToken, tt.body, "Idempotency-Key", tt.key)
			if res.status != tt.wantStatus {
				t.Fatalf("got status %d, want %d; %s", res.status, tt.wantStatus, res.body)
			}
			if got := res.header.Get("Idempotent-Replayed"); got != tt.wantReplayed {
				t.Errorf("Idempotent-Replayed: got %q, want %q", got, tt.wantReplayed)
			}
			if tt.wantSameID {
				if got := decodeAs[router.Contact](t, res).ID; got != created.ID {
					t.Errorf("id: got %s, want %s", got, created.ID)
				}
			} else if !strings.Contains(string(res.body), "idempotency_mismatch") {
				t.Errorf("body: got %s, want code idempotency_mismatch", res.body)
			}
			if e.state() != before {
				t.Errorf("a retried create changed the state")
			}
		})
	}

	// A new key makes a new contact.
	other := decodeAs[router.Contact](t, e.do("POST", "/api/v1/contacts", integrationToken, body, "Idempotency-Key", "order-1043"))
	if other.ID == "" || other.ID == created.ID {
		t.Errorf("new key: got id %q, want a new contact", other.ID)
	}
}

func TestListContactsPaging(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.must(http.StatusCreated, "PUT", "/api/v1/queues/tech", `{}`)
	var want []string
	for i := range 5 {
		q := "billing"
		if i%2 == 1 {
			q = "tech"
		}
		c := e.create(`{"channel":"api","queue":"` + q + `","customer":{"id":"cust-` + string(rune('a'+i)) + `"}}`)
		want = append(want, c.ID)
	}
	slices.Reverse(want) // newest first

	type page struct {
		Contacts []router.Contact `json:"contacts"`
		Next     string           `json:"next"`
	}
	var got []string
	pages := 0
	for cursor := ""; ; pages++ {
		res := e.do("GET", "/api/v1/contacts?limit=2&cursor="+url.QueryEscape(cursor), integrationToken, "")
		if res.status != http.StatusOK {
			t.Fatalf("page %d: got %d %s", pages, res.status, res.body)
		}
		p := decodeAs[page](t, res)
		for _, c := range p.Contacts {
			got = append(got, c.ID)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk: got %v, want %v", got, want)
	}
	if pages != 2 { // 0-based: three pages of 2, 2, 1
		t.Errorf("pages: got %d, want 3", pages+1)
	}

	filters := []struct {
		query string
		want  []string
	}{
		{"queue=tech", []string{want[1], want[3]}},
		{"state=queued&queue=billing", []string{want[0], want[2], want[4]}},
		{"customer=cust-c", []string{want[2]}},
		{"state=closed", nil},
	}
	for _, f := range filters {
		t.Run(f.query, func(t *testing.T) {
			p := decodeAs[page](t, e.must(http.StatusOK, "GET", "/api/v1/contacts?"+f.query, ""))
			var ids []string
			for _, c := range p.Contacts {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, f.want) || p.Contacts == nil {
				t.Errorf("got %v, want %v (as a list, never null)", ids, f.want)
			}
		})
	}
}

func TestGetContactPagesMessages(t *testing.T) {
	e := newEnv(t)
	e.seed()
	c := e.create(`{"channel":"api","queue":"billing","body":"first"}`)
	e.must(http.StatusCreated, "POST", "/api/v1/contacts/"+c.ID+"/messages", `{"direction":"in","body":"second"}`)
	d := decodeAs[detail](t, e.must(http.StatusOK, "GET", "/api/v1/contacts/"+c.ID+"?messages_after=1", ""))
	if len(d.Messages) != 1 || d.Messages[0].Body != "second" {
		t.Errorf("messages after 1: got %+v, want only \"second\"", d.Messages)
	}
}

// TestStoreIsTheSourceOfTruth checks that GET of a contact reads the
// store: a contact that ended and left the router is still there.
func TestStoreIsTheSourceOfTruth(t *testing.T) {
	e := newEnv(t)
	e.seed()
	c := e.create(`{"channel":"api","queue":"billing"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/close", `{}`)
	if _, live := e.router.Snapshot().Contact(c.ID); live {
		t.Fatalf("closed contact still live in the router")
	}
	if _, err := e.db.Contact(context.Background(), c.ID); err != nil {
		t.Fatalf("store.Contact: %v", err)
	}
	if d := e.contact(c.ID); d.State != router.ContactClosed {
		t.Errorf("state: got %s, want closed", d.State)
	}
}

// TestIdempotentCreateConcurrent sends the same keyed create many times at
// once: exactly one creates, every other gets the same contact replayed.
func TestIdempotentCreateConcurrent(t *testing.T) {
	e := newEnv(t)
	e.seed()
	const n = 16
	type outcome struct {
		status   int
		replayed string
		id       string
	}
	out := make(chan outcome, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/contacts", strings.NewReader(`{"channel":"chat","queue":"billing"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+integrationToken)
			req.Header.Set("Idempotency-Key", "burst-1")
			res, err := e.srv.Client().Do(req)
			if err != nil {
				t.Errorf("POST: %v", err)
				return
			}
			defer res.Body.Close()
			var c router.Contact
			if err := json.NewDecoder(res.Body).Decode(&c); err != nil {
				t.Errorf("decode: %v", err)
			}
			out <- outcome{res.StatusCode, res.Header.Get("Idempotent-Replayed"), c.ID}
		}()
	}
	wg.Wait()
	close(out)
	created, ids := 0, map[string]bool{}
	for o := range out {
		switch {
		case o.status == http.StatusCreated && o.replayed == "":
			created++
		case o.status == http.StatusOK && o.replayed == "true":
		default:
			t.Errorf("got status %d replayed %q, want 201 or 200 replayed", o.status, o.replayed)
		}
		ids[o.id] = true
	}
	if created != 1 || len(ids) != 1 {
		t.Errorf("got %d created and %d distinct ids, want 1 and 1", created, len(ids))
	}
	page, err := e.db.Contacts(context.Background(), store.ContactFilter{})
	if err != nil {
		t.Fatalf("store.Contacts: %v", err)
	}
	if got := len(page.Contacts); got != 1 {
		t.Errorf("stored contacts: got %d, want 1", got)
	}
}
