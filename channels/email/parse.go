package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // registers the charsets mail comes in
	"github.com/emersion/go-message/mail"

	"github.com/switchboard/switchboard/router"
)

// Limits of the parser. A message beyond them is not refused: what fits
// is kept, and the rest is noted (Mail.Problems); the raw message is kept
// whole for audit.
const (
	// MaxHeaderBytes bounds a message's header block.
	MaxHeaderBytes = 256 << 10
	// MaxDepth bounds the nesting of multiparts.
	MaxDepth = 20
	// MaxParts bounds the parts of one message.
	MaxParts = 200
	// MaxBodyBytes bounds the text of a message as the router keeps it,
	// with room for the note of what was cut; MaxHTMLBytes its sanitized
	// HTML (the router's own limits).
	MaxBodyBytes = router.MaxBodyLen - 512
	MaxHTMLBytes = router.MaxHTMLLen
	// maxIDLen bounds a Message-ID we key on; a longer one is replaced
	// by a synthetic key.
	maxIDLen = 900
	// maxRefs is how many references of a message are kept (the newest).
	maxRefs = 50
)

// ErrMalformed is wrapped by Parse's error for a message whose header
// cannot be read at all.
var ErrMalformed = errors.New("email: malformed message")

// Address is a mailbox address with its display name.
type Address struct {
	Name    string
	Address string // lowercased domain, as written local part
}

// String formats a as "Name <addr>", or addr alone.
func (a Address) String() string {
	if a.Name == "" {
		return a.Address
	}
	return (&mail.Address{Name: a.Name, Address: a.Address}).String()
}

// File is an attachment or an inline part (an image a "cid:" URL shows).
type File struct {
	Name string
	Type string
	// ContentID is the part's Content-ID without angle brackets, for
	// inline images.
	ContentID string
	Inline    bool
	Data      []byte
}

// Mail is a parsed message: what the channel needs of it, with the
// sanitized HTML. It holds no go-message type.
type Mail struct {
	// MessageID is the Message-ID without angle brackets; empty when the
	// message has none (or one too long to key on): Key is then
	// synthetic.
	MessageID string
	// Key is what identifies the message for deduplication: its
	// Message-ID, or "synthetic:" and a hash of its header block.
	Key     string
	From    Address
	ReplyTo []Address
	To, Cc  []Address
	Subject string
	Date    time.Time
	// InReplyTo and References are message ids without angle brackets.
	InReplyTo  []string
	References []string
	Text       string
	// HTML is sanitized (Sanitize); empty when the message has none.
	HTML  string
	Files []File
	// Header holds the fields the loop and sender checks read, as
	// written (unfolded): Auto-Submitted, Precedence,
	// X-Auto-Response-Suppress, Return-Path, Authentication-Results,
	// Content-Type, List-Id.
	Header map[string][]string
	// Report is set for a delivery status notification (a bounce):
	// the original message's id and the reported action.
	Report *Report
	// Problems are what could not be read as written, for the log and
	// the agent ("unknown charset x-foo; shown as is").
	Problems []string
}

// Report is what a delivery status notification says.
type Report struct {
	// OriginalID is the Message-ID of the message it reports on.
	OriginalID string
	// Recipient is the first recipient it reports on (its
	// Final-Recipient of type rfc822), as written.
	Recipient string
	// Action is failed, delayed, delivered, relayed or expanded;
	// Status the RFC 3463 code ("5.1.1"); Diagnostic the remote
	// server's words.
	Action, Status, Diagnostic string
}

// headerKeep are the fields copied into Mail.Header.
var headerKeep = []string{"Auto-Submitted", "Precedence", "X-Auto-Response-Suppress", "Return-Path",
	"Authentication-Results", "Content-Type", "List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond"}

