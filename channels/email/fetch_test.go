package email

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/switchboard/switchboard/store"
)

// backlog is n messages from n customers.
func backlog(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, mkMail(fmt.Sprintf("m%d@customer.example", i), fmt.Sprintf("c%d@customer.example", i),
			fmt.Sprintf("Question %d", i), fmt.Sprintf("Body %d", i)))
	}
	return out
}

// checkOnce fails unless the store holds exactly one contact per
// message of want (by Message-ID), and nothing else.
func (e *env) checkOnce(want int) {
	e.t.Helper()
	cs := e.emailContacts()
	seen := map[string]bool{}
	for _, c := range cs {
		for _, m := range e.messages(c.ID) {
			if seen[m.ExternalID] {
				e.t.Errorf("message %s stored twice", m.ExternalID)
			}
			seen[m.ExternalID] = true
		}
	}
	if len(cs) != want || len(seen) != want {
		e.t.Errorf("got %d contacts with %d messages, want %d of each", len(cs), len(seen), want)
	}
}

func TestBacklogExactlyOnce(t *testing.T) {
	srv := newIMAPServer(t, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 60)...)
	e := newEnv(t)
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 60)
	e.checkOnce(60)
	flags := flagsOf(t, srv.addr, srv.user, srv.pass, "Support")
	for uid, fl := range flags {
		if !slices.Contains(fl, imap.FlagSeen) {
			t.Errorf("UID %d not flagged \\Seen after its commit: %v", uid, fl)
		}
	}
	c := e.emailContacts()[0]
	if c.Queue != "support" || c.Customer.Email == "" || c.Customer.Verified || c.Subject == "" {
		t.Errorf("contact: got %+v, want queue support, the sender's address as a claim, the subject", c)
	}

	// New mail while the channel runs, in IDLE. (go-imap's server
	// tells an IDLE of the updates that arrive while it runs, not of
	// those queued before it began: wait for it, and append one message
	// at a time, each an update that brings those before it.)
	e.waitStatus("support", func(s MailboxStatus) bool { return s.Waiting && s.Idle })
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(60, 5)...)
	e.waitUID("support", 65)
	e.checkOnce(65)
}

// A crash after the commits but before the checkpoint (or the flags):
// the next start reads the same messages again and stores none twice.
func TestReplayFromOlderCheckpoint(t *testing.T) {
	srv := newIMAPServer(t, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 30)...)
	e := newEnv(t)
	ch := e.start(nil, srv.mailbox("support"))
	s := e.waitUID("support", 30)
	ch.Close()
	// Back to before the backlog: as if none of it had been
	// checkpointed.
	if err := e.db.PutEmailCheckpoint(context.Background(), "support", store.EmailCheckpoint{UIDValidity: s.UIDValidity, LastUID: 0}); err != nil {
		t.Fatal(err)
	}
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(30, 3)...)
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 33)
	e.checkOnce(33)
}

func TestFirstConnectFromNow(t *testing.T) {
	srv := newIMAPServer(t, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 10)...)
	e := newEnv(t)
	mb := srv.mailbox("support")
	mb.Start = time.Time{}
	mb.Poll, mb.PollInterval = true, 20*time.Millisecond
	e.start(nil, mb)
	e.waitWaiting("support")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(10, 1)...)
	e.waitUID("support", 11)
	cs := e.emailContacts()
	if len(cs) != 1 || cs[0].Subject != "Question 10" {
		t.Fatalf("got %d contacts (%v), want only the one that arrived after the first connect", len(cs), cs)
	}
}

func TestConnectionDropsMidBacklog(t *testing.T) {
	srv := newIMAPServer(t, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 200)...)
	e := newEnv(t)
	e.start(nil, srv.mailbox("support"))
	// Drop every connection as soon as some of the backlog is in, and
	// again once more is.
	e.waitUID("support", 25)
	srv.dropConnections()
	e.waitStatus("support", func(s MailboxStatus) bool { return s.State == StateFailing })
	e.waitUID("support", 100)
	srv.dropConnections()
	e.waitUID("support", 200)
	e.checkOnce(200)
}

