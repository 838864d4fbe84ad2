package router

import (
	"testing"
	"time"
)

// eventsOf returns the events name of contact id, in order.
func (h *harness) eventsOf(id, name string) []Event {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	var out []Event
	for _, e := range h.store.events[id] {
		if e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// TestTakeOver: a supervisor takes an assigned chat over and writes to
// the customer; the message is an outbound one of kind supervisor, goes
// through the outbox like the agent's, and is on the timeline with who
// wrote it. The agent keeps the contact, its capacity and its replies.
func TestTakeOver(t *testing.T) {
	h := newHarness(t, &Options{Outbound: []Channel{ChannelChat}})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	sam := WithActor(h.ctx, "sam (supervisor)")
	samSays := Message{Direction: "out", Author: "sam", AuthorKind: AuthorSupervisor, Body: "I am Sam, the team lead."}

	if _, _, err := h.r.AddMessage(sam, c.ID, samSays); !isErr(err, ErrConflict) {
		t.Fatalf("a supervisor's message before the take-over: got %v, want ErrConflict", err)
	}
	got, err := h.r.TakeOver(sam, c.ID, TakeOver{ID: "sam", Name: "Sam Lee"})
	if err != nil {
		t.Fatal(err)
	}
	want := TakeOver{ID: "sam", Name: "Sam Lee", At: epoch}
	if got.State != ContactAssigned || got.AgentID != "alice" || len(got.TakenOverBy) != 1 || got.TakenOverBy[0] != want {
		t.Fatalf("taken over: got %s with %q, %+v; want assigned with alice, taken over by %+v", got.State, got.AgentID, got.TakenOverBy, want)
	}
	if a := h.agentNow("alice"); a.Active[string(ChannelChat)] != 1 || len(a.Contacts) != 1 {
		t.Errorf("alice after the take-over: active %v, contacts %v; want she keeps the chat", a.Active, a.Contacts)
	}
	if stored := h.store.stored(c.ID); len(stored.TakenOverBy) != 1 {
		t.Errorf("stored contact: taken over by %+v, want sam", stored.TakenOverBy)
	}
	evs := h.eventsOf(c.ID, EventTakenOver)
	if len(evs) != 1 || evs[0].By != "sam (supervisor)" || evs[0].AgentID != "alice" {
		t.Fatalf("taken_over events: got %+v, want one by sam (supervisor), agent alice", evs)
	}
	told := false
	for _, n := range h.notesOf(NoteContact, "alice") {
		told = told || n.Reason == ReasonTakenOver && len(n.Contact.TakenOverBy) == 1
	}
	if !told {
		t.Error("alice was not told of the take-over")
	}
	// Again: nothing new.
	if _, err := h.r.TakeOver(sam, c.ID, TakeOver{ID: "sam", Name: "Sam Lee"}); err != nil {
		t.Fatal(err)
	}
	if n := len(h.eventsOf(c.ID, EventTakenOver)); n != 1 {
		t.Errorf("a second take-over by sam: %d events, want 1", n)
	}

	m, _, err := h.r.AddMessage(sam, c.ID, samSays)
	if err != nil {
		t.Fatal(err)
	}
	if m.Direction != "out" || m.AuthorKind != AuthorSupervisor || m.Author != "sam" || m.AuthorName != "Sam Lee" ||
		m.Delivery == nil || m.Delivery.Status != DeliveryQueued || !m.ForCustomer() {
		t.Fatalf("sam's message: got %+v, want out, by supervisor sam (Sam Lee), queued for delivery", m)
	}
	h.store.mu.Lock()
	e, queued := h.store.outbox[OutboxID(c.ID, m.Seq)]
	h.store.mu.Unlock()
	if !queued || e.Done || e.Channel != ChannelChat {
		t.Errorf("outbox entry of sam's message: got %+v (%v), want one for the chat", e, queued)
	}
	outbox := h.notesOf(NoteOutbox, "")
	if len(outbox) != 1 || outbox[0].Message.AuthorKind != AuthorSupervisor {
		t.Errorf("NoteOutbox: got %+v, want sam's message", outbox)
	}
	toAlice := false
	for _, n := range h.notesOf(NoteMessage, "alice") {
		toAlice = toAlice || n.Message.Seq == m.Seq
	}
	if !toAlice {
		t.Error("alice was not told of sam's message")
	}
	evs = h.eventsOf(c.ID, EventSupervisorMessage)
	if len(evs) != 1 || evs[0].By != "sam (supervisor)" || evs[0].Reason != "message 2 to the customer" {
		t.Errorf("supervisor_message events: got %+v, want one by sam naming message 2", evs)
	}

	// Alice still writes, as herself; a whisper stays a note.
	if r, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", Author: "alice", Body: "Thanks Sam"}); err != nil || r.AuthorKind != AuthorAgent {
		t.Errorf("alice's reply during the take-over: %+v, %v", r, err)
	}
	w, _, err := h.r.AddMessage(sam, c.ID, Message{Direction: DirectionNote, Author: "sam", AuthorKind: AuthorSupervisor, Body: "psst"})
	if err != nil || w.ForCustomer() || w.Delivery != nil {
		t.Errorf("a whisper during the take-over: %+v, %v; want a note, not delivered", w, err)
	}
	if n := len(h.notesOf(NoteOutbox, "")); n != 2 {
		t.Errorf("%d outbox entries, want 2 (sam's and alice's messages)", n)
	}

	// Another supervisor has not taken it over.
	kim := Message{Direction: "out", Author: "kim", AuthorKind: AuthorSupervisor, Body: "hello"}
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, kim); !isErr(err, ErrConflict) {
		t.Errorf("kim's message: got %v, want ErrConflict", err)
	}
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", AuthorKind: AuthorSupervisor, Body: "x"}); !isErr(err, ErrInvalid) {
		t.Errorf("a supervisor's message without its author: got %v, want ErrInvalid", err)
	}
}

