package router

import (
	"testing"
	"time"
)

// An outbound message on a channel with a sender is committed with its
// outbox entry and a queued delivery; RecordDelivery moves both on and
// tells the agent, also after the contact ended.
func TestOutboxEntryCommittedWithTheMessage(t *testing.T) {
	h := newHarness(t, &Options{Outbound: []Channel{ChannelChat}})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	m, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", Author: "alice", Body: "Hello!"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Delivery == nil || m.Delivery.Status != DeliveryQueued || m.AuthorKind != AuthorAgent || m.AuthorName == "" {
		t.Fatalf("message: got %+v, want a queued delivery by the agent", m)
	}
	id := OutboxID(c.ID, m.Seq)
	h.store.mu.Lock()
	e, ok := h.store.outbox[id]
	stored := h.store.messages[c.ID][m.Seq-1]
	h.store.mu.Unlock()
	if !ok || e.Done || e.Channel != ChannelChat || e.Seq != m.Seq || stored.Delivery == nil {
		t.Fatalf("outbox entry: got %+v (%v), message %+v; want it stored with the message", e, ok, stored)
	}
	notes := h.notesOf(NoteOutbox, "")
	if len(notes) != 1 || notes[0].Outbox.ID != id || notes[0].Message.Body != "Hello!" {
		t.Fatalf("NoteOutbox: got %+v", notes)
	}
	// Inbound messages and messages on channels without a sender have
	// neither.
	in, _, _ := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "thanks"})
	api := h.submit(NewContact{Queue: "q", Channel: ChannelAPI})
	out, _, _ := h.r.AddMessage(h.ctx, api.ID, Message{Direction: "out", Body: "noted"})
	if in.Delivery != nil || out.Delivery != nil || len(h.notesOf(NoteOutbox, "")) != 1 {
		t.Errorf("got deliveries %+v %+v, want none", in.Delivery, out.Delivery)
	}

	e.Attempts, e.Done = 1, true
	if err := h.r.RecordDelivery(h.ctx, e, &Delivery{Status: DeliverySent, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	if ns := h.notesOf(NoteDelivery, "alice"); len(ns) != 1 || ns[0].Message.Delivery.Status != DeliverySent {
		t.Errorf("NoteDelivery: got %+v", ns)
	}
	if _, err := h.r.CloseContact(h.ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	h.advance(time.Minute)
	if err := h.r.RecordDelivery(h.ctx, e, &Delivery{Status: DeliveryRead, Attempts: 1}); err != nil {
		t.Fatalf("a delivery after the end: %v", err)
	}
	h.store.mu.Lock()
	got := h.store.messages[c.ID][m.Seq-1].Delivery
	done := h.store.outbox[id].Done
	h.store.mu.Unlock()
	if got == nil || got.Status != DeliveryRead || !done {
		t.Errorf("stored: delivery %+v, done %v; want read, done", got, done)
	}
	if err := h.r.RecordDelivery(h.ctx, OutboxEntry{ID: "x", ContactID: c.ID, Seq: 1}, nil); !isErr(err, ErrInvalid) {
		t.Errorf("an entry naming another message: got %v, want ErrInvalid", err)
	}
}

// A provider's id named with a delivery becomes the message's external
// id (the store's unique key holds, the harness checks it), and the
// agent's notification carries it.
func TestRecordDeliveryKeepsTheProvidersID(t *testing.T) {
	h := newHarness(t, &Options{Outbound: []Channel{ChannelSMS}})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q", Channel: ChannelSMS, Body: "hi"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	m, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", Author: "alice", Body: "Hello!"})
	if err != nil {
		t.Fatal(err)
	}
	e := OutboxEntry{ID: OutboxID(c.ID, m.Seq), Channel: ChannelSMS, ContactID: c.ID, Seq: m.Seq, Attempts: 1, Done: true}
	if err := h.r.RecordDelivery(h.ctx, e, &Delivery{Status: DeliveryQueued, Attempts: 1, ExternalID: "SM0001"}); err != nil {
		t.Fatal(err)
	}
	h.store.mu.Lock()
	stored := h.store.messages[c.ID][m.Seq-1]
	h.store.mu.Unlock()
	if stored.ExternalID != "SM0001" || stored.Delivery == nil || stored.Delivery.Status != DeliveryQueued || stored.Delivery.ExternalID != "" {
		t.Errorf("stored: got %+v (delivery %+v), want external id SM0001 on the message, not in its delivery", stored, stored.Delivery)
	}
	if ns := h.notesOf(NoteDelivery, "alice"); len(ns) != 1 || ns[0].Message.ExternalID != "SM0001" {
		t.Errorf("NoteDelivery: got %+v, want one naming SM0001", ns)
	}
	long := make([]byte, MaxExternalIDLen+1)
	if err := h.r.RecordDelivery(h.ctx, OutboxEntry{ContactID: c.ID, Seq: m.Seq}, &Delivery{Status: DeliverySent, ExternalID: string(long)}); !isErr(err, ErrInvalid) {
		t.Errorf("an external id too long: got %v, want ErrInvalid", err)
	}
}

func TestDeliveryStatusAdvances(t *testing.T) {
	for _, tc := range []struct {
		from, to DeliveryStatus
		want     bool
	}{
		{DeliveryQueued, DeliverySent, true},
		{DeliveryQueued, DeliveryDelivered, true},
		{DeliverySent, DeliveryDelivered, true},
		{DeliveryDelivered, DeliveryRead, true},
		{DeliveryQueued, DeliveryFailed, true},
		{DeliverySent, DeliveryFailed, true},
		{DeliverySent, DeliveryQueued, false},      // a late earlier status
		{DeliveryDelivered, DeliverySent, false},   // a late earlier status
		{DeliveryDelivered, DeliveryFailed, false}, // delivered stays delivered
		{DeliveryFailed, DeliveryDelivered, false}, // failed stays failed
		{DeliverySent, DeliverySent, false},        // the same again changes nothing
		{DeliverySent, "bogus", false},
	} {
		if got := tc.from.Advances(tc.to); got != tc.want {
			t.Errorf("%s → %s: got %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}
