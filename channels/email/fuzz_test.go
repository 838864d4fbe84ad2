package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
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
