package chat

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/hours"
	"github.com/switchboard/switchboard/router"
)

var ada = startData{Name: "Ada Lovelace", Email: "ada@example.com", Topic: "billing"}

func TestQueuePositionUpdates(t *testing.T) {
	e := newEnv(t, nil)
	// Alice works but has no chat capacity: staffed, never offered.
	alice(e, 0, router.AgentAvailable)
	ctx := context.Background()

	a, b := e.dial(nil), e.dial(nil)
	a.start(ada)
	if got, want := fmtQ(a.queueFrame()), `{"position":1,"estimated_wait_seconds":null}`; got != want {
		t.Fatalf("a: got %s, want %s", got, want)
	}
	bConv := b.start(startData{Name: "Bob", Topic: "billing"})
	if got, want := fmtQ(b.queueFrame()), `{"position":2,"estimated_wait_seconds":null}`; got != want {
		t.Fatalf("b: got %s, want %s", got, want)
	}

	// A leaves: B moves up.
	if f := a.answer(a.request(typeLeave, nil)); f.Type != typeAck {
		t.Fatalf("leave: got %s %s", f.Type, f.Data)
	}
	if got, want := fmtQ(b.queueFrame()), `{"position":1,"estimated_wait_seconds":null}`; got != want {
		t.Fatalf("b after a left: got %s, want %s", got, want)
	}

	// Alice gets room: B is offered to her (position 0, being connected).
	alice(e, 1, router.AgentAvailable)
	if got, want := fmtQ(b.queueFrame()), `{"position":0,"estimated_wait_seconds":0}`; got != want {
		t.Fatalf("b offered: got %s, want %s", got, want)
	}
	// A second socket joining B's conversation while it rings is told
	// so too.
	b2 := e.dial(nil)
	if f := b2.answer(b2.request(typeResume, resumeData{ConversationID: bConv.ConversationID, Token: bConv.Token})); f.Type != typeResumed {
		t.Fatalf("resume: got %s %s", f.Type, f.Data)
	}
	if got, want := fmtQ(b2.queueFrame()), `{"position":0,"estimated_wait_seconds":0}`; got != want {
		t.Fatalf("b's second socket while offered: got %s, want %s", got, want)
	}

	// C waits behind; nothing answered in the window yet: no estimate.
	c := e.dial(nil)
	cc := c.start(startData{Name: "Carol", Topic: "billing"})
	if got, want := fmtQ(c.queueFrame()), `{"position":1,"estimated_wait_seconds":null}`; got != want {
		t.Fatalf("c: got %s, want %s", got, want)
	}
	// Alice accepts B: one answer in the hour, so C's estimate is
	// 1 × 3600 s / 1 answered.
	bc := e.router.Snapshot().Waiting("billing")
	if len(bc) != 1 || bc[0].ID != cc.ConversationID {
		t.Fatalf("waiting %v, want only C", bc)
	}
	snapB := e.router.Snapshot().Agents()[0]
	if _, err := e.router.Accept(ctx, snapB.Offer, "alice"); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if got, want := fmtQ(c.queueFrame()), `{"position":1,"estimated_wait_seconds":3600}`; got != want {
		t.Fatalf("c after an answer: got %s, want %s", got, want)
	}
	var as assignedData
	b.decode(b.expect(typeAssign), &as)
	if as.AgentName != "Alice Martin" {
		t.Fatalf("assigned agent_name %q, want Alice Martin", as.AgentName)
	}
}

