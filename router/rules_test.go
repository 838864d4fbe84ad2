package router

import "testing"

// The rules readers ask the snapshot for are the matcher's.
func TestReadersRules(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q", Requirements: []Requirement{{Skill: "billing", Min: 3}}, Priority: 5,
		ValueTiers: []ValueTier{{Min: 1000, Boost: 10}}})
	h.queue(Queue{Name: "nobody", Requirements: []Requirement{{Skill: "latin", Min: 1}}})
	h.agent("alice", map[string]int{"billing": 4}, map[string]int{"chat": 1}, AgentAvailable)
	h.agent("bob", map[string]int{"billing": 2}, nil, AgentAvailable)
	h.agent("carol", map[string]int{"billing": 5}, nil, AgentAway)
	snap := h.r.Snapshot()
	q, _ := snap.Queue("q")
	alice, _ := snap.Agent("alice")
	bob, _ := snap.Agent("bob")
	carol, _ := snap.Agent("carol")
	if !alice.Eligible(q.Requirements) || bob.Eligible(q.Requirements) || !carol.Eligible(q.Requirements) {
		t.Error("Eligible: want alice and carol (billing ≥ 3), not bob")
	}
	if !alice.Working() || carol.Working() {
		t.Error("Working: want alice, not carol (away)")
	}
	if !snap.Free(alice) || snap.Free(carol) {
		t.Error("Free: want alice, not carol")
	}
	if !snap.Staffed("q") || snap.Staffed("nobody") || snap.Staffed("no-such-queue") {
		t.Error("Staffed: want q only")
	}
	if got := snap.Rank(1, q, Customer{ID: "v", Verified: true, Value: 5000}); got != 16 {
		t.Errorf("Rank: got %d, want 1 + 5 + 10", got)
	}
	// At capacity, alice is working but not free.
	h.submit(NewContact{Queue: "q", Body: "hi"})
	snap = h.r.Snapshot()
	alice, _ = snap.Agent("alice")
	if snap.Free(alice) || !alice.Working() {
		t.Errorf("alice ringing at capacity: free %v, working %v; want busy", snap.Free(alice), alice.Working())
	}
}

// TestAgentStateRules: which states may be set and which are at work,
// the one definition the router, the API, the desktop's socket and the
// dashboards ask.
func TestAgentStateRules(t *testing.T) {
	for _, tt := range []struct {
		state             AgentState
		settable, working bool
	}{
		{AgentAvailable, true, true},
		{AgentAway, true, false},
		{AgentOffline, true, false},
		{AgentWrapUp, false, true},
		{"asleep", false, false},
	} {
		if got := tt.state.Settable(); got != tt.settable {
			t.Errorf("%s: Settable %v, want %v", tt.state, got, tt.settable)
		}
		if got := tt.state.Working(); got != tt.working || (Agent{State: tt.state}).Working() != got {
			t.Errorf("%s: Working %v, want %v (and the agent's the same)", tt.state, got, tt.working)
		}
	}
}
