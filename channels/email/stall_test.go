package email

import (
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// freezer is a TCP proxy in front of an IMAP server whose connections
// can be frozen: from then on nothing passes either way, the connection
// stays open, and the client hears nothing (a hung server, or a
// middlebox that dropped the flow without a reset). Connections made
// after a freeze pass again.
type freezer struct {
	addr string

	mu     sync.Mutex
	frozen []*atomic.Bool // guarded by mu: one per connection
}

func newFreezer(t *testing.T, upstream string) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				down.Close()
				continue
			}
			connsMu.Lock()
			conns = append(conns, down, up)
			connsMu.Unlock()
			frozen := new(atomic.Bool)
			p.mu.Lock()
			p.frozen = append(p.frozen, frozen)
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				defer dst.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if n > 0 && !frozen.Load() {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						if err != io.EOF {
							src.Close()
						}
						return
					}
				}
			}
			wg.Add(2)
			go pipe(up, down)
			go pipe(down, up)
		}
	}()
	return p
}

// freeze stops every connection made so far.
func (p *freezer) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.frozen {
		f.Store(true)
	}
}

// A server that stops answering in the middle of a session (in IDLE,
// or between polls) is found out by the next command's guard: the
// mailbox shows failing with the reason, reconnects, and takes in the
// mail that came meanwhile. Without the guard the fetcher would wait
// for the answer to DONE or NOOP for ever.
func TestServerStopsAnswering(t *testing.T) {
	for _, poll := range []bool{false, true} {
		name := "idle"
		if poll {
			name = "poll"
		}
		t.Run(name, func(t *testing.T) {
			srv := newIMAPServer(t, nil)
			proxy := newFreezer(t, srv.addr)
			e := newEnv(t)
			mb := srv.mailbox("support")
			mb.Addr = proxy.addr
			mb.Poll, mb.PollInterval = poll, 50*time.Millisecond
			mb.Resync, mb.CommandTimeout = 100*time.Millisecond, 300*time.Millisecond
			e.start(nil, mb)
			if s := e.waitWaiting("support"); s.Idle == poll {
				t.Fatalf("status says idle %v with Poll %v", s.Idle, poll)
			}
			proxy.freeze()
			appendMail(t, srv.addr, srv.user, srv.pass, "Support", backlog(0, 1)...)
			s := e.waitStatus("support", func(s MailboxStatus) bool { return s.State == StateFailing })
			if !strings.Contains(s.Error, errStalled.Error()) {
				t.Errorf("failing with %q, want the stall named", s.Error)
			}
			e.waitUID("support", 1)
			e.checkOnce(1)
		})
	}
}

// A server that accepts the connection and never greets fails the
// mailbox within the command timeout, again and again, without holding
// it: each attempt is a new failure.
func TestServerNeverGreets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	e := newEnv(t)
	e.start(nil, Mailbox{Name: "silent", Addr: ln.Addr().String(), Security: Plain, User: "u", Password: "p",
		Queue: "support", CommandTimeout: 200 * time.Millisecond})
	for want := 1; want <= 2; want++ {
		s := e.waitStatus("silent", func(s MailboxStatus) bool { return s.State == StateFailing })
		if s.Failures != want || !strings.Contains(s.Error, errStalled.Error()) {
			t.Fatalf("attempt %d: failures %d, error %q; want the stall named", want, s.Failures, s.Error)
		}
	}
}