// A change of the router within StandingsEvery of the last round of
// standings waits for the next round (queueLoop).
func TestStandingsArePaced(t *testing.T) {
	paced := make(chan time.Duration, 1)
	e := newEnv(t, func(o *Options) {
		o.StandingsEvery = time.Hour
		o.testHookPaced = func(wait time.Duration) {
			select {
			case paced <- wait:
			default:
			}
		}
	})
	alice(e, 0, router.AgentAvailable)
	e.dial(nil).start(ada)
	select {
	case wait := <-paced:
		if wait < 59*time.Minute || wait > time.Hour {
			t.Fatalf("the round waits %v, want the rest of an hour", wait)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a change within the hour of the last round was not paced")
	}
}

func TestResumeWithoutDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	ctx := context.Background()

	c := e.dial(nil)
	d := ada
	d.Message = "I was charged twice"
	conv := c.start(d)
	if ack, _ := c.sendText("invoice 42", "c1"); ack.Type != typeAck {
		t.Fatalf("send: got %s %s", ack.Type, ack.Data)
	}
	if _, err := e.router.Accept(ctx, conv.ConversationID, "alice"); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if _, _, err := e.router.AddMessage(ctx, conv.ConversationID, router.Message{Direction: "out", Author: "alice", Body: "Hello Ada, let me look."}); err != nil {
		t.Fatalf("AddMessage: %v", err)
	}
	var reply messageData
	for reply.Direction != "out" {
		c.decode(c.expect(typeMessage), &reply)
	}
	if reply.Author != "Alice Martin" || reply.Body != "Hello Ada, let me look." || reply.Seq != 3 {
		t.Fatalf("reply %+v, want seq 3 from Alice Martin", reply)
	}
	c.ws.Close()

	// Reconnect from nothing (a reload): the whole conversation, once each.
	r := e.dial(nil)
	fs := r.until(r.request(typeResume, resumeData{ConversationID: conv.ConversationID, Token: conv.Token}))
	var res conversationData
	r.decode(fs[len(fs)-1], &res)
	if res.State != "assigned" || res.AgentName != "Alice Martin" || res.Token == "" {
		t.Fatalf("resumed %+v, want assigned to Alice Martin with a fresh token", res)
	}
	// The resend of c1 is acknowledged with the first message; the
	// history arrives before its ack.
	ack, more := r.sendText("invoice 42", "c1")
	fs = append(fs, more...)
	var acked struct{ Message messageData }
	r.decode(ack, &acked)
	if acked.Message.Seq != 2 || acked.Message.ClientID != "c1" {
		t.Fatalf("resend acked %+v, want seq 2 (the first message)", acked.Message)
	}
	got := messagesOf(t, fs)
	var seqs []int
	for _, m := range got {
		seqs = append(seqs, m.Seq)
	}
	if len(seqs) != 3 || seqs[0] != 1 || seqs[1] != 2 || seqs[2] != 3 {
		t.Fatalf("replayed seqs %v, want [1 2 3]", seqs)
	}
	if n := len(e.storedMessages(conv.ConversationID)); n != 3 {
		t.Fatalf("stored %d messages, want 3 (the resend added none)", n)
	}

	// Resuming from last_seq 3 replays nothing; a new message then
	// arrives once.
	r2 := e.dial(nil)
	fs = r2.until(r2.request(typeResume, resumeData{ConversationID: conv.ConversationID, Token: conv.Token, LastSeq: 3}))
	ack, more = r2.sendText("thanks", "c2")
	if ack.Type != typeAck {
		t.Fatalf("send: %s %s", ack.Type, ack.Data)
	}
	got = messagesOf(t, append(fs, more...))
	for _, m := range got {
		if m.Seq <= 3 {
			t.Fatalf("got message %d again after last_seq 3", m.Seq)
		}
	}
}

func TestLeaveWithdrawsRingingOffer(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	c := e.dial(nil)
	conv := c.start(ada)

	snap := e.router.Snapshot()
	if a, _ := snap.Agent("alice"); a.Offer != conv.ConversationID {
		t.Fatalf("alice's offer %q, want %q", a.Offer, conv.ConversationID)
	}
	if f := c.answer(c.request(typeLeave, nil)); f.Type != typeAck {
		t.Fatalf("leave: got %s %s", f.Type, f.Data)
	}
	snap = e.router.Snapshot()
	if a, _ := snap.Agent("alice"); a.Offer != "" {
		t.Fatalf("alice's offer %q after leave, want none", a.Offer)
	}
	if _, ok := snap.Contact(conv.ConversationID); ok {
		t.Fatalf("contact still live after leave")
	}
	st, err := e.db.Contact(context.Background(), conv.ConversationID)
	if err != nil || st.State != router.ContactAbandoned {
		t.Fatalf("stored state %v (%v), want abandoned", st.State, err)
	}
	c.expect(typeClosed)
}

