package router

import (
	"errors"
	"testing"
	"time"
)

// TestPresence: with RequirePresence, only an agent whose desktop is
// connected takes contacts; a dropped desktop gets its state back when
// it returns within the grace, a signed-out one comes back offline; and
// whoever leaves, their assigned contacts return after the grace.
func TestPresence(t *testing.T) {
	const grace = 30 * time.Second
	newPresence := func(t *testing.T) *harness {
		h := newHarness(t, &Options{RequirePresence: true, DisconnectGrace: grace})
		h.queue(Queue{Name: "q"})
		if _, _, err := h.r.PutAgent(h.ctx, Agent{ID: "alice", Name: "Alice", Capacity: sk("chat", 2)}); err != nil {
			t.Fatal(err)
		}
		return h
	}

	t.Run("no-desktop-no-contacts", func(t *testing.T) {
		h := newPresence(t)
		_, err := h.r.SetAgentState(h.ctx, "alice", AgentAvailable, "")
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("available without a desktop: got %v, want a conflict", err)
		}
		c := h.submit(NewContact{Queue: "q"})
		h.wantState(c.ID, ContactQueued, "")
		// Away needs no desktop: it takes nothing.
		h.state("alice", AgentAway, "lunch")
		if _, err := h.r.AgentConnected(h.ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		h.state("alice", AgentAvailable, "")
		h.wantState(c.ID, ContactOffered, "alice")
	})

	t.Run("dropped-desktop-restored", func(t *testing.T) {
		h := newPresence(t)
		h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
		held := h.submit(NewContact{Queue: "q"})
		if _, err := h.r.Accept(h.ctx, held.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		a, err := h.r.AgentDisconnected(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != AgentOffline || a.Reason != "disconnected" || a.Connected {
			t.Fatalf("after the drop: %s (%s) connected %v, want offline (disconnected), not connected", a.State, a.Reason, a.Connected)
		}
		waiting := h.submit(NewContact{Queue: "q"})
		h.wantState(waiting.ID, ContactQueued, "")
		if _, err := h.r.SetAgentState(h.ctx, "alice", AgentAvailable, ""); !errors.Is(err, ErrConflict) {
			t.Fatalf("available while disconnected: got %v, want a conflict", err)
		}
		h.advance(grace - time.Second)
		h.mu.Lock()
		h.notes = nil
		h.mu.Unlock()
		a, err = h.r.AgentConnected(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != AgentAvailable || !a.Connected {
			t.Fatalf("back within the grace: %s connected %v, want available", a.State, a.Connected)
		}
		if !h.noted(NoteAgent, ReasonRestored) {
			t.Errorf("no agent notification with reason %q", ReasonRestored)
		}
		h.wantState(held.ID, ContactAssigned, "alice")
		h.wantState(waiting.ID, ContactOffered, "alice")
		h.advance(2 * grace)
		h.wantState(held.ID, ContactAssigned, "alice")
	})

	t.Run("away-restored-with-its-reason", func(t *testing.T) {
		h := newPresence(t)
		h.agent("alice", sk(), sk("chat", 2), AgentAway)
		h.state("alice", AgentAway, "lunch")
		if _, err := h.r.AgentDisconnected(h.ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		a, err := h.r.AgentConnected(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != AgentAway || a.Reason != "lunch" {
			t.Fatalf("back: %s (%s), want away (lunch)", a.State, a.Reason)
		}
	})

	t.Run("late-return-stays-offline", func(t *testing.T) {
		h := newPresence(t)
		h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
		held := h.submit(NewContact{Queue: "q"})
		if _, err := h.r.Accept(h.ctx, held.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.r.AgentDisconnected(h.ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		h.advance(grace)
		got := h.wantState(held.ID, ContactQueued, "")
		if !got.Returned {
			t.Errorf("contact not marked returned")
		}
		a, err := h.r.AgentConnected(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != AgentOffline || !a.Connected {
			t.Fatalf("back after the grace: %s connected %v, want offline and connected", a.State, a.Connected)
		}
	})

	t.Run("signed-out-not-restored-contacts-returned", func(t *testing.T) {
		h := newPresence(t)
		h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
		held := h.submit(NewContact{Queue: "q"})
		if _, err := h.r.Accept(h.ctx, held.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		ringing := h.submit(NewContact{Queue: "q"})
		h.wantState(ringing.ID, ContactOffered, "alice")
		a, err := h.r.AgentSignedOut(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != AgentOffline || a.Reason != "signed_out" {
			t.Fatalf("signed out: %s (%s), want offline (signed_out)", a.State, a.Reason)
		}
		h.wantState(ringing.ID, ContactQueued, "")
		// A second leave (the desktop's socket closing after the logout)
		// does not push the grace on.
		h.advance(grace / 2)
		if _, err := h.r.AgentSignedOut(h.ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		h.advance(grace / 2)
		h.wantState(held.ID, ContactQueued, "")
		a, err = h.r.AgentConnected(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if a.State != AgentOffline {
			t.Fatalf("back after signing out: %s, want offline", a.State)
		}
	})

	t.Run("restart-gives-the-grace", func(t *testing.T) {
		st, clk := newMemStore(), NewManualClock(epoch)
		opts := func() *Options { return &Options{RequirePresence: true, DisconnectGrace: grace} }
		h := startHarness(t, st, clk, opts())
		h.queue(Queue{Name: "q"})
		h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
		h.agent("bob", sk(), sk("chat", 2), AgentAvailable)
		kept, lost := h.submit(NewContact{Queue: "q"}), h.submit(NewContact{Queue: "q"})
		for _, c := range []Contact{kept, lost} {
			got, _ := h.r.Snapshot().Contact(c.ID)
			if _, err := h.r.Accept(h.ctx, c.ID, got.AgentID); err != nil {
				t.Fatal(err)
			}
		}
		keptBy, _ := h.r.Snapshot().Contact(kept.ID)
		lostBy, _ := h.r.Snapshot().Contact(lost.ID)
		if keptBy.AgentID == lostBy.AgentID {
			t.Fatalf("both contacts went to %s; the test wants one each", keptBy.AgentID)
		}
		h.r.Close()

		h2 := startHarness(t, st, clk, opts())
		for _, a := range h2.r.Snapshot().Agents() {
			if a.State != AgentOffline || a.Connected {
				t.Fatalf("%s after a restart: %s connected %v, want offline, not connected", a.ID, a.State, a.Connected)
			}
		}
		h2.advance(grace / 2)
		if _, err := h2.r.AgentConnected(h2.ctx, keptBy.AgentID); err != nil {
			t.Fatal(err)
		}
		h2.advance(grace / 2)
		h2.wantState(kept.ID, ContactAssigned, keptBy.AgentID)
		h2.wantState(lost.ID, ContactQueued, "")
	})
}

// noted reports whether a notification of kind with reason was sent.
func (h *harness) noted(kind NoteKind, reason string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.notes {
		if n.Kind == kind && n.Reason == reason {
			return true
		}
	}
	return false
}

// TestWrapUpNotifiesItsEnd: the agent's notification on entering
// wrap-up, and on a second wrap-up that extends it, says when it ends
// (the desktop counts it down).
func TestWrapUpNotifiesItsEnd(t *testing.T) {
	h := newHarness(t, &Options{WrapUp: 30 * time.Second})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
	first, second := h.submit(NewContact{Queue: "q"}), h.submit(NewContact{Queue: "q"})
	for _, c := range []Contact{first, second} {
		if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	last := func() Agent {
		t.Helper()
		ns := h.notesOf(NoteAgent, "alice")
		if len(ns) == 0 {
			t.Fatal("no agent notification")
		}
		return *ns[len(ns)-1].Agent
	}
	start := h.clock.Now()
	if _, err := h.r.WrapUp(h.ctx, first.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	if a := last(); a.State != AgentWrapUp || !a.WrapUpUntil.Equal(start.Add(30*time.Second)) {
		t.Fatalf("entering wrap-up: notified %s until %v, want wrapup until %v", a.State, a.WrapUpUntil, start.Add(30*time.Second))
	}
	h.advance(10 * time.Second)
	if _, err := h.r.WrapUp(h.ctx, second.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	if a := last(); !a.WrapUpUntil.Equal(start.Add(40 * time.Second)) {
		t.Fatalf("a second wrap-up: notified until %v, want %v", a.WrapUpUntil, start.Add(40*time.Second))
	}
}

// TestDroppedInWrapUp: a desktop that drops during wrap-up leaves the
// wrap-up running: its contact ends when the wrap-up does, not at once;
// then the agent, with no desktop, is offline, and comes back available.
func TestDroppedInWrapUp(t *testing.T) {
	h := newHarness(t, &Options{RequirePresence: true, DisconnectGrace: time.Minute, WrapUp: 30 * time.Second})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
	c := h.submit(NewContact{Queue: "q"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.WrapUp(h.ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	a, err := h.r.AgentDisconnected(h.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.State != AgentWrapUp || a.Connected {
		t.Fatalf("dropped in wrap-up: %s connected %v, want still wrapup, not connected", a.State, a.Connected)
	}
	h.wantState(c.ID, ContactWrapUp, "alice")
	h.advance(30 * time.Second)
	h.wantState(c.ID, ContactClosed, "alice")
	if a := h.agentNow("alice"); a.State != AgentOffline {
		t.Fatalf("after the wrap-up without a desktop: %s, want offline", a.State)
	}
	a, err = h.r.AgentConnected(h.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.State != AgentAvailable {
		t.Fatalf("back within the grace: %s, want available", a.State)
	}
}
