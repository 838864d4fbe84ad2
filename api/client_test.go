package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/clientaddr"
)

// proxy is the trusted reverse proxy of these tests.
const proxy = "10.0.0.2:4000"

// behindProxy is an env whose clients are resolved behind proxy.
func behindProxy(t *testing.T, o envOptions) *env {
	t.Helper()
	res := clientaddr.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")})
	o.clientAddr = res.Addr
	e, _ := loginEnv(t, o)
	return e
}

// loginVia posts a login from peer with header X-Forwarded-For xff (none
// when empty), to the handler itself.
func (e *env) loginVia(peer, xff, id, password string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"id":"`+id+`","password":"`+password+`"}`))
	r.Header.Set("Content-Type", "application/json")
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	r.RemoteAddr = peer
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, r)
	return w
}

// TestLoginRateLimitBehindProxy: the per-address login limit counts the
// client that a trusted proxy names, not the proxy; an untrusted peer's
// X-Forwarded-For changes nothing.
func TestLoginRateLimitBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name string
		// peer and xff of the failures, then of the next attempt.
		peer, xff         string
		nextPeer, nextXFF string
		limited           bool
	}{
		{name: "same-client-limited", peer: proxy, xff: "203.0.113.7", nextPeer: proxy, nextXFF: "203.0.113.7", limited: true},
		{name: "another-client-behind-the-proxy-not-limited", peer: proxy, xff: "203.0.113.7", nextPeer: proxy, nextXFF: "203.0.113.8"},
		{name: "forged-left-hop-does-not-escape", peer: proxy, xff: "203.0.113.7", nextPeer: proxy, nextXFF: "192.0.2.99, 203.0.113.7", limited: true},
		{name: "untrusted-peer-forging-does-not-escape", peer: "198.51.100.4:4000", xff: "203.0.113.1", nextPeer: "198.51.100.4:4000", nextXFF: "203.0.113.2", limited: true},
		{name: "client-direct-and-via-proxy-share", peer: "203.0.113.7:4000", nextPeer: proxy, nextXFF: "203.0.113.7", limited: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := behindProxy(t, envOptions{})
			// Failures on many login ids: the address's own limit.
			for i := range AddressFailures * DefaultMaxFailures {
				if res := e.loginVia(tc.peer, tc.xff, fmt.Sprintf("nobody-%d", i), "wrong-password"); res.Code != http.StatusUnauthorized {
					t.Fatalf("failure %d: got status %d, want 401", i+1, res.Code)
				}
			}
			res := e.loginVia(tc.nextPeer, tc.nextXFF, "bob", bobPassword)
			if got := res.Code == http.StatusTooManyRequests; got != tc.limited {
				t.Errorf("got status %d, want limited %v", res.Code, tc.limited)
			}
		})
	}
}

// TestSecureCookieOption: Options.SecureCookie decides the cookie's
// Secure flag, at login and logout, on a plain HTTP connection.
func TestSecureCookieOption(t *testing.T) {
	for _, secure := range []bool{true, false} {
		t.Run(fmt.Sprint("secure-", secure), func(t *testing.T) {
			e, _ := loginEnv(t, envOptions{secureCookie: func(*http.Request) bool { return secure }})
			res := e.login("alice", alicePassword)
			if res.status != http.StatusOK {
				t.Fatalf("got status %d, want 200; body %s", res.status, res.body)
			}
			if got := strings.Contains(res.header.Get("Set-Cookie"), "; Secure"); got != secure {
				t.Errorf("login Set-Cookie %q: got Secure %v, want %v", res.header.Get("Set-Cookie"), got, secure)
			}
			out := e.do("POST", "/api/v1/logout", decodeAs[loginResponse](t, res).Token, "")
			if got := strings.Contains(out.header.Get("Set-Cookie"), "; Secure"); got != secure {
				t.Errorf("logout Set-Cookie %q: got Secure %v, want %v", out.header.Get("Set-Cookie"), got, secure)
			}
		})
	}
}

// TestRequestLog: each request's log line carries the client's address
// as resolved behind the trusted proxy, and none of the request's
// secrets: not the bearer token, the session cookie, the password, the
// query or the body.
func TestRequestLog(t *testing.T) {
	e := behindProxy(t, envOptions{})
	const (
		password = "correct-horse-battery" // not alicePassword: it must fail
		body     = "a-message-body-that-must-not-be-logged"
		query    = "query-secret-value"
	)
	send := func(method, path, bearer, cookie, payload string) {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(payload))
		r.RemoteAddr = proxy
		r.Header.Set("X-Forwarded-For", "203.0.113.7")
		r.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		}
		e.api.ServeHTTP(httptest.NewRecorder(), r)
	}
	sess := e.mustLogin("alice", alicePassword)
	c := e.must(http.StatusCreated, "POST", "/api/v1/contacts", `{"channel":"api","queue":"billing","customer":{"name":"Ada"}}`)
	contactID := decodeAs[struct {
		ID string `json:"id"`
	}](t, c).ID
	start := len(e.logs.String())

	send("POST", "/api/v1/login", "", "", `{"id":"alice","password":"`+password+`"}`)
	send("GET", "/api/v1/me?token="+query, sess.Token, "", "")
	send("GET", "/api/v1/me", "", sess.Token, "")
	send("POST", "/api/v1/contacts/"+contactID+"/messages", adminToken, "", `{"direction":"in","author":"Ada","body":"`+body+`"}`)
	send("GET", "/api/v1/me", "wrong-token-"+body, "", "")

	logs := e.logs.String()[start:]
	for _, secret := range []string{sess.Token, adminToken, password, body, query} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
	var n int
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] != "api: request" {
			continue
		}
		n++
		if rec["client"] != "203.0.113.7" {
			t.Errorf("request log %s: got client %v, want 203.0.113.7 (the client behind the proxy)", line, rec["client"])
		}
	}
	if n != 5 {
		t.Errorf("got %d request lines, want 5:\n%s", n, logs)
	}
}
