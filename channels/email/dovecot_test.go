package email

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// dovecotSupport is a client of the support user (password s3cret) of
// the Dovecot at addr, closed with the test.
func dovecotSupport(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("support", "s3cret").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// dovecotMailbox is a mailbox of user on d, at addr (d's, or a proxy's).
func dovecotMailbox(name, addr, user, pass string) Mailbox {
	return Mailbox{Name: name, Addr: addr, Security: Plain, User: user, Password: pass, Folder: "INBOX",
		Queue: "support", Start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func TestDovecotBacklogThreadsAndFlags(t *testing.T) {
	d := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	appendMail(t, d.Addr, "support", "s3cret", "INBOX", backlog(0, 20)...)
	e := newEnv(t)
	e.start(nil, dovecotMailbox("support", d.Addr, "support", "s3cret"))
	s := e.waitUID("support", 20)
	if !s.Idle {
		t.Errorf("Dovecot has IDLE; status says polling")
	}
	e.checkOnce(20)
	for uid, fl := range flagsOf(t, d.Addr, "support", "s3cret", "INBOX") {
		if !slices.Contains(fl, imap.FlagSeen) {
			t.Errorf("UID %d not \\Seen after its commit", uid)
		}
	}
	// The customer answers their own first mail: the answer joins.
	e.waitWaiting("support")
	appendMail(t, d.Addr, "support", "s3cret", "INBOX",
		mkMail("m0-again@customer.example", "c0@customer.example", "Re: Question 0", "And another thing",
			"In-Reply-To: <m0@customer.example>", "References: <m0@customer.example>"))
	e.waitUID("support", 21)
	cs := e.emailContacts()
	if len(cs) != 20 {
		t.Fatalf("got %d contacts, want the reply joined to one of the 20", len(cs))
	}
	joined := false
	for _, c := range cs {
		if ms := e.messages(c.ID); len(ms) == 2 {
			joined = ms[0].Body == "Body 0" && ms[1].Body == "And another thing"
		}
	}
	if !joined {
		t.Errorf("the reply did not join the conversation of <m0@customer.example>")
	}
}

func TestDovecotConnectionCutMidBacklog(t *testing.T) {
	d := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	appendMail(t, d.Addr, "support", "s3cret", "INBOX", backlog(0, 300)...)
	p := emailtest.NewProxy(t, d.Addr)
	e := newEnv(t)
	e.start(nil, dovecotMailbox("support", p.Addr, "support", "s3cret"))
	e.waitUID("support", 50)
	p.Cut()
	e.waitStatus("support", func(s MailboxStatus) bool { return s.State == StateFailing })
	e.waitUID("support", 150)
	p.Cut()
	e.waitUID("support", 300)
	e.checkOnce(300)
}

func TestDovecotUIDValidityChange(t *testing.T) {
	d := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	first := backlog(0, 8)
	c := dovecotSupport(t, d.Addr)
	if err := c.Create("Support", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMail(t, d.Addr, "support", "s3cret", "Support", first...)
	e := newEnv(t)
	mb := dovecotMailbox("support", d.Addr, "support", "s3cret")
	mb.Folder = "Support"
	ch := e.start(nil, mb)
	before := e.waitUID("support", 8)
	ch.Close()
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
	d.WaitSessionsEnded(t, "support")
	// The folder is rebuilt: the same mail, new UIDs, a new UIDVALIDITY.
	c = dovecotSupport(t, d.Addr)
	if err := c.Delete("Support").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Support", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMail(t, d.Addr, "support", "s3cret", "Support", append(first, backlog(8, 2)...)...)
	e.start(nil, mb)
	after := e.waitUID("support", 10)
	if after.UIDValidity == before.UIDValidity {
		t.Fatalf("UIDVALIDITY did not change (%d); the test proves nothing", after.UIDValidity)
	}
	e.checkOnce(10)
}

func TestDovecotWrongPassword(t *testing.T) {
	d := emailtest.StartDovecot(t, map[string]string{"support": "s3cret", "sales": "other"})
	appendMail(t, d.Addr, "support", "s3cret", "INBOX", backlog(0, 3)...)
	e := newEnv(t)
	bad := dovecotMailbox("sales", d.Addr, "sales", "not-the-password")
	bad.Queue = "sales"
	e.start(nil, dovecotMailbox("support", d.Addr, "support", "s3cret"), bad)
	s := e.waitStatus("sales", func(s MailboxStatus) bool { return s.State == StateFailing })
	if strings.Contains(s.Error, "not-the-password") {
		t.Errorf("status shows the password: %q", s.Error)
	}
	e.waitUID("support", 3)
	e.checkOnce(3)
}

// A 50 MB message is taken in from its header, with the reason; the
// mail after it is taken in as usual.
func TestDovecotHugeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 50 MB")
	}
	d := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	huge := mkMail("huge@customer.example", "ada@customer.example", "Huge", strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef012345678\r\n", 50<<20/59))
	appendMail(t, d.Addr, "support", "s3cret", "INBOX", huge, mkMail("after@customer.example", "bob@customer.example", "After", "Hi"))
	e := newEnv(t)
	e.start(nil, dovecotMailbox("support", d.Addr, "support", "s3cret"))
	e.waitUID("support", 2)
	e.checkOnce(2)
	for _, c := range e.emailContacts() {
		m := e.messages(c.ID)[0]
		if c.Subject == "Huge" && !strings.Contains(m.Body, "over the limit of 26214400: only its header was read") {
			t.Errorf("huge message: body %q", m.Body)
		}
	}
}

// With move_to (docs/email.md, for a busy mailbox), a real Dovecot's
// INBOX is left empty and every message is in the folder, taken in
// once, a batch's messages several at a time.
func TestDovecotMoveAfterIntake(t *testing.T) {
	d := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	if err := dovecotSupport(t, d.Addr).Create("Processed", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMail(t, d.Addr, "support", "s3cret", "INBOX", backlog(0, 60)...)
	e := newEnv(t)
	mb := dovecotMailbox("support", d.Addr, "support", "s3cret")
	mb.MoveTo = "Processed"
	e.start(nil, mb)
	e.waitUID("support", 60)
	e.checkOnce(60)
	c := dovecotSupport(t, d.Addr)
	count := func(folder string) uint32 {
		st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil || st.NumMessages == nil {
			t.Fatalf("status of %s: %+v %v", folder, st, err)
		}
		return *st.NumMessages
	}
	if left, moved := count("INBOX"), count("Processed"); left != 0 || moved != 60 {
		t.Errorf("%d messages left in INBOX and %d in Processed, want 0 and 60", left, moved)
	}
}
