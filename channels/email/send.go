package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// smtpTimeout bounds each SMTP command; the outbox bounds the attempt.
const smtpTimeout = 30 * time.Second

// SMTP is the submission server replies go through.
type SMTP struct {
	Addr     string // host:port
	Security Security
	// TLSConfig is used for TLS and StartTLS; nil verifies the server
	// against the system's roots.
	TLSConfig *tls.Config
	// User and Password authenticate with PLAIN (only over TLS or
	// StartTLS, or Plain to loopback); empty User sends without auth.
	User, Password string
	// OAuth, when set, authenticates User with an OAuth 2.0 token
	// instead of Password.
	OAuth *OAuth
}

// From is who a queue's replies come from.
type From struct {
	Address string
	Name    string
	// Signature ends the text of every reply.
	Signature string
	// NoQuote leaves the customer's mail out of the replies (quoteBelow).
	NoQuote bool
}

// MessageStore reads a contact's conversation, for the thread headers
// of a reply; *store.DB implements it.
type MessageStore interface {
	Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error)
}

// FileReader reads the files agents attach to their replies, by
// content hash; *attachments.Store implements it.
type FileReader interface {
	Open(sha string) (*os.File, error)
	MaxFileBytes() int64
}

var _ FileReader = (*attachments.Store)(nil)

// SenderOptions configure NewSender. SMTP.Addr, Domain, MessageIDKey,
// Store and a From for every queue that replies (or Default) are
// required.
type SenderOptions struct {
	SMTP   SMTP
	Domain string
	// MessageIDKey tags our Message-IDs (OutboundID): the channel's
	// Options.MessageIDKey.
	MessageIDKey []byte
	// Queues are the From of each queue; Default that of the others.
	Queues  map[string]From
	Default From
	Store   MessageStore
	// Files has the files of the replies (uploaded with POST
	// /api/v1/attachments); nil fails every reply that carries one.
	Files FileReader
	// MaxAttachmentBytes bounds a reply's files together
	// (attachments.max_message_bytes); 0: only Files' limit per file.
	MaxAttachmentBytes int64
	// Timeline, if set, records on the contact's timeline the Cc a reply
	// went without (EventCcDropped): *router.Router. Nil only logs it.
	Timeline Timeline
	// Logger: nil logs nothing.
	Logger *slog.Logger
}

// Timeline records an event on a live contact's timeline;
// *router.Router implements it.
type Timeline interface {
	RecordEvent(ctx context.Context, contactID, agentID, event, reason string) error
}

var _ Timeline = (*router.Router)(nil)

// EventCcDropped is the timeline event of a reply sent without some of
// its Cc, whom the SMTP server refused for good (a 5xx to RCPT: a
// colleague who left): its reason names the message, each address and
// the server's answer ("message 4 sent; refused by the server and
// dropped from Cc: bob@example.com (550 5.4.1 Recipient address
// rejected)").
const EventCcDropped = "email_cc_dropped"

// Sender delivers agents' replies on email contacts as threaded mail
// over SMTP: the outbox's Sender for router.ChannelEmail. It is safe for
// concurrent use.
type Sender struct {
	o SenderOptions
}

var _ outbox.Sender = (*Sender)(nil)

