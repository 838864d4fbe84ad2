package email

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"github.com/switchboard/switchboard/router"
)

// FuzzParse feeds Parse anything: it must never panic, and what it
// returns must be what the router takes (valid UTF-8 within the limits,
// a key, sanitized HTML).
func FuzzParse(f *testing.F) {
	// The real-world-shaped messages of testdata/mail: alternative with
	// quoted-printable, ISO-8859-1, mixed with related and an inline
	// image, a DSN, no Message-ID, an unknown charset, a broken
	// multipart, an auto-reply with Authentication-Results.
	paths, _ := filepath.Glob(filepath.Join("testdata", "mail", "*.eml"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(""))                                        // nothing at all
	f.Add([]byte("From: a\r\n"))                             // a header without a body
	f.Add([]byte("Content-Type: multipart/mixed\r\n\r\n--")) // a multipart without a boundary
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		_ = Automatic(m)
		_ = Verified(m, "mx.example.com")
		if m.Key == "" {
			t.Fatal("no key")
		}
		for _, s := range []string{m.Text, m.Subject, m.From.Name, m.From.Address} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
		}
		if len(m.Text) > MaxBodyBytes+200 || len(m.HTML) > MaxHTMLBytes {
			t.Fatalf("text %d, html %d bytes: over the limits", len(m.Text), len(m.HTML))
		}
		if strings.Contains(strings.ToLower(m.HTML), "<script") {
			t.Fatalf("script in sanitized HTML: %q", m.HTML)
		}
	})
}

// FuzzChooseCc feeds the Cc an agent (or an integration) keeps of a
// reply against a conversation's Cc: it must never panic, never keep an
// address the conversation's Cc does not have, nor the customer's or
// our own, and name the field of what it refuses.
func FuzzChooseCc(f *testing.F) {
	// A Cc as intake keeps it, and what an agent sends: one kept, an
	// address added, one in another case, our own, none, a name with
	// encoded words, no address at all.
	all := "\"Bob\" <bob@customer.example>\n\"Carol\" <carol@customer.example>\nsupport@example.com\nada@customer.example"
	for _, cc := range []string{"bob@customer.example", "mallory@other.example", "Bob <BOB@customer.example>",
		"support@example.com", "", "=?utf-8?q?B=C3=B6b?= <bob@customer.example>", "bob at customer"} {
		f.Add(all, cc)
	}
	o := SenderOptions{Queues: map[string]From{"support": {Address: "support@example.com"}}, Default: From{Address: "help@example.com"}}
	f.Fuzz(func(t *testing.T, allText, ccText string) {
		all := strings.Split(allText, "\n")
		cc := strings.Split(ccText, "\n")
		kept, err := chooseCc(all, "ada@customer.example", o, cc)
		if err != nil {
			re, ok := router.AsError(err)
			if !ok || re.Code != router.CodeInvalid || !strings.HasPrefix(re.Field, "cc[") {
				t.Fatalf("refusal %v: want invalid naming cc[i]", err)
			}
			return
		}
		theirs, wanted := map[string]bool{}, map[string]bool{}
		for _, x := range all {
			if a, err := mail.ParseAddress(x); err == nil {
				theirs[strings.ToLower(a.Address)] = true
			}
		}
		for _, x := range cc {
			if a, err := mail.ParseAddress(x); err == nil {
				wanted[strings.ToLower(a.Address)] = true
			}
		}
		for _, k := range kept {
			a, err := mail.ParseAddress(k)
			if err != nil {
				t.Fatalf("kept %q is no address: %v", k, err)
			}
			addr := strings.ToLower(a.Address)
			if !theirs[addr] || !wanted[addr] || addr == "ada@customer.example" || addr == "support@example.com" || addr == "help@example.com" {
				t.Fatalf("kept %q of %q choosing %q", k, all, cc)
			}
		}
	})
}

// FuzzParseOutboundID feeds the parser of our Message-IDs any reference a
// mail may carry: it must never panic, accept only an id OutboundID
// makes (the same bytes: no second spelling of one), and read the
// untagged form only as contact and sequence without a tag.
func FuzzParseOutboundID(f *testing.F) {
	const contact = "01JNQ7Z8ZK8W4TQ2B3C4D5E6F7"
	ours := OutboundID(testKey, testDomain, contact, 3)
	local, _, _ := strings.Cut(ours, "@")
	tag := local[strings.LastIndexByte(local, '.')+1:]
	f.Add(ours)                                                              // ours
	f.Add("sb." + contact + ".3@" + testDomain)                              // ours before the tags
	f.Add("sb.01JNQ7Z8ZK8W4TQ2B3C4D5E6F8.3." + tag + "@" + testDomain)       // a neighbour's contact under our tag
	f.Add("sb." + contact + ".03." + tag + "@" + testDomain)                 // another spelling of the sequence
	f.Add("sb." + contact + ".3." + strings.ToUpper(tag) + "@" + testDomain) // the tag in upper case
	f.Add("sb." + contact + ".3." + tag + "@SUPPORT.example.com")            // the domain in another case
	f.Add("CAF=abc123@mail.gmail.com")                                       // a customer's
	f.Add("sb...@" + testDomain)                                             // empty parts
	f.Add("")
	f.Fuzz(func(t *testing.T, id string) {
		if c, seq, ok := ParseOutboundID(testKey, testDomain, id); ok {
			if again := OutboundID(testKey, testDomain, c, seq); again != id {
				t.Fatalf("accepted %q as contact %q message %d, which is %q", id, c, seq, again)
			}
		}
		c, seq, tag, ok := splitOutboundID(testDomain, id)
		if !ok {
			return
		}
		if c == "" || strings.Contains(c, ".") || seq < 0 {
			t.Fatalf("read %q as contact %q message %d", id, c, seq)
		}
		if tag == "" && id != "sb."+c+"."+strconv.Itoa(seq)+"@"+testDomain {
			t.Fatalf("read %q as the untagged id of contact %q message %d", id, c, seq)
		}
	})
}
