package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeKeyPair writes a self-signed certificate and its key into dir and
// returns their paths.
func writeKeyPair(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "routerd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestDeployValidation(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeKeyPair(t, dir)
	tlsOK := "tls:\n  cert_file: " + cert + "\n  key_file: " + key + "\n"
	tests := []struct {
		name, yaml string
		// want is the error after "config: x.yaml:", "" for none.
		want string
	}{
		{"public-url", "public_url: https://contact.example.com\n", ""},
		{"public-url-port-slash", "public_url: http://127.0.0.1:8080/\n", ""},
		{"public-url-scheme", "\npublic_url: ftp://contact.example.com\n",
			`2:13: public_url: "ftp://contact.example.com" is not a public URL (want scheme://host[:port] with no path, such as "https://contact.example.com")`},
		{"public-url-path", "public_url: https://example.com/switchboard\n", `1:13: public_url: "https://example.com/switchboard" is not a public URL`},
		{"public-url-no-host", "public_url: contact.example.com\n", `1:13: public_url: "contact.example.com" is not a public URL`},
		{"trusted-proxies", "trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\"]\n", ""},
		{"trusted-proxies-bad", "trusted_proxies:\n  - 10.0.0.0/8\n  - 10.0.0.0/40\n",
			`3:5: trusted_proxies[1]: "10.0.0.0/40" is not a network (want a CIDR such as "10.0.0.0/8" or an address such as "192.0.2.7")`},
		{"trusted-proxies-hostname", "trusted_proxies: [proxy.internal]\n", `1:19: trusted_proxies[0]: "proxy.internal" is not a network`},
		{"tls", tlsOK + "  redirect_http: 127.0.0.1:8081\n", ""},
		{"tls-both-ephemeral", "listen: 127.0.0.1:0\n" + tlsOK + "  redirect_http: 127.0.0.1:0\n", ""},
		{"tls-cert-without-key", "tls:\n  cert_file: " + cert + "\n",
			`2:14: tls.cert_file: set without key_file (want both, or neither to serve plain HTTP)`},
		{"tls-key-without-cert", "tls:\n  key_file: " + key + "\n", `2:13: tls.key_file: set without cert_file`},
		{"tls-missing-file", "tls:\n  cert_file: " + filepath.Join(dir, "nope.pem") + "\n  key_file: " + key + "\n",
			`2:14: tls.cert_file: cannot load the certificate ` + filepath.Join(dir, "nope.pem")},
		{"tls-key-is-cert", "tls:\n  cert_file: " + cert + "\n  key_file: " + cert + "\n", `2:14: tls.cert_file: cannot load the certificate`},
		{"redirect-without-tls", "tls:\n  redirect_http: \":80\"\n", `2:18: tls.redirect_http: set without cert_file and key_file`},
		{"redirect-bad-address", tlsOK + "  redirect_http: port80\n", `4:18: tls.redirect_http: invalid address "port80" (want host:port, such as ":80")`},
		{"redirect-is-listen", "listen: 127.0.0.1:8443\n" + tlsOK + "  redirect_http: 127.0.0.1:8443\n", `5:18: tls.redirect_http: "127.0.0.1:8443" is also listen`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), "config: x.yaml:"+tt.want)):
				t.Fatalf("got %v, want an error starting %q", err, "config: x.yaml:"+tt.want)
			}
		})
	}
}

func TestPublicURLFromEnv(t *testing.T) {
	t.Setenv(EnvPublicURL, "https://contact.example.com")
	c := mustParse(t, "x.yaml", "public_url: http://127.0.0.1:8080\n")
	if c.PublicURL != "https://contact.example.com" || !c.PublicHTTPS() {
		t.Errorf("got public_url %q (https %v), want the environment's https://contact.example.com", c.PublicURL, c.PublicHTTPS())
	}
	if d := Demo(); d.PublicURL != "https://contact.example.com" {
		t.Errorf("demo: got public_url %q, want the environment's", d.PublicURL)
	}

	t.Setenv(EnvPublicURL, "contact.example.com")
	_, err := Parse("x.yaml", []byte("listen: :8080\npublic_url: http://127.0.0.1:8080\n"))
	if want := `config: x.yaml:2:13: public_url: "contact.example.com" (from ROUTERD_PUBLIC_URL) is not a public URL`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want an error starting %q", err, want)
	}

	t.Setenv(EnvPublicURL, "")
	if c := mustParse(t, "x.yaml", "public_url: http://127.0.0.1:8080\n"); c.PublicURL != "http://127.0.0.1:8080" || c.PublicHTTPS() {
		t.Errorf("an empty %s: got public_url %q (https %v), want the file's, http", EnvPublicURL, c.PublicURL, c.PublicHTTPS())
	}
}

func TestTrustedPrefixes(t *testing.T) {
	c := mustParse(t, "x.yaml", "trusted_proxies: [10.1.2.3/8, 192.0.2.7]\n")
	var got []string
	for _, p := range c.TrustedPrefixes() {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/8 192.0.2.7/32"; strings.Join(got, " ") != want {
		t.Errorf("got %v, want %s", got, want)
	}
}