// Parse reads a raw message (RFC 5322, MIME). It fails only when the
// header block cannot be read (ErrMalformed); a damaged body, an unknown
// charset, too deep a nesting or too many parts are noted in Problems
// and what could be read is returned.
func Parse(raw []byte) (*Mail, error) {
	end := headerEnd(raw)
	if end < 0 {
		if len(raw) > MaxHeaderBytes {
			return nil, fmt.Errorf("%w: header block over %d bytes", ErrMalformed, MaxHeaderBytes)
		}
		end = len(raw) // a message of header fields only
	}
	if end > MaxHeaderBytes {
		return nil, fmt.Errorf("%w: header block of %d bytes, over %d", ErrMalformed, end, MaxHeaderBytes)
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	m := &Mail{Header: map[string][]string{}}
	if err != nil {
		m.Problems = append(m.Problems, err.Error())
	}
	h := mail.Header{Header: e.Header}
	m.readHeader(h, raw[:end])
	w := walker{m: m}
	w.entity(e, 0)
	m.setBody(w.text, w.html)
	return m, nil
}

// headerEnd returns the offset of the blank line that ends the header
// block, -1 when there is none within MaxHeaderBytes.
func headerEnd(raw []byte) int {
	limit := raw[:min(len(raw), MaxHeaderBytes+4)]
	if i := bytes.Index(limit, []byte("\r\n\r\n")); i >= 0 {
		if j := bytes.Index(limit[:i+1], []byte("\n\n")); j >= 0 {
			return j
		}
		return i
	}
	if i := bytes.Index(limit, []byte("\n\n")); i >= 0 {
		return i
	}
	return -1
}

func (m *Mail) readHeader(h mail.Header, rawHeader []byte) {
	for _, k := range headerKeep {
		fs := h.FieldsByKey(k)
		for fs.Next() {
			v, err := fs.Text()
			if err != nil {
				v = fs.Value()
			}
			m.Header[k] = append(m.Header[k], toUTF8([]byte(v)))
		}
	}
	if id, err := h.MessageID(); err == nil && id != "" && len(id) <= maxIDLen {
		m.MessageID = id
	} else if raw := strings.TrimSpace(h.Get("Message-Id")); raw != "" {
		if id := strings.Trim(raw, "<> \t"); id != "" && len(id) <= maxIDLen && !strings.ContainsAny(id, " \t<>") {
			m.MessageID = id // not RFC 5322, but stable
		}
	}
	if from, err := h.AddressList("From"); err == nil && len(from) > 0 {
		m.From = address(from[0])
	} else if raw := h.Get("From"); raw != "" {
		m.Problems = append(m.Problems, "unreadable From: "+truncate(raw, 200))
	}
	m.ReplyTo = addresses(h, "Reply-To")
	m.To = addresses(h, "To")
	m.Cc = addresses(h, "Cc")
	if s, err := h.Subject(); err == nil {
		m.Subject = s
	} else {
		m.Subject = h.Get("Subject")
	}
	m.Subject = truncate(strings.Join(strings.Fields(toUTF8([]byte(m.Subject))), " "), 900)
	if d, err := h.Date(); err == nil {
		m.Date = d
	}
	m.InReplyTo = msgIDs(h, "In-Reply-To")
	m.References = msgIDs(h, "References")
	if len(m.References) > maxRefs {
		m.References = m.References[len(m.References)-maxRefs:]
	}
	m.Key = m.MessageID
	if m.Key == "" {
		sum := sha256.Sum256(rawHeader)
		m.Key = "synthetic:" + hex.EncodeToString(sum[:16])
	}
}

func address(a *mail.Address) Address {
	addr := a.Address
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[:i] + strings.ToLower(addr[i:])
	}
	return Address{Name: truncate(toUTF8([]byte(a.Name)), 200), Address: truncate(toUTF8([]byte(addr)), 320)}
}

func addresses(h mail.Header, key string) []Address {
	l, err := h.AddressList(key)
	if err != nil {
		return nil
	}
	var out []Address
	for _, a := range l {
		out = append(out, address(a))
		if len(out) == 100 {
			break
		}
	}
	return out
}

// msgIDs reads a list of message ids, tolerating what clients write
// instead of RFC 5322's syntax.
func msgIDs(h mail.Header, key string) []string {
	if l, err := h.MsgIDList(key); err == nil {
		return validIDs(l)
	}
	var out []string
	for _, f := range strings.Fields(h.Get(key)) {
		if strings.HasPrefix(f, "<") && strings.HasSuffix(f, ">") {
			out = append(out, f[1:len(f)-1])
		}
	}
	return validIDs(out)
}

func validIDs(l []string) []string {
	var out []string
	for _, id := range l {
		if id != "" && len(id) <= maxIDLen {
			out = append(out, id)
		}
	}
	return out
}

