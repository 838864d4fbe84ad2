package router

import (
	"cmp"
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

// TestWrapUpWhileAnOfferRings: an agent with room for several contacts
// wraps one up while another rings at it: the offer goes back, and the
// wrap-up keeps its own end (it was lost with the offer's withdrawal,
// and an older timer then ended the wrap-up at once, closing its
// contacts early).
func TestWrapUpWhileAnOfferRings(t *testing.T) {
	h := newHarness(t, &Options{WrapUp: 5 * time.Second})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), map[string]int{ChannelAPI: 3}, AgentAvailable)
	accept := func() Contact {
		t.Helper()
		c := h.submit(NewContact{Queue: "q", Channel: ChannelAPI, Body: "hi"})
		h.wantState(c.ID, ContactOffered, "alice")
		if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	c0 := accept()
	if _, err := h.r.WrapUp(h.ctx, c0.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	h.advance(300 * time.Millisecond)
	if _, err := h.r.CloseContact(h.ctx, c0.ID, "alice", "", ""); err != nil { // an early close leaves its timer
		t.Fatal(err)
	}
	c1 := accept()
	h.advance(4500 * time.Millisecond)
	c2 := h.submit(NewContact{Queue: "q", Channel: ChannelAPI, Body: "ringing"})
	h.wantState(c2.ID, ContactOffered, "alice")
	before := h.r.Snapshot().At
	if _, err := h.r.WrapUp(h.ctx, c1.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	a := h.agentNow("alice")
	if a.State != AgentWrapUp || !a.WrapUpUntil.Equal(before.Add(5*time.Second)) {
		t.Fatalf("alice: %s until %s, want wrapup until %s", a.State, a.WrapUpUntil, before.Add(5*time.Second))
	}
	h.advance(time.Second) // past the first wrap-up's old timer
	h.wantState(c1.ID, ContactWrapUp, "alice")
	h.advance(4 * time.Second)
	if got := h.live(c1.ID); got.ID != "" && got.State == ContactWrapUp {
		t.Errorf("c1 still in wrap-up after its 5 s")
	}
}

// TestAgentStateHistoryAcrossRestartAndDelete: a restart makes every
// agent offline in the history too ("routerd started"), and deleting an
// agent who was not offline ends its history; two changes of one agent
// in one batch keep their order by time.
func TestAgentStateHistoryAcrossRestartAndDelete(t *testing.T) {
	st, clk := newMemStore(), NewManualClock(epoch)
	h := startHarness(t, st, clk, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.agent("bob", sk(), nil, AgentAvailable)
	h.state("bob", AgentAway, "lunch")
	if err := h.r.DeleteAgent(h.ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	// Away and back in one batch: two entries, in order.
	if _, err := h.r.SetAgentState(h.ctx, "alice", AgentAway, "break"); err != nil {
		t.Fatal(err)
	}
	h.r.Close() // routerd stops; a new one starts on the same store
	clk.Advance(time.Second)
	h = startHarness(t, st, clk, nil)
	last := map[string]AgentStateChange{}
	h.store.mu.Lock()
	for i, s := range h.store.states {
		if i > 0 && s.AgentID == h.store.states[i-1].AgentID && !s.At.After(h.store.states[i-1].At) {
			t.Errorf("entries %d and %d of %s share a time or go back: %s, %s", i-1, i, s.AgentID, h.store.states[i-1].At, s.At)
		}
		last[s.AgentID] = s
	}
	h.store.mu.Unlock()
	if s := last["alice"]; s.State != AgentOffline || s.Why != "routerd started" {
		t.Errorf("alice after the restart: %+v", s)
	}
	if s := last["bob"]; s.State != AgentOffline || s.Why != "deleted" {
		t.Errorf("bob after his deletion: %+v", s)
	}
}

// An away reason is one of Options.AwayReasons, or none ("away"); with
// none configured, any valid name.
func TestAwayReasons(t *testing.T) {
	h := newHarness(t, &Options{AwayReasons: []string{"lunch", "break"}})
	h.agent("alice", map[string]int{"billing": 1}, map[string]int{"chat": 1}, AgentAvailable)
	if _, err := h.r.SetAgentState(h.ctx, "alice", AgentAway, "nap"); !isErr(err, ErrInvalid) {
		t.Fatalf("away for a nap: %v, want invalid", err)
	}
	if a := h.agentNow("alice"); a.State != AgentAvailable {
		t.Fatalf("alice is %s after a refused reason, want available", a.State)
	}
	for _, reason := range []string{"lunch", ""} {
		a, err := h.r.SetAgentState(h.ctx, "alice", AgentAway, reason)
		if want := cmp.Or(reason, "away"); err != nil || a.State != AgentAway || a.Reason != want {
			t.Fatalf("away (%q): %+v %v, want away (%s)", reason, a, err, want)
		}
	}

	free := newHarness(t, nil)
	free.agent("bob", map[string]int{"billing": 1}, map[string]int{"chat": 1}, AgentAvailable)
	if a, err := free.r.SetAgentState(free.ctx, "bob", AgentAway, "nap"); err != nil || a.Reason != "nap" {
		t.Fatalf("away for a nap with no list: %+v %v", a, err)
	}
}
