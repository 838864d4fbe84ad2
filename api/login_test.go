package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Test passwords, each at least MinPasswordLen long.
const (
	alicePassword = "alice-password-1"
	bobPassword   = "bob-password-22"
	samPassword   = "sam-password-333"
)

// endedCall is one call of Options.OnSessionsEnded.
type endedCall struct {
	login string
	ids   []string
}

// endedLog records the calls of Options.OnSessionsEnded.
type endedLog struct {
	mu    sync.Mutex
	calls []endedCall // guarded by mu
}

func (l *endedLog) hook(login string, ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, endedCall{login, slices.Clone(ids)})
}

func (l *endedLog) take() []endedCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

// setPassword sets a login's password as admin.
func (e *env) setPassword(id, role, password string) {
	e.t.Helper()
	e.must(http.StatusNoContent, "PUT", "/api/v1/logins/"+id+"/password",
		`{"password":"`+password+`","role":"`+role+`"}`)
}

// login posts a login and returns the response.
func (e *env) login(id, password string, header ...string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/login", "", `{"id":"`+id+`","password":"`+password+`"}`, header...)
}

// mustLogin logs in and returns the session.
func (e *env) mustLogin(id, password string) loginResponse {
	e.t.Helper()
	res := e.login(id, password)
	if res.status != http.StatusOK {
		e.t.Fatalf("login %s: got status %d, want 200; body %s", id, res.status, res.body)
	}
	return decodeAs[loginResponse](e.t, res)
}

// loginFrom posts a login from a client address, to the handler itself.
func (e *env) loginFrom(addr, id, password string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"id":"`+id+`","password":"`+password+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, r)
	return w
}

// loginEnv is an env with agents alice and bob (passwords set) and
// supervisor sam, recording the sessions that end.
func loginEnv(t *testing.T, o envOptions) (*env, *endedLog) {
	t.Helper()
	ended := &endedLog{}
	o.onEnded = ended.hook
	e := newEnvWith(t, o)
	e.seed()
	e.setPassword("alice", config.RoleAgent, alicePassword)
	e.setPassword("bob", config.RoleAgent, bobPassword)
	e.setPassword("sam", config.RoleSupervisor, samPassword)
	return e, ended
}

func TestLogin(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})

	t.Run("agent", func(t *testing.T) {
		res := e.login("alice", alicePassword)
		if res.status != http.StatusOK {
			t.Fatalf("got status %d, want 200; body %s", res.status, res.body)
		}
		got := decodeAs[loginResponse](t, res)
		if got.Role != config.RoleAgent || got.AgentID != "alice" || len(got.Token) != sessionTokenLen {
			t.Errorf("got %+v, want role agent, agent_id alice and a token", got)
		}
		if want := epoch.Add(DefaultSessionTTL); !got.ExpiresAt.Equal(want) {
			t.Errorf("expires_at: got %v, want %v", got.ExpiresAt, want)
		}
		cookie := res.header.Get("Set-Cookie")
		if want := "sb_session=" + got.Token + "; Path=/; HttpOnly; SameSite=Strict"; cookie != want {
			t.Errorf("Set-Cookie: got %q, want %q", cookie, want)
		}
		// The token works as a bearer token and as the cookie.
		for _, how := range [][]string{nil, {"Cookie", "sb_session=" + got.Token}} {
			token := got.Token
			if how != nil {
				token = ""
			}
			me := e.do("GET", "/api/v1/me", token, "", how...)
			if me.status != http.StatusOK {
				t.Fatalf("GET /me (cookie %v): got status %d; body %s", how != nil, me.status, me.body)
			}
			p := decodeAs[Principal](t, me)
			if p.Name != "alice" || p.Role != config.RoleAgent || p.AgentID != "alice" || len(p.SessionID) != 16 {
				t.Errorf("GET /me: got %+v, want alice's agent session", p)
			}
		}
	})

	t.Run("supervisor", func(t *testing.T) {
		got := e.mustLogin("sam", samPassword)
		if got.Role != config.RoleSupervisor || got.AgentID != "" {
			t.Errorf("got %+v, want role supervisor and no agent_id", got)
		}
		// A supervisor session has the rights of a supervisor token.
		if res := e.do("GET", "/api/v1/agents", got.Token, ""); res.status != http.StatusOK {
			t.Errorf("GET /agents: got %d, want 200", res.status)
		}
		if res := e.do("PUT", "/api/v1/agents/zoe", got.Token, `{"name":"Zoe"}`); res.status != http.StatusForbidden {
			t.Errorf("PUT /agents/zoe: got %d, want 403", res.status)
		} else if msg := decodeAs[apiError](t, res).Error.Message; !strings.HasPrefix(msg, `session of "sam" has role supervisor`) {
			t.Errorf("403 message: got %q", msg)
		}
	})

	// A wrong password and an unknown id get the same answer.
	failures := []struct {
		name, id, password string
	}{
		{"wrong-password", "alice", "not-alices-password"},
		{"unknown-id", "mallory", alicePassword},
		{"other-agents-password", "alice", bobPassword},
		{"config-token-as-password", "alice", adminToken},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			res := e.login(tt.id, tt.password)
			if res.status != http.StatusUnauthorized {
				t.Fatalf("got status %d, want 401; body %s", res.status, res.body)
			}
			if got, want := string(res.body), `{"error":{"code":"unauthorized","message":"wrong login id or password"}}`+"\n"; got != want {
				t.Errorf("body: got %s, want %s", got, want)
			}
			if c := res.header.Get("Set-Cookie"); c != "" {
				t.Errorf("Set-Cookie on a failed login: %q", c)
			}
		})
	}

	t.Run("missing-password", func(t *testing.T) {
		if res := e.login("alice", ""); res.status != http.StatusBadRequest {
			t.Errorf("got status %d, want 400", res.status)
		}
	})

	t.Run("never-logged", func(t *testing.T) {
		logs := e.logs.String()
		for _, secret := range []string{alicePassword, bobPassword, samPassword, "not-alices-password"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds password %q", secret)
			}
		}
	})
}

