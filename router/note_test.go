package router

import (
	"errors"
	"fmt"
	"testing"
)

// TestNotes: an internal note is written by the agent holding the
// contact or by a supervisor, told to the agent, and never delivered:
// no outbox entry on a channel with a sender, no customer limit.
func TestNotes(t *testing.T) {
	h := newHarness(t, &Options{Outbound: []Channel{ChannelChat}, CustomerMessages: 1})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.agent("bob", sk(), nil, AgentAway)
	c := h.submit(NewContact{Queue: "q", Body: "hi"}) // the customer's one message
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}

	m, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: DirectionNote, Author: "alice", Body: "Asked for the invoice number"})
	if err != nil {
		t.Fatal(err)
	}
	if m.AuthorKind != AuthorAgent || m.AuthorName != "Alice" || m.Delivery != nil || m.ForCustomer() {
		t.Fatalf("agent's note: got %+v", m)
	}
	whisper, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: DirectionNote, Author: "sam", AuthorKind: AuthorSupervisor, AuthorName: "Sam Lee", Body: "Offer the refund"})
	if err != nil {
		t.Fatal(err)
	}
	if whisper.AuthorKind != AuthorSupervisor || whisper.AuthorName != "Sam Lee" || whisper.Delivery != nil {
		t.Fatalf("whisper: got %+v", whisper)
	}
	// The whisper is on the timeline with who wrote it; the agent's own
	// note is not a supervisor's action.
	if evs := h.eventsOf(c.ID, EventWhisper); len(evs) != 1 || evs[0].By != "sam (supervisor)" || evs[0].Reason != fmt.Sprintf("note %d to the agent", whisper.Seq) {
		t.Errorf("whisper events: %+v, want one by sam naming note %d", evs, whisper.Seq)
	}
	h.store.mu.Lock()
	entries := len(h.store.outbox)
	h.store.mu.Unlock()
	if entries != 0 || len(h.notesOf(NoteOutbox, "")) != 0 {
		t.Errorf("notes made %d outbox entries, want none", entries)
	}
	told := 0
	for _, n := range h.notesOf(NoteMessage, "alice") {
		if n.Message.Direction == DirectionNote {
			told++
		}
	}
	if told != 2 {
		t.Errorf("alice was told of %d notes, want 2", told)
	}

	for _, tt := range []struct {
		name string
		m    Message
		want error
	}{
		{"another agent", Message{Direction: DirectionNote, Author: "bob", Body: "x"}, ErrNotYours},
		{"no author", Message{Direction: DirectionNote, Body: "x"}, ErrInvalid},
		{"nobody known", Message{Direction: DirectionNote, Author: "mallory", Body: "x"}, ErrInvalid},
		{"with an attachment", Message{Direction: DirectionNote, Author: "alice", Body: "x", Attachments: []Attachment{{Name: "a", Size: 1}}}, ErrInvalid},
	} {
		if _, _, err := h.r.AddMessage(h.ctx, c.ID, tt.m); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	if !(Message{Direction: "in"}).ForCustomer() || !(Message{Direction: "out"}).ForCustomer() {
		t.Error("ForCustomer refuses a customer's or an agent's message")
	}
}

// TestActor: the events a command records name who asked (WithActor);
// what the router decides itself (the offer after it) names nobody.
func TestActor(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.queue(Queue{Name: "other"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q"})
	if _, err := h.r.Accept(WithActor(h.ctx, "alice (agent)"), c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.Transfer(WithActor(h.ctx, "sam (supervisor)"), c.ID, "", "other", ""); err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	h.store.mu.Lock()
	for _, e := range h.store.events[c.ID] {
		by[e.Event] = e.By
	}
	h.store.mu.Unlock()
	if by[EventAssigned] != "alice (agent)" || by[EventTransferred] != "sam (supervisor)" || by[EventCreated] != "" || by[EventOffered] != "" {
		t.Errorf("who: %v, want the accept by alice, the transfer by sam, creation and offers by nobody", by)
	}
	if ActorFrom(h.ctx) != "" || ActorFrom(WithActor(h.ctx, "x")) != "x" {
		t.Error("ActorFrom")
	}
}
