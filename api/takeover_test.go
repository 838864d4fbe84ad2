package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// TestTakeOver: a supervisor takes an agent's live chat over and writes
// to the customer under their display name, an outbound message of
// kind supervisor queued for the chat's delivery; the contact stays
// with its agent, and the timeline names who took it over and who
// wrote. A supervisor's whisper carries the display name too.
func TestTakeOver(t *testing.T) {
	e, _ := loginEnv(t, envOptions{supervisorNames: map[string]string{"sam": "Sam Lee"}, outbound: []router.Channel{router.ChannelChat}})
	sam := e.mustLogin("sam", samPassword)
	e.available("alice")
	c := e.create(`{"channel":"chat","queue":"billing","customer":{"name":"Ada"},"body":"hello"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	takeover := "/api/v1/contacts/" + c.ID + "/takeover"
	write := takeover + "/messages"

	// Not before the take-over.
	if res := e.do("POST", write, sam.Token, `{"body":"Hello Ada"}`); res.status != http.StatusConflict || !strings.Contains(string(res.body), "take") {
		t.Errorf("a message before the take-over: %d %s, want 409 saying to take it over", res.status, res.body)
	}
	res := e.do("POST", takeover, sam.Token, "")
	if res.status != http.StatusOK {
		t.Fatalf("take over: %d %s", res.status, res.body)
	}
	got := decodeAs[router.Contact](t, res)
	if got.State != router.ContactAssigned || got.AgentID != "alice" || len(got.TakenOverBy) != 1 ||
		got.TakenOverBy[0].ID != "sam" || got.TakenOverBy[0].Name != "Sam Lee" {
		t.Fatalf("taken over: %s with %q, by %+v; want assigned with alice, by sam (Sam Lee)", got.State, got.AgentID, got.TakenOverBy)
	}

	res = e.do("POST", write, sam.Token, `{"body":"Hello Ada, I am Sam, the team lead.","client_id":"s1"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("sam's message: %d %s", res.status, res.body)
	}
	m := decodeAs[messageView](t, res)
	if m.Direction != "out" || m.Author != "sam" || m.AuthorKind != router.AuthorSupervisor || m.AuthorName != "Sam Lee" ||
		m.Delivery == nil || m.Delivery.Status != router.DeliveryQueued || m.ContactID != c.ID {
		t.Errorf("sam's message: %+v, want out, by supervisor sam (Sam Lee), queued for delivery", m)
	}
	// A resend with the same client id is the same message.
	if again := decodeAs[messageView](t, e.do("POST", write, sam.Token, `{"body":"Hello Ada, I am Sam, the team lead.","client_id":"s1"}`)); again.Seq != m.Seq {
		t.Errorf("a resend: seq %d, want %d", again.Seq, m.Seq)
	}
	w := decodeAs[messageView](t, e.do("POST", "/api/v1/contacts/"+c.ID+"/messages", sam.Token, `{"direction":"note","body":"psst"}`))
	if w.Direction != router.DirectionNote || w.AuthorName != "Sam Lee" || w.Delivery != nil {
		t.Errorf("sam's whisper: %+v, want a note by Sam Lee", w.Message)
	}

	// A supervisor token has no display name: it writes under none.
	e.must(http.StatusOK, "POST", takeover, "") // the admin token, too
	e.do("POST", takeover, supervisorToken, `{}`)
	tok := decodeAs[messageView](t, e.do("POST", write, supervisorToken, `{"body":"Operations here."}`))
	if tok.Author != "floor-supervisor" || tok.AuthorName != "" || tok.AuthorKind != router.AuthorSupervisor {
		t.Errorf("the token's message: %+v, want by floor-supervisor, no display name", tok.Message)
	}

	d := e.contact(c.ID)
	if d.AgentID != "alice" || d.State != router.ContactAssigned {
		t.Errorf("after the take-over: %s with %q, want assigned with alice", d.State, d.AgentID)
	}
	by := map[string][]string{}
	for _, ev := range d.Timeline {
		by[ev.Event] = append(by[ev.Event], ev.By)
	}
	if got := strings.Join(by[router.EventTakenOver], ", "); got != "sam (supervisor), ops-admin (admin), floor-supervisor (supervisor)" {
		t.Errorf("taken_over by %q", got)
	}
	if got := strings.Join(by[router.EventSupervisorMessage], ", "); got != "sam (supervisor), floor-supervisor (supervisor)" {
		t.Errorf("supervisor_message by %q", got)
	}
}

// TestTakeOverRefused: an agent, an integration, an unknown or ended
// contact, a contact in wrap-up, an empty message and a channel that
// refuses the reply (an SMS opt-out) are refused, and change nothing.
func TestTakeOverRefused(t *testing.T) {
	optedOut := map[string]bool{}
	e, _ := loginEnv(t, envOptions{checkReply: func(_ context.Context, c router.Contact) error {
		if optedOut[c.ID] {
			return router.Errorf(router.CodeConflict, "", "the customer opted out of SMS")
		}
		return nil
	}})
	alice := e.mustLogin("alice", alicePassword)
	sam := e.mustLogin("sam", samPassword)
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Ada"},"body":"hello"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	takeover := "/api/v1/contacts/" + c.ID + "/takeover"
	write := takeover + "/messages"

	before := e.state()
	for _, tt := range []struct {
		name, path, token, body string
		want                    int
	}{
		{"agent takes over", takeover, alice.Token, "", http.StatusForbidden},
		{"agent writes", write, alice.Token, `{"body":"x"}`, http.StatusForbidden},
		{"integration takes over", takeover, integrationToken, "", http.StatusForbidden},
		{"integration writes", write, integrationToken, `{"body":"x"}`, http.StatusForbidden},
		{"unknown contact", "/api/v1/contacts/nope/takeover", sam.Token, "", http.StatusNotFound},
		{"unknown contact's message", "/api/v1/contacts/nope/takeover/messages", sam.Token, `{"body":"x"}`, http.StatusNotFound},
		{"a body with a field", takeover, sam.Token, `{"agent_id":"alice"}`, http.StatusBadRequest},
	} {
		if res := e.do("POST", tt.path, tt.token, tt.body); res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
	}
	if after := e.state(); after != before {
		t.Errorf("a refused request changed the state:\nbefore %s\nafter  %s", before, after)
	}

	if res := e.do("POST", takeover, sam.Token, ""); res.status != http.StatusOK {
		t.Fatalf("take over: %d %s", res.status, res.body)
	}
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"no body text", `{"body":""}`, http.StatusBadRequest},
		{"an unknown field", `{"body":"x","author":"alice"}`, http.StatusBadRequest},
	} {
		if res := e.do("POST", write, sam.Token, tt.body); res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
	}
	optedOut[c.ID] = true
	if res := e.do("POST", write, sam.Token, `{"body":"x"}`); res.status != http.StatusConflict || !strings.Contains(string(res.body), "opted out") {
		t.Errorf("to a customer who opted out: %d %s, want 409", res.status, res.body)
	}
	optedOut[c.ID] = false

	requests := []struct{ path, body string }{{takeover, ""}, {write, `{"body":"x"}`}}
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/wrapup", `{"agent_id":"alice"}`)
	for _, r := range requests {
		if res := e.do("POST", r.path, sam.Token, r.body); res.status != http.StatusConflict || !strings.Contains(string(res.body), "wrapup") {
			t.Errorf("POST %s in wrap-up: %d %s, want 409", r.path, res.status, res.body)
		}
	}
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/close", `{"agent_id":"alice"}`)
	for _, r := range requests {
		if res := e.do("POST", r.path, sam.Token, r.body); res.status != http.StatusConflict || !strings.Contains(string(res.body), "closed") {
			t.Errorf("POST %s once closed: %d %s, want 409 (closed)", r.path, res.status, res.body)
		}
	}
	for _, m := range e.contact(c.ID).Messages {
		if m.AuthorKind == router.AuthorSupervisor {
			t.Errorf("a refused message was stored: %+v", m)
		}
	}
}
