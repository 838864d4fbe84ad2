package chat

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// With the chat as the outbox's sender, an agent's message reaches the
// customer's socket from the outbox and is recorded sent; a customer's
// message committed after it but pushed before it does not hide it.
func TestRepliesThroughTheOutbox(t *testing.T) {
	e := newEnvRouter(t, router.Options{Outbound: []router.Channel{router.ChannelChat}}, nil)
	alice(e, 1, router.AgentAvailable)
	ctx := context.Background()
	c := e.dial(nil)
	d := ada
	d.Message = "Hello?"
	conv := c.start(d)
	if _, err := e.router.Accept(ctx, conv.ConversationID, "alice"); err != nil {
		t.Fatal(err)
	}

	// No dispatcher yet: the reply is committed, not pushed; the
	// customer's next message (a later seq) is.
	m, _, err := e.router.AddMessage(ctx, conv.ConversationID, router.Message{Direction: "out", Author: "alice", Body: "Hello Ada."})
	if err != nil || m.Delivery == nil || m.Delivery.Status != router.DeliveryQueued {
		t.Fatalf("reply: %+v %v, want a queued delivery", m, err)
	}
	ack, before := c.sendText("Are you there?", "c1")
	if ack.Type != typeAck {
		t.Fatalf("send: got %s %s", ack.Type, ack.Data)
	}
	in := messagesOf(t, before)
	for _, x := range in {
		if x.Direction == "out" {
			t.Fatalf("the reply reached the customer without a dispatcher: %+v", in)
		}
	}
	if len(in) == 0 || in[len(in)-1].Seq != m.Seq+1 {
		t.Fatalf("got %+v, want the customer's message, seq %d, last", in, m.Seq+1)
	}

	// Told of each delivery the router commits, from before the
	// dispatcher starts.
	sub, _ := e.router.Subscribe(0)
	defer sub.Close()
	disp, err := outbox.New(outbox.Options{Router: e.router, Store: e.db, Clock: e.clock,
		Senders: map[router.Channel]outbox.Sender{router.ChannelChat: e.chat}})
	if err != nil {
		t.Fatal(err)
	}
	e.fw.out.Store(disp)
	if err := disp.Start(ctx); err != nil { // finds the reply in the store
		t.Fatal(err)
	}
	t.Cleanup(disp.Close)
	var reply messageData
	c.decode(c.expect(typeMessage), &reply)
	if reply.Direction != "out" || reply.Seq != m.Seq || reply.Body != "Hello Ada." || reply.Author != "Alice Martin" {
		t.Fatalf("got %+v, want the reply, seq %d, though a later seq came first", reply, m.Seq)
	}
	timeout := time.After(readBound)
	for sent := false; !sent; {
		select {
		case p := <-sub.C:
			for _, n := range p.Notes {
				sent = sent || n.Kind == router.NoteDelivery && n.Message.ContactID == conv.ConversationID &&
					n.Message.Seq == m.Seq && n.Message.Delivery.Status == router.DeliverySent
			}
		case <-timeout:
			t.Fatal("reply's delivery: never recorded as sent")
		}
	}
	stored, err := e.db.Message(ctx, conv.ConversationID, m.Seq)
	if err != nil || stored.Delivery == nil || stored.Delivery.Status != router.DeliverySent {
		t.Fatalf("reply's stored delivery: %+v %v, want sent", stored, err)
	}

	// And the next reply, told by the router, at once.
	if _, _, err := e.router.AddMessage(ctx, conv.ConversationID, router.Message{Direction: "out", Author: "alice", Body: "Checking now."}); err != nil {
		t.Fatal(err)
	}
	c.decode(c.expect(typeMessage), &reply)
	if reply.Body != "Checking now." {
		t.Fatalf("got %+v, want the second reply", reply)
	}
}