// NewSender checks o.
func NewSender(o SenderOptions) (*Sender, error) {
	if o.SMTP.Addr == "" || o.Domain == "" || o.Store == nil {
		return nil, errors.New("email: sender options: SMTP.Addr, Domain and Store are required")
	}
	if err := checkMessageIDKey(o.MessageIDKey); err != nil {
		return nil, fmt.Errorf("email: sender options: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{o: o}, nil
}

// Send sends o's message to the contact's customer, threaded under the
// conversation's last message from them, with its files. A 5xx answer,
// a customer without an address, a queue without a From, and a file
// missing from Files or over the limits wrap outbox.ErrPermanent: the
// message fails with that reason rather than go without its file. A Cc
// the server refuses with a 5xx is dropped from the envelope (the
// header keeps it) and the message goes to the others, the drop
// recorded on the contact's timeline (EventCcDropped). Other failures
// are retried by the outbox.
func (s *Sender) Send(ctx context.Context, o outbox.Outbound) (router.DeliveryStatus, error) {
	raw, rcpts, from, err := s.compose(ctx, o)
	if err != nil {
		return "", err
	}
	dropped, err := s.submit(ctx, from, rcpts, raw)
	if err != nil {
		return "", err
	}
	if len(dropped) > 0 {
		s.recordDropped(ctx, o, dropped)
	}
	return router.DeliverySent, nil
}

// droppedCc is a Cc the server refused for good: the message went
// without it.
type droppedCc struct {
	addr  string
	reply *smtp.SMTPError
}

// recordDropped records on o's contact's timeline that its message went
// without dropped. The message is sent: a failure to record is logged,
// never the send's.
func (s *Sender) recordDropped(ctx context.Context, o outbox.Outbound, dropped []droppedCc) {
	var b strings.Builder
	fmt.Fprintf(&b, "message %d sent; refused by the server and dropped from Cc:", o.Message.Seq)
	for i, d := range dropped {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s (%s)", d.addr, serverWords(smtpReply(d.reply)))
	}
	log := s.o.Logger.With("contact", o.Contact.ID, "seq", o.Message.Seq, "dropped", len(dropped))
	if s.o.Timeline == nil {
		log.Warn("email: Cc refused by the server; the reply went to the others")
		return
	}
	if err := s.o.Timeline.RecordEvent(ctx, o.Contact.ID, "", EventCcDropped, truncate(b.String(), router.MaxTextLen)); err != nil {
		log.Warn("email: Cc refused by the server; the reply went to the others, but the drop is not on the timeline", "err", err)
	}
}

// compose writes the message of o (headers, text and HTML parts, the
// files) and returns it with its recipients: the customer, then the Cc
// of the customer's last mail, less the customer and our own addresses
// (and, when the reply names its recipients, less those the agent took
// off: keepChosen).
func (s *Sender) compose(ctx context.Context, o outbox.Outbound) (raw []byte, rcpts []string, from string, err error) {
	c, m := o.Contact, o.Message
	to := c.Customer.Email
	if !validEmail(to) {
		return nil, nil, "", fmt.Errorf("%w: the customer has no email address", outbox.ErrPermanent)
	}
	f, ok := s.o.Queues[c.Queue]
	if !ok {
		f = s.o.Default
	}
	if f.Address == "" {
		return nil, nil, "", fmt.Errorf("%w: queue %s has no email address to send from", outbox.ErrPermanent, c.Queue)
	}
	files, err := s.readFiles(m.Attachments)
	if err != nil {
		return nil, nil, "", err
	}
	msgs, err := s.o.Store.Messages(ctx, c.ID, 0, maxConversation)
	if err != nil {
		return nil, nil, "", fmt.Errorf("email: read conversation: %w", err)
	}
	var h mail.Header
	h.SetDate(m.At)
	if m.At.IsZero() {
		h.SetDate(time.Now())
	}
	h.SetAddressList("From", []*mail.Address{{Name: f.Name, Address: f.Address}})
	h.SetAddressList("To", []*mail.Address{{Name: c.Customer.Name, Address: to}})
	h.SetMessageID(OutboundID(s.o.MessageIDKey, s.o.Domain, c.ID, m.Seq))
	inReplyTo, refs, cc, answered := threadOf(msgs, m.Seq)
	rcpts = []string{to}
	ccs := keepCc(cc, to, s.o)
	if len(m.To) > 0 {
		ccs = keepChosen(ccs, m.Cc)
	}
	if len(ccs) > 0 {
		h.SetAddressList("Cc", ccs)
		for _, a := range ccs {
			rcpts = append(rcpts, a.Address)
		}
	}
	if inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{inReplyTo})
		h.SetMsgIDList("References", refs)
	}
	h.SetSubject(replySubject(c.Subject, c.ID))
	if m.AuthorKind == router.AuthorSystem {
		h.Set("Auto-Submitted", "auto-replied") // RFC 3834: no answer to this
	}
	text := m.Body
	if f.Signature != "" {
		text += "\n\n-- \n" + f.Signature
	}
	body := m.HTML
	if body == "" {
		body = "<p>" + strings.ReplaceAll(html.EscapeString(m.Body), "\n", "<br>\n") + "</p>"
	}
	if f.Signature != "" {
		body += "\n<p>-- <br>\n" + strings.ReplaceAll(html.EscapeString(f.Signature), "\n", "<br>\n") + "</p>"
	}
	// An agent's reply quotes the mail it answers; an automatic one
	// (an acknowledgement) never does: it would echo whatever anyone
	// sends to whoever they claim to be.
	if answered != nil && !f.NoQuote && m.AuthorKind != router.AuthorSystem {
		qt, qh := quoteBelow(*answered)
		text += qt
		body += qh
	}
	var buf bytes.Buffer
	if err := writeBody(&buf, h, text, body, files); err != nil {
		return nil, nil, "", fmt.Errorf("email: compose: %w", err)
	}
	return buf.Bytes(), rcpts, f.Address, nil
}