// walker collects the parts of a message.
type walker struct {
	m     *Mail
	parts int
	text  []string
	html  string
}

// entity walks e, at nesting depth.
func (w *walker) entity(e *message.Entity, depth int) {
	w.parts++
	if w.parts > MaxParts {
		if w.parts == MaxParts+1 {
			w.m.Problems = append(w.m.Problems, fmt.Sprintf("more than %d parts; the rest is only in the raw message", MaxParts))
		}
		return
	}
	if mr := e.MultipartReader(); mr != nil {
		if depth >= MaxDepth {
			w.m.Problems = append(w.m.Problems, fmt.Sprintf("multiparts nested deeper than %d; the rest is only in the raw message", MaxDepth))
			return
		}
		t, _, _ := e.Header.ContentType()
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
				w.m.Problems = append(w.m.Problems, "damaged multipart: "+err.Error())
				return
			}
			if err != nil {
				w.m.Problems = append(w.m.Problems, err.Error())
			}
			if t == "multipart/alternative" && w.altDone(p) {
				_, _ = io.Copy(io.Discard, p.Body)
				continue
			}
			w.entity(p, depth+1)
		}
	}
	w.leaf(e)
}

// altDone reports whether an alternative part adds nothing: the body
// types it offers were found already.
func (w *walker) altDone(p *message.Entity) bool {
	t, _, _ := p.Header.ContentType()
	return t == "text/plain" && len(w.text) > 0 || t == "text/html" && w.html != ""
}

// leaf takes a part that is not a multipart.
func (w *walker) leaf(e *message.Entity) {
	t, params, err := e.Header.ContentType()
	if err != nil || t == "" {
		t = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	body, err := io.ReadAll(io.LimitReader(e.Body, 64<<20))
	if err != nil {
		w.m.Problems = append(w.m.Problems, fmt.Sprintf("damaged %s part: %v", t, err))
	}
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if name != "" {
		if dec, err := (&mime.WordDecoder{}).DecodeHeader(name); err == nil {
			name = dec
		}
	}
	switch {
	case t == "message/delivery-status":
		w.m.Report = parseDSN(body, w.m.Report)
		return
	case t == "message/rfc822" || t == "text/rfc822-headers":
		// The message a report (a bounce) is about: its id.
		if w.m.Report == nil {
			w.m.Report = &Report{}
		}
		if w.m.Report.OriginalID == "" {
			if orig, err := message.Read(bytes.NewReader(body)); err == nil || message.IsUnknownCharset(err) {
				if id, err := (&mail.Header{Header: orig.Header}).MessageID(); err == nil {
					w.m.Report.OriginalID = id
				}
			}
		}
	case disp != "attachment" && name == "" && t == "text/plain":
		w.text = append(w.text, toUTF8(body))
		return
	case disp != "attachment" && name == "" && t == "text/html":
		if w.html == "" {
			w.html = toUTF8(body)
		}
		return
	}
	cid := strings.Trim(e.Header.Get("Content-Id"), "<> \t")
	if name == "" {
		name = "part"
		if exts, _ := mime.ExtensionsByType(t); len(exts) > 0 {
			name += exts[0]
		}
	}
	w.m.Files = append(w.m.Files, File{Name: truncate(toUTF8([]byte(name)), 200), Type: t, ContentID: truncate(cid, 200),
		Inline: disp == "inline" || disp == "" && cid != "", Data: body})
}

// setBody sets the text and the sanitized HTML from the parts found:
// the text parts joined, or the HTML's text when there is none.
func (m *Mail) setBody(text []string, html string) {
	if html != "" {
		m.HTML = Sanitize(html)
		if len(m.HTML) > MaxHTMLBytes {
			m.HTML = ""
			m.Problems = append(m.Problems, fmt.Sprintf("HTML over %d bytes after sanitizing; only its text is shown", MaxHTMLBytes))
		}
	}
	m.Text = strings.TrimSpace(strings.Join(text, "\n\n"))
	if m.Text == "" && html != "" {
		m.Text = HTMLText(html)
	}
	if len(m.Text) > MaxBodyBytes {
		m.Text = truncate(m.Text, MaxBodyBytes) + cutNote
		m.Problems = append(m.Problems, "text over 64 KiB, cut")
	}
}

func toUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
