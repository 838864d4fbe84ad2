package email

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// withOutbox delivers the env's outbound email messages through a
// Sender to sink, as routerd does.
func (e *env) withOutbox(sink *emailtest.SMTPSink) {
	e.t.Helper()
	e.withSender(sink, nil)
}

// withSender is withOutbox with the Sender's options tuned by tune; it
// returns the Sender.
func (e *env) withSender(sink *emailtest.SMTPSink, tune func(o *SenderOptions)) *Sender {
	e.t.Helper()
	o := SenderOptions{SMTP: SMTP{Addr: sink.Addr, Security: Plain, User: sink.User, Password: sink.Pass},
		Domain: testDomain, MessageIDKey: testKey, Store: e.db,
		Queues:  map[string]From{"support": {Address: "support@example.com", Name: "Example Support", Signature: "Example Ltd, 1 Road"}},
		Default: From{Address: "help@example.com", Name: "Example Help"}}
	if tune != nil {
		tune(&o)
	}
	s, err := NewSender(o)
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := outbox.New(outbox.Options{Router: e.rt, Store: e.db, Senders: map[router.Channel]outbox.Sender{router.ChannelEmail: s},
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sub, snap := e.rt.Subscribe(0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.rt.Follow(ctx, sub, snap, d, d.Resync)
	}()
	if err := d.Start(ctx); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		cancel()
		<-done
		d.Close()
	})
	return s
}

// agentReply has agent a1 take contact id and write body.
func (e *env) agentReply(id, body string) router.Message {
	e.t.Helper()
	return e.agentMessage(id, router.Message{Body: body})
}

// agentMessage has agent a1 take contact id and write m, a reply.
func (e *env) agentMessage(id string, m router.Message) router.Message {
	e.t.Helper()
	ctx := context.Background()
	if _, _, err := e.rt.PutAgent(ctx, router.Agent{ID: "a1", Name: "Ann", Capacity: map[string]int{router.ChannelEmail: 5}}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.rt.SetAgentState(ctx, "a1", router.AgentAvailable, ""); err != nil {
		e.t.Fatal(err)
	}
	if c, ok := e.rt.Snapshot().Contact(id); ok && c.State == router.ContactOffered {
		if _, err := e.rt.Accept(ctx, id, "a1"); err != nil {
			e.t.Fatalf("Accept: %v", err)
		}
	}
	m.Direction, m.Author, m.AuthorKind = "out", "a1", router.AuthorAgent
	m, _, err := e.rt.AddMessage(ctx, id, m)
	if err != nil {
		e.t.Fatalf("AddMessage: %v", err)
	}
	return m
}

// readMessage parses what the sink received.
func readMessage(t testing.TB, r emailtest.Received) (mail.Header, string, string) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("read sent message: %v\n%s", err, r.Data)
	}
	var text, html string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/html" {
				html = string(b)
			} else {
				text = string(b)
			}
		}
	}
	return mr.Header, text, html
}

func TestConversation(t *testing.T) {
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "relay", "relay-pass")
	e := newEnv(t)
	e.withOutbox(sink)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "Ada <ada@customer.example>", "Where is my invoice?", "Please send it.",
		"References: <older@customer.example>", "Cc: Bob <bob@customer.example>, support@example.com"))
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]

	reply := e.agentReply(c.ID, "Here it is.\nBest, Ann")
	got := sink.Wait(t, waitBound)
	h, text, html := readMessage(t, got)
	ourID := OutboundID(testKey, testDomain, c.ID, reply.Seq)
	from, _ := h.AddressList("From")
	subject, _ := h.Subject()
	msgID, _ := h.MessageID()
	irt, _ := h.MsgIDList("In-Reply-To")
	refs, _ := h.MsgIDList("References")
	if got.From != "support@example.com" || strings.Join(got.To, ",") != "ada@customer.example,bob@customer.example" {
		t.Errorf("envelope: got from %q to %v, want the customer and the Cc but our own address", got.From, got.To)
	}
	if cc, _ := h.AddressList("Cc"); len(cc) != 1 || cc[0].Address != "bob@customer.example" {
		t.Errorf("Cc: got %v, want the customer's Cc without our own address", cc)
	}
	if first := e.messages(c.ID)[0]; strings.Join(first.Cc, ",") != `"Bob" <bob@customer.example>,support@example.com` || len(first.To) != 1 {
		t.Errorf("stored recipients: To %v, Cc %v", first.To, first.Cc)
	}
	if len(from) != 1 || from[0].Name != "Example Support" || from[0].Address != "support@example.com" {
		t.Errorf("From: got %v, want the queue's address with its name", from)
	}
	if msgID != ourID || subject != "Re: Where is my invoice? "+SubjectToken(c.ID) {
		t.Errorf("Message-ID %q, Subject %q: want %q and the token", msgID, subject, ourID)
	}
	if strings.Join(irt, ",") != "q1@customer.example" || strings.Join(refs, ",") != "older@customer.example,q1@customer.example" {
		t.Errorf("In-Reply-To %v, References %v: want the customer's message and its thread", irt, refs)
	}
	if h.Get("Auto-Submitted") != "" {
		t.Errorf("an agent's reply carries Auto-Submitted %q", h.Get("Auto-Submitted"))
	}
	if !strings.Contains(text, "Here it is.\nBest, Ann") || !strings.Contains(text, "-- \nExample Ltd, 1 Road") || !strings.Contains(html, "Here it is.<br>") {
		t.Errorf("parts: text %q, html %q; want the body and the signature in both", text, html)
	}
	// Below them, the customer's mail it answers, quoted.
	if !strings.Contains(text, "Ada wrote:\n> Please send it.") || !strings.Contains(html, `<blockquote type="cite"`) ||
		!strings.Contains(html, "Please send it.") || strings.Index(text, "> Please send it.") < strings.Index(text, "Example Ltd") {
		t.Errorf("quote: text %q, html %q; want the customer's mail quoted below the reply", text, html)
	}

	// The customer answers our reply, under another subject: it joins.
	e.waitWaiting("support")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support",
		mkMail("q2@customer.example", "ada@customer.example", "Something else entirely", "Thanks!", "In-Reply-To: <"+ourID+">"))
	e.waitUID("support", 2)
	if ms := e.messages(c.ID); len(ms) != 3 || ms[2].Body != "Thanks!" {
		t.Fatalf("got %d messages on the contact, want the answer joined as the third", len(ms))
	}

	// A mail with the subject's token alone joins from the same sender;
	// from another sender it starts a contact of its own.
	tok := SubjectToken(c.ID)
	e.waitWaiting("support")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support",
		mkMail("q3@customer.example", "ada@customer.example", "About "+tok, "One more thing."),
		mkMail("x1@other.example", "mallory@other.example", "About "+tok, "Let me in."))
	e.waitUID("support", 4)
	if ms := e.messages(c.ID); len(ms) != 4 {
		t.Errorf("got %d messages, want the same sender's token mail joined and the other's not", len(ms))
	}
	if n := len(e.emailContacts()); n != 2 {
		t.Errorf("got %d contacts, want the stranger's mail in a contact of its own", n)
	}

	// Once the contact is closed, an answer starts a linked follow-up.
	ctx := context.Background()
	if _, err := e.rt.CloseContact(ctx, c.ID, "a1", "", ""); err != nil {
		t.Fatalf("CloseContact: %v", err)
	}
	e.waitWaiting("support")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support",
		mkMail("q4@customer.example", "ada@customer.example", "Re: Where is my invoice?", "It came, thanks.", "In-Reply-To: <"+ourID+">"))
	e.waitUID("support", 5)
	var follow router.Contact
	for _, x := range e.emailContacts() {
		if x.Follows == c.ID {
			follow = x
		}
	}
	if follow.ID == "" {
		t.Fatalf("no follow-up of %s among %v", c.ID, e.emailContacts())
	}
}