// maxConversation bounds the messages of a conversation read for a reply.
const maxConversation = 10000

// keepCc is the customer's Cc as a reply keeps it: without the customer
// and without our own queues' addresses (the mailbox itself).
func keepCc(cc []string, to string, o SenderOptions) []*mail.Address {
	ours := map[string]bool{strings.ToLower(to): true}
	for _, a := range o.ownAddresses() {
		ours[a] = true
	}
	var out []*mail.Address
	for _, c := range cc {
		a, err := mail.ParseAddress(c)
		if err != nil || ours[strings.ToLower(a.Address)] {
			continue
		}
		ours[strings.ToLower(a.Address)] = true
		out = append(out, a)
	}
	return out
}

// ownAddresses are the addresses replies are sent from (the default and
// the queues'), in lower case: a reply never copies them.
func (o SenderOptions) ownAddresses() []string {
	out := []string{strings.ToLower(o.Default.Address)}
	for _, f := range o.Queues {
		if a := strings.ToLower(f.Address); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// OwnAddresses are the addresses replies are sent from, in lower case,
// which a reply's Cc never holds: the desktop leaves them out of the Cc
// it shows.
func (s *Sender) OwnAddresses() []string { return s.o.ownAddresses() }

// threadOf returns the Message-ID the reply answers (the customer's
// last message before seq), the References (that message's, then its
// id), its Cc and the message itself; empty when no inbound message came
// by email.
func threadOf(msgs []router.Message, seq int) (string, []string, []string, *router.Message) {
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Seq >= seq || m.Direction != "in" {
			continue
		}
		id, ok := messageIDOf(m.ExternalID)
		if !ok {
			continue
		}
		refs := append(append([]string(nil), m.References...), id)
		if len(refs) > maxRefs {
			refs = refs[len(refs)-maxRefs:]
		}
		return id, refs, m.Cc, &msgs[i]
	}
	return "", nil, nil, nil
}

// maxQuoteBytes bounds the customer's text a reply quotes.
const maxQuoteBytes = 16 << 10

// quoteBelow is the customer's mail m as a reply quotes it below its own
// text, as mail clients do: "On <date>, <who> wrote:" then the text with
// "> " before each line, and in the HTML part the mail's sanitized HTML
// (kept at intake) or its text, in a blockquote. At most maxQuoteBytes of
// the text are quoted.
func quoteBelow(m router.Message) (text, htmlPart string) {
	who := m.AuthorName
	switch {
	case who == "":
		who = m.Author
	case strings.Contains(m.Author, "@") && m.Author != who:
		who += " <" + m.Author + ">"
	}
	intro := fmt.Sprintf("On %s, %s wrote:", m.At.UTC().Format("Mon, 2 Jan 2006 15:04 MST"), who)
	body := strings.TrimRight(m.Body, "\n")
	cut := len(body) > maxQuoteBytes
	if cut {
		body = body[:maxQuoteBytes]
		for !utf8.ValidString(body) {
			body = body[:len(body)-1]
		}
	}
	var b strings.Builder
	b.WriteString("\n\n" + intro + "\n")
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, ">") {
			b.WriteString(">" + line + "\n") // quoted already: one level more
		} else {
			b.WriteString("> " + line + "\n")
		}
	}
	if cut {
		b.WriteString("> […]\n")
	}
	inner := m.HTML
	if inner == "" || cut {
		inner = strings.ReplaceAll(html.EscapeString(body), "\n", "<br>\n")
		if cut {
			inner += "<br>\n[…]"
		}
	}
	return b.String(), "\n<p>" + html.EscapeString(intro) + "</p>\n<blockquote type=\"cite\" style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">" + inner + "</blockquote>"
}

// messageIDOf returns the Message-ID of an external id made by
// ExternalID; a synthetic key is no Message-ID.
func messageIDOf(externalID string) (string, bool) {
	rest, ok := strings.CutPrefix(externalID, "email:")
	if !ok {
		return "", false
	}
	_, id, ok := strings.Cut(rest, ":")
	if !ok || id == "" || strings.HasPrefix(id, "synthetic:") {
		return "", false
	}
	return id, true
}

