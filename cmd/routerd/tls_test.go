package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/config"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost.
type testCert struct {
	certPEM, keyPEM []byte
	leaf            *x509.Certificate
}

// newTestCert makes a self-signed certificate with serial.
func newTestCert(t *testing.T, serial int64) testCert {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "routerd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}),
		leaf:    leaf,
	}
}

// install writes c to certFile and keyFile, each through a rename, as a
// certificate renewal would.
func (c testCert) install(t *testing.T, certFile, keyFile string) {
	t.Helper()
	if err := writeAtomic(keyFile, c.keyPEM); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(certFile, c.certPEM); err != nil {
		t.Fatal(err)
	}
}

// trusting returns an HTTP client that trusts certs, opening a new
// connection for each request.
func trusting(certs ...testCert) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c.leaf)
	}
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// servedSerial fetches url and returns the serial of the certificate
// served.
func servedSerial(t *testing.T, client *http.Client, url string) int64 {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.TLS.PeerCertificates[0].SerialNumber.Int64()
}

// TestCertificateReload serves TLS from files, replaces them, and checks
// that what a reload (here driven by a signal, as SIGHUP drives it) reads
// is served from the next handshake on, and that files that do not load
// keep the certificate served.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b := newTestCert(t, 1), newTestCert(t, 2)
	a.install(t, certFile, keyFile)
	cert, err := loadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{TLSConfig: tlsConfig(cert), Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	url := "https://" + ln.Addr().String() + "/"
	client := trusting(a, b)

	if got := servedSerial(t, client, url); got != 1 {
		t.Fatalf("got certificate %d, want 1", got)
	}
	b.install(t, certFile, keyFile)
	if got := servedSerial(t, client, url); got != 1 {
		t.Fatalf("before the reload: got certificate %d, want 1", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig, reloaded := make(chan os.Signal), make(chan error)
	go reloadOnSignal(ctx, sig, func() { reloaded <- cert.reload() })
	sig <- os.Interrupt // any signal; serve passes SIGHUP
	if err := <-reloaded; err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, client, url); got != 2 {
		t.Fatalf("after the reload: got certificate %d, want 2", got)
	}

	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	sig <- os.Interrupt
	if err := <-reloaded; err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("reload of a broken key: got %v, want an error naming %s", err, keyFile)
	}
	if got := servedSerial(t, client, url); got != 2 {
		t.Fatalf("after a failed reload: got certificate %d, want 2, still", got)
	}
}

// TestTLSVersions: TLS 1.2 and 1.3 are served; 1.1 and older are not.
func TestTLSVersions(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a := newTestCert(t, 1)
	a.install(t, certFile, keyFile)
	cert, err := loadCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsConfig(cert))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	pool := x509.NewCertPool()
	pool.AddCert(a.leaf)
	for _, tc := range []struct {
		name string
		max  uint16
		ok   bool
	}{
		{"tls1.3", tls.VersionTLS13, true},
		{"tls1.2", tls.VersionTLS12, true},
		{"tls1.1-refused", tls.VersionTLS11, false},
		{"tls1.0-refused", tls.VersionTLS10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tc.max})
			if err == nil {
				c.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("got %v, want handshake ok %v", err, tc.ok)
			}
		})
	}
}

func TestLoadCertificateErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := loadCertificate(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err == nil || !strings.HasPrefix(err.Error(), "tls: load certificate "+filepath.Join(dir, "cert.pem")) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a tls: error naming the file, wrapping os.ErrNotExist", err)
	}
}

func TestRedirectHTTPS(t *testing.T) {
	for _, tc := range []struct {
		name, publicURL, tlsPort, host, target, want string
	}{
		{"public-url", "https://contact.example.com", "8443", "10.0.0.5:80", "/agent/?x=1", "https://contact.example.com/agent/?x=1"},
		{"public-url-with-port", "https://contact.example.com:9443/", "8443", "10.0.0.5", "/chat/", "https://contact.example.com:9443/chat/"},
		{"request-host-tls-port", "", "8443", "routerd.internal:8080", "/api/v1/me", "https://routerd.internal:8443/api/v1/me"},
		{"request-host-default-port", "", "443", "routerd.internal", "/", "https://routerd.internal/"},
		{"http-public-url-ignored", "http://contact.example.com", "8443", "[2001:db8::1]:80", "/a%2Fb", "https://[2001:db8::1]:8443/a%2Fb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tc.target, nil)
			r.Host = tc.host
			w := httptest.NewRecorder()
			redirectHTTPS(tc.publicURL, tc.tlsPort).ServeHTTP(w, r)
			if w.Code != http.StatusPermanentRedirect || w.Header().Get("Location") != tc.want {
				t.Errorf("got %d to %q, want 308 to %q", w.Code, w.Header().Get("Location"), tc.want)
			}
		})
	}
}

// TestSecureCookie: the session cookie is Secure whenever the public URL
// is https; otherwise when the client came over TLS, or a trusted proxy
// says it came over https.
func TestSecureCookie(t *testing.T) {
	clients := clientaddr.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	for _, tc := range []struct {
		name, publicURL, peer, proto string
		tls, want                    bool
	}{
		{name: "https-public-url-plain-request", publicURL: "https://contact.example.com", peer: "203.0.113.7:5000", want: true},
		{name: "no-public-url-plain-request", peer: "203.0.113.7:5000"},
		{name: "http-public-url-plain-request", publicURL: "http://127.0.0.1:8080", peer: "203.0.113.7:5000"},
		{name: "over-tls", peer: "203.0.113.7:5000", tls: true, want: true},
		{name: "trusted-proxy-says-https", peer: "10.0.0.2:5000", proto: "https", want: true},
		{name: "untrusted-peer-says-https", peer: "203.0.113.7:5000", proto: "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.PublicURL = tc.publicURL
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := secureCookie(cfg, clients)(r); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrepareDataDir(t *testing.T) {
	t.Run("created-private", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "data")
		var logs strings.Builder
		if err := prepareDataDir(dir, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("got %v, %v, want mode 0700", fi.Mode(), err)
		}
		if logs.Len() > 0 {
			t.Errorf("got log %q, want nothing", logs.String())
		}
	})
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o700, false}, {0o750, true}, {0o705, true}, {0o755, true}} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			if err := prepareDataDir(dir, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "chmod 700"); got != tc.warn {
				t.Errorf("got log %q, want a warning %v", logs.String(), tc.warn)
			}
			if fi, _ := os.Stat(dir); fi.Mode().Perm() != tc.mode {
				t.Errorf("got mode %v, want %v untouched", fi.Mode().Perm(), tc.mode)
			}
		})
	}
	t.Run("not-a-directory", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := prepareDataDir(f, slog.New(slog.DiscardHandler)); err == nil {
			t.Error("got nil, want an error")
		}
	})
}
