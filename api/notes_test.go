package api

import (
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// TestNotes: the agent holding a contact and a supervisor write notes,
// by who they are whatever the body says; an integration, another agent
// and a note with a file are refused.
func TestNotes(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	alice := e.mustLogin("alice", alicePassword)
	bob := e.mustLogin("bob", bobPassword)
	sam := e.mustLogin("sam", samPassword)
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Ada"},"body":"hello"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	path := "/api/v1/contacts/" + c.ID + "/messages"

	note := decodeAs[messageView](t, e.do("POST", path, alice.Token, `{"direction":"note","body":"asked for the invoice","author":"bob"}`))
	if note.Direction != router.DirectionNote || note.Author != "alice" || note.AuthorKind != router.AuthorAgent || note.Delivery != nil {
		t.Errorf("alice's note: %+v", note.Message)
	}
	for _, token := range []string{sam.Token, supervisorToken} {
		w := decodeAs[messageView](t, e.do("POST", path, token, `{"direction":"note","body":"offer the refund"}`))
		if w.AuthorKind != router.AuthorSupervisor || w.Author == "" {
			t.Errorf("a supervisor's whisper: %+v", w.Message)
		}
	}
	for _, tt := range []struct {
		name, token, body string
		want              int
	}{
		{"integration", integrationToken, `{"direction":"note","body":"x"}`, http.StatusForbidden},
		{"another agent", bob.Token, `{"direction":"note","body":"x"}`, http.StatusNotFound},
		{"with a file", sam.Token, `{"direction":"note","body":"x","external_id":"e1"}`, http.StatusBadRequest},
		{"unknown direction", adminToken, `{"direction":"sideways","body":"x"}`, http.StatusBadRequest},
	} {
		if res := e.do("POST", path, tt.token, tt.body); res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
	}
	d := e.contact(c.ID)
	notes := 0
	for _, m := range d.Messages {
		if m.Direction == router.DirectionNote {
			notes++
		}
	}
	if notes != 3 {
		t.Errorf("%d notes stored, want 3", notes)
	}
}
