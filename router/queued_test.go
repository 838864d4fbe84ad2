package router

import (
	"slices"
	"testing"
)

// Snapshot.Queued holds every queued contact, whatever its bucket (no
// requirements, one skill, two), and none that rings or is assigned;
// Waiting serves from it in order.
func TestQueuedReadsEveryBucket(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "general"})
	h.queue(Queue{Name: "billing", Requirements: []Requirement{{Skill: "billing", Min: 1}}})
	h.queue(Queue{Name: "de-billing", Requirements: []Requirement{{Skill: "billing", Min: 1}, {Skill: "de", Min: 1}}})
	// Alice takes one chat of billing; nobody else works.
	h.agent("alice", map[string]int{"billing": 2}, map[string]int{"chat": 1}, AgentAvailable)
	offered := h.submit(NewContact{Queue: "billing"})
	h.wantState(offered.ID, ContactOffered, "alice")
	var want []string
	for _, q := range []string{"general", "billing", "de-billing", "general"} {
		want = append(want, h.submit(NewContact{Queue: q}).ID)
	}
	snap := h.r.Snapshot()
	var got []string
	for _, c := range snap.Queued() {
		if c.State != ContactQueued {
			t.Errorf("Queued has %s, %s", c.ID, c.State)
		}
		got = append(got, c.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Queued: %v, want %v (not the offered %s)", got, want, offered.ID)
	}
	var general []string
	for _, c := range snap.Waiting("general") {
		general = append(general, c.ID)
	}
	if len(general) != 2 || general[0] > general[1] {
		t.Errorf("Waiting(general): %v, want the two general contacts oldest first", general)
	}
}
