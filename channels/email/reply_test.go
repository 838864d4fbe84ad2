package email

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/router"
)

// part is one leaf of a message as sent: its header and its decoded
// bytes, and the media types of the multiparts above it.
type part struct {
	header  message.Header
	body    []byte
	parents []string
}

// mimeTree reads a message as sent, its top media type and its leaves in
// order.
func mimeTree(t *testing.T, raw []byte) (string, []part) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read sent message: %v", err)
	}
	top, _, _ := e.Header.ContentType()
	var leaves []part
	var walk func(e *message.Entity, parents []string)
	walk = func(e *message.Entity, parents []string) {
		typ, _, _ := e.Header.ContentType()
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("read part: %v", err)
				}
				walk(p, append(slices.Clone(parents), typ))
			}
		}
		b, err := io.ReadAll(e.Body)
		if err != nil {
			t.Fatalf("read part body: %v", err)
		}
		leaves = append(leaves, part{header: e.Header, body: b, parents: parents})
	}
	walk(e, nil)
	return top, leaves
}

// The agent's files go out with the reply: the text and HTML as an
// alternative inside a multipart/mixed, then each file as an attachment
// part with its name and stored type, its bytes exactly.
func TestReplyCarriesFiles(t *testing.T) {
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnv(t)
	e.withSender(sink, func(o *SenderOptions) { o.Files = e.files; o.MaxAttachmentBytes = 1 << 20 })
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "Ada <ada@customer.example>", "Invoice", "Where is it?"))
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]

	binary := make([]byte, 3000) // every byte value, CR and LF among them
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	pdfSHA, pdfSize, err := e.files.Put(bytes.NewReader(binary))
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("line one\nline two\n")
	txtSHA, txtSize, err := e.files.Put(bytes.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	e.agentMessage(c.ID, router.Message{Body: "Here it is.", Attachments: []router.Attachment{
		{Name: "Rechnung März.pdf", Type: "application/pdf", Size: pdfSize, SHA256: pdfSHA},
		{Name: `notes "v2".txt`, Type: "not a type", Size: txtSize, SHA256: txtSHA},
	}})
	got := sink.Wait(t, waitBound)
	top, leaves := mimeTree(t, got.Data)
	if top != "multipart/mixed" || len(leaves) != 4 {
		t.Fatalf("got %s with %d parts, want multipart/mixed with the text, the HTML and two files", top, len(leaves))
	}
	for i, want := range []string{"text/plain", "text/html"} {
		typ, _, _ := leaves[i].header.ContentType()
		if typ != want || !slices.Equal(leaves[i].parents, []string{"multipart/mixed", "multipart/alternative"}) {
			t.Errorf("part %d: got %s under %v, want %s in the alternative", i, typ, leaves[i].parents, want)
		}
	}
	if !strings.Contains(string(leaves[0].body), "Here it is.") {
		t.Errorf("text part %q lacks the reply", leaves[0].body)
	}
	for i, want := range []struct {
		name, typ string
		data      []byte
	}{{"Rechnung März.pdf", "application/pdf", binary}, {`notes "v2".txt`, "application/octet-stream", text}} {
		p := leaves[2+i]
		ah := mail.AttachmentHeader{Header: p.header}
		disp, _, err := p.header.ContentDisposition()
		name, nerr := ah.Filename()
		typ, params, _ := p.header.ContentType()
		if err != nil || nerr != nil || disp != "attachment" || name != want.name {
			t.Errorf("file %d: disposition %q name %q (%v %v), want attachment named %q", i, disp, name, err, nerr, want.name)
		}
		if dec, _ := new(mime.WordDecoder).DecodeHeader(params["name"]); typ != want.typ || dec != want.name {
			t.Errorf("file %d: Content-Type %s name %q, want %s named %q", i, typ, params["name"], want.typ, want.name)
		}
		if !bytes.Equal(p.body, want.data) || p.header.Get("Content-Transfer-Encoding") != "base64" {
			t.Errorf("file %d: %d bytes (%s), want the %d bytes kept, in base64", i, len(p.body), p.header.Get("Content-Transfer-Encoding"), len(want.data))
		}
		if !slices.Equal(p.parents, []string{"multipart/mixed"}) {
			t.Errorf("file %d under %v, want directly in the multipart/mixed", i, p.parents)
		}
	}
	// The names are encoded words, the bodies quoted-printable or
	// base64: the whole message is ASCII.
	if i := bytes.IndexFunc(got.Data, func(r rune) bool { return r > 0x7e }); i >= 0 {
		t.Errorf("a byte outside ASCII at %d: %q", i, got.Data[max(0, i-40):i+1])
	}
}