func TestLeaveAfterAssignmentTellsTheAgent(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	c := e.dial(nil)
	conv := c.start(ada)
	if _, err := e.router.Accept(context.Background(), conv.ConversationID, "alice"); err != nil {
		t.Fatal(err)
	}
	c.expect(typeAssign)
	if f := c.answer(c.request(typeLeave, nil)); f.Type != typeAck {
		t.Fatalf("leave: got %s %s", f.Type, f.Data)
	}
	tl, err := e.db.Timeline(context.Background(), conv.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if last := tl[len(tl)-1]; last.Event != "customer_left" {
		t.Fatalf("last event %q, want customer_left", last.Event)
	}
}

func TestTokenScoping(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 0, router.AgentAvailable)
	a, b := e.dial(nil), e.dial(nil)
	convA := a.start(ada)
	convB := b.start(startData{Name: "Bob", Topic: "billing"})

	tampered := []byte(convA.Token)
	tampered[len(tampered)-3] ^= 1
	// Forged: B's conversation id in A's payload, A's signature.
	payloadB := strings.SplitN(sign(testSecret, convB.ConversationID, epoch.Add(time.Hour)), ".", 2)[0]
	forged := payloadB + "." + strings.SplitN(convA.Token, ".", 2)[1]
	otherKey := sign([]byte("another-secret-another-secret-32b"), convB.ConversationID, epoch.Add(time.Hour))

	for _, tc := range []struct {
		name         string
		conversation string
		token        string
	}{
		{"another-conversations-token", convB.ConversationID, convA.Token},
		{"tampered", convA.ConversationID, string(tampered)},
		{"forged-payload", convB.ConversationID, forged},
		{"other-key", convB.ConversationID, otherKey},
		{"garbage", convA.ConversationID, "not-a-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := e.dial(nil)
			f := m.answer(m.request(typeResume, resumeData{ConversationID: tc.conversation, Token: tc.token}))
			if code := m.errorCode(f); code != codeUnauthorized {
				t.Fatalf("got %s, want %s", code, codeUnauthorized)
			}
			// Still bound to nothing: it can neither write nor read.
			f = m.answer(m.request(typeSend, sendData{Body: "hi", ClientID: "x"}))
			if code := m.errorCode(f); code != codeConflict {
				t.Fatalf("send after refusal: got %s, want %s", code, codeConflict)
			}
		})
	}
	if n := len(e.storedMessages(convB.ConversationID)); n != 0 {
		t.Fatalf("B has %d messages, want 0", n)
	}

	t.Run("expired", func(t *testing.T) {
		m := e.dial(nil)
		ok := m.answer(m.request(typeResume, resumeData{ConversationID: convA.ConversationID, Token: convA.Token}))
		if ok.Type != typeResumed {
			t.Fatalf("valid token: got %s %s", ok.Type, ok.Data)
		}
		e.clock.Advance(DefaultTokenTTL + time.Second)
		m2 := e.dial(nil)
		f := m2.answer(m2.request(typeResume, resumeData{ConversationID: convA.ConversationID, Token: convA.Token}))
		if code := m2.errorCode(f); code != codeUnauthorized {
			t.Fatalf("got %s, want %s", code, codeUnauthorized)
		}
	})
}

