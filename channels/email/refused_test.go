package email

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/switchboard/switchboard/store"
)

// refusal is how a refusingSession's server treats its one bad message.
type refusal struct {
	uid imap.UID
	// how: "exchange" refuses a FETCH that names it with NO, serving
	// nothing; "gmail" serves the others, then says NO; "omit" serves
	// the others and says OK.
	how string
	// code and text are the NO's.
	code imap.ResponseCode
	text string
	// body, header, size, envelope: what of it is refused.
	body, header, size, envelope bool
	// bodyTimes, above 0, is how many FETCHes of its body are refused
	// before it is served: a passing failure.
	bodyTimes int32
	// bodies counts the FETCHes of its body refused.
	bodies atomic.Int32
}

// refuses says whether a FETCH of o is refused.
func (r *refusal) refuses(o *imap.FetchOptions) bool {
	for _, bs := range o.BodySection {
		switch {
		case bs.Specifier == imap.PartSpecifierNone && r.body:
			if n := r.bodies.Add(1); r.bodyTimes > 0 && n > r.bodyTimes {
				return false
			}
			return true
		case bs.Specifier == imap.PartSpecifierHeader && r.header:
			return true
		}
	}
	return o.RFC822Size && r.size || o.Envelope && r.envelope
}

// refusingSession is a server that will not serve one message (r).
type refusingSession struct {
	imapserver.Session
	r *refusal
}

func (s refusingSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, o *imap.FetchOptions) error {
	set, ok := numSet.(imap.UIDSet)
	if !ok || !set.Contains(s.r.uid) || !s.r.refuses(o) {
		return s.Session.Fetch(w, numSet, o)
	}
	nums, _ := set.Nums()
	rest := slices.DeleteFunc(nums, func(u imap.UID) bool { return u == s.r.uid })
	if s.r.how != "exchange" && len(rest) > 0 {
		if err := s.Session.Fetch(w, imap.UIDSetNum(rest...), o); err != nil {
			return err
		}
	}
	if s.r.how == "omit" {
		return nil
	}
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: s.r.code, Text: s.r.text}
}