func TestSendFailures(t *testing.T) {
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnv(t)
	e.withOutbox(sink)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "ada@customer.example", "Hi", "Hello"))
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]

	// Twice "try later", then accepted: retried by the outbox.
	sink.Reject(func(n int) error {
		if n <= 2 {
			return &smtp.SMTPError{Code: 451, Message: "greylisted"}
		}
		return nil
	})
	m := e.agentReply(c.ID, "First")
	sink.Wait(t, waitBound)
	e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliverySent && d.Attempts == 3 })

	// A 5xx fails for good, with the server's words on the message.
	sink.Reject(func(int) error { return &smtp.SMTPError{Code: 550, Message: "mailbox unavailable"} })
	m = e.agentReply(c.ID, "Second")
	d := e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliveryFailed })
	if !strings.Contains(d.Reason, "550 5.0.0 mailbox unavailable") || d.Attempts != 1 {
		t.Errorf("got %+v, want failed after one attempt with the 550", d)
	}
}

// waitDelivery waits until message seq of contact id has a delivery ok
// accepts, as the store has it.
func (e *env) waitDelivery(id string, seq int, ok func(*router.Delivery) bool) *router.Delivery {
	e.t.Helper()
	sub, _ := e.rt.Subscribe(0)
	defer func() { sub.Close() }()
	deadline := time.After(waitBound)
	for {
		m, err := e.db.Message(context.Background(), id, seq)
		if err != nil {
			e.t.Fatal(err)
		}
		if m.Delivery != nil && ok(m.Delivery) {
			return m.Delivery
		}
		select {
		case _, open := <-sub.C:
			if !open { // dropped for falling behind: look again
				sub, _ = e.rt.Subscribe(0)
			}
		case <-deadline:
			e.t.Fatalf("message %d of %s: delivery %+v, not as wanted within %s", seq, id, m.Delivery, waitBound)
		}
	}
}

// A bounce of our reply joins the conversation and marks the reply
// failed with the report's status.
func TestBounceMarksReplyFailed(t *testing.T) {
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnv(t)
	e.withOutbox(sink)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "ada@customer.example", "Hi", "Hello"))
	e.start(func(o *Options) { o.Deliveries = e.rt }, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]
	m := e.agentReply(c.ID, "Answer")
	sink.Wait(t, waitBound)
	e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliverySent })
	ours := OutboundID(testKey, testDomain, c.ID, m.Seq)
	dsn := "From: MAILER-DAEMON@mx.customer.example\r\nTo: support@example.com\r\nSubject: Undelivered Mail\r\n" +
		"Message-ID: <dsn1@mx.customer.example>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n" +
		"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 no such user\r\n" +
		"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + ours + ">\r\n--r--\r\n"
	e.waitWaiting("support")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", dsn)
	d := e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliveryFailed })
	if !strings.Contains(d.Reason, "bounced: 5.1.1") {
		t.Errorf("reason %q, want the bounce's status", d.Reason)
	}
	ms := e.messages(c.ID)
	if last := ms[len(ms)-1]; last.Direction != "in" || !strings.Contains(last.Body, "automatic mail") {
		t.Errorf("the bounce is not in the conversation as automatic mail: %+v", last)
	}
}