// A reply whose file is gone from the store (or is over the limits)
// fails with the reason, naming the file, and nothing is sent; the next
// reply goes as usual.
func TestReplyFileMissingFails(t *testing.T) {
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnv(t)
	e.withSender(sink, func(o *SenderOptions) { o.Files = e.files; o.MaxAttachmentBytes = 10 })
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "ada@customer.example", "Hi", "Hello"))
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]

	sha, size, err := e.files.Put(strings.NewReader("contract"))
	if err != nil {
		t.Fatal(err)
	}
	// Gone, as if removed by hand (the store removes no file a message holds).
	if err := os.Remove(filepath.Join(e.dir, "attachments", sha[:2], sha)); err != nil {
		t.Fatal(err)
	}
	m := e.agentMessage(c.ID, router.Message{Body: "See the contract.", Attachments: []router.Attachment{{Name: "contract.pdf", Type: "application/pdf", Size: size, SHA256: sha}}})
	d := e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliveryFailed })
	if !strings.Contains(d.Reason, `attachment "contract.pdf"`) || !strings.Contains(d.Reason, "missing from the attachment store") || d.Attempts != 1 {
		t.Errorf("got %+v, want failed at the first attempt, naming the missing file", d)
	}

	big, bigSize, err := e.files.Put(strings.NewReader("eleven byte"))
	if err != nil {
		t.Fatal(err)
	}
	m = e.agentMessage(c.ID, router.Message{Body: "Too big.", Attachments: []router.Attachment{{Name: "big.txt", Type: "text/plain", Size: bigSize, SHA256: big}}})
	d = e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliveryFailed })
	if !strings.Contains(d.Reason, "more than 10 bytes together") {
		t.Errorf("got %+v, want failed for the message's limit", d)
	}

	e.agentReply(c.ID, "Without files.")
	if got := sink.Wait(t, waitBound); !strings.Contains(string(got.Data), "Without files.") {
		t.Errorf("the first message the server got is not the reply without files:\n%s", got.Data)
	}
}

// The agent takes a Cc off a reply: it is absent from the header and
// from the envelope, the others stay; a cc the conversation does not
// have is refused, naming the field.
func TestReplyChosenCc(t *testing.T) {
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnv(t)
	s := e.withSender(sink, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "Ada <ada@customer.example>", "Invoice", "Where is it?",
		"Cc: Bob <bob@customer.example>, Carol <carol@customer.example>, Dan <dan@customer.example>, support@example.com"))
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]
	ctx := context.Background()
	live := func() router.Contact {
		t.Helper()
		lc, ok := e.rt.Snapshot().Contact(c.ID)
		if !ok {
			t.Fatal("the contact is not live")
		}
		return lc
	}

	// Carol taken off; our own address may be named, and is never sent to.
	to, cc, err := s.Recipients(ctx, live(), []string{"Bob <BOB@customer.example>", "dan@customer.example", "support@example.com"})
	if err != nil || len(to) != 1 || to[0] != `"Ada" <ada@customer.example>` || strings.Join(cc, ",") != `"Bob" <bob@customer.example>,"Dan" <dan@customer.example>` {
		t.Fatalf("Recipients: got to %q cc %q (%v), want Ada, and Bob and Dan", to, cc, err)
	}
	e.agentMessage(c.ID, router.Message{Body: "Without Carol.", To: to, Cc: cc})
	got := sink.Wait(t, waitBound)
	mr, err := mail.CreateReader(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	hcc, _ := mr.Header.AddressList("Cc")
	var names []string
	for _, a := range hcc {
		names = append(names, a.Address)
	}
	if strings.Join(names, ",") != "bob@customer.example,dan@customer.example" {
		t.Errorf("Cc header: got %v, want Bob and Dan without Carol", names)
	}
	if strings.Join(got.To, ",") != "ada@customer.example,bob@customer.example,dan@customer.example" {
		t.Errorf("RCPT TO: got %v, want Ada, Bob and Dan without Carol", got.To)
	}

	// Every Cc taken off: the customer alone.
	to, cc, err = s.Recipients(ctx, live(), []string{})
	if err != nil || len(cc) != 0 {
		t.Fatalf("Recipients of none: got %q %q %v", to, cc, err)
	}
	e.agentMessage(c.ID, router.Message{Body: "To Ada alone.", To: to, Cc: cc})
	got = sink.Wait(t, waitBound)
	if strings.Join(got.To, ",") != "ada@customer.example" || bytes.Contains(got.Data, []byte("\r\nCc:")) {
		t.Errorf("RCPT TO %v, want Ada alone and no Cc header:\n%s", got.To, got.Data)
	}

	// Refused: an address the conversation's Cc does not have, one that
	// is no address, a cc on a contact of another channel.
	for _, tc := range []struct {
		name, field, want string
		cc                []string
		contact           router.Contact
	}{
		{"added", "cc[1]", "mallory@other.example is not in the conversation's Cc", []string{"bob@customer.example", "mallory@other.example"}, live()},
		{"not-an-address", "cc[0]", "is not an email address", []string{"bob at customer"}, live()},
		{"not-email", "cc", "only a reply by email has a Cc", []string{"bob@customer.example"}, router.Contact{ID: "x", Channel: router.ChannelChat}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Recipients(ctx, tc.contact, tc.cc)
			re, ok := router.AsError(err)
			if !ok || re.Code != router.CodeInvalid || re.Field != tc.field || !strings.Contains(re.Message, tc.want) {
				t.Errorf("got %v, want invalid about %s saying %q", err, tc.field, tc.want)
			}
		})
	}

	// The customer writes again, with Carol alone in Cc, before the
	// reply that chose Bob is written: it goes to neither (Bob is no
	// longer in the thread, Carol was taken off).
	to, cc, err = s.Recipients(ctx, live(), []string{"bob@customer.example"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitWaiting("support")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q2@customer.example", "ada@customer.example", "Re: Invoice", "Still here.",
		"In-Reply-To: <q1@customer.example>", "Cc: carol@customer.example"))
	e.waitUID("support", 2)
	e.agentMessage(c.ID, router.Message{Body: "Bob chosen before.", To: to, Cc: cc})
	got = sink.Wait(t, waitBound)
	if strings.Join(got.To, ",") != "ada@customer.example" {
		t.Errorf("RCPT TO: got %v, want Ada alone", got.To)
	}
	// Without a choice, the reply keeps the conversation's Cc (now Carol).
	e.agentReply(c.ID, "No choice.")
	got = sink.Wait(t, waitBound)
	if strings.Join(got.To, ",") != "ada@customer.example,carol@customer.example" {
		t.Errorf("RCPT TO: got %v, want Ada and Carol", got.To)
	}
}

