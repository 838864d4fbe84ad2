package agents

import (
	"slices"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// hooks records the hub's Typing and Read calls.
type hooks struct {
	mu     sync.Mutex
	typing []string
	read   []readCall
}

type readCall struct {
	contactID string
	upToSeq   int
}

func (k *hooks) configure(o *Options) {
	o.Typing = func(id string) {
		k.mu.Lock()
		k.typing = append(k.typing, id)
		k.mu.Unlock()
	}
	o.Read = func(id string, upTo int) {
		k.mu.Lock()
		k.read = append(k.read, readCall{id, upTo})
		k.mu.Unlock()
	}
}

func (k *hooks) calls() ([]string, []readCall) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.typing), slices.Clone(k.read)
}

// assignedTo makes a contact and has c's agent accept it; the agent is
// then away, so that the next contact goes to someone else.
func (e *env) assignedTo(c *client, body string) router.Contact {
	e.t.Helper()
	c.ok(reqSetState, map[string]any{"state": "available"})
	ct := e.submit(router.NewContact{Body: body, Customer: router.Customer{Name: "Ada"}})
	c.expectFor(msgOffer, ct.ID)
	c.ok(reqAccept, map[string]any{"contact_id": ct.ID})
	c.expectFor(msgAssigned, ct.ID)
	c.ok(reqSetState, map[string]any{"state": "away"})
	return ct
}

func TestAgentTypingAndRead(t *testing.T) {
	var k hooks
	e := newEnvWith(t, k.configure)
	e.agent("alice")
	e.agent("bob")
	alice, _ := e.connect("alice", "a1")
	bob, _ := e.connect("bob", "b1")
	ca := e.assignedTo(alice, "alice's customer")
	cb := e.assignedTo(bob, "bob's customer")

	// Requests on one socket are handled in order: once the read is
	// acked, the typings before it have been handled.
	alice.notify(reqTyping, map[string]any{"contact_id": ca.ID})
	alice.notify(reqTyping, map[string]any{"contact_id": ca.ID}) // within 2 s: dropped
	ack := alice.ok(reqRead, map[string]any{"contact_id": ca.ID, "up_to_seq": 1})
	var rd readData
	decode(t, ack, &rd)
	if rd.UpToSeq != 1 {
		t.Fatalf("read ack: got up_to_seq %d, want 1", rd.UpToSeq)
	}
	typing, read := k.calls()
	if want := []string{ca.ID}; !slices.Equal(typing, want) {
		t.Fatalf("typing calls: got %v, want %v (the second throttled)", typing, want)
	}
	if want := []readCall{{ca.ID, 1}}; !slices.Equal(read, want) {
		t.Fatalf("read calls: got %v, want %v", read, want)
	}

	// Two seconds on, typing passes again.
	e.clock.Advance(typingEvery)
	alice.notify(reqTyping, map[string]any{"contact_id": ca.ID})
	alice.ok(reqRead, map[string]any{"contact_id": ca.ID, "up_to_seq": 2})
	typing, read = k.calls()
	if want := []string{ca.ID, ca.ID}; !slices.Equal(typing, want) {
		t.Fatalf("typing calls after 2s: got %v, want %v", typing, want)
	}
	if want := []readCall{{ca.ID, 1}, {ca.ID, 2}}; !slices.Equal(read, want) {
		t.Fatalf("read calls: got %v, want %v", read, want)
	}

	// Someone else's contact, or none: not_found, and no hook is called.
	for _, id := range []string{cb.ID, "no-such-contact"} {
		t.Run("not-mine-"+id, func(t *testing.T) {
			alice.fails(reqTyping, map[string]any{"contact_id": id}, codeNotFound)
			alice.fails(reqRead, map[string]any{"contact_id": id, "up_to_seq": 1}, codeNotFound)
		})
	}
	alice.fails(reqRead, map[string]any{"contact_id": ca.ID, "up_to_seq": 0}, codeInvalid)
	if t2, r2 := k.calls(); !slices.Equal(t2, typing) || !slices.Equal(r2, read) {
		t.Fatalf("hooks after refused requests: got typing %v, read %v, want %v and %v", t2, r2, typing, read)
	}
}

func TestCustomerTypingReachesOnlyTheContactsAgent(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	e.agent("bob")
	alice, _ := e.connect("alice", "a1")
	bob, _ := e.connect("bob", "b1")
	ca := e.assignedTo(alice, "alice's customer")
	cb := e.assignedTo(bob, "bob's customer")

	e.hub.CustomerTyping("no-such-contact")
	e.hub.CustomerTyping(ca.ID)
	e.hub.CustomerReceipt(ca.ID, 3, 2)
	// A fence for bob: his contact's typing comes after anything sent to
	// him above.
	e.hub.CustomerTyping(cb.ID)

	m := alice.expect(msgTyping)
	var td typingData
	decode(t, m, &td)
	if td.ContactID != ca.ID || m.Seq != 0 {
		t.Fatalf("alice got typing %s (seq %d), want contact %s unnumbered", m.Data, m.Seq, ca.ID)
	}
	m = alice.expect(msgReceipt)
	var rc receiptData
	decode(t, m, &rc)
	if rc != (receiptData{ContactID: ca.ID, DeliveredSeq: 3, ReadSeq: 2}) || m.Seq != 0 {
		t.Fatalf("alice got receipt %s (seq %d), want %s delivered 3 read 2 unnumbered", m.Data, m.Seq, ca.ID)
	}
	for {
		m := bob.read()
		if m.Type == msgReceipt {
			t.Fatalf("bob got %s, alice's receipt", m.raw)
		}
		if m.Type != msgTyping {
			continue
		}
		decode(t, m, &td)
		if td.ContactID != cb.ID {
			t.Fatalf("bob got typing for %s, want only his contact %s", td.ContactID, cb.ID)
		}
		break
	}

}
