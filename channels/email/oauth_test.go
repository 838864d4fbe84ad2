package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// provider is an OAuth 2.0 token endpoint that rotates refresh tokens:
// each refresh revokes the token it was given.
type provider struct {
	mu      sync.Mutex
	n       int
	refresh string          // the one valid refresh token; guarded by mu
	access  map[string]bool // the access tokens issued; guarded by mu
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != p.refresh {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
		return
	}
	p.n++
	at := fmt.Sprintf("at-%d", p.n)
	p.access[at] = true
	p.refresh = fmt.Sprintf("rt-%d", p.n)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "Bearer", "refresh_token": p.refresh, "expires_in": 3600})
}

func (p *provider) valid(token string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.access[token]
}

// oauthSession is go-imap's memory session that also logs in with
// XOAUTH2 and OAUTHBEARER tokens the provider issued.
type oauthSession struct {
	imapserver.Session
	p    *provider
	pass string
}

func (s *oauthSession) AuthenticateMechanisms() []string { return []string{XOAUTH2, OAUTHBEARER} }

func (s *oauthSession) Authenticate(mech string) (sasl.Server, error) {
	login := func(user, token string) error {
		if !s.p.valid(token) {
			return errors.New("invalid token")
		}
		return s.Session.Login(user, s.pass)
	}
	if mech == OAUTHBEARER {
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if err := login(o.Username, o.Token); err != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token"}
			}
			return nil
		}), nil
	}
	return &xoauth2Server{login: login}, nil
}

// xoauth2Server checks XOAUTH2's one response.
type xoauth2Server struct {
	login func(user, token string) error
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	parts := strings.Split(string(resp), "\x01")
	if len(parts) != 4 || !strings.HasPrefix(parts[0], "user=") || !strings.HasPrefix(parts[1], "auth=Bearer ") {
		return nil, true, errors.New("malformed XOAUTH2 response")
	}
	return nil, true, x.login(strings.TrimPrefix(parts[0], "user="), strings.TrimPrefix(parts[1], "auth=Bearer "))
}

func TestOAuthLogin(t *testing.T) {
	p := &provider{refresh: "rt-0", access: map[string]bool{}}
	tokens := httptest.NewServer(p)
	t.Cleanup(tokens.Close)
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support@example.com", "unused-password")
	if err := u.Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &oauthSession{Session: mem.NewSession(), p: p, pass: "unused-password"}, nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}}, InsecureAuth: true, Logger: discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	appendMail(t, addr, "support@example.com", "unused-password", "Support", backlog(0, 2)...)

	e := newEnv(t)
	ctx := context.Background()
	cfg := &oauth2.Config{ClientID: "routerd", Endpoint: oauth2.Endpoint{TokenURL: tokens.URL, AuthStyle: oauth2.AuthStyleInParams}}
	mailbox := func(mech string) Mailbox {
		ts, err := NewTokenSource(ctx, cfg, e.db, "mailbox:support", "rt-0", nil)
		if err != nil {
			t.Fatal(err)
		}
		return Mailbox{Name: "support", Addr: addr, Security: Plain, User: "support@example.com", Folder: "Support", Queue: "support",
			Start: backlogStart, OAuth: &OAuth{Mechanism: mech, Tokens: ts}}
	}
	ch := e.start(nil, mailbox(XOAUTH2))
	e.waitUID("support", 2)
	ch.Close()
	if rt, found, _ := e.db.EmailRefreshToken(ctx, "mailbox:support"); !found || rt != "rt-1" {
		t.Fatalf("stored refresh token: got %q, %v; want the rotated rt-1", rt, found)
	}
	// The configured rt-0 is revoked: only the stored one logs in again.
	appendMail(t, addr, "support@example.com", "unused-password", "Support", backlog(2, 1)...)
	e.start(nil, mailbox(OAUTHBEARER))
	e.waitUID("support", 3)
	e.checkOnce(3)
}

func TestXOAuth2Response(t *testing.T) {
	mech, ir, err := (&xoauth2{user: "ada@example.com", token: "ya29.token"}).Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=ada@example.com\x01auth=Bearer ya29.token\x01\x01" {
		t.Errorf("got %q %q %v", mech, ir, err)
	}
}