// A Cc the server refuses for good (550 at RCPT: a colleague who left)
// is dropped from the envelope and the reply goes to the customer and
// the other Cc, its header unchanged, the drop on the contact's
// timeline; a 4xx to a Cc is retried, the whole message; the customer
// refused fails the reply for good, and nothing is sent.
func TestReplyRefusedCc(t *testing.T) {
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnv(t)
	e.withSender(sink, func(o *SenderOptions) { o.Timeline = e.rt })
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mkMail("q1@customer.example", "Ada <ada@customer.example>", "Invoice", "Where is it?",
		"Cc: Bob <bob@customer.example>, Gone <gone@customer.example>"))
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 1)
	c := e.emailContacts()[0]
	gone := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 4, 1}, Message: "Recipient address rejected: Access denied"}
	var bobBusy, adaGone atomic.Bool // Bob answered 4xx once; Ada refused
	sink.RefuseRcpt(func(to string) error {
		switch {
		case to == "gone@customer.example":
			return gone
		case to == "bob@customer.example" && bobBusy.CompareAndSwap(true, false):
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		case to == "ada@customer.example" && adaGone.Load():
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
		}
		return nil
	})
	dropped := func() []string {
		t.Helper()
		events, err := e.db.Timeline(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range events {
			if ev.Event == EventCcDropped {
				out = append(out, ev.Reason)
			}
		}
		return out
	}

	m := e.agentReply(c.ID, "Here it is.")
	got := sink.Wait(t, waitBound)
	if strings.Join(got.To, ",") != "ada@customer.example,bob@customer.example" {
		t.Errorf("RCPT TO accepted: %v, want Ada and Bob", got.To)
	}
	h, _, _ := readMessage(t, got)
	if cc, _ := h.AddressList("Cc"); len(cc) != 2 || cc[0].Address != "bob@customer.example" || cc[1].Address != "gone@customer.example" {
		t.Errorf("Cc header %v, want Bob and Gone as the customer wrote them", cc)
	}
	e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliverySent && d.Attempts == 1 })
	want := fmt.Sprintf("message %d sent; refused by the server and dropped from Cc: gone@customer.example (550 5.4.1 Recipient address rejected: Access denied)", m.Seq)
	if got := dropped(); len(got) != 1 || got[0] != want {
		t.Errorf("timeline: %q, want one %s event %q", got, EventCcDropped, want)
	}

	// Bob busy once: the whole reply waits and goes to both again.
	bobBusy.Store(true)
	m = e.agentReply(c.ID, "Second.")
	got = sink.Wait(t, waitBound)
	if strings.Join(got.To, ",") != "ada@customer.example,bob@customer.example" {
		t.Errorf("RCPT TO accepted: %v, want Ada and Bob", got.To)
	}
	e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliverySent && d.Attempts == 2 })
	if n := len(dropped()); n != 2 {
		t.Errorf("%d %s events, want one a reply sent", n, EventCcDropped)
	}

	// The customer refused: failed for good, sent to no one.
	adaGone.Store(true)
	m = e.agentReply(c.ID, "Third.")
	d := e.waitDelivery(c.ID, m.Seq, func(d *router.Delivery) bool { return d.Status == router.DeliveryFailed })
	if !strings.Contains(d.Reason, "send to ada@customer.example: 550 5.1.1 No such user") || d.Attempts != 1 {
		t.Errorf("got %+v, want failed after one attempt, naming the customer's address and the 550", d)
	}
	if n := len(sink.Received); n != 0 {
		t.Errorf("the server got %d messages, want none", n)
	}
}
