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
	// The same history a page at a time: next reads on, absent on the
	// last page.
	seq = nil
	for page, cursor := 0, ""; ; page++ {
		p := path + "&limit=1"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		got := decodeAs[agentStates](t, e.do("GET", p, supervisorToken, ""))
		for _, s := range got.States {
			seq = append(seq, string(s.State))
		}
		if got.Next == "" || page > 2 {
			break
		}
		cursor = got.Next
	}
	if want := []string{"available", "away"}; fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Errorf("paged history %q, want %q", seq, want)
	}
	first := decodeAs[agentStates](t, e.do("GET", path+"&limit=1", supervisorToken, ""))
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
		{"bad cursor", adminToken, "/api/v1/agents/alice/states?cursor=x", http.StatusBadRequest},
		{"another agent's cursor", adminToken, "/api/v1/agents/bob/states?cursor=" + url.QueryEscape(first.Next), http.StatusBadRequest},
	} {
		if res := e.do("GET", tt.path, tt.token, ""); res.status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
		}
	}
}