func TestLoginTokenNotLogged(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	s := e.mustLogin("alice", alicePassword)
	e.do("GET", "/api/v1/me", s.Token, "")
	e.do("POST", "/api/v1/logout", s.Token, "")
	if strings.Contains(e.logs.String(), s.Token) {
		t.Errorf("the log holds the session token")
	}
}

func TestLoginSecureCookieOverTLS(t *testing.T) {
	e, _ := loginEnv(t, envOptions{tls: true})
	res := e.login("alice", alicePassword)
	if res.status != http.StatusOK {
		t.Fatalf("got status %d, want 200; body %s", res.status, res.body)
	}
	tok := decodeAs[loginResponse](t, res).Token
	if got, want := res.header.Get("Set-Cookie"), "sb_session="+tok+"; Path=/; HttpOnly; Secure; SameSite=Strict"; got != want {
		t.Errorf("Set-Cookie: got %q, want %q", got, want)
	}
}

func TestLoginRateLimit(t *testing.T) {
	const stranger, office = "198.51.100.7:4000", "203.0.113.7:4000"
	t.Run("per-address-and-login-id", func(t *testing.T) {
		e, _ := loginEnv(t, envOptions{})
		for i := range DefaultMaxFailures {
			e.clock.Advance(time.Second)
			if res := e.loginFrom(stranger, "alice", "wrong-password"); res.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: got status %d, want 401", i+1, res.Code)
			}
		}
		// The stranger waits a window from the last failure, even with
		// the right password.
		res := e.loginFrom(stranger, "alice", alicePassword)
		if res.Code != http.StatusTooManyRequests {
			t.Fatalf("sixth attempt: got status %d, want 429; body %s", res.Code, res.Body)
		}
		if got, want := res.Header().Get("Retry-After"), "60"; got != want {
			t.Errorf("Retry-After: got %q, want %q", got, want)
		}
		if !strings.Contains(res.Body.String(), `"code":"too_many_requests"`) {
			t.Errorf("body: got %s, want code too_many_requests", res.Body)
		}
		// Alice, from her own address, is not locked out by them.
		if res := e.loginFrom(office, "alice", alicePassword); res.Code != http.StatusOK {
			t.Errorf("alice from another address: got status %d, want 200; body %s", res.Code, res.Body)
		}
		// Another id from the stranger's address is not limited by
		// alice's failures.
		if res := e.loginFrom(stranger, "bob", bobPassword); res.Code != http.StatusOK {
			t.Errorf("bob from the stranger's address: got status %d, want 200", res.Code)
		}
		// After the wait, one more failure waits twice as long.
		e.clock.Advance(DefaultFailureWindow)
		if res := e.loginFrom(stranger, "alice", "wrong-password"); res.Code != http.StatusUnauthorized {
			t.Fatalf("after the wait: got status %d, want 401", res.Code)
		}
		res = e.loginFrom(stranger, "alice", alicePassword)
		if got, want := res.Header().Get("Retry-After"), "120"; res.Code != http.StatusTooManyRequests || got != want {
			t.Errorf("after a seventh failure: got status %d, Retry-After %q; want 429, %q", res.Code, got, want)
		}
	})

	t.Run("per-address", func(t *testing.T) {
		e, _ := loginEnv(t, envOptions{})
		for i := range AddressFailures * DefaultMaxFailures {
			id := fmt.Sprintf("nobody-%d", i)
			if res := e.login(id, "wrong-password"); res.status != http.StatusUnauthorized {
				t.Fatalf("failure %d: got status %d, want 401", i+1, res.status)
			}
		}
		res := e.login("bob", bobPassword)
		if res.status != http.StatusTooManyRequests {
			t.Fatalf("after %d failures from the address: got status %d, want 429", AddressFailures*DefaultMaxFailures, res.status)
		}
		if got, want := res.header.Get("Retry-After"), "60"; got != want {
			t.Errorf("Retry-After: got %q, want %q", got, want)
		}
	})

	t.Run("success-is-not-counted", func(t *testing.T) {
		e, _ := loginEnv(t, envOptions{})
		for i := range 2 * AddressFailures * DefaultMaxFailures {
			if res := e.login("alice", alicePassword); res.status != http.StatusOK {
				t.Fatalf("login %d: got status %d, want 200", i+1, res.status)
			}
		}
	})

	t.Run("success-forgives-the-login-id", func(t *testing.T) {
		e, _ := loginEnv(t, envOptions{})
		for round := range 3 {
			for i := range DefaultMaxFailures - 1 {
				if res := e.loginFrom(office, "alice", "mistyped"); res.Code != http.StatusUnauthorized {
					t.Fatalf("round %d, failure %d: got status %d, want 401", round, i+1, res.Code)
				}
			}
			if res := e.loginFrom(office, "alice", alicePassword); res.Code != http.StatusOK {
				t.Fatalf("round %d: got status %d, want 200", round, res.Code)
			}
		}
	})

	t.Run("long-id-is-not-kept", func(t *testing.T) {
		e, _ := loginEnv(t, envOptions{})
		id := strings.Repeat("a", 2000)
		for i := range 3 {
			if res := e.loginFrom(stranger, id, "wrong-password"); res.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: got status %d, want 401", i+1, res.Code)
			}
		}
		e.api.limiter.mu.Lock()
		n := len(e.api.limiter.entries)
		e.api.limiter.mu.Unlock()
		if n != 0 {
			t.Errorf("limiter keys after logins with a %d-byte id: got %d, want 0", len(id), n)
		}
	})
}