func TestOversizedFrameClosesSocket(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 0, router.AgentAvailable)
	c := e.dial(nil)
	c.start(ada)
	big := strings.Repeat("a", 2*DefaultMaxMessageBytes+frameOverhead+1)
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"send","data":{"client_id":"x","body":"`+big+`"}}`)); err != nil {
		t.Fatal(err)
	}
	for {
		c.ws.SetReadDeadline(time.Now().Add(readBound))
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue // frames queued before the close
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("got %v, want close 1009", err)
		}
		break
	}
}

func TestMalformedFramesChangeNothing(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 0, router.AgentAvailable)
	c := e.dial(nil)
	conv := c.start(ada)
	before := len(e.storedMessages(conv.ConversationID))
	for _, tc := range []struct{ name, frame string }{
		{"not-json", `hello`},
		{"array", `[1,2]`},
		{"truncated", `{"type":"send","data":{"body":"x"`},
		{"trailing-data", `{"type":"typing"} {"type":"typing"}`},
		{"unknown-type", `{"type":"delete_everything"}`},
		{"missing-type", `{"data":{}}`},
		{"unknown-field", `{"type":"send","data":{"body":"x","client_id":"1","as_agent":true}}`},
		{"wrong-type", `{"type":"send","data":{"body":5,"client_id":"1"}}`},
		{"empty-body", `{"type":"send","data":{"body":"  ","client_id":"1"}}`},
		{"no-client-id", `{"type":"send","data":{"body":"x"}}`},
		{"body-over-limit", `{"type":"send","data":{"client_id":"1","body":"` + strings.Repeat("é", DefaultMaxMessageBytes/2+1) + `"}}`},
		{"second-start", `{"type":"start","data":{"name":"Eve","topic":"billing"}}`},
		{"negative-read", `{"type":"read","data":{"up_to_seq":-1}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.ws.WriteMessage(websocket.TextMessage, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			if code := c.errorCode(c.expect(typeError)); code != codeInvalid && code != codeConflict {
				t.Fatalf("got %s, want invalid or conflict", code)
			}
		})
	}
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"typing"}`)); err != nil {
		t.Fatal(err)
	}
	c.expect(typeError)
	if after := len(e.storedMessages(conv.ConversationID)); after != before {
		t.Fatalf("stored messages %d → %d, want unchanged", before, after)
	}
	// The socket still works.
	if ack, _ := c.sendText("still here", "ok"); ack.Type != typeAck {
		t.Fatalf("send: %s %s", ack.Type, ack.Data)
	}
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.ConversationsPerMinute = 2
		o.MessagesPer10s = 3
	})
	alice(e, 0, router.AgentAvailable)
	t.Run("conversations-per-address", func(t *testing.T) {
		e.dial(nil).start(ada)
		e.dial(nil).start(ada)
		c := e.dial(nil)
		if code := c.errorCode(c.answer(c.request(typeStart, ada))); code != codeRateLimited {
			t.Fatalf("third start: got %s, want %s", code, codeRateLimited)
		}
		if n := len(e.router.Snapshot().Waiting("billing")); n != 2 {
			t.Fatalf("%d contacts waiting, want 2", n)
		}
		e.clock.Advance(time.Minute)
		c.start(ada)
	})
	t.Run("messages-per-conversation", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		c := e.dial(nil)
		conv := c.start(ada)
		for i := range 3 {
			if ack, _ := c.sendText("m", string(rune('a'+i))); ack.Type != typeAck {
				t.Fatalf("message %d: got %s %s", i, ack.Type, ack.Data)
			}
		}
		ack, _ := c.sendText("m", "d")
		if code := c.errorCode(ack); code != codeRateLimited {
			t.Fatalf("fourth message: got %s, want %s", code, codeRateLimited)
		}
		if n := len(e.storedMessages(conv.ConversationID)); n != 3 {
			t.Fatalf("stored %d, want 3", n)
		}
		e.clock.Advance(10 * time.Second)
		if ack, _ := c.sendText("m", "d"); ack.Type != typeAck {
			t.Fatalf("after the window: got %s %s", ack.Type, ack.Data)
		}
	})
	// Survey answers read the store too: refused (no survey is open)
	// until the window is spent, then rate limited.
	t.Run("survey-answers-per-conversation", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		c := e.dial(nil)
		c.start(ada)
		for i := range 3 {
			if code := c.errorCode(c.answer(c.request(typeCSAT, csatData{Score: 4}))); code != codeConflict {
				t.Fatalf("answer %d: got %s, want %s", i, code, codeConflict)
			}
		}
		if code := c.errorCode(c.answer(c.request(typeCSAT, csatData{Score: 4}))); code != codeRateLimited {
			t.Fatalf("fourth answer: got %s, want %s", code, codeRateLimited)
		}
	})
}

// TestRateLimitBehindProxy: the conversations per address are counted
// per client that Options.ClientAddr resolves (here behind a trusted
// proxy on the loopback), not per proxy.
func TestRateLimitBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		clients []string // X-Forwarded-For of the three starts
		limited bool     // the third start is refused
	}{
		{name: "same-client", clients: []string{"203.0.113.7", "203.0.113.7", "203.0.113.7"}, limited: true},
		{name: "third-client-differs", clients: []string{"203.0.113.7", "203.0.113.7", "203.0.113.8"}},
		{name: "forged-left-hop", clients: []string{"203.0.113.7", "203.0.113.7", "192.0.2.1, 203.0.113.7"}, limited: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := clientaddr.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
			e := newEnv(t, func(o *Options) {
				o.ConversationsPerMinute = 2
				o.ClientAddr = res.Addr
			})
			alice(e, 0, router.AgentAvailable)
			via := func(xff string) http.Header { return http.Header{"X-Forwarded-For": {xff}} }
			e.dial(via(tc.clients[0])).start(ada)
			e.dial(via(tc.clients[1])).start(ada)
			c := e.dial(via(tc.clients[2]))
			f := c.answer(c.request(typeStart, ada))
			switch {
			case tc.limited:
				if code := c.errorCode(f); code != codeRateLimited {
					t.Errorf("third start: got code %q, want %s", code, codeRateLimited)
				}
			case f.Type == typeError:
				t.Errorf("third start: got error %s, want the conversation started", f.Data)
			}
		})
	}
}

func TestAgentTypingReadAndReceipts(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	ctx := context.Background()
	c := e.dial(nil)
	conv := c.start(ada)
	if _, err := e.router.Accept(ctx, conv.ConversationID, "alice"); err != nil {
		t.Fatal(err)
	}
	m, _, err := e.router.AddMessage(ctx, conv.ConversationID, router.Message{Direction: "out", Author: "alice", Body: "<b>hi</b>"})
	if err != nil {
		t.Fatal(err)
	}
	var got messageData
	c.decode(c.expect(typeMessage), &got)
	if got.Body != "<b>hi</b>" {
		t.Fatalf("body %q, want the text as sent", got.Body)
	}
	e.chat.AgentTyping(conv.ConversationID)
	c.expect(typeTyping)
	e.chat.AgentRead(conv.ConversationID, 1)
	c.expect(typeRead)

	f := c.answer(c.request(typeRead, readData{UpToSeq: 99}))
	var rd readData
	c.decode(f, &rd)
	if rd.UpToSeq != m.Seq {
		t.Fatalf("read acked up to %d, want %d (never beyond what was sent)", rd.UpToSeq, m.Seq)
	}
	r, ok := e.chat.Receipts(conv.ConversationID)
	if !ok || r.ReadSeq != m.Seq || r.DeliveredSeq != m.Seq {
		t.Fatalf("receipts %+v, want delivered and read %d", r, m.Seq)
	}
}

// signals returns the signals of kind on contactID announced on the
// router's event stream so far (sub's buffer), in order; other batches
// are skipped.
func signals(sub *router.Subscription, kind, contactID string) []router.Signal {
	var out []router.Signal
	for {
		select {
		case p := <-sub.C:
			for _, n := range p.Notes {
				if n.Kind == router.NoteSignal && n.Signal.Kind == kind && n.Signal.ContactID == contactID {
					out = append(out, *n.Signal)
				}
			}
		default:
			return out
		}
	}
}

// The customer's receipts are announced on the router's event stream
// (where the hub and the outbox hear them) when the marks move, and only
// then.
func TestReceiptsAnnounced(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	ctx := context.Background()
	c := e.dial(nil)
	conv := c.start(ada)
	sub, _ := e.router.Subscribe(0)
	defer sub.Close()
	if _, err := e.router.Accept(ctx, conv.ConversationID, "alice"); err != nil {
		t.Fatal(err)
	}
	m, _, err := e.router.AddMessage(ctx, conv.ConversationID, router.Message{Direction: "out", Author: "alice", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	c.expect(typeMessage)
	// The read's answer comes after its receipt: a barrier, not a wait.
	// The writer's note that the message was delivered may come before
	// the read or after it (the page answers as soon as it has it); a
	// read is always a delivery too.
	c.answer(c.request(typeRead, readData{UpToSeq: m.Seq}))
	got := signals(sub, router.SignalReceipt, conv.ConversationID)
	if len(got) == 0 || got[len(got)-1].ReadSeq != m.Seq || got[len(got)-1].DeliveredSeq != m.Seq {
		t.Fatalf("receipts %+v, want them to end delivered and read %d", got, m.Seq)
	}
	for _, r := range got {
		if r.ReadSeq > r.DeliveredSeq {
			t.Errorf("receipt %+v: read beyond what was delivered", r)
		}
	}
	// Reading again moves nothing: nothing announced.
	c.answer(c.request(typeRead, readData{UpToSeq: m.Seq}))
	if more := signals(sub, router.SignalReceipt, conv.ConversationID); len(more) != 0 {
		t.Fatalf("got %d more receipts, want none for marks that did not move", len(more))
	}
}

// A page that resumes a conversation after its end, and reads it, leaves
// no receipt behind: the contact's end dropped its receipts already,
// and nothing would drop one made after.
func TestNoReceiptAfterTheEnd(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c, conv := e.acceptedChat()
	if _, err := e.router.CloseContact(ctx, conv.ConversationID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	c.ws.Close()
	r := e.dial(nil)
	r.answer(r.request(typeResume, resumeData{ConversationID: conv.ConversationID, Token: conv.Token}))
	r.answer(r.request(typeRead, readData{UpToSeq: 5}))
	if got, ok := e.chat.Receipts(conv.ConversationID); ok {
		t.Errorf("a receipt of the ended conversation: %+v", got)
	}
}

// A page that resumes past an agent's internal note is told its number:
// the customer never gets the note, and the page's resume point would
// otherwise stick before it, every reconnect sending again what the page
// has.
func TestResumeSkipsNotes(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c, conv := e.acceptedChat()
	note, _, err := e.router.AddMessage(ctx, conv.ConversationID, router.Message{Direction: router.DirectionNote, Author: "alice", Body: "VIP, be nice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.router.AddMessage(ctx, conv.ConversationID, router.Message{Direction: "in", Author: "Ada", Body: "still there?"}); err != nil {
		t.Fatal(err)
	}
	c.ws.Close()
	r := e.dial(nil)
	f := r.answer(r.request(typeResume, resumeData{ConversationID: conv.ConversationID, Token: conv.Token, LastSeq: note.Seq - 1}))
	var got conversationData
	r.decode(f, &got)
	if !slices.Equal(got.SkippedSeqs, []int{note.Seq}) {
		t.Errorf("resumed after %d: skipped %v, want the note's %d", note.Seq-1, got.SkippedSeqs, note.Seq)
	}
}

// Once the agent wrapped the conversation up it is over for the
// customer: a client that sends anyway (the page hides the box) is
// refused, and the agent hears of nothing.
func TestNoSendAfterWrapUp(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	c, conv := e.acceptedChat()
	if _, err := e.router.WrapUp(ctx, conv.ConversationID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	before := len(e.storedMessages(conv.ConversationID))
	f, _ := c.sendText("one more thing", "late-1")
	if code := c.errorCode(f); code != codeConflict {
		t.Errorf("a send in wrap-up: %s, want %s", code, codeConflict)
	}
	if n := len(e.storedMessages(conv.ConversationID)); n != before {
		t.Errorf("%d messages stored after the refused send, want %d", n, before)
	}
}

// The customer's typing is announced at most once every typingEvery.
func TestCustomerTypingAnnounced(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 0, router.AgentAvailable)
	c := e.dial(nil)
	conv := c.start(ada)
	sub, _ := e.router.Subscribe(0)
	defer sub.Close()
	c.request(typeTyping, nil)
	c.request(typeTyping, nil) // within typingEvery: not passed on
	c.answer(c.request(typeRead, readData{}))
	if got := signals(sub, router.SignalTyping, conv.ConversationID); len(got) != 1 || got[0].From != router.AuthorCustomer {
		t.Fatalf("typing announced %+v, want once, from the customer", got)
	}
}

// withHours gives the queues named the business hours "14:00-18:00" on
// Mondays in Paris (epoch, a Monday 09:00 UTC, is 10:00 there: closed).
func withHours(t *testing.T, queues ...string) *env {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data")
	}
	sp, err := hours.ParseSpan("14:00-18:00")
	if err != nil {
		t.Fatal(err)
	}
	cal := &hours.Calendar{Location: paris}
	cal.Week[time.Monday] = []hours.Span{sp}
	e := newEnvRouter(t, router.Options{Calendars: map[string]*hours.Calendar{"afternoons": cal}}, nil)
	for _, name := range queues {
		q, _ := e.router.Snapshot().Queue(name)
		q.Hours = "afternoons"
		if _, err := e.router.PutQueue(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestOpeningHoursLeaveAMessage(t *testing.T) {
	e := withHours(t, "billing", "sales")
	alice(e, 1, router.AgentAvailable)

	// 09:00 UTC is 10:00 in Paris: closed.
	c := e.dial(nil)
	if c.welcome.Open || c.welcome.Topics[0].Online {
		t.Fatalf("welcome %+v, want closed", c.welcome)
	}
	if at := c.welcome.Topics[0].OpensAt; at == nil || !at.Equal(epoch.Add(4*time.Hour)) {
		t.Fatalf("billing opens_at %v, want %v", at, epoch.Add(4*time.Hour))
	}
	if code := c.errorCode(c.answer(c.request(typeStart, ada))); code != codeUnavailable {
		t.Fatalf("live start: got %s, want %s", code, codeUnavailable)
	}
	noContact := ada
	noContact.Email, noContact.Message, noContact.LeaveMessage = "", "please call me back", true
	if code := c.errorCode(c.answer(c.request(typeStart, noContact))); code != codeInvalid {
		t.Fatalf("message without email or phone: got %s, want %s", code, codeInvalid)
	}
	d := ada
	d.Message, d.LeaveMessage = "Please refund invoice 42", true
	conv := c.start(d)
	if conv.Mode != "message" {
		t.Fatalf("mode %q, want message", conv.Mode)
	}
	ct, ok := e.router.Snapshot().Contact(conv.ConversationID)
	if !ok || ct.Queue != "backoffice" || ct.Channel != "chat" || !strings.HasPrefix(ct.Subject, offlineSubjectPrefix) {
		t.Fatalf("contact %+v, want a chat contact in backoffice marked as a message", ct)
	}
	if ms := e.storedMessages(conv.ConversationID); len(ms) != 1 || ms[0].Body != "Please refund invoice 42" {
		t.Fatalf("stored %+v, want the message", ms)
	}

	// 13:00 UTC is 14:00 in Paris: open, and Alice works (again: the
	// message rang at her unanswered and set her away).
	e.clock.Advance(4 * time.Hour)
	if _, err := e.router.SetAgentState(context.Background(), "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	if w := e.dial(nil).welcome; !w.Open || !w.Topics[0].Online || w.Topics[1].Online || w.Topics[0].OpensAt != nil {
		t.Fatalf("welcome %+v, want open, billing online, sales offline (nobody)", w)
	}
}

// Each topic follows its own queue's hours.
func TestHoursPerTopic(t *testing.T) {
	e := withHours(t, "billing") // sales has no hours: always open
	e.agent("bob", "Bob", map[string]int{"billing": 1, "sales": 1}, 1, router.AgentAvailable)
	c := e.dial(nil)
	w := c.welcome
	if !w.Open || w.Topics[0].Online || w.Topics[0].OpensAt == nil || !w.Topics[1].Online || w.Topics[1].OpensAt != nil {
		t.Fatalf("welcome %+v, want open, billing closed until its hours, sales online", w)
	}
	if code := c.errorCode(c.answer(c.request(typeStart, ada))); code != codeUnavailable {
		t.Fatalf("live start on billing: got %s, want %s", code, codeUnavailable)
	}
	d := ada
	d.Topic = "sales"
	if conv := c.start(d); conv.Mode == "message" {
		t.Fatalf("sales start: mode %q, want live", conv.Mode)
	}
}

func TestOriginsAndPages(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 0, router.AgentAvailable)
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/chat"
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"https://shop.example.com", true},
		{e.srv.URL, true},
		{"https://evil.example.net", false},
		{"null", false},
	} {
		ws, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Origin": {tc.origin}})
		if tc.ok != (err == nil) {
			t.Fatalf("origin %s: err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if err == nil {
			ws.Close()
		} else if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: status %d, want 403", tc.origin, resp.StatusCode)
		}
	}
	for _, p := range []struct{ path, ctype string }{
		{"/chat/", "text/html"},
		{"/chat/chat.js", "text/javascript"},
		{"/chat/client.js", "text/javascript"},
		{"/chat/render.js", "text/javascript"},
		{"/chat/chat.css", "text/css"},
		{"/chat/widget.js", "text/javascript"},
	} {
		resp, err := http.Get(e.srv.URL + p.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), p.ctype) {
			t.Fatalf("%s: %d %s, want 200 %s", p.path, resp.StatusCode, resp.Header.Get("Content-Type"), p.ctype)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: no nosniff", p.path)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if p.path != "/chat/widget.js" && (!strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") ||
			!strings.Contains(csp, "frame-ancestors 'self' https://shop.example.com")) {
			t.Fatalf("%s: CSP %q", p.path, csp)
		}
	}
}

func TestTokenRoundTrip(t *testing.T) {
	tok := sign(testSecret, "c-1", epoch.Add(time.Minute))
	id, exp, err := verify(testSecret, tok, epoch)
	if err != nil || id != "c-1" || !exp.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("got %q %v %v, want c-1", id, exp, err)
	}
	if _, _, err := verify(testSecret, tok, epoch.Add(time.Minute)); err == nil {
		t.Fatal("a token at its expiry was accepted")
	}
}

func TestNewOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a router was accepted")
	}
}

// TestTopicsFollowTheAgents: a socket on the form hears when a topic
// goes offline (its last agent left) and online again, without asking.
func TestTopicsFollowTheAgents(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	c := e.dial(nil)
	if !c.welcome.Topics[0].Online {
		t.Fatalf("welcome %+v, want billing online", c.welcome)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		state  router.AgentState
		online bool
	}{{router.AgentOffline, false}, {router.AgentAvailable, true}} {
		if _, err := e.router.SetAgentState(ctx, "alice", tt.state, ""); err != nil {
			t.Fatal(err)
		}
		var got topicsData
		c.decode(c.expect(typeTopics), &got)
		if len(got.Topics) == 0 || got.Topics[0].ID != "billing" || got.Topics[0].Online != tt.online {
			t.Fatalf("alice %s: topics %+v, want billing online=%v", tt.state, got, tt.online)
		}
	}
}

// TestNotesNeverReachTheCustomer: an agent's note and a supervisor's
// whisper on a chat are neither pushed to the customer nor in the
// history a resume or a page of earlier messages brings.
func TestNotesNeverReachTheCustomer(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	ctx := context.Background()
	c := e.dial(nil)
	conv := c.start(ada)
	if _, err := e.router.Accept(ctx, conv.ConversationID, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []router.Message{
		{Direction: router.DirectionNote, Author: "alice", Body: "secret note"},
		{Direction: router.DirectionNote, Author: "sam", AuthorKind: router.AuthorSupervisor, Body: "secret whisper"},
		{Direction: "out", Author: "alice", Body: "Hello Ada"},
	} {
		if _, _, err := e.router.AddMessage(ctx, conv.ConversationID, m); err != nil {
			t.Fatal(err)
		}
	}
	var got messageData
	c.decode(c.expect(typeMessage), &got)
	if got.Body != "Hello Ada" {
		t.Fatalf("the customer's next message: %q, want the agent's reply (no note)", got.Body)
	}
	c.ws.Close()

	r := e.dial(nil)
	fs := r.until(r.request(typeResume, resumeData{ConversationID: conv.ConversationID, Token: conv.Token}))
	for _, m := range messagesOf(t, fs) {
		if strings.Contains(m.Body, "secret") {
			t.Errorf("resume brought a note: %+v", m)
		}
	}
	var page historyData
	r.decode(r.answer(r.request(typeHistory, historyRequest{BeforeSeq: 99})), &page)
	if n := len(page.Messages); n == 0 || page.Messages[n-1].Body != "Hello Ada" {
		t.Errorf("history page: %+v, want it to end with the reply", page.Messages)
	}
	for _, m := range page.Messages {
		if strings.Contains(m.Body, "secret") {
			t.Errorf("history brought a note: %+v", m)
		}
	}
}