func TestPollingWithoutIdle(t *testing.T) {
	srv := newIMAPServer(t, nil)
	e := newEnv(t)
	mb := srv.mailbox("support")
	mb.Poll, mb.PollInterval = true, 20*time.Millisecond
	e.start(nil, mb)
	s := e.waitStatus("support", func(s MailboxStatus) bool { return s.State == StateOK })
	if s.Idle {
		t.Errorf("status says IDLE with Poll set")
	}
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 3)...)
	e.waitUID("support", 3)
	e.checkOnce(3)
}

func TestUIDValidityChange(t *testing.T) {
	srv := newIMAPServer(t, nil)
	first := backlog(0, 10)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", first...)
	e := newEnv(t)
	ch := e.start(nil, srv.mailbox("support"))
	before := e.waitUID("support", 10)
	ch.Close()
	// The server rebuilds the folder: the same messages under new UIDs
	// and a new UIDVALIDITY, and two new ones.
	if err := srv.mem.Delete("Support"); err != nil {
		t.Fatal(err)
	}
	if err := srv.mem.Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", append(first, backlog(10, 2)...)...)
	e.start(nil, srv.mailbox("support"))
	after := e.waitUID("support", 12)
	if after.UIDValidity == before.UIDValidity {
		t.Fatalf("UIDVALIDITY did not change (%d); the test proves nothing", after.UIDValidity)
	}
	e.checkOnce(12)
}

func TestMoveAfterIntake(t *testing.T) {
	srv := newIMAPServer(t, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 4)...)
	e := newEnv(t)
	mb := srv.mailbox("support")
	mb.MoveTo = "Done"
	e.start(nil, mb)
	e.waitUID("support", 4)
	if left := flagsOf(t, srv.addr, srv.user, srv.pass, "Support"); len(left) != 0 {
		t.Errorf("%d messages left in Support, want all moved", len(left))
	}
	if moved := flagsOf(t, srv.addr, srv.user, srv.pass, "Done"); len(moved) != 4 {
		t.Errorf("%d messages in Done, want 4", len(moved))
	}
	e.checkOnce(4)
}

func TestWrongPasswordDoesNotStopOthers(t *testing.T) {
	srv := newIMAPServer(t, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 3)...)
	e := newEnv(t)
	bad := srv.mailbox("sales")
	bad.Password = "wrong-password"
	bad.Queue = "sales"
	e.start(nil, srv.mailbox("support"), bad)
	s := e.waitStatus("sales", func(s MailboxStatus) bool { return s.State == StateFailing && s.Failures >= 2 })
	if !strings.Contains(s.Error, "login") || strings.Contains(s.Error, "wrong-password") {
		t.Errorf("failing status: got %q, want the login's failure without the password", s.Error)
	}
	e.waitUID("support", 3)
	e.checkOnce(3)
	for _, st := range e.ch.Status() {
		if st.Name == "support" && st.State != StateOK {
			t.Errorf("support: got %s, want ok while sales fails", st.State)
		}
	}
}

// The same Message-ID in two mailboxes is one message when they are one
// desk, and one in each when they are not.
func TestDesks(t *testing.T) {
	srv := newIMAPServer(t, nil)
	if err := srv.mem.Create("Other", nil); err != nil {
		t.Fatal(err)
	}
	same := mkMail("cc-both@customer.example", "ada@customer.example", "To both", "Hello")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", same)
	appendMail(t, srv.addr, srv.user, srv.pass, "Other", same)
	for _, tc := range []struct {
		name         string
		desk1, desk2 string
		want         int
	}{
		{"one-desk", "support", "support", 1},
		{"two-desks", "", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			a, b := srv.mailbox("a"), srv.mailbox("b")
			b.Folder = "Other"
			a.Desk, b.Desk = tc.desk1, tc.desk2
			e.start(nil, a, b)
			e.waitUID("a", 1)
			e.waitUID("b", 1)
			if n := len(e.emailContacts()); n != tc.want {
				t.Errorf("got %d contacts, want %d", n, tc.want)
			}
		})
	}
}