func TestLogout(t *testing.T) {
	e, ended := loginEnv(t, envOptions{})
	s := e.mustLogin("alice", alicePassword)
	me := decodeAs[Principal](t, e.do("GET", "/api/v1/me", s.Token, ""))
	ended.take()
	if _, err := e.router.SetAgentState(context.Background(), "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}

	res := e.do("POST", "/api/v1/logout", s.Token, "")
	if res.status != http.StatusNoContent {
		t.Fatalf("logout: got status %d, want 204; body %s", res.status, res.body)
	}
	if got, want := res.header.Get("Set-Cookie"), "sb_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"; got != want {
		t.Errorf("Set-Cookie: got %q, want %q", got, want)
	}
	if got, want := ended.take(), []endedCall{{"alice", []string{me.SessionID}}}; !equalCalls(got, want) {
		t.Errorf("OnSessionsEnded: got %v, want %v", got, want)
	}
	if a, _ := e.router.Snapshot().Agent("alice"); a.State != router.AgentOffline {
		t.Errorf("alice after logout: %s, want offline (no more offers)", a.State)
	}
	for _, how := range []struct{ token, cookie string }{{s.Token, ""}, {"", "sb_session=" + s.Token}} {
		res := e.do("GET", "/api/v1/me", how.token, "", "Cookie", how.cookie)
		if res.status != http.StatusUnauthorized {
			t.Errorf("after logout (cookie %v): got status %d, want 401", how.cookie != "", res.status)
		}
	}
	if res := e.do("POST", "/api/v1/logout", adminToken, ""); res.status != http.StatusForbidden {
		t.Errorf("logout with an API token: got status %d, want 403", res.status)
	}
}

func TestSessionExpiry(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	s := e.mustLogin("alice", alicePassword)
	e.clock.Advance(DefaultSessionTTL - time.Second)
	if res := e.do("GET", "/api/v1/me", s.Token, ""); res.status != http.StatusOK {
		t.Fatalf("a second before expiry: got status %d, want 200", res.status)
	}
	e.clock.Advance(time.Second)
	res := e.do("GET", "/api/v1/me", s.Token, "")
	if res.status != http.StatusUnauthorized {
		t.Fatalf("at expiry: got status %d, want 401", res.status)
	}
	if msg := decodeAs[apiError](t, res).Error.Message; msg != "session expired; log in again" {
		t.Errorf("message: got %q", msg)
	}
	// A new login works, and sweeps the expired session away.
	e.mustLogin("alice", alicePassword)
}

func TestSecondLoginReplacesFirst(t *testing.T) {
	e, ended := loginEnv(t, envOptions{})
	first := e.mustLogin("alice", alicePassword)
	firstID := decodeAs[Principal](t, e.do("GET", "/api/v1/me", first.Token, "")).SessionID
	bob := e.mustLogin("bob", bobPassword)
	if got := ended.take(); len(got) != 0 {
		t.Fatalf("OnSessionsEnded after first logins: got %v, want no call", got)
	}

	second := e.mustLogin("alice", alicePassword)
	if got, want := ended.take(), []endedCall{{"alice", []string{firstID}}}; !equalCalls(got, want) {
		t.Errorf("OnSessionsEnded: got %v, want %v", got, want)
	}
	if res := e.do("GET", "/api/v1/me", first.Token, ""); res.status != http.StatusUnauthorized {
		t.Errorf("first session: got status %d, want 401", res.status)
	}
	for _, tok := range []string{second.Token, bob.Token} {
		if res := e.do("GET", "/api/v1/me", tok, ""); res.status != http.StatusOK {
			t.Errorf("a live session: got status %d, want 200", res.status)
		}
	}
}

func TestSetPassword(t *testing.T) {
	e, ended := loginEnv(t, envOptions{})
	s := e.mustLogin("alice", alicePassword)
	sid := decodeAs[Principal](t, e.do("GET", "/api/v1/me", s.Token, "")).SessionID
	bob := e.mustLogin("bob", bobPassword)
	ended.take()

	tests := []struct {
		name  string
		token string
		id    string
		body  string
		want  int
	}{
		{"agent", adminToken, "alice", `{"password":"a-new-password","role":"agent"}`, http.StatusNoContent},
		{"supervisor-without-agent", adminToken, "sue", `{"password":"sue-password","role":"supervisor"}`, http.StatusNoContent},
		{"unknown-agent", adminToken, "zoe", `{"password":"zoe-password","role":"agent"}`, http.StatusNotFound},
		{"supervisor-named-like-an-agent", adminToken, "bob", `{"password":"bob-password","role":"supervisor"}`, http.StatusConflict},
		{"too-short", adminToken, "bob", `{"password":"short","role":"agent"}`, http.StatusBadRequest},
		{"too-long", adminToken, "bob", `{"password":"` + strings.Repeat("x", 73) + `","role":"agent"}`, http.StatusBadRequest},
		{"unknown-role", adminToken, "bob", `{"password":"bob-password","role":"admin"}`, http.StatusBadRequest},
		{"no-role", adminToken, "bob", `{"password":"bob-password"}`, http.StatusBadRequest},
		{"bad-id", adminToken, "-bob", `{"password":"bob-password","role":"agent"}`, http.StatusBadRequest},
		{"id-longer-than-a-name", adminToken, strings.Repeat("b", router.MaxNameLen+1), `{"password":"bob-password","role":"supervisor"}`, http.StatusBadRequest},
		{"supervisor-token", supervisorToken, "bob", `{"password":"bob-password","role":"agent"}`, http.StatusForbidden},
		{"agent-session", bob.Token, "bob", `{"password":"bob-password-9","role":"agent"}`, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("PUT", "/api/v1/logins/"+tt.id+"/password", tt.token, tt.body)
			if res.status != tt.want {
				t.Errorf("got status %d, want %d; body %s", res.status, tt.want, res.body)
			}
			if strings.Contains(string(res.body), "password\":") {
				t.Errorf("the answer repeats a password: %s", res.body)
			}
		})
	}
	// The change ended alice's session, and only hers.
	if got, want := ended.take(), []endedCall{{"alice", []string{sid}}}; !equalCalls(got, want) {
		t.Errorf("OnSessionsEnded: got %v, want %v", got, want)
	}
	if res := e.login("alice", alicePassword); res.status != http.StatusUnauthorized {
		t.Errorf("old password: got status %d, want 401", res.status)
	}
	if res := e.do("GET", "/api/v1/me", s.Token, ""); res.status != http.StatusUnauthorized {
		t.Errorf("alice's session after the change: got status %d, want 401", res.status)
	}
	e.mustLogin("alice", "a-new-password")
	if got := e.mustLogin("sue", "sue-password"); got.Role != config.RoleSupervisor {
		t.Errorf("sue: got role %q, want supervisor", got.Role)
	}
}

