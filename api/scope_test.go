package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// fakeScreenPop is an Options.ScreenPop: the contact's id, or the
// router's error for an unknown one.
func fakeScreenPop(rt func() *router.Router) func(ctx context.Context, id string) (any, error) {
	return func(ctx context.Context, id string) (any, error) {
		if _, ok := rt().Snapshot().Contact(id); !ok {
			return nil, fmt.Errorf("screen pop of %q: %w", id, router.ErrNoContact)
		}
		return map[string]any{"contact": map[string]string{"id": id}}, nil
	}
}

// TestAgentSessionRights runs alice's agent session over a real router
// and store: contact mine is offered to alice, theirs to bob. The rows
// run in order: each may change what the next ones see.
func TestAgentSessionRights(t *testing.T) {
	var e *env
	e, _ = loginEnv(t, envOptions{screenPop: fakeScreenPop(func() *router.Router { return e.router })})
	e.available("alice", "bob")
	mine := e.create(`{"channel":"api","queue":"billing"}`)
	theirs := e.create(`{"channel":"api","queue":"billing"}`)
	if mine.AgentID != "alice" || theirs.AgentID != "bob" {
		t.Fatalf("offers: got %s → %q and %s → %q, want alice then bob", mine.ID, mine.AgentID, theirs.ID, theirs.AgentID)
	}
	alice := e.mustLogin("alice", alicePassword).Token
	const nowhere = "01KJPWD8JGD0M4XH97Q2D81DM9" // no such contact
	c := func(id, rest string) string { return "/api/v1/contacts/" + id + rest }

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"read-own-agent", "GET", "/api/v1/agents/alice", "", http.StatusOK},
		{"read-other-agent", "GET", "/api/v1/agents/bob", "", http.StatusForbidden},
		{"list-agents", "GET", "/api/v1/agents", "", http.StatusForbidden},
		{"create-agent", "PUT", "/api/v1/agents/carol", `{"name":"Carol"}`, http.StatusForbidden},
		{"delete-agent", "DELETE", "/api/v1/agents/bob", "", http.StatusForbidden},
		{"set-other-state", "PUT", "/api/v1/agents/bob/state", `{"state":"away"}`, http.StatusForbidden},
		{"create-queue", "PUT", "/api/v1/queues/mine", `{}`, http.StatusForbidden},
		{"read-queues", "GET", "/api/v1/queues", "", http.StatusOK},
		{"create-contact", "POST", "/api/v1/contacts", `{"channel":"api","queue":"billing"}`, http.StatusForbidden},
		{"set-password", "PUT", "/api/v1/logins/alice/password", `{"password":"alice-password-2","role":"agent"}`, http.StatusForbidden},

		{"read-own-contact", "GET", c(mine.ID, ""), "", http.StatusOK},
		{"read-other-contact", "GET", c(theirs.ID, ""), "", http.StatusNotFound},
		{"read-no-contact", "GET", c(nowhere, ""), "", http.StatusNotFound},
		{"screen-pop-own", "GET", c(mine.ID, "/screen-pop"), "", http.StatusOK},
		{"screen-pop-other", "GET", c(theirs.ID, "/screen-pop"), "", http.StatusNotFound},

		{"accept-other", "POST", c(theirs.ID, "/accept"), `{}`, http.StatusNotFound},
		{"accept-other-as-its-agent", "POST", c(theirs.ID, "/accept"), `{"agent_id":"bob"}`, http.StatusNotFound},
		{"accept-own-as-other", "POST", c(mine.ID, "/accept"), `{"agent_id":"bob"}`, http.StatusForbidden},
		{"decline-other", "POST", c(theirs.ID, "/decline"), `{}`, http.StatusNotFound},
		{"message-own-offered", "POST", c(mine.ID, "/messages"), `{"direction":"out","body":"too early"}`, http.StatusConflict},
		{"accept-own", "POST", c(mine.ID, "/accept"), `{}`, http.StatusOK},
		{"message-other", "POST", c(theirs.ID, "/messages"), `{"direction":"out","body":"hi"}`, http.StatusNotFound},
		{"message-as-customer", "POST", c(mine.ID, "/messages"), `{"direction":"in","body":"hi"}`, http.StatusForbidden},
		{"message-as-other-author", "POST", c(mine.ID, "/messages"), `{"direction":"out","author":"bob","body":"hi"}`, http.StatusForbidden},
		{"message-own", "POST", c(mine.ID, "/messages"), `{"direction":"out","body":"Hello, Alice here."}`, http.StatusCreated},
		{"transfer-other", "POST", c(theirs.ID, "/transfer"), `{"queue":"billing"}`, http.StatusNotFound},
		{"wrapup-other", "POST", c(theirs.ID, "/wrapup"), `{}`, http.StatusNotFound},
		{"close-other", "POST", c(theirs.ID, "/close"), "", http.StatusNotFound},
		{"close-no-contact", "POST", c(nowhere, "/close"), "", http.StatusNotFound},
		{"abandon-own", "POST", c(mine.ID, "/abandon"), "", http.StatusForbidden},
		{"wrapup-own", "POST", c(mine.ID, "/wrapup"), `{"disposition":"solved"}`, http.StatusOK},
		{"message-own-in-wrapup", "POST", c(mine.ID, "/messages"), `{"direction":"out","body":"too late"}`, http.StatusConflict},
		{"close-own", "POST", c(mine.ID, "/close"), "", http.StatusOK},
		{"close-own-closed", "POST", c(mine.ID, "/close"), "", http.StatusConflict},
		{"read-own-closed", "GET", c(mine.ID, ""), "", http.StatusOK},
		{"set-own-state", "PUT", "/api/v1/agents/alice/state", `{"state":"away","reason":"lunch"}`, http.StatusOK},
	}
	for _, tt := range tests {
		res := e.do(tt.method, tt.path, alice, tt.body)
		if res.status != tt.want {
			t.Errorf("%s: %s %s: got status %d, want %d; body %s", tt.name, tt.method, tt.path, res.status, tt.want, res.body)
			continue
		}
		// Someone else's contact is answered as one that does not exist.
		if res.status == http.StatusNotFound {
			id := strings.Split(strings.TrimPrefix(tt.path, "/api/v1/contacts/"), "/")[0]
			if got, want := decodeAs[apiError](t, res).Error.Message, fmt.Sprintf("contact %q does not exist", id); got != want {
				t.Errorf("%s: message: got %q, want %q", tt.name, got, want)
			}
		}
	}

	// The message went out as alice; bob's contact is untouched.
	d := e.contact(mine.ID)
	if n := len(d.Messages); n != 1 || d.Messages[0].Author != "alice" || d.Messages[0].Direction != "out" {
		t.Errorf("messages of alice's contact: got %+v, want one out by alice", d.Messages)
	}
	if got := e.contact(theirs.ID); got.State != router.ContactOffered || got.AgentID != "bob" {
		t.Errorf("bob's contact: got %s with %q, want offered to bob", got.State, got.AgentID)
	}

	// The list holds alice's contacts only.
	list := decodeAs[contactList](t, e.do("GET", "/api/v1/contacts", alice, ""))
	if len(list.Contacts) != 1 || list.Contacts[0].ID != mine.ID {
		t.Errorf("GET /contacts as alice: got %d contacts, want only %s", len(list.Contacts), mine.ID)
	}
	if all := decodeAs[contactList](t, e.do("GET", "/api/v1/contacts", supervisorToken, "")); len(all.Contacts) != 2 {
		t.Errorf("GET /contacts as supervisor: got %d contacts, want 2", len(all.Contacts))
	}
}