// replySubject is "Re: subject [#TOKEN]", each part once.
func replySubject(subject, contactID string) string {
	s := strings.TrimSpace(subject)
	if s == "" {
		s = "Your request"
	}
	if l := strings.ToLower(s); !strings.HasPrefix(l, "re:") && !strings.HasPrefix(l, "aw:") {
		s = "Re: " + s
	}
	if tok := SubjectToken(contactID); !strings.Contains(s, tok) {
		s += " " + tok
	}
	return s
}

// submit hands raw to the SMTP server for rcpts: the customer, then
// the Cc, as compose gives them. A Cc refused with a 5xx is left out
// and returned in dropped; the customer refused, or any recipient
// refused with a 4xx, fails the whole submission (smtpError).
func (s *Sender) submit(ctx context.Context, from string, rcpts []string, raw []byte) (dropped []droppedCc, err error) {
	d := net.Dialer{Timeout: smtpTimeout}
	conn, err := d.DialContext(ctx, "tcp", s.o.SMTP.Addr)
	if err != nil {
		return nil, fmt.Errorf("email: connect to %s: %w", s.o.SMTP.Addr, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cfg := s.o.SMTP.TLSConfig
	if cfg == nil {
		host, _, _ := net.SplitHostPort(s.o.SMTP.Addr)
		cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var c *smtp.Client
	switch s.o.SMTP.Security {
	case TLS:
		c = smtp.NewClient(tls.Client(conn, cfg))
	case StartTLS:
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("email: starttls with %s: %w", s.o.SMTP.Addr, err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = smtpTimeout, smtpTimeout
	switch {
	case s.o.SMTP.OAuth != nil:
		sc, err := s.o.SMTP.OAuth.client(s.o.SMTP.User, s.o.SMTP.Addr)
		if err != nil {
			return nil, fmt.Errorf("email: authenticate: %w", err)
		}
		if err := c.Auth(sc); err != nil {
			return nil, smtpError("authenticate", err)
		}
	case s.o.SMTP.User != "":
		if err := c.Auth(sasl.NewPlainClient("", s.o.SMTP.User, s.o.SMTP.Password)); err != nil {
			return nil, smtpError("authenticate", err)
		}
	}
	// MAIL, RCPT and DATA one by one, not SendMail, which gives up at
	// the first recipient refused.
	var opts *smtp.MailOptions
	if !ascii(from) || slices.ContainsFunc(rcpts, func(a string) bool { return !ascii(a) }) {
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from, opts); err != nil {
		return nil, smtpError("send", err)
	}
	for i, to := range rcpts {
		err := c.Rcpt(to, nil)
		var se *smtp.SMTPError
		switch {
		case err == nil:
		case i > 0 && errors.As(err, &se) && permanent(se):
			dropped = append(dropped, droppedCc{addr: to, reply: se})
		case i == 0:
			return nil, smtpError("send to "+to, err)
		default:
			return nil, smtpError("send to Cc "+to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return nil, smtpError("send", err)
	}
	if _, err := w.Write(raw); err != nil {
		return nil, smtpError("send", err)
	}
	if err := w.Close(); err != nil {
		return nil, smtpError("send", err)
	}
	_ = c.Quit() // accepted already: DATA was answered
	return dropped, nil
}

// smtpError wraps outbox.ErrPermanent for a 5xx answer.
func smtpError(step string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && permanent(se) {
		return fmt.Errorf("%w: email: %s: %s", outbox.ErrPermanent, step, smtpReply(se))
	}
	return fmt.Errorf("email: %s: %w", step, err)
}

// permanent says whether the server's answer is a 5xx: no retry helps.
func permanent(se *smtp.SMTPError) bool { return se.Code >= 500 && se.Code < 600 }

// smtpReply is the server's answer as a reason shows it: its code, its
// enhanced status code when it gave one, and its text.
func smtpReply(se *smtp.SMTPError) string {
	if se.EnhancedCode[0] > 0 {
		return fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
	}
	return fmt.Sprintf("%d %s", se.Code, se.Message)
}

// ascii says whether s is all ASCII: an address that is not needs
// SMTPUTF8.
func ascii(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