func TestAuthenticate(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	s := e.mustLogin("alice", alicePassword)
	tests := []struct {
		name   string
		header []string
		want   Principal
		err    error
	}{
		{"cookie", []string{"Cookie", "sb_session=" + s.Token}, Principal{Name: "alice", Role: config.RoleAgent, AgentID: "alice"}, nil},
		{"bearer-session", []string{"Authorization", "Bearer " + s.Token}, Principal{Name: "alice", Role: config.RoleAgent, AgentID: "alice"}, nil},
		{"config-token", []string{"Authorization", "Bearer " + adminToken}, Principal{Name: "ops-admin", Role: config.RoleAdmin}, nil},
		{"nothing", nil, Principal{}, ErrUnauthorized},
		{"unknown-cookie", []string{"Cookie", "sb_session=" + strings.Repeat("A", sessionTokenLen)}, Principal{}, ErrUnauthorized},
		{"junk-bearer", []string{"Authorization", "Bearer junk"}, Principal{}, ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/ws/agent", nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header.Set(tt.header[i], tt.header[i+1])
			}
			p, err := e.api.Authenticate(r)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("got error %v, want %v", err, tt.err)
			}
			p.SessionID, p.ExpiresAt, p.tokenHash = "", time.Time{}, ""
			if p != tt.want {
				t.Errorf("got %+v, want %+v", p, tt.want)
			}
		})
	}
}

