package router

import "testing"

// A proposal that fails the write transaction's re-check (a matcher bug,
// forced here by proposing an agent at capacity) is dropped, logged and
// counted; the contact stays queued, nothing else changes, and the router
// goes on serving.
func TestFailedRecheckIsDropped(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), map[Channel]int{ChannelChat: 1}, AgentAvailable)
	busy := h.submit(NewContact{Queue: "q", Body: "first"})
	h.wantState(busy.ID, ContactOffered, "alice")
	h.agent("bob", sk(), nil, AgentAway)
	c := h.submit(NewContact{Queue: "q", Body: "second"})
	h.wantState(c.ID, ContactQueued, "")

	_, err := h.r.do(h.ctx, func(w *write) (any, error) {
		cc, err := w.contact(c.ID)
		if err != nil {
			return nil, err
		}
		a, err := w.agent("alice") // ringing for the first: no room
		if err != nil {
			return nil, err
		}
		if w.offer(cc, a, "forced") {
			t.Error("an offer past the agent's capacity passed the re-check")
		}
		return nil, nil
	})
	if err != nil {
		t.Fatalf("the command with the failed re-check: %v", err)
	}
	if got := h.r.RecheckFailures(); got != 1 {
		t.Errorf("RecheckFailures: got %d, want 1", got)
	}
	h.wantState(c.ID, ContactQueued, "")
	if a := h.agentNow("alice"); a.Offer != busy.ID || len(a.Contacts) != 1 {
		t.Errorf("alice: got offer %q contacts %v, want only the first", a.Offer, a.Contacts)
	}
	// Still serving: the next agent takes the contact.
	h.state("bob", AgentAvailable, "")
	h.wantState(c.ID, ContactOffered, "bob")
}