// The resynchronisation's sweep takes in the mail below the checkpoint
// that was never marked taken (here: a checkpoint that ran ahead of
// three unseen messages), once each, and flags it; mail below where
// the mailbox's intake began (its floor: the first connect took only
// new mail) is never taken, sweep after sweep.
func TestResyncSweepsMissedMail(t *testing.T) {
	srv := newIMAPServer(t, nil)
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 1)...) // before the first connect
	e := newEnv(t)
	mb := srv.mailbox("support")
	mb.Start = time.Time{}
	mb.Resync = 50 * time.Millisecond
	e.start(nil, mb)
	first := e.waitWaiting("support")
	if first.LastUID != 1 {
		t.Fatalf("first connect: checkpoint at UID %d, want 1 (only new mail)", first.LastUID)
	}
	e.ch.Close()
	// Three messages come while the checkpoint says they are in.
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(1, 3)...)
	cp, _, err := e.db.EmailCheckpoint(context.Background(), "support")
	if err != nil {
		t.Fatal(err)
	}
	cp.LastUID = 4
	if err := e.db.PutEmailCheckpoint(context.Background(), "support", cp); err != nil {
		t.Fatal(err)
	}
	e.start(nil, mb)
	last := e.waitStatus("support", func(s MailboxStatus) bool { return s.SweptIn == 3 }).Swept
	// Two more sweeps: nothing taken twice, nothing below the floor.
	for range 2 {
		last = e.waitStatus("support", func(s MailboxStatus) bool { return s.Swept.After(last) }).Swept
	}
	cs := e.emailContacts()
	if len(cs) != 3 {
		t.Fatalf("got %d contacts, want the 3 the checkpoint ran ahead of", len(cs))
	}
	for _, c := range cs {
		if c.Subject == "Question 0" {
			t.Errorf("the message from before the first connect was taken in")
		}
	}
	e.checkOnce(3)
	flags := flagsOf(t, srv.addr, srv.user, srv.pass, "Support")
	for uid := imap.UID(2); uid <= 4; uid++ {
		if !slices.Contains(flags[uid], imap.FlagSeen) {
			t.Errorf("UID %d not flagged seen after the sweep: %v", uid, flags[uid])
		}
	}
	if slices.Contains(flags[1], imap.FlagSeen) {
		t.Errorf("UID 1 (below the floor) flagged seen: %v", flags[1])
	}
}

// The messages of one sender, and those that name one another, are
// taken in one group, in order; the others each in their own.
func TestTakeGroups(t *testing.T) {
	mails := []*Mail{
		{From: Address{Address: "ada@example.com"}, MessageID: "a1"},
		{From: Address{Address: "bob@example.com"}, MessageID: "b1"},
		{From: Address{Address: "Ada@Example.com"}, MessageID: "a2"},
		{From: Address{Address: "carol@example.com"}, MessageID: "c1", InReplyTo: []string{"b1"}},
		{From: Address{Address: "dan@example.com"}, MessageID: "d1"},
		{From: Address{Address: "mailer-daemon@example.com"}, Report: &Report{OriginalID: "d1"}},
		{MessageID: "x1"},
		{From: Address{Address: "erin@example.com"}, MessageID: "e1", References: []string{"zz", "x1"}},
		// Ada answers Bob's: the two groups become one.
		{From: Address{Address: "ada@example.com"}, MessageID: "a3", InReplyTo: []string{"b1"}},
	}
	got := fmt.Sprint(takeGroups(mails))
	if want := "[[0 1 2 3 8] [4 5] [6 7]]"; got != want {
		t.Errorf("groups %s, want %s", got, want)
	}
}