func equalCalls(a, b []endedCall) bool {
	return slices.EqualFunc(a, b, func(x, y endedCall) bool {
		return x.login == y.login && slices.Equal(x.ids, y.ids)
	})
}

// TestDummyHashCost: a login with an unknown id is compared against a hash
// of the cost most stored hashes have, so that it takes as long as a wrong
// password; not against one of the server's cost.
func TestDummyHashCost(t *testing.T) {
	hashOf := func(t *testing.T, cost int) string {
		t.Helper()
		h, err := bcrypt.GenerateFromPassword([]byte("stored-password"), cost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	tests := []struct {
		name   string
		stored []int
		want   int
	}{
		{"none-stored", nil, bcrypt.MinCost},
		{"one", []int{6}, 6},
		{"most", []int{5, 6, 5}, 5},
		{"tie-takes-the-higher", []int{6, 5}, 6},
		{"tie-takes-the-higher-either-order", []int{5, 6}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t) // the server's cost is bcrypt.MinCost
			for i, c := range tt.stored {
				cred := store.Credential{LoginID: fmt.Sprintf("login-%d", i), Hash: hashOf(t, c), Role: config.RoleSupervisor, UpdatedAt: epoch}
				if err := e.db.SetCredential(context.Background(), cred); err != nil {
					t.Fatal(err)
				}
			}
			if res := e.login("nobody", "some-password"); res.status != http.StatusUnauthorized {
				t.Fatalf("unknown id: got status %d, want 401", res.status)
			}
			dummy, err := e.api.dummyHash(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := bcrypt.Cost(dummy); got != tt.want {
				t.Errorf("dummy hash cost: got %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("follows-passwords-set", func(t *testing.T) {
		e := newEnv(t)
		e.seed()
		if err := e.db.SetCredential(context.Background(), store.Credential{LoginID: "sue", Hash: hashOf(t, 5), Role: config.RoleSupervisor, UpdatedAt: epoch}); err != nil {
			t.Fatal(err)
		}
		for i, id := range []string{"", "alice", "bob"} {
			if id != "" {
				e.setPassword(id, config.RoleAgent, alicePassword) // cost bcrypt.MinCost
			}
			want := []int{5, 5, bcrypt.MinCost}[i]
			dummy, err := e.api.dummyHash(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := bcrypt.Cost(dummy); got != want {
				t.Errorf("after %d passwords set: dummy hash cost %d, want %d", i, got, want)
			}
		}
	})
}

// TestDeleteEndsLogin: deleting an agent or a login ends its sessions at
// once (OnSessionsEnded closes their sockets) and removes its password;
// an agent created again with the same id inherits neither.
func TestDeleteEndsLogin(t *testing.T) {
	tests := []struct {
		name     string
		delete   func(e *env)
		recreate bool // PUT the agent again before checking
	}{
		{"delete-agent", func(e *env) { e.must(http.StatusNoContent, "DELETE", "/api/v1/agents/alice", "") }, false},
		{"delete-agent-then-recreate", func(e *env) { e.must(http.StatusNoContent, "DELETE", "/api/v1/agents/alice", "") }, true},
		{"delete-login", func(e *env) { e.must(http.StatusNoContent, "DELETE", "/api/v1/logins/alice", "") }, false},
		{"agent-deleted-before-deleting-ended-logins", func(e *env) {
			// As a store of an earlier version holds it: the agent is
			// gone, its password and session are not.
			if err := e.router.DeleteAgent(context.Background(), "alice"); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ended := loginEnv(t, envOptions{})
			s := e.mustLogin("alice", alicePassword)
			sid := decodeAs[Principal](t, e.do("GET", "/api/v1/me", s.Token, "")).SessionID
			bob := e.mustLogin("bob", bobPassword)
			ended.take()

			tt.delete(e)
			if tt.recreate {
				e.must(http.StatusCreated, "PUT", "/api/v1/agents/alice", `{"name":"Alice again"}`)
			}
			if got, want := ended.take(), []endedCall{{"alice", []string{sid}}}; !equalCalls(got, want) {
				t.Errorf("OnSessionsEnded: got %v, want %v", got, want)
			}
			if res := e.do("GET", "/api/v1/me", s.Token, ""); res.status != http.StatusUnauthorized {
				t.Errorf("alice's session: got status %d, want 401", res.status)
			}
			if res := e.login("alice", alicePassword); res.status != http.StatusUnauthorized {
				t.Errorf("alice's old password: got status %d, want 401", res.status)
			}
			if res := e.do("GET", "/api/v1/me", bob.Token, ""); res.status != http.StatusOK {
				t.Errorf("bob's session: got status %d, want 200", res.status)
			}
		})
	}

	t.Run("delete-login-refusals", func(t *testing.T) {
		e, ended := loginEnv(t, envOptions{})
		sam := e.mustLogin("sam", samPassword)
		cases := []struct {
			name, token, id string
			want            int
		}{
			{"unknown", adminToken, "nobody", http.StatusNotFound},
			{"supervisor-token", supervisorToken, "bob", http.StatusForbidden},
			{"supervisor-session", sam.Token, "bob", http.StatusForbidden},
			{"supervisor-login", adminToken, "sam", http.StatusNoContent},
		}
		for _, c := range cases {
			if res := e.do("DELETE", "/api/v1/logins/"+c.id, c.token, ""); res.status != c.want {
				t.Errorf("%s: got status %d, want %d; body %s", c.name, res.status, c.want, res.body)
			}
		}
		if got := ended.take(); len(got) != 1 || got[0].login != "sam" {
			t.Errorf("OnSessionsEnded: got %v, want sam's session", got)
		}
		if res := e.login("bob", bobPassword); res.status != http.StatusOK {
			t.Errorf("bob after refused deletes: got status %d, want 200", res.status)
		}
	})

	t.Run("delete-login-sets-the-agent-offline", func(t *testing.T) {
		e, _ := loginEnv(t, envOptions{})
		e.mustLogin("alice", alicePassword)
		e.available("alice")
		e.must(http.StatusNoContent, "DELETE", "/api/v1/logins/alice", "")
		if a, _ := e.router.Snapshot().Agent("alice"); a.State != router.AgentOffline {
			t.Errorf("alice after her login was deleted: %s, want offline", a.State)
		}
	})
}