func TestScreenPop(t *testing.T) {
	var e *env
	e = newEnvWith(t, envOptions{screenPop: fakeScreenPop(func() *router.Router { return e.router })})
	e.seed()
	live := e.create(`{"channel":"api","queue":"billing"}`)
	tests := []struct {
		name  string
		token string
		id    string
		want  int
	}{
		{"integration", integrationToken, live.ID, http.StatusOK},
		{"supervisor", supervisorToken, live.ID, http.StatusOK},
		{"unknown", adminToken, "01KJPWD8JGD0M4XH97Q2D81DM9", http.StatusNotFound},
		{"no-token", "", live.ID, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("GET", "/api/v1/contacts/"+tt.id+"/screen-pop", tt.token, "")
			if res.status != tt.want {
				t.Fatalf("got status %d, want %d; body %s", res.status, tt.want, res.body)
			}
			if tt.want == http.StatusOK && !strings.Contains(string(res.body), `"id":"`+live.ID+`"`) {
				t.Errorf("body: got %s, want the provider's document", res.body)
			}
		})
	}

	t.Run("no-provider", func(t *testing.T) {
		e := newEnv(t)
		e.seed()
		c := e.create(`{"channel":"api","queue":"billing"}`)
		if res := e.do("GET", "/api/v1/contacts/"+c.ID+"/screen-pop", adminToken, ""); res.status != http.StatusServiceUnavailable {
			t.Errorf("got status %d, want 503", res.status)
		}
	})
}

// An agent session never reads which known customer an unverified claim
// matches (claimed_id); staff do.
func TestAgentSessionSeesNoClaimedID(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	e.available("alice")
	c, _, err := e.router.Submit(context.Background(), router.NewContact{Channel: "api", Queue: "billing",
		Customer: router.Customer{Email: "ada@example.com", ClaimedID: "cu-ada-lovelace"}})
	if err != nil || c.AgentID != "alice" {
		t.Fatalf("submit: got %+v, %v; want it offered to alice", c, err)
	}
	alice := e.mustLogin("alice", alicePassword).Token
	for _, p := range []string{"/api/v1/contacts/" + c.ID, "/api/v1/contacts", "/api/v1/contacts/" + c.ID + "/accept"} {
		method := "GET"
		if strings.HasSuffix(p, "/accept") {
			method = "POST"
		}
		res := e.do(method, p, alice, "{}")
		if res.status >= 300 || strings.Contains(string(res.body), "cu-ada-lovelace") {
			t.Errorf("%s %s as alice: got %d %s, want no claimed_id", method, p, res.status, res.body)
		}
	}
	if res := e.do("GET", "/api/v1/contacts/"+c.ID, adminToken, ""); !strings.Contains(string(res.body), `"claimed_id":"cu-ada-lovelace"`) {
		t.Errorf("as admin: got %s, want the claimed_id", res.body)
	}
}