// TestTakeOverRefused: only a contact whose conversation is open is
// taken over, and a supervisor writes only while it is.
func TestTakeOverRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q", WrapUp: Duration(time.Minute)})
	h.agent("alice", sk(), nil, AgentAvailable)
	sam := TakeOver{ID: "sam", Name: "Sam Lee"}

	if _, err := h.r.TakeOver(h.ctx, "nope", sam); !isErr(err, ErrNoContact) {
		t.Errorf("an unknown contact: got %v, want ErrNoContact", err)
	}
	for _, bad := range []TakeOver{{}, {ID: string(make([]byte, maxIDLen+1))}, {ID: "sam", Name: string(make([]byte, MaxAgentNameLen+1))}} {
		if _, err := h.r.TakeOver(h.ctx, "nope", bad); !isErr(err, ErrInvalid) {
			t.Errorf("supervisor %q (%d bytes of name): got %v, want ErrInvalid", bad.ID, len(bad.Name), err)
		}
	}

	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.TakeOver(h.ctx, c.ID, sam); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.WrapUp(h.ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	msg := Message{Direction: "out", Author: "sam", AuthorKind: AuthorSupervisor, Body: "still there?"}
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, msg); !isErr(err, ErrConflict) {
		t.Errorf("a message in wrap-up: got %v, want ErrConflict", err)
	}
	if _, err := h.r.TakeOver(h.ctx, c.ID, TakeOver{ID: "kim"}); !isErr(err, ErrConflict) {
		t.Errorf("a take-over in wrap-up: got %v, want ErrConflict", err)
	}
	if _, err := h.r.CloseContact(h.ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.TakeOver(h.ctx, c.ID, sam); !isErr(err, ErrNoContact) {
		t.Errorf("a closed contact: got %v, want ErrNoContact", err)
	}
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, msg); !isErr(err, ErrNoContact) {
		t.Errorf("a message on a closed contact: got %v, want ErrNoContact", err)
	}

	// At most MaxTakeOvers supervisors.
	d := h.submit(NewContact{Queue: "q", Body: "hi"})
	for i := range MaxTakeOvers {
		if _, err := h.r.TakeOver(h.ctx, d.ID, TakeOver{ID: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.r.TakeOver(h.ctx, d.ID, sam); !isErr(err, ErrConflict) {
		t.Errorf("one supervisor too many: got %v, want ErrConflict", err)
	}
}

// TestTakeOverQueued: a contact that waits is taken over where it
// waits; without an actor the timeline names the supervisor; a
// transfer keeps the take-over.
func TestTakeOverQueued(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.queue(Queue{Name: "other"})
	h.agent("alice", sk(), nil, AgentAway)
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	got, err := h.r.TakeOver(h.ctx, c.ID, TakeOver{ID: "sam"})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != ContactQueued || got.AgentID != "" {
		t.Errorf("taken over: %s with %q, want queued with nobody", got.State, got.AgentID)
	}
	evs := h.eventsOf(c.ID, EventTakenOver)
	if len(evs) != 1 || evs[0].By != "sam (supervisor)" || evs[0].Reason != "sam writes to the customer; the contact waits in q" {
		t.Errorf("taken_over: got %+v", evs)
	}
	m, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", Author: "sam", AuthorKind: AuthorSupervisor, Body: "We are on it"})
	if err != nil || m.AuthorName != "" || m.Delivery != nil {
		t.Errorf("sam's message on an api-less channel: %+v, %v; want no display name, no delivery (the chat has no sender here)", m, err)
	}

	h.state("alice", AgentAvailable, "")
	h.wantState(c.ID, ContactOffered, "alice")
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.Transfer(h.ctx, c.ID, "alice", "other", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.live(c.ID).TakenOver("sam"); !ok {
		t.Error("the transfer dropped the take-over")
	}
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", Author: "sam", AuthorKind: AuthorSupervisor, Body: "Moved you"}); err != nil {
		t.Errorf("sam after the transfer: %v", err)
	}
}
