package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
)

// certificate is the TLS certificate routerd serves, loaded from its
// files and loaded again by reload (on SIGHUP). It is safe for
// concurrent use.
type certificate struct {
	certFile, keyFile string
	// cur is the certificate served; never nil after loadCertificate.
	cur atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the PEM certificate chain and key.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again and serves what they hold from the next
// handshake on. On an error the certificate served stays as it was.
func (c *certificate) reload() error {
	kp, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&kp)
	return nil
}

// get is the tls.Config's GetCertificate.
func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// tlsConfig is the server's TLS configuration: TLS 1.2 or later, Go's
// default cipher suites and curves, and c's certificate.
func tlsConfig(c *certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get}
}

// reloadOnSignal calls reload for each signal from sig until ctx ends;
// serve passes SIGHUP.
func reloadOnSignal(ctx context.Context, sig <-chan os.Signal, reload func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			reload()
		}
	}
}

// reloadTLS reloads cert (nil when routerd serves plain HTTP) and logs
// the outcome; a failure keeps the certificate served.
func reloadTLS(cert *certificate, log *slog.Logger) {
	if cert == nil {
		log.Info("SIGHUP: no TLS certificate to reload")
		return
	}
	if err := cert.reload(); err != nil {
		log.Error("tls: reload failed; the previous certificate is still served", "err", err)
		return
	}
	attrs := []any{"cert_file", cert.certFile}
	if leaf, err := x509.ParseCertificate(cert.cur.Load().Certificate[0]); err == nil {
		attrs = append(attrs, "not_after", leaf.NotAfter)
	}
	log.Info("tls: certificate reloaded", attrs...)
}

// redirectHTTPS answers every request with a permanent redirect to the
// same path and query over HTTPS: at the public URL when it is https,
// else at the request's host on tlsPort.
func redirectHTTPS(publicURL, tlsPort string) http.Handler {
	base, err := url.Parse(publicURL)
	if err != nil || base.Scheme != "https" {
		base = nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := url.URL{Scheme: "https", Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		if base != nil {
			u.Host = base.Host
		} else {
			host := r.Host
			if h, _, err := net.SplitHostPort(r.Host); err == nil {
				host = h
			}
			if host == "" {
				http.Error(w, "routerd: use https", http.StatusBadRequest)
				return
			}
			u.Host = host
			if tlsPort != "443" {
				u.Host = net.JoinHostPort(host, tlsPort)
			}
		}
		http.Redirect(w, r, u.String(), http.StatusPermanentRedirect)
	})
}
