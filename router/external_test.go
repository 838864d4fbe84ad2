package router

import (
	"testing"
)

// A channel's external id is stored once: a second delivery of the same
// first message returns the contact it made, a second delivery of a
// message returns the first copy, on any contact, live or ended; and the
// writer catches a copy that looked in the store before the first was
// committed.
func TestExternalIDStoredOnce(t *testing.T) {
	for _, blind := range []bool{false, true} {
		name := "store-knows"
		if blind {
			name = "writer-remembers"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.store.mu.Lock()
			h.store.blindExternal = blind
			h.store.mu.Unlock()
			h.queue(Queue{Name: "q"})
			nc := NewContact{Queue: "q", Channel: ChannelEmail, Customer: Customer{Email: "ada@example.com"},
				First: Message{Body: "Hello", ExternalID: "<m1@example.com>", Subject: "Invoice", References: []string{"<m0@example.com>"}}}
			a := h.submit(nc)
			again, created, err := h.r.Submit(h.ctx, nc)
			if err != nil || created || again.ID != a.ID {
				t.Fatalf("the same first message again: got %s created %v (%v), want %s, not created", again.ID, created, err, a.ID)
			}
			m, dup, err := h.r.AddMessage(h.ctx, a.ID, Message{Direction: "in", Body: "More", ExternalID: "<m2@example.com>"})
			if err != nil || dup {
				t.Fatal(err, dup)
			}
			if m.AuthorKind != AuthorCustomer {
				t.Errorf("author kind: got %q, want customer", m.AuthorKind)
			}
			b := h.submit(NewContact{Queue: "q", Channel: ChannelEmail, Customer: Customer{Email: "bob@example.com"}, Body: "Hi"})
			for _, to := range []string{a.ID, b.ID} {
				got, dup, err := h.r.AddMessage(h.ctx, to, Message{Direction: "in", Body: "More", ExternalID: "<m2@example.com>"})
				if err != nil || !dup || got.Seq != m.Seq || got.ContactID != a.ID {
					t.Errorf("m2 again to %s: got %+v dup %v (%v), want the first copy on %s", to, got, dup, err, a.ID)
				}
			}
			if !blind {
				// Ended: the store still knows.
				if _, err := h.r.CloseContact(h.ctx, a.ID, "", "", ""); err != nil {
					t.Fatal(err)
				}
				if again, created, err := h.r.Submit(h.ctx, nc); err != nil || created || again.ID != a.ID {
					t.Errorf("after the end: got %s created %v (%v), want %s", again.ID, created, err, a.ID)
				}
			}
			h.store.mu.Lock()
			defer h.store.mu.Unlock()
			if h.store.violation != nil {
				t.Fatal(h.store.violation)
			}
			stored := h.store.messages[a.ID]
			if len(stored) != 2 || stored[0].Subject != "Invoice" || len(stored[0].References) != 1 || stored[0].AuthorName != "" && stored[0].AuthorKind != AuthorCustomer {
				t.Errorf("stored messages of a: %+v", stored)
			}
		})
	}
}

func TestMessageChannelFieldsChecked(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	long := make([]string, MaxReferences+1)
	for i := range long {
		long[i] = "<r>"
	}
	for _, m := range []Message{
		{Direction: "in", Body: "x", References: long},
		{Direction: "in", Body: "x", References: []string{""}},
		{Direction: "in", Body: "x", Attachments: []Attachment{{Name: "", Type: "text/plain"}}},
		{Direction: "in", Body: "x", Attachments: []Attachment{{Name: "a.txt", Size: -1}}},
		{Direction: "in", Body: "x", ExternalID: string(make([]byte, MaxExternalIDLen+1))},
	} {
		if _, _, err := h.r.AddMessage(h.ctx, c.ID, m); !isErr(err, ErrInvalid) {
			t.Errorf("%+v: got %v, want ErrInvalid", m, err)
		}
	}
	if _, _, err := h.r.Submit(h.ctx, NewContact{Queue: "q", Body: "x", First: Message{References: []string{""}}}); !isErr(err, ErrInvalid) {
		t.Errorf("a first message with a bad reference: got %v, want ErrInvalid", err)
	}
}

// An external id names one message: an outbound message naming another
// contact's, or an inbound one's, is refused and reveals nothing.
func TestExternalIDOfAnotherMessage(t *testing.T) {
	for _, blind := range []bool{false, true} {
		h := newHarness(t, nil)
		h.store.mu.Lock()
		h.store.blindExternal = blind
		h.store.mu.Unlock()
		h.queue(Queue{Name: "q"})
		a := h.submit(NewContact{Queue: "q", First: Message{Body: "secret", ExternalID: "<a1@example.com>"}})
		b := h.submit(NewContact{Queue: "q", Body: "hi"})
		for _, to := range []string{a.ID, b.ID} {
			got, dup, err := h.r.AddMessage(h.ctx, to, Message{Direction: "out", Body: "x", ExternalID: "<a1@example.com>"})
			if !isErr(err, ErrConflict) || got.Body != "" || dup {
				t.Errorf("blind %v: out to %s with a customer's external id: got %+v dup %v (%v), want a conflict", blind, to, got, dup, err)
			}
		}
	}
}
