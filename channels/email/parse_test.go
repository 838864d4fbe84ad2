package email

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/router"
)

func readMail(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		file  string
		check func(t *testing.T, m *Mail)
	}{
		{"alternative-qp-utf8.eml", func(t *testing.T, m *Mail) {
			if m.MessageID != "CAF1234@mail.example.com" || m.Key != m.MessageID {
				t.Errorf("id: got %q, key %q", m.MessageID, m.Key)
			}
			if m.From.Address != "ada@example.com" || m.From.Name != "Ada Lovelace" {
				t.Errorf("from: got %+v, want the domain lowercased and the name", m.From)
			}
			if len(m.Cc) != 1 || m.Cc[0].Address != "bob@example.org" {
				t.Errorf("cc: got %+v", m.Cc)
			}
			if m.Subject != "Rechnung für März" {
				t.Errorf("subject: got %q, want the encoded words decoded", m.Subject)
			}
			if !strings.HasPrefix(m.Text, "Hallo, die Rechnung für März fehlt.") {
				t.Errorf("text: got %q, want the quoted-printable decoded", m.Text)
			}
			for _, bad := range []string{"<script", "onclick", "javascript:", "alert"} {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("sanitized HTML keeps %q: %s", bad, m.HTML)
				}
			}
			if !strings.Contains(m.HTML, "<b>Rechnung</b>") || !strings.Contains(m.HTML, `rel="nofollow noreferrer noopener"`) {
				t.Errorf("sanitized HTML lost the markup or the link's rel: %s", m.HTML)
			}
		}},
		{"latin1.eml", func(t *testing.T, m *Mail) {
			if m.Text != "Déjà payé, merci." || m.Subject != "Déjà vu" || m.From.Name != "François" {
				t.Errorf("got text %q, subject %q, name %q; want ISO-8859-1 decoded", m.Text, m.Subject, m.From.Name)
			}
		}},
		{"mixed-related-attachment.eml", func(t *testing.T, m *Mail) {
			if len(m.Files) != 2 {
				t.Fatalf("got %d files, want the inline image and the PDF", len(m.Files))
			}
			img, pdf := m.Files[0], m.Files[1]
			if !img.Inline || img.ContentID != "shot1@example.com" || img.Type != "image/png" || !bytes.HasPrefix(img.Data, []byte("\x89PNG")) {
				t.Errorf("inline image: got %+v", img)
			}
			if pdf.Inline || pdf.Name != "invoice.pdf" || !bytes.HasPrefix(pdf.Data, []byte("%PDF")) {
				t.Errorf("attachment: got name %q inline %v", pdf.Name, pdf.Inline)
			}
			if !strings.Contains(m.HTML, `src="cid:shot1@example.com"`) || m.Text != "See" {
				t.Errorf("html %q, text %q: want the cid image kept and the text from the HTML", m.HTML, m.Text)
			}
		}},
		{"bounce-dsn.eml", func(t *testing.T, m *Mail) {
			r := m.Report
			if r == nil || r.Action != "failed" || r.Status != "5.1.1" || r.OriginalID != "sb.01JNQ7Z8ZK8W4TQ2B3C4D5E6F7.3@support.example.com" ||
				r.Recipient != "nobody@example.net" {
				t.Fatalf("report: got %+v", r)
			}
			if Automatic(m) == "" {
				t.Errorf("a bounce is not automatic mail")
			}
		}},
		{"no-message-id.eml", func(t *testing.T, m *Mail) {
			again, _ := Parse(readMail(t, "no-message-id.eml"))
			if m.MessageID != "" || !strings.HasPrefix(m.Key, "synthetic:") || again.Key != m.Key {
				t.Errorf("got id %q, key %q then %q; want a stable synthetic key", m.MessageID, m.Key, again.Key)
			}
		}},
		{"unknown-charset.eml", func(t *testing.T, m *Mail) {
			if !strings.Contains(m.Text, "unknown charset") || len(m.Problems) == 0 {
				t.Errorf("got text %q, problems %v; want the text as is and the problem noted", m.Text, m.Problems)
			}
		}},
		{"broken-multipart.eml", func(t *testing.T, m *Mail) {
			if m.MessageID != "broken@example.com" {
				t.Errorf("got id %q; the header is readable", m.MessageID)
			}
		}},
		{"auto-reply.eml", func(t *testing.T, m *Mail) {
			if why := Automatic(m); !strings.Contains(why, "Auto-Submitted") {
				t.Errorf("Automatic: got %q", why)
			}
			if !Verified(m, "mx.example.com") || Verified(m, "other.example.com") || Verified(m, "") {
				t.Errorf("Verified: want true only for the configured authserv-id")
			}
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := Parse(readMail(t, tc.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tc.check(t, m)
		})
	}
}