// Replies go out over SMTP logged in with XOAUTH2.
func TestSMTPOAuth(t *testing.T) {
	sink := emailtest.NewSMTPSink(t, "support@example.com", "")
	sink.Token = "smtp-access-token"
	e := newEnv(t)
	s, err := NewSender(SenderOptions{Domain: testDomain, MessageIDKey: testKey, Store: e.db, Default: From{Address: "support@example.com"},
		SMTP: SMTP{Addr: sink.Addr, Security: Plain, User: "support@example.com",
			OAuth: &OAuth{Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "smtp-access-token"})}}})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := e.rt.Submit(context.Background(), router.NewContact{Channel: router.ChannelEmail, Queue: "support",
		Customer: router.Customer{Email: "ada@example.com"}, Body: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	o := outbox.Outbound{Contact: c, Message: router.Message{Seq: 2, Direction: "out", Body: "Hello"}}
	if status, err := s.Send(context.Background(), o); err != nil || status != router.DeliverySent {
		t.Fatalf("Send: %v %v", status, err)
	}
	sink.Wait(t, waitBound)
	bad, _ := NewSender(SenderOptions{Domain: testDomain, MessageIDKey: testKey, Store: e.db, Default: From{Address: "support@example.com"},
		SMTP: SMTP{Addr: sink.Addr, Security: Plain, User: "support@example.com",
			OAuth: &OAuth{Tokens: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "stolen"})}}})
	if _, err := bad.Send(context.Background(), o); err == nil {
		t.Error("a wrong token was accepted")
	}
}

// A token endpoint that takes the request and never answers fails the
// refresh within TokenOptions.Timeout: the mailbox fails and reconnects
// with backoff, and a reply fails to be retried by the outbox, instead
// of both waiting for ever (and every login behind them).
func TestTokenEndpointNeverAnswers(t *testing.T) {
	hang := make(chan struct{})
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	t.Cleanup(tokens.Close)
	t.Cleanup(func() { close(hang) }) // before Close, which waits for the handlers
	e := newEnv(t)
	ctx := context.Background()
	cfg := &oauth2.Config{ClientID: "routerd", Endpoint: oauth2.Endpoint{TokenURL: tokens.URL}}
	source := func(name string) oauth2.TokenSource {
		t.Helper()
		ts, err := NewTokenSource(ctx, cfg, e.db, name, "rt-0", &TokenOptions{Timeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}

	// The mailbox's login.
	srv := newIMAPServer(t, nil)
	mb := srv.mailbox("support")
	mb.OAuth = &OAuth{Tokens: source("mailbox:support")}
	e.start(nil, mb)
	st := e.waitStatus("support", func(s MailboxStatus) bool { return s.State == StateFailing })
	if !strings.Contains(st.Error, "oauth token") || st.NextAttempt.IsZero() {
		t.Errorf("status %+v: want failing on the token, with a next attempt", st)
	}

	// A reply's.
	sink := emailtest.NewSMTPSink(t, "support@example.com", "")
	s, err := NewSender(SenderOptions{Domain: testDomain, MessageIDKey: testKey, Store: e.db, Default: From{Address: "support@example.com"},
		SMTP: SMTP{Addr: sink.Addr, Security: Plain, User: "support@example.com", OAuth: &OAuth{Tokens: source("smtp")}}})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := e.rt.Submit(ctx, router.NewContact{Channel: router.ChannelEmail, Queue: "support",
		Customer: router.Customer{Email: "ada@example.com"}, Body: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Send(ctx, outbox.Outbound{Contact: c, Message: router.Message{Seq: 2, Direction: "out", Body: "Hello"}})
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(waitBound):
		t.Fatalf("Send still waits for the token after %s", waitBound)
	}
	if err == nil || errors.Is(err, outbox.ErrPermanent) || !strings.Contains(err.Error(), "oauth token") {
		t.Errorf("Send: got %v, want a failure on the token that the outbox retries", err)
	}
}