// A message the server will not serve stops the mailbox for no more
// than maxRefusals sessions: the messages after it are taken in, and it
// becomes a contact from what the server does serve (its header, its
// envelope, or nothing), saying why and where it is, once, flagged
// \Seen, the checkpoint past it; a replay takes none in twice. One
// refused in fewer sessions is taken in whole.
func TestUnservedMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *refusal
		// subject, from and words are what its contact must show; whole
		// says it is taken in whole.
		subject, from, words string
		whole                bool
	}{
		{name: "exchange-header", r: &refusal{how: "exchange", text: "The message could not be converted to RFC-822 format.", body: true},
			subject: "Question 2", from: "c2@customer.example", words: "could not be converted to RFC-822 format"},
		{name: "gmail-envelope", r: &refusal{how: "gmail", text: "Some messages could not be FETCHed (Failure)", body: true, header: true, size: true},
			subject: "Question 2", from: "c2@customer.example", words: "NO Some messages could not be FETCHed (Failure)"},
		{name: "omitted-nothing", r: &refusal{how: "omit", body: true, header: true, size: true, envelope: true},
			subject: "(an email the mail server would not serve)", words: "the server answered without the message"},
		// The batch's FETCH and the one of it alone, in the first session.
		{name: "passing-failure", r: &refusal{how: "gmail", text: "Some messages could not be FETCHed (Failure)", body: true, bodyTimes: 2},
			subject: "Question 2", from: "c2@customer.example", whole: true},
		// The server down for six FETCHes: counted as refusals, three
		// sessions (two FETCHes each) would give the message up.
		{name: "server-unavailable", r: &refusal{how: "gmail", code: imap.ResponseCodeUnavailable, text: "Temporary System Error", body: true, bodyTimes: 6},
			subject: "Question 2", from: "c2@customer.example", whole: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newIMAPServer(t, nil)
			tc.r.uid = 3
			srv.mu.Lock()
			srv.wrap = func(s imapserver.Session) imapserver.Session { return refusingSession{Session: s, r: tc.r} }
			srv.mu.Unlock()
			appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 5)...)
			e := newEnv(t)
			ch := e.start(func(o *Options) { o.RefusalSpan = -1 }, srv.mailbox("support"))
			first := "UID 3 refused in session 1 "
			if tc.r.code != "" {
				first = "NO [" + string(tc.r.code) + "]"
			}
			e.waitStatus("support", func(s MailboxStatus) bool { return s.State == StateFailing && strings.Contains(s.Error, first) })
			if !tc.whole {
				e.waitStatus("support", func(s MailboxStatus) bool {
					return s.State == StateFailing && strings.Contains(s.Error, "UID 3 refused in session 2 ")
				})
			}
			e.waitUID("support", 5)
			e.checkOnce(5)
			flags := flagsOf(t, srv.addr, srv.user, srv.pass, "Support")
			for uid := imap.UID(1); uid <= 5; uid++ {
				if !slices.Contains(flags[uid], imap.FlagSeen) {
					t.Errorf("UID %d not flagged \\Seen: %v", uid, flags[uid])
				}
			}
			var body string
			for _, c := range e.emailContacts() {
				if c.Subject == tc.subject {
					body = e.messages(c.ID)[0].Body
					if c.Customer.Email != tc.from {
						t.Errorf("customer %q, want %q", c.Customer.Email, tc.from)
					}
				}
			}
			switch {
			case body == "":
				t.Fatalf("no contact with the subject %q", tc.subject)
			case tc.whole:
				if strings.TrimSpace(body) != "Body 2" {
					t.Errorf("body %q, want the message taken in whole", body)
				}
				return
			case !strings.Contains(body, "would not give this email to Switchboard") || !strings.Contains(body, tc.words) ||
				!strings.Contains(body, "mailbox support, folder Support, UID 3"):
				t.Errorf("body %q, want it to say the server would not serve it, its words %q, and where it is", body, tc.words)
			}

			// Read again from before the backlog: the bad message is
			// refused in as many sessions again and stored once.
			ch.Close()
			cp, _, err := e.db.EmailCheckpoint(context.Background(), "support")
			if err != nil {
				t.Fatal(err)
			}
			if err := e.db.PutEmailCheckpoint(context.Background(), "support", store.EmailCheckpoint{UIDValidity: cp.UIDValidity}); err != nil {
				t.Fatal(err)
			}
			e.start(func(o *Options) { o.RefusalSpan = -1 }, srv.mailbox("support"))
			e.waitStatus("support", func(s MailboxStatus) bool { return strings.Contains(s.Error, "UID 3 refused in session 2 ") })
			e.waitUID("support", 5)
			e.checkOnce(5)
		})
	}
}

// FuzzServerWords: a server's free text comes out one printable line of
// valid UTF-8, at most 300 bytes.
func FuzzServerWords(f *testing.F) {
	f.Add("NO Some messages could not be FETCHed (Failure)") // Gmail
	f.Add("NO [SERVERBUG] line\r\n* injected")               // a line break
	f.Add("NO \u202eevil\u200b \xff")                        // a bidi override, a zero width space, not UTF-8
	f.Fuzz(func(t *testing.T, s string) {
		w := serverWords(s)
		if len(w) > 300 || !utf8.ValidString(w) || strings.ContainsFunc(w, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\u202e' }) {
			t.Errorf("serverWords(%q) = %q", s, w)
		}
	})
}

// A message refused in maxRefusals sessions, but within RefusalSpan of
// its first refusal, is still asked for: a server's passing trouble is
// no broken message. Past the span, it is taken in from what is served.
func TestRefusalSpan(t *testing.T) {
	refused := map[imap.UID]string{3: "NO Some messages could not be FETCHed"}
	for _, tc := range []struct {
		name string
		span time.Duration
		want []bool // whether each session fails
	}{
		{"within-the-span", time.Hour, []bool{true, true, true, true, true}},
		{"no-span", 0, []bool{true, true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fetcher{ch: &Channel{o: Options{RefusalSpan: tc.span}}}
			for i, want := range tc.want {
				if err := f.refusedAgain(1, []imap.UID{2, 3}, refused); (err != nil) != want {
					t.Fatalf("session %d: %v, want failing %v", i+1, err, want)
				}
			}
		})
	}
}