func TestParseHostile(t *testing.T) {
	t.Run("deep-nesting", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\r\nMessage-ID: <deep@example.com>\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		const depth = 5000
		for i := 1; i <= depth; i++ {
			b.WriteString("--b" + strconv.Itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\r\n\r\n")
		}
		b.WriteString("--b" + strconv.Itoa(depth) + "\r\nContent-Type: text/plain\r\n\r\ndeep\r\n")
		m, err := Parse([]byte(b.String()))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if !strings.Contains(strings.Join(m.Problems, ";"), "nested deeper") {
			t.Errorf("problems: got %v, want the nesting noted", m.Problems)
		}
	})
	t.Run("huge-header", func(t *testing.T) {
		raw := "From: a@example.com\r\nX-Junk: " + strings.Repeat("x", MaxHeaderBytes) + "\r\n\r\nbody\r\n"
		if _, err := Parse([]byte(raw)); !errors.Is(err, ErrMalformed) {
			t.Errorf("got %v, want ErrMalformed", err)
		}
	})
	t.Run("many-parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n")
		for i := 0; i < 2*MaxParts; i++ {
			b.WriteString("--x\r\nContent-Type: application/octet-stream\r\n\r\nzz\r\n")
		}
		b.WriteString("--x--\r\n")
		m, err := Parse([]byte(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Files) >= MaxParts {
			t.Errorf("got %d files, want fewer than %d", len(m.Files), MaxParts)
		}
	})
	t.Run("long-text", func(t *testing.T) {
		raw := "From: a@example.com\r\n\r\n" + strings.Repeat("é", MaxBodyBytes)
		m, err := Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Text) > MaxBodyBytes+200 || !strings.Contains(m.Text, "cut at 64 KiB") {
			t.Errorf("text of %d bytes, want cut with a note", len(m.Text))
		}
	})
}

func TestOutboundID(t *testing.T) {
	const contact, neighbour = "01JNQ7Z8ZK8W4TQ2B3C4D5E6F7", "01JNQ7Z8ZK8W4TQ2B3C4D5E6F8"
	id := OutboundID(testKey, testDomain, contact, 3)
	c, seq, ok := ParseOutboundID(testKey, testDomain, id)
	if !ok || c != contact || seq != 3 {
		t.Errorf("round trip of %q: got %q, %d, %v", id, c, seq, ok)
	}
	if again := OutboundID(testKey, testDomain, contact, 3); again != id {
		t.Errorf("a retry's id %q differs from %q", again, id)
	}
	local, _, _ := strings.Cut(id, "@")
	tag := local[strings.LastIndexByte(local, '.')+1:]
	if strings.ToLower(tag) != tag || len(tag) != 24 {
		t.Errorf("tag %q: want 24 lower-case base-32 characters", tag)
	}
	flipped := []byte(tag)
	if flipped[0] = 'a'; tag[0] == 'a' {
		flipped[0] = 'b'
	}
	otherKey := []byte("another key, also 32 bytes long!")
	for name, other := range map[string]string{
		"other-domain":      "sb." + contact + ".3." + tag + "@evil.example",
		"other-prefix":      "x." + contact + ".3." + tag + "@" + testDomain,
		"seq-not-a-number":  "sb." + contact + ".x." + tag + "@" + testDomain,
		"seq-not-canonical": "sb." + contact + ".03." + tag + "@" + testDomain,
		"no-contact":        "sb..3." + tag + "@" + testDomain,
		"untagged":          "sb." + contact + ".3@" + testDomain,
		"tag-changed":       "sb." + contact + ".3." + string(flipped) + "@" + testDomain,
		"tag-upper-case":    "sb." + contact + ".3." + strings.ToUpper(tag) + "@" + testDomain,
		"tag-of-another":    "sb." + neighbour + ".3." + tag + "@" + testDomain,
		"tag-of-other-seq":  "sb." + contact + ".4." + tag + "@" + testDomain,
		"other-key":         OutboundID(otherKey, testDomain, contact, 3),
		"extra-part":        "sb." + contact + ".3." + tag + ".x@" + testDomain,
	} {
		if _, _, ok := ParseOutboundID(testKey, testDomain, other); ok {
			t.Errorf("%s: ParseOutboundID(%q) accepted", name, other)
		}
	}
	// The untagged form routerd wrote before: ours by its form only.
	if c, seq, tag, ok := splitOutboundID(testDomain, "sb."+contact+".3@"+testDomain); !ok || c != contact || seq != 3 || tag != "" {
		t.Errorf("legacy id: got %q, %d, %q, %v", c, seq, tag, ok)
	}
	if got := SubjectToken(contact); got != "[#D5E6F7]" {
		t.Errorf("SubjectToken: got %q", got)
	}
}

// TestQuoteBelow: the quoted customer's mail, as mail clients write it:
// who and when, "> " before each line, one level more before a line
// quoted already, the sanitized HTML kept, and a long mail cut with a
// mark, on a rune boundary.
func TestQuoteBelow(t *testing.T) {
	m := router.Message{Author: "ada@customer.example", AuthorName: "Ada", At: time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC),
		Body: "Hello,\n> your last mail\nThanks\n", HTML: "<p>Hello,</p><p>Thanks</p>"}
	text, h := quoteBelow(m)
	if want := "\n\nOn Mon, 2 Mar 2026 09:05 UTC, Ada <ada@customer.example> wrote:\n> Hello,\n>> your last mail\n> Thanks\n"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	if !strings.Contains(h, "<p>On Mon, 2 Mar 2026 09:05 UTC, Ada &lt;ada@customer.example&gt; wrote:</p>") || !strings.Contains(h, `<blockquote type="cite"`) || !strings.Contains(h, m.HTML) {
		t.Errorf("html %q", h)
	}
	long := router.Message{Author: "x@example.com", Body: strings.Repeat("é", maxQuoteBytes), HTML: "<p>not this</p>"}
	text, h = quoteBelow(long)
	if !utf8.ValidString(text) || !strings.HasSuffix(text, "> […]\n") || len(text) > maxQuoteBytes+200 {
		t.Errorf("a long mail: %d bytes, ends %q", len(text), text[len(text)-20:])
	}
	if strings.Contains(h, "not this") || !strings.Contains(h, "[…]") {
		t.Errorf("a long mail's HTML: want the cut text, not the whole HTML")
	}
}
