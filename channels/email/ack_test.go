package email

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/hours"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// A new email is acknowledged once, with its reference and, the queue
// being closed, when it opens; not a sender's second within the hour,
// not automatic mail, not again on a replay.
func TestAcknowledgement(t *testing.T) {
	office := &hours.Calendar{Week: [7][]hours.Span{time.Monday: {{Start: 9 * time.Hour, End: 17 * time.Hour}}}}
	saturday := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	srv := newIMAPServer(t, nil)
	sink := emailtest.NewSMTPSink(t, "", "")
	e := newEnvRouter(t, func(o *router.Options) { o.Calendars = map[string]*hours.Calendar{"office": office} })
	e.withOutbox(sink)
	auto, err := os.ReadFile(filepath.Join("testdata", "mail", "auto-reply.eml"))
	if err != nil {
		t.Fatal(err)
	}
	appendMail(t, srv.addr, srv.user, srv.pass, "Support",
		mkMail("a1@customer.example", "ada@customer.example", "First", "Hello"),
		mkMail("a2@customer.example", "ada@customer.example", "Second", "Hello again"),
		string(auto))
	mb := srv.mailbox("support")
	mb.Queue = "office"
	ack := func(o *Options) {
		o.Acknowledge = &Acknowledge{Router: e.rt, Now: func() time.Time { return saturday }}
	}
	ch := e.start(ack, mb)
	s := e.waitUID("support", 3)

	got := sink.Wait(t, waitBound)
	h, text, _ := readMessage(t, got)
	var first router.Contact
	for _, c := range e.emailContacts() {
		if c.Subject == "First" {
			first = c
		}
	}
	if h.Get("Auto-Submitted") != "auto-replied" || got.To[0] != "ada@customer.example" {
		t.Errorf("acknowledgement: Auto-Submitted %q, to %v", h.Get("Auto-Submitted"), got.To)
	}
	if !strings.Contains(text, SubjectToken(first.ID)) || !strings.Contains(text, "We are closed now and answer from Monday 9 March 09:00.") {
		t.Errorf("acknowledgement text: %q", text)
	}
	if strings.Contains(text, "wrote:") {
		t.Errorf("the acknowledgement quotes the mail (an echo to whoever the sender claims to be): %q", text)
	}
	for _, c := range e.emailContacts() {
		want := 1
		if c.ID == first.ID {
			want = 2
		}
		if n := len(e.messages(c.ID)); n != want {
			t.Errorf("contact %q: %d messages, want %d (one acknowledgement, for the first only)", c.Subject, n, want)
		}
	}

	// A replay of the whole mailbox sends nothing again.
	ch.Close()
	if err := e.db.PutEmailCheckpoint(context.Background(), "support", store.EmailCheckpoint{UIDValidity: s.UIDValidity}); err != nil {
		t.Fatal(err)
	}
	e.start(ack, mb)
	e.waitUID("support", 3)
	// The acknowledgements are committed before the checkpoint moves: the
	// store says what went out.
	for _, c := range e.emailContacts() {
		want := 1
		if c.ID == first.ID {
			want = 2
		}
		if n := len(e.messages(c.ID)); n != want {
			t.Errorf("after a replay: contact %q has %d messages, want still %d (no acknowledgement sent again or held back before)", c.Subject, n, want)
		}
	}
	select {
	case r := <-sink.Received:
		t.Errorf("a second acknowledgement went out: %s", r.Data)
	default:
	}
}
