package chat

import (
	"context"
	"strings"
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

// A supervisor who took the conversation over writes to the customer
// through the outbox, like the agent: the customer sees the message
// under the supervisor's display name (or "Supervisor", never a login
// id), on the socket and in a resume's history; a whisper after it
// still reaches nobody but the agent.
func TestSupervisorThroughTheOutbox(t *testing.T) {
	e := newEnvRouter(t, router.Options{Outbound: []router.Channel{router.ChannelChat}}, nil)
	alice(e, 1, router.AgentAvailable)
	ctx := context.Background()
	disp, err := outbox.New(outbox.Options{Router: e.router, Store: e.db, Clock: e.clock,
		Senders: map[router.Channel]outbox.Sender{router.ChannelChat: e.chat}})
	if err != nil {
		t.Fatal(err)
	}
	e.fw.out.Store(disp)
	if err := disp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(disp.Close)
	c := e.dial(nil)
	conv := c.start(ada)
	id := conv.ConversationID
	if _, err := e.router.Accept(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []router.TakeOver{{ID: "sam", Name: "Sam Lee"}, {ID: "ops-token"}} {
		if _, err := e.router.TakeOver(ctx, id, s); err != nil {
			t.Fatal(err)
		}
	}
	write := func(who, body string) router.Message {
		t.Helper()
		m, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: "out", Author: who, AuthorKind: router.AuthorSupervisor, Body: body})
		if err != nil || m.Delivery == nil {
			t.Fatalf("%s's message: %+v, %v; want one queued for delivery", who, m, err)
		}
		return m
	}
	m := write("sam", "Sam here, I am looking into it.")
	var got messageData
	c.decode(c.expect(typeMessage), &got)
	if got.Seq != m.Seq || got.Direction != "out" || got.Author != "Sam Lee" || got.Body != "Sam here, I am looking into it." {
		t.Fatalf("the customer got %+v, want sam's message as Sam Lee", got)
	}
	write("ops-token", "Operations here.")
	c.decode(c.expect(typeMessage), &got)
	if got.Author != "Supervisor" || got.Body != "Operations here." {
		t.Fatalf("the customer got %+v, want the message of a supervisor without a name as Supervisor", got)
	}

	if _, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: router.DirectionNote, Author: "sam", AuthorKind: router.AuthorSupervisor, Body: "secret whisper"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: "out", Author: "alice", Body: "Thank you, Sam."}); err != nil {
		t.Fatal(err)
	}
	c.decode(c.expect(typeMessage), &got)
	if got.Body != "Thank you, Sam." || got.Author != "Alice Martin" {
		t.Fatalf("the customer's next message: %+v, want alice's reply (no whisper)", got)
	}
	c.ws.Close()

	r := e.dial(nil)
	r.answer(r.request(typeResume, resumeData{ConversationID: id, Token: conv.Token}))
	var page historyData
	r.decode(r.answer(r.request(typeHistory, historyRequest{BeforeSeq: 99})), &page)
	authors := map[string]string{}
	for _, x := range page.Messages {
		authors[x.Body] = x.Author
		if strings.Contains(x.Body, "secret") {
			t.Errorf("the history brought the whisper: %+v", x)
		}
	}
	if authors["Sam here, I am looking into it."] != "Sam Lee" || authors["Operations here."] != "Supervisor" || authors["Thank you, Sam."] != "Alice Martin" {
		t.Errorf("the history's authors: %v", authors)
	}
}
