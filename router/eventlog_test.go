package router

import (
	"encoding/json"
	"testing"
)

// With Options.EventLog, every batch carries the event log's entries of
// a contact's life and messages, in order, with the contact as it stood;
// without it, none.
func TestEventLogEntries(t *testing.T) {
	for _, on := range []bool{true, false} {
		h := newHarness(t, &Options{EventLog: on})
		h.queue(Queue{Name: "q"})
		h.agent("alice", sk(), nil, AgentAvailable)
		c := h.submit(NewContact{Queue: "q", Channel: ChannelAPI, Body: "hi"})
		if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", Author: "alice", Body: "Hello!"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.r.CloseContact(h.ctx, c.ID, "alice", "solved", ""); err != nil {
			t.Fatal(err)
		}
		h.store.mu.Lock()
		log := h.store.log
		h.store.mu.Unlock()
		if !on {
			if len(log) != 0 {
				t.Errorf("without EventLog: got %d entries, want none", len(log))
			}
			continue
		}
		want := []string{LogContactCreated, LogMessageIn, LogContactOffered, LogContactAssigned, LogMessageOut, LogContactEnded}
		if len(log) != len(want) {
			t.Fatalf("got %d entries %+v, want %v", len(log), log, want)
		}
		for i, e := range log {
			var d LogData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			if e.Type != want[i] || e.ContactID != c.ID || d.Contact == nil || d.Contact.ID != c.ID || e.At.IsZero() {
				t.Errorf("entry %d: got %s %s %s, want %s of %s", i, e.Type, e.ContactID, e.Data, want[i], c.ID)
			}
		}
		var out LogData
		_ = json.Unmarshal(log[4].Data, &out)
		if out.Message == nil || out.Message.Body != "Hello!" || out.Message.Author != "alice" || out.Message.AuthorKind != AuthorAgent || out.Contact.AgentID != "alice" {
			t.Errorf("message.out: got %s", log[4].Data)
		}
		var ended LogData
		_ = json.Unmarshal(log[5].Data, &ended)
		if ended.Contact.State != ContactClosed || ended.Contact.Disposition != "solved" {
			t.Errorf("contact.ended: got %s", log[5].Data)
		}
	}
}
