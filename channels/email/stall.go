package email

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// errStalled says the server stopped answering a command.
var errStalled = errors.New("the server stopped answering")

// stallConn watches an IMAP connection for a server that stops
// answering. go-imap v2 bounds the greeting and a response once it has
// begun, but not the wait for a command's first response: a server that
// takes a command and then says nothing (a hung process, a middlebox
// that dropped the flow without a reset) would hold the mailbox for
// ever. Every command the fetcher waits for runs under guard, which
// closes the connection once the command has waited timeout with
// nothing read; the session then fails and reconnects with backoff like
// any other failure. The wait in IDLE is not guarded (the server owes
// nothing there): the resynchronisation ends it in time, and ending it
// is a guarded command.
type stallConn struct {
	net.Conn
	timeout time.Duration
	last    atomic.Int64 // when a byte was last read, UnixNano
	stalled atomic.Bool
}

func newStallConn(c net.Conn, timeout time.Duration) *stallConn {
	s := &stallConn{Conn: c, timeout: timeout}
	s.last.Store(time.Now().UnixNano())
	return s
}

func (s *stallConn) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if n > 0 {
		s.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// guard runs wait (a command's Wait) and closes the connection when it
// has waited timeout since it began or since the last byte read,
// whichever is later; what names the command in the error.
func (s *stallConn) guard(what string, wait func() error) error {
	began := time.Now().UnixNano()
	var (
		mu    sync.Mutex
		timer *time.Timer
		done  bool
	)
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		quiet := time.Duration(time.Now().UnixNano() - max(began, s.last.Load()))
		if quiet >= s.timeout {
			s.stalled.Store(true)
			s.Conn.Close()
			return
		}
		timer.Reset(s.timeout - quiet)
	}
	mu.Lock()
	timer = time.AfterFunc(s.timeout, check)
	mu.Unlock()
	err := wait()
	mu.Lock()
	done = true
	timer.Stop()
	mu.Unlock()
	if s.stalled.Load() {
		return fmt.Errorf("%s: nothing from the server for %s: %w", what, s.timeout, errStalled)
	}
	return err
}
