package email

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// waitBound bounds every wait for the channel; it only turns a hang
// into a failure.
const waitBound = 30 * time.Second

// backlogStart is a mailbox's start that reads every message there.
var backlogStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// testDomain is our Message-IDs' domain in the tests.
const testDomain = "support.example.com"

// testKey tags our Message-IDs in the tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// imapServer is an in-process IMAP server (go-imap's imapserver over
// imapmemserver) on a loopback port, with one user.
type imapServer struct {
	addr       string
	user, pass string
	mem        *imapmemserver.User
	srv        *imapserver.Server

	mu    sync.Mutex
	conns []net.Conn // guarded by mu
	// wrap, when set, wraps each new session: a server that behaves
	// otherwise. Guarded by mu.
	wrap func(imapserver.Session) imapserver.Session
}

func newIMAPServer(t testing.TB, caps imap.CapSet) *imapServer {
	t.Helper()
	s := &imapServer{user: "support", pass: "s3cret"}
	mem := imapmemserver.New()
	s.mem = imapmemserver.NewUser(s.user, s.pass)
	if err := s.mem.Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.mem.Create("Done", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(s.mem)
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.conns = append(s.conns, c.NetConn())
			var sess imapserver.Session = pollingSession{mem.NewSession()}
			if s.wrap != nil {
				sess = s.wrap(sess)
			}
			return sess, nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// pollingSession is go-imap's in-memory session that reports, when IDLE
// starts, what changed since the session's last command, as Dovecot
// does: the in-memory server reports only what changes during IDLE, so
// mail appended while the client's IDLE is acknowledged but not yet
// registered (a scheduling gap on a loaded machine) was never reported.
type pollingSession struct{ imapserver.Session }

func (s pollingSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := s.Session.Poll(w, true); err != nil {
		return err
	}
	return s.Session.Idle(w, stop)
}

// Move keeps the in-memory session's MOVE (the wrapper hides it).
func (s pollingSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return s.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// dropConnections closes every connection the server has: the network
// failing under the channel.
func (s *imapServer) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

// appendMail puts raw messages into folder over IMAP.
func appendMail(t testing.TB, addr, user, pass, folder string, raws ...string) {
	t.Helper()
	emailtest.Append(t, addr, user, pass, folder, raws...)
}

// flagsOf returns the flags of every message of folder, by UID.
func flagsOf(t testing.TB, addr, user, pass, folder string) map[imap.UID][]imap.Flag {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("select: %v", err)
	}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil && !strings.Contains(err.Error(), "No matching messages") {
		t.Fatalf("fetch flags: %v", err)
	}
	out := map[imap.UID][]imap.Flag{}
	for _, m := range msgs {
		out[m.UID] = m.Flags
	}
	return out
}

// mkMail is a small message; extra are header lines ("In-Reply-To: <x>").
func mkMail(id, from, subject, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n", from, subject)
	if id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", id)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	return b.String()
}

// env is a real router over a real SQLite store, the intake, and the
// email channel over the in-process IMAP server.
type env struct {
	t     testing.TB
	db    *store.DB
	rt    *router.Router
	in    *intake.Intake
	files *attachments.Store
	dir   string
	ch    *Channel

	mu sync.Mutex
	// history is every status the channels told, in order; next is,
	// per mailbox, the first one waitStatus has not looked at. Guarded
	// by mu.
	history []MailboxStatus
	next    map[string]int
	// changed is signalled after each status (never blocks).
	changed chan struct{}
	// bound replaces waitBound when set (the benchmark's long backlog).
	bound time.Duration
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvRouter(t, nil)
}

// newEnvRouter is newEnv with the router's options tuned by tune.
func newEnvRouter(t testing.TB, tune func(o *router.Options)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(dir, "switchboard.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	ro := router.Options{Outbound: []router.Channel{router.ChannelEmail}}
	if tune != nil {
		tune(&ro)
	}
	rt, err := router.New(db, &ro)
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("router.Start: %v", err)
	}
	t.Cleanup(rt.Close)
	for _, q := range []router.Queue{{Name: "support"}, {Name: "sales"}, {Name: "office", Hours: "office"}} {
		if ro.Calendars[q.Hours] == nil && q.Hours != "" {
			continue
		}
		if _, err := rt.PutQueue(ctx, q); err != nil {
			t.Fatalf("PutQueue: %v", err)
		}
	}
	files, err := attachments.Open(filepath.Join(dir, "attachments"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, rt: rt, in: &intake.Intake{Router: rt, Store: db}, files: files, dir: dir}
}

// mailbox is a mailbox of s, reading folder Support since 2000 (every
// message there), into queue support.
func (s *imapServer) mailbox(name string) Mailbox {
	return Mailbox{Name: name, Addr: s.addr, Security: Plain, User: s.user, Password: s.pass, Folder: "Support",
		Queue: "support", Start: backlogStart}
}

// start starts the channel over mbs; Options tuned by tune. The
// channel is closed when the test ends (or by stop).
func (e *env) start(tune func(o *Options), mbs ...Mailbox) *Channel {
	e.t.Helper()
	if e.changed == nil {
		e.changed = make(chan struct{}, 1)
	}
	o := Options{Mailboxes: mbs, Intake: e.in, Store: e.db, Files: e.files, Domain: testDomain, MessageIDKey: testKey,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		OnStatus: func(s MailboxStatus) {
			e.mu.Lock()
			e.history = append(e.history, s)
			e.mu.Unlock()
			select {
			case e.changed <- struct{}{}:
			default:
			}
		},
		Logger: slog.New(slog.DiscardHandler)}
	if tune != nil {
		tune(&o)
	}
	ch, err := New(o)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	ch.Start()
	e.ch = ch
	e.t.Cleanup(ch.Close)
	return ch
}

// waitStatus waits for a status of mailbox name that ok accepts, told
// after the one the previous wait returned.
func (e *env) waitStatus(name string, ok func(MailboxStatus) bool) MailboxStatus {
	e.t.Helper()
	bound := waitBound
	if e.bound > 0 {
		bound = e.bound
	}
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	var last MailboxStatus
	for {
		e.mu.Lock()
		if e.next == nil {
			e.next = map[string]int{}
		}
		for ; e.next[name] < len(e.history); e.next[name]++ {
			s := e.history[e.next[name]]
			if s.Name != name {
				continue
			}
			last = s
			if ok(s) {
				e.next[name]++
				e.mu.Unlock()
				return s
			}
		}
		e.mu.Unlock()
		select {
		case <-e.changed:
		case <-deadline.C:
			e.mu.Lock()
			var seen []string
			for _, s := range e.history {
				if s.Name == name {
					seen = append(seen, fmt.Sprintf("uid %d waiting %v state %s", s.LastUID, s.Waiting, s.State))
				}
			}
			e.mu.Unlock()
			e.t.Fatalf("mailbox %s: no status as wanted within %s; last %+v; all: %v", name, bound, last, seen)
		}
	}
}

// waitWaiting waits until mailbox name's fetcher waits for new mail
// (IDLE or between polls): now, when its latest status says so, else at
// its next status that does. (waitStatus alone would wait for a new
// status after the ones read already: when the one that says "waiting"
// was read with the UID it committed, none comes.)
func (e *env) waitWaiting(name string) MailboxStatus {
	e.t.Helper()
	e.mu.Lock()
	for i := len(e.history) - 1; i >= 0; i-- {
		if s := e.history[i]; s.Name == name {
			if s.Waiting {
				e.mu.Unlock()
				return s
			}
			break
		}
	}
	e.mu.Unlock()
	return e.waitStatus(name, func(s MailboxStatus) bool { return s.Waiting })
}

// waitUID waits until mailbox name has committed up to UID uid.
func (e *env) waitUID(name string, uid uint32) MailboxStatus {
	e.t.Helper()
	return e.waitStatus(name, func(s MailboxStatus) bool { return s.LastUID >= uid })
}

// emailContacts returns every email contact in the store, newest first.
func (e *env) emailContacts() []router.Contact {
	e.t.Helper()
	var out []router.Contact
	f := store.ContactFilter{Channel: router.ChannelEmail, Limit: store.MaxContactLimit}
	for {
		page, err := e.db.Contacts(context.Background(), f)
		if err != nil {
			e.t.Fatalf("Contacts: %v", err)
		}
		out = append(out, page.Contacts...)
		if page.Next == "" {
			return out
		}
		f.Cursor = page.Next
	}
}

// messages returns the messages of contact id.
func (e *env) messages(id string) []router.Message {
	e.t.Helper()
	ms, err := e.db.Messages(context.Background(), id, 0, 1000)
	if err != nil {
		e.t.Fatalf("Messages: %v", err)
	}
	return ms
}
