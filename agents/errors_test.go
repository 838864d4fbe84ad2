package agents

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// TestErrorMessages holds the error frames of requests the router and
// the hub refuse to their code and to the message an agent reads: the
// router's or the hub's own words, without a package prefix or a
// sentinel's generic words.
func TestErrorMessages(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	e.agent("bob")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	mine := mustLive(t, e, "alice")
	for id, st := range map[string]router.AgentState{"alice": router.AgentAway, "bob": router.AgentAvailable} {
		if _, err := e.rt.SetAgentState(e.ctx, id, st, ""); err != nil {
			t.Fatal(err)
		}
	}
	theirs := mustLive(t, e, "bob")
	tests := []struct {
		name    string
		typ     string
		data    map[string]any
		code    string
		message string
	}{
		{"transfer-to-unknown-queue", reqTransfer, map[string]any{"contact_id": mine, "queue": "nowhere"}, codeNotFound, `no such queue: "nowhere"`},
		{"transfer-to-unknown-agent", reqTransfer, map[string]any{"contact_id": mine, "to_agent": "zed"}, codeNotFound, `no such agent: "zed"`},
		{"transfer-to-self", reqTransfer, map[string]any{"contact_id": mine, "to_agent": "alice"}, codeConflict, "the contact is already with alice"},
		{"accept-assigned", reqAccept, map[string]any{"contact_id": mine}, codeConflict, "contact " + mine + " is assigned"},
		{"close-theirs", reqClose, map[string]any{"contact_id": theirs}, codeNotFound, `no such contact of yours: "` + theirs + `"`},
		{"send-theirs", reqSend, map[string]any{"contact_id": theirs, "body": "psst"}, codeNotFound, `no such contact of yours: "` + theirs + `"`},
		{"bad-away-reason", reqSetState, map[string]any{"state": "away", "reason": "no-such-reason"}, codeInvalid, `away reason "no-such-reason": want one of`},
		{"unknown-disposition", reqWrapUp, map[string]any{"contact_id": mine, "disposition": "nonsense"}, codeInvalid, `disposition "nonsense": want one of`},
		{"verify-unavailable", reqVerify, map[string]any{"contact_id": mine, "method": "security questions"}, codeUnavailable, "verification is not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := c.request(tt.typ, tt.data)
			var ed errorData
			decode(t, m, &ed)
			if m.Type != msgError || ed.Code != tt.code || !strings.HasPrefix(ed.Message, tt.message) {
				t.Fatalf("got %s %s, want error %s with a message starting %q", m.Type, m.Data, tt.code, tt.message)
			}
			for _, leak := range []string{"router:", "agents:", "invalid request", "conflicts with the current state", "invalid frame"} {
				if strings.Contains(ed.Message, leak) {
					t.Errorf("message %q contains %q", ed.Message, leak)
				}
			}
		})
	}
}
