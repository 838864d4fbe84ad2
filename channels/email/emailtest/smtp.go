package emailtest

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message an SMTPSink accepted.
type Received struct {
	From string
	To   []string
	Data []byte
}

// SMTPSink is an in-process SMTP server (go-smtp's) on a loopback port
// that keeps what it accepts. With User set it requires PLAIN auth.
type SMTPSink struct {
	Addr       string
	User, Pass string
	// Token, when set before the first connection, is the access token
	// an XOAUTH2 login of User must carry (instead of PLAIN's Pass).
	Token string
	// Received gets every accepted message (buffered).
	Received chan Received

	mu sync.Mutex
	// reject, when set, answers the DATA of attempt n (from 1) with an
	// error, or nil to accept. Guarded by mu.
	reject   func(n int) error
	attempts int // guarded by mu
	// refuseRcpt, when set, answers each RCPT TO with what it returns
	// for the address, nil accepting it. Guarded by mu.
	refuseRcpt func(to string) error
	// server is the running server, nil while stopped; guarded by mu.
	server *smtp.Server
	tls    *tls.Config
	// implicit: TLS from the first byte, not STARTTLS.
	implicit bool
}

// NewSMTPSink starts a sink that stops when the test ends.
func NewSMTPSink(t testing.TB, user, pass string) *SMTPSink {
	t.Helper()
	return NewSMTPSinkTLS(t, user, pass, nil)
}

// NewSMTPSinkTLS is NewSMTPSink offering STARTTLS with cfg (none when
// nil); with cfg, a login needs the upgrade first.
func NewSMTPSinkTLS(t testing.TB, user, pass string, cfg *tls.Config) *SMTPSink {
	t.Helper()
	return newSMTPSink(t, user, pass, cfg, false)
}

// NewSMTPSinkImplicitTLS is NewSMTPSink speaking TLS from the first byte
// (submissions, port 465) with cfg.
func NewSMTPSinkImplicitTLS(t testing.TB, user, pass string, cfg *tls.Config) *SMTPSink {
	t.Helper()
	return newSMTPSink(t, user, pass, cfg, true)
}

func newSMTPSink(t testing.TB, user, pass string, cfg *tls.Config, implicit bool) *SMTPSink {
	t.Helper()
	k := &SMTPSink{User: user, Pass: pass, Received: make(chan Received, 1000), tls: cfg, implicit: implicit}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.Addr = ln.Addr().String()
	k.serve(ln)
	t.Cleanup(k.Stop)
	return k
}

// serve runs a new server on ln.
func (k *SMTPSink) serve(ln net.Listener) {
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{k: k}, nil }))
	s.Domain = "sink.example"
	s.AllowInsecureAuth = k.tls == nil
	s.TLSConfig = k.tls
	s.ReadTimeout, s.WriteTimeout = 30*time.Second, 30*time.Second
	k.mu.Lock()
	k.server = s
	k.mu.Unlock()
	if k.implicit {
		ln = tls.NewListener(ln, k.tls)
	}
	go s.Serve(ln)
}

// Stop closes the server and every connection to it: the server going
// down in the middle of a submission. Start brings it back.
func (k *SMTPSink) Stop() {
	k.mu.Lock()
	s := k.server
	k.server = nil
	k.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// Start serves again on the same address after Stop.
func (k *SMTPSink) Start(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", k.Addr)
	if err != nil {
		t.Fatalf("smtp sink: listen again on %s: %v", k.Addr, err)
	}
	k.serve(ln)
}

// Reject makes the sink answer the DATA of attempt n (counted from 1)
// with what f returns (an *smtp.SMTPError), nil accepting it.
func (k *SMTPSink) Reject(f func(n int) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reject = f
}

// RefuseRcpt makes the sink answer each RCPT TO with what f returns for
// its address (an *smtp.SMTPError), nil accepting it.
func (k *SMTPSink) RefuseRcpt(f func(to string) error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refuseRcpt = f
}

// Wait returns the next message received, failing the test after d.
func (k *SMTPSink) Wait(t testing.TB, d time.Duration) Received {
	t.Helper()
	select {
	case r := <-k.Received:
		return r
	case <-time.After(d):
		t.Fatalf("no message reached the SMTP sink within %s", d)
		return Received{}
	}
}

type sinkSession struct {
	k    *SMTPSink
	auth bool
	from string
	to   []string
}

func (s *sinkSession) AuthMechanisms() []string {
	if s.k.Token != "" {
		return []string{"XOAUTH2"}
	}
	return []string{sasl.Plain}
}

func (s *sinkSession) Auth(mech string) (sasl.Server, error) {
	if mech == "XOAUTH2" {
		return xoauth2Server(func(user, token string) error {
			if user != s.k.User || token != s.k.Token {
				return errors.New("invalid token")
			}
			s.auth = true
			return nil
		}), nil
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.k.User || pass != s.k.Pass {
			return errors.New("invalid credentials")
		}
		s.auth = true
		return nil
	}), nil
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.k.User != "" && !s.auth {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.k.mu.Lock()
	refuse := s.k.refuseRcpt
	s.k.mu.Unlock()
	if refuse != nil {
		if err := refuse(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.k.mu.Lock()
	s.k.attempts++
	n, reject := s.k.attempts, s.k.reject
	s.k.mu.Unlock()
	if reject != nil {
		if err := reject(n); err != nil {
			return err
		}
	}
	s.k.Received <- Received{From: s.from, To: s.to, Data: b}
	return nil
}

func (s *sinkSession) Reset()        { s.from, s.to = "", nil }
func (s *sinkSession) Logout() error { return nil }

// xoauth2Server checks XOAUTH2's one response:
// "user=<user>^Aauth=Bearer <token>^A^A".
type xoauth2Server func(user, token string) error

func (f xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	parts := strings.Split(string(resp), "\x01")
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "user=") || !strings.HasPrefix(parts[1], "auth=Bearer ") {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	return nil, true, f(strings.TrimPrefix(parts[0], "user="), strings.TrimPrefix(parts[1], "auth=Bearer "))
}
