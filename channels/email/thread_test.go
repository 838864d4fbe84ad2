package email

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/router"
)

// bounceOf is a delivery report from the customer's server saying that
// the message originalID, to recipient, failed.
func bounceOf(key, originalID, recipient string) string {
	return "From: MAILER-DAEMON@mx.customer.example\r\nTo: support@example.com\r\nSubject: Undelivered Mail\r\n" +
		"Message-ID: <" + key + "@mx.customer.example>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n" +
		"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n" +
		"Final-Recipient: rfc822; " + recipient + "\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 no such user\r\n" +
		"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + originalID + ">\r\n--r--\r\n"
}

// A reference joins another's conversation only when it is one of our
// Message-IDs with a tag that verifies, or, sent before the tags, when
// its mail comes from (a report: is about) the contact's customer. A
// stranger who guesses or learns a contact's id, and the tag of a
// Message-ID of their own, gets a contact of their own and changes
// nothing in the victim's: not by a reply, not by a bounce.
func TestThreadingRefusesForgedReferences(t *testing.T) {
	e, srv, victim, reply := answered(t)
	uid := uint32(1)
	legacy := fmt.Sprintf("sb.%s.%d@%s", victim.ID, reply.Seq, testDomain)

	// Mallory's own contact, and the tag of our Message-ID of the same
	// message on it: what she learns from our mail to her.
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("m0@other.example", "mallory@other.example", "Hello", "Hi."))
	uid++
	e.waitUID("support", uid)
	var mallory router.Contact
	for _, c := range e.emailContacts() {
		if c.Customer.Email == "mallory@other.example" {
			mallory = c
		}
	}
	theirTag := idTag(testKey, mallory.ID, reply.Seq)

	take := func(raw string) {
		t.Helper()
		uid = e.takeNext(t, srv, uid, raw)
	}
	subject := "Re: Invoice " + SubjectToken(victim.ID)
	before := len(e.messages(victim.ID))
	for i, ref := range []string{
		legacy, // untagged, as routerd wrote before the tags
		fmt.Sprintf("sb.%s.%d.%s@%s", victim.ID, reply.Seq, theirTag, testDomain),                // her tag on the victim's id
		fmt.Sprintf("sb.%s.%d.%s@%s", victim.ID, reply.Seq, strings.Repeat("a", 24), testDomain), // a made-up tag
	} {
		take(mkMail(fmt.Sprintf("m%d@other.example", i+1), "mallory@other.example", subject, "Injected "+ref,
			"In-Reply-To: <"+ref+">", "References: <"+ref+">"))
	}
	take(bounceOf("forged-1", legacy, "mallory@other.example"))
	take(bounceOf("forged-2", fmt.Sprintf("sb.%s.%d.%s@%s", victim.ID, reply.Seq, theirTag, testDomain), "ada@customer.example"))
	if got := len(e.messages(victim.ID)); got != before {
		t.Fatalf("the victim's conversation: got %d messages, want %d: a forged reference joined it", got, before)
	}
	if m, err := e.db.Message(context.Background(), victim.ID, reply.Seq); err != nil || m.Delivery == nil || m.Delivery.Status != router.DeliverySent {
		t.Fatalf("the victim's reply: delivery %+v (%v), want still sent: a forged bounce marked it", m.Delivery, err)
	}
	// Each forged mail is a contact of its own (the bounces, from the
	// mailer daemon, too), none following the victim's or carrying
	// Ada's identity.
	for _, c := range e.emailContacts() {
		if c.ID != victim.ID && (c.Follows == victim.ID || c.Customer.Email == "ada@customer.example") {
			t.Errorf("contact %s follows %q as %q: want nothing of the victim's", c.ID, c.Follows, c.Customer.Email)
		}
	}
	if got, want := len(e.emailContacts()), 2+5; got != want {
		t.Errorf("got %d contacts, want %d: each forged mail in its own", got, want)
	}

	// Once the victim's contact has ended, a forged reference still
	// starts no follow-up of it.
	if _, err := e.rt.CloseContact(context.Background(), victim.ID, "a1", "", ""); err != nil {
		t.Fatalf("CloseContact: %v", err)
	}
	take(mkMail("m9@other.example", "mallory@other.example", "Re: Invoice", "Let me in.", "In-Reply-To: <"+legacy+">"))
	for _, c := range e.emailContacts() {
		if c.Follows == victim.ID {
			t.Errorf("contact %s of %q follows the victim's", c.ID, c.Customer.Email)
		}
	}
}

// The references that do join: our tagged Message-ID from anyone the
// customer copied, and an untagged one (sent before the tags) from the
// customer themselves, or in a bounce about them.
func TestThreadingJoinsGenuineReferences(t *testing.T) {
	e, srv, c, reply := answered(t)
	uid := uint32(1)
	ours := OutboundID(testKey, testDomain, c.ID, reply.Seq)
	legacy := fmt.Sprintf("sb.%s.%d@%s", c.ID, reply.Seq, testDomain)

	take := func(raw string) {
		t.Helper()
		uid = e.takeNext(t, srv, uid, raw)
	}
	for _, tc := range []struct {
		name, raw, body string
	}{
		{"tagged-from-the-cc", mkMail("b1@customer.example", "Bob <bob@customer.example>", "Different subject", "Bob here.",
			"In-Reply-To: <"+ours+">"), "Bob here."},
		{"legacy-from-the-customer", mkMail("q2@customer.example", "Ada <ada@customer.example>", "Different subject", "Ada again.",
			"In-Reply-To: <"+legacy+">"), "Ada again."},
	} {
		take(tc.raw)
		ms := e.messages(c.ID)
		if last := ms[len(ms)-1]; last.Body != tc.body {
			t.Errorf("%s: the conversation ends with %q, want the reply joined", tc.name, last.Body)
		}
	}
	if n := len(e.emailContacts()); n != 1 {
		t.Errorf("got %d contacts, want the replies in the first", n)
	}
	take(bounceOf("genuine-1", legacy, "ada@customer.example"))
	d := e.waitDelivery(c.ID, reply.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliveryFailed })
	if !strings.Contains(d.Reason, "bounced: 5.1.1") {
		t.Errorf("reason %q, want the bounce's status", d.Reason)
	}
	if n := len(e.emailContacts()); n != 1 {
		t.Errorf("got %d contacts, want the bounce in the conversation", n)
	}
}

// answered starts a mailbox that takes in Ada's mail (Bob in Cc), has
// the agent answer it and waits until the reply is sent: the env, the
// IMAP server, the contact (its UID 1) and the reply.
func answered(t *testing.T) (*env, *imapServer, router.Contact, router.Message) {
	t.Helper()
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnv(t)
	e.withOutbox(sink)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "Ada <ada@customer.example>", "Invoice", "Where is it?",
		"Cc: Bob <bob@customer.example>"))
	e.start(func(o *Options) { o.Deliveries = e.rt }, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]
	reply := e.agentReply(c.ID, "Here it is.")
	sink.Wait(t, waitBound)
	e.waitDelivery(c.ID, reply.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliverySent })
	return e, srv, c, reply
}

// takeNext appends raw to the support mailbox once its fetcher waits,
// and waits until it took it in as the UID after uid, which it returns.
func (e *env) takeNext(t *testing.T, srv *imapServer, uid uint32, raw string) uint32 {
	t.Helper()
	e.waitWaiting("support")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", raw)
	e.waitUID("support", uid+1)
	return uid + 1
}
