package api

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestAgentStates: an agent's state history with who changed it; an
// agent reads its own, not another's; bad ranges are refused.
func TestAgentStates(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	alice := e.mustLogin("alice", alicePassword)
	bob := e.mustLogin("bob", bobPassword)
	sam := e.mustLogin("sam", samPassword)
	start := e.clock.Now()
	e.available("alice")
	e.clock.Advance(time.Minute)
	if res := e.do("PUT", "/api/v1/agents/alice/state", sam.Token, `{"state":"away","reason":"meeting"}`); res.status != http.StatusOK {
		t.Fatalf("sam sets alice away: %d %s", res.status, res.body)
	}
	path := "/api/v1/agents/alice/states?from=" + url.QueryEscape(start.Format(time.RFC3339Nano))
	got := decodeAs[agentStates](t, e.do("GET", path, supervisorToken, ""))
	var seq []string
	for _, s := range got.States {
		seq = append(seq, fmt.Sprintf("%s/%s/%s", s.State, s.Reason, s.By))
	}
	if want := []string{"available//ops-admin (admin)", "away/meeting/sam (supervisor)"}; fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Errorf("history %q, want %q", seq, want)
	}
	if res := e.do("GET", "/api/v1/agents/alice/states", alice.Token, ""); res.status != http.StatusOK {
		t.Errorf("alice reads her own: %d", res.status)
	}
	for _, tt := range []struct {
		name, token, path string
		want              int
	}{
		{"another agent", bob.Token, "/api/v1/agents/alice/states", http.StatusForbidden},
		{"unknown agent", adminToken, "/api/v1/agents/nobody/states", http.StatusNotFound},
		{"bad from", adminToken, "/api/v1/agents/alice/states?from=yesterday", http.StatusBadRequest},
		{"to before from", adminToken, "/api/v1/agents/alice/states?from=2026-03-02T10:00:00Z&to=2026-03-02T09:00:00Z", http.StatusBadRequest},
		{"limit 0", adminToken, "/api/v1/agents/alice/states?limit=0", http.StatusBadRequest},
		{"unknown parameter", adminToken, "/api/v1/agents/alice/states?since=x", http.StatusBadRequest},
	} {
		if res := e.do("GET", tt.path, tt.token, ""); res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
	}
}
