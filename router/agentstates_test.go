package router

import (
	"fmt"
	"testing"
	"time"
)

// TestAgentStateHistory: every change of an agent's state or reason goes
// to the store with the batch that made it, with who asked and why; a
// request that changes nothing adds nothing.
func TestAgentStateHistory(t *testing.T) {
	h := newHarness(t, &Options{WrapUp: 10 * time.Second})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.store.mu.Lock()
	start := len(h.store.states)
	h.store.mu.Unlock()

	if _, err := h.r.SetAgentState(WithActor(h.ctx, "sam (supervisor)"), "alice", AgentAway, "meeting"); err != nil {
		t.Fatal(err)
	}
	h.state("alice", AgentAway, "meeting") // no change
	h.state("alice", AgentAway, "lunch")
	h.state("alice", AgentAvailable, "")
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.WrapUp(h.ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	h.advance(11 * time.Second) // the wrap-up ends by itself

	h.store.mu.Lock()
	got := h.store.states[start:]
	h.store.mu.Unlock()
	var seq []string
	for _, s := range got {
		if s.AgentID != "alice" || s.At.IsZero() {
			t.Errorf("entry %+v", s)
		}
		seq = append(seq, fmt.Sprintf("%s/%s/%s", s.State, s.Reason, s.By))
	}
	want := []string{"away/meeting/sam (supervisor)", "away/lunch/", "available//", "wrapup//", "available//"}
	if fmt.Sprint(seq) != fmt.Sprint(want) {
		t.Errorf("history %v, want %v", seq, want)
	}
	if last := got[len(got)-1]; last.Why == "" {
		t.Errorf("the wrap-up's end says no why: %+v", last)
	}
}
