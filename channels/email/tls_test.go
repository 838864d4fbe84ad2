package email

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// selfSigned is a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// Mailboxes over implicit TLS and over STARTTLS take mail in; a server
// whose certificate is not trusted is refused, and the mailbox says so.
func TestTLSAndStartTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support", "s3cret")
	if err := u.Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	newServer := func() *imapserver.Server {
		return imapserver.New(&imapserver.Options{
			NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
				return mem.NewSession(), nil, nil
			},
			TLSConfig: serverTLS, Logger: discardLogger{},
		})
	}
	implicit, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := newServer(), newServer()
	go s1.Serve(implicit)
	go s2.Serve(plain)
	t.Cleanup(func() { s1.Close(); s2.Close() })
	// The test's own client appends over a third listener of the same
	// in-memory server, which allows it a plain login.
	appendPlain := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true, Logger: discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go appendPlain.Serve(ln)
	t.Cleanup(func() { appendPlain.Close() })
	appendMail(t, ln.Addr().String(), "support", "s3cret", "Support", backlog(0, 2)...)

	e := newEnv(t)
	trusted := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	mb := func(name, addr string, sec Security, cfg *tls.Config) Mailbox {
		return Mailbox{Name: name, Addr: addr, Security: sec, TLSConfig: cfg, User: "support", Password: "s3cret",
			Folder: "Support", Queue: "support", Start: backlogStart, Desk: "support"}
	}
	e.start(nil,
		mb("tls", implicit.Addr().String(), TLS, trusted),
		mb("starttls", plain.Addr().String(), StartTLS, trusted),
		mb("untrusted", implicit.Addr().String(), TLS, nil)) // the system's roots do not know it
	e.waitUID("tls", 2)
	e.waitUID("starttls", 2)
	s := e.waitStatus("untrusted", func(s MailboxStatus) bool { return s.State == StateFailing })
	if s.Error == "" {
		t.Error("the untrusted server's failure is not shown")
	}
	e.checkOnce(2) // one desk: the two mailboxes read the same mail
}

// Replies go out over STARTTLS and over implicit TLS; an untrusted
// certificate is refused.
func TestSMTPStartTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, tt := range []struct {
		name     string
		security Security
		sink     *emailtest.SMTPSink
	}{
		{"starttls", StartTLS, emailtest.NewSMTPSinkTLS(t, "relay", "relay-pass", serverTLS)},
		{"tls", TLS, emailtest.NewSMTPSinkImplicitTLS(t, "relay", "relay-pass", serverTLS)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c, _, err := e.rt.Submit(context.Background(), router.NewContact{Channel: router.ChannelEmail, Queue: "support",
				Customer: router.Customer{Email: "ada@example.com"}, Body: "Hi"})
			if err != nil {
				t.Fatal(err)
			}
			o := outbox.Outbound{Contact: c, Message: router.Message{Seq: 2, Direction: "out", Body: "Hello"}}
			send := func(cfg *tls.Config) error {
				s, err := NewSender(SenderOptions{Domain: testDomain, MessageIDKey: testKey, Store: e.db, Default: From{Address: "support@example.com"},
					SMTP: SMTP{Addr: tt.sink.Addr, Security: tt.security, TLSConfig: cfg, User: "relay", Password: "relay-pass"}})
				if err != nil {
					t.Fatal(err)
				}
				_, err = s.Send(context.Background(), o)
				return err
			}
			if err := send(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
				t.Fatalf("over %s: %v", tt.name, err)
			}
			if got := tt.sink.Wait(t, waitBound); !strings.Contains(string(got.Data), "Hello") {
				t.Errorf("the sink got %q", got.Data)
			}
			if err := send(nil); err == nil {
				t.Error("an untrusted certificate was accepted")
			}
		})
	}
}