// A reply that comes in the same batch as the message it answers joins
// its contact, and a sender's messages of one batch keep their order:
// the batch is taken in several at a time, not out of order.
func TestOneBatchKeepsThreadsAndOrder(t *testing.T) {
	srv := newIMAPServer(t, nil)
	mails := backlog(0, 10)
	mails = append(mails,
		// From other senders: joined to the third by their references
		// alone.
		mkMail("r1@customer.example", "d3@customer.example", "Re: Question 3", "Also this", "In-Reply-To: <m3@customer.example>"),
		mkMail("r2@customer.example", "e3@customer.example", "Re: Question 3", "And this", "In-Reply-To: <r1@customer.example>"))
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", mails...)
	e := newEnv(t)
	e.start(nil, srv.mailbox("support"))
	e.waitUID("support", 12)
	cs := e.emailContacts()
	if len(cs) != 10 {
		t.Fatalf("%d contacts, want 10 (the two replies in the third's)", len(cs))
	}
	for _, c := range cs {
		if c.Subject != "Question 3" {
			continue
		}
		var bodies []string
		for _, m := range e.messages(c.ID) {
			if m.Direction == "in" {
				bodies = append(bodies, strings.TrimSpace(m.Body))
			}
		}
		if got := fmt.Sprint(bodies); got != "[Body 3 Also this And this]" {
			t.Errorf("the third's messages %s, want its body, then the two replies in order", got)
		}
		return
	}
	t.Fatal("no contact of Question 3")
}

// noUIDNextSession is a server that gives no UIDNEXT in SELECT and,
// unless status is set, none in STATUS either (the client reads 0, as
// for one left out); statuses counts the STATUS commands.
type noUIDNextSession struct {
	imapserver.Session
	status   bool
	statuses *atomic.Int32
}

func (s noUIDNextSession) Select(mailbox string, o *imap.SelectOptions) (*imap.SelectData, error) {
	d, err := s.Session.Select(mailbox, o)
	if d != nil {
		d.UIDNext = 0
	}
	return d, err
}

func (s noUIDNextSession) Status(mailbox string, o *imap.StatusOptions) (*imap.StatusData, error) {
	s.statuses.Add(1)
	d, err := s.Session.Status(mailbox, o)
	if d != nil && !s.status {
		d.UIDNext = 0
	}
	return d, err
}

// A mailbox read from now on starts after its last message even on a
// server that gives no UIDNEXT in SELECT: from STATUS, or failing that
// from the UID of its last message; never from UID 0, which would take
// in the whole mailbox.
func TestFirstConnectWithoutUIDNext(t *testing.T) {
	for _, tc := range []struct {
		name   string
		old    int  // messages in the mailbox before the first connect
		status bool // STATUS gives UIDNEXT
	}{
		{"uidnext-in-status", 10, true},
		{"uidnext-nowhere", 10, false},
		{"uidnext-nowhere-empty", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newIMAPServer(t, nil)
			appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, tc.old)...)
			var statuses atomic.Int32
			srv.mu.Lock()
			srv.wrap = func(s imapserver.Session) imapserver.Session {
				return noUIDNextSession{Session: s, status: tc.status, statuses: &statuses}
			}
			srv.mu.Unlock()
			e := newEnv(t)
			mb := srv.mailbox("support")
			mb.Start = time.Time{}
			mb.Poll, mb.PollInterval = true, 20*time.Millisecond
			e.start(nil, mb)
			if s := e.waitWaiting("support"); s.LastUID != uint32(tc.old) {
				t.Errorf("started after UID %d, want %d", s.LastUID, tc.old)
			}
			if statuses.Load() == 0 {
				t.Errorf("STATUS never asked for the UIDNEXT that SELECT left out")
			}
			appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(tc.old, 1)...)
			e.waitUID("support", uint32(tc.old)+1)
			cs := e.emailContacts()
			if want := fmt.Sprintf("Question %d", tc.old); len(cs) != 1 || cs[0].Subject != want {
				t.Fatalf("got %d contacts (%v), want only %q, which arrived after the first connect", len(cs), cs, want)
			}
		})
	}
}
