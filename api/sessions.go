package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Session defaults.
const (
	// DefaultSessionTTL is how long a session lasts when
	// SessionOptions.TTL is zero.
	DefaultSessionTTL = config.DefaultSessionTTL
	// DefaultBcryptCost is the bcrypt cost of the password hashes the
	// server makes when SessionOptions.BcryptCost is zero.
	DefaultBcryptCost = 12
	// DefaultMaxFailures is how many failed logins in a row, each within
	// DefaultFailureWindow of the previous one, a login id may have from
	// one client address before further attempts from there wait (429):
	// FailureWindow, doubling with each further failure. A client address
	// may have AddressFailures times as many, whatever the login ids.
	DefaultMaxFailures = 5
	// DefaultFailureWindow is the window of DefaultMaxFailures, and the
	// first wait after them.
	DefaultFailureWindow = time.Minute
	// AddressFailures is how many times MaxFailures a client address may
	// have over all login ids: people behind one address (an office)
	// mistype their own passwords.
	AddressFailures = 4
)

// sessionCookie is the name of the session cookie of browsers.
const sessionCookie = "sb_session"

// sessionTokenBytes is the entropy of a session token; its text is the
// unpadded base64url of these bytes.
const sessionTokenBytes = 32

// sessionTokenLen is the length of a session token's text.
var sessionTokenLen = base64.RawURLEncoding.EncodedLen(sessionTokenBytes)

// SessionOptions configure password logins and their sessions. A nil
// *SessionOptions means the defaults.
type SessionOptions struct {
	// TTL is how long a session lasts; 0 means DefaultSessionTTL.
	TTL time.Duration
	// BcryptCost is the cost of the hashes PUT /api/v1/logins/{id}/password
	// makes; 0 means DefaultBcryptCost. Tests lower it (bcrypt.MinCost is
	// 4); production keeps the default.
	BcryptCost int
	// MaxFailures and FailureWindow rate-limit failed logins per client
	// address and login id, and per client address (AddressFailures times
	// MaxFailures); 0 means DefaultMaxFailures and DefaultFailureWindow.
	MaxFailures   int
	FailureWindow time.Duration
	// Now is the clock of session expiry and of the rate limit; nil means
	// time.Now.
	Now func() time.Time
}

// sessionConfig is SessionOptions with the defaults applied.
type sessionConfig struct {
	ttl         time.Duration
	cost        int
	maxFailures int
	window      time.Duration
	now         func() time.Time
}

func newSessionConfig(o *SessionOptions) (sessionConfig, error) {
	c := sessionConfig{ttl: DefaultSessionTTL, cost: DefaultBcryptCost, maxFailures: DefaultMaxFailures,
		window: DefaultFailureWindow, now: time.Now}
	if o == nil {
		return c, nil
	}
	switch {
	case o.TTL < 0:
		return c, fmt.Errorf("api: options: Sessions.TTL %s: want 0 (the default, %s) or more", o.TTL, DefaultSessionTTL)
	case o.BcryptCost != 0 && (o.BcryptCost < minBcryptCost || o.BcryptCost > maxBcryptCost):
		return c, fmt.Errorf("api: options: Sessions.BcryptCost %d: want 0 (the default, %d) or %d to %d", o.BcryptCost, DefaultBcryptCost, minBcryptCost, maxBcryptCost)
	case o.MaxFailures < 0 || o.FailureWindow < 0:
		return c, errors.New("api: options: Sessions.MaxFailures and FailureWindow must not be negative")
	}
	if o.TTL > 0 {
		c.ttl = o.TTL
	}
	if o.BcryptCost > 0 {
		c.cost = o.BcryptCost
	}
	if o.MaxFailures > 0 {
		c.maxFailures = o.MaxFailures
	}
	if o.FailureWindow > 0 {
		c.window = o.FailureWindow
	}
	if o.Now != nil {
		c.now = o.Now
	}
	return c, nil
}

// newSessionToken returns a new random session token and its hash.
func newSessionToken() (token, hash string, err error) {
	b := make([]byte, sessionTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("random: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token), nil
}

// tokenHash is what the store keeps of a session token: its hex SHA-256.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// looksLikeSession reports whether token could be a session token, so
// that other strings cost no store lookup.
func looksLikeSession(token string) bool {
	if len(token) != sessionTokenLen {
		return false
	}
	for i := 0; i < len(token); i++ {
		c := token[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// sessionPrincipal returns the principal of a session token.
func (s *Server) sessionPrincipal(ctx context.Context, token string) (Principal, *httpError) {
	if !looksLikeSession(token) {
		return Principal{}, errorf(http.StatusUnauthorized, codeUnauthorized, "unknown session; log in again")
	}
	sess, err := s.store.Session(ctx, tokenHash(token))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Principal{}, errorf(http.StatusUnauthorized, codeUnauthorized, "unknown or ended session; log in again")
	case err != nil:
		return Principal{}, internal("read session", err)
	case !s.sessions.now().Before(sess.ExpiresAt):
		return Principal{}, errorf(http.StatusUnauthorized, codeUnauthorized, "session expired; log in again")
	}
	p := Principal{Name: sess.LoginID, Role: sess.Role, SessionID: sess.ID(), ExpiresAt: sess.ExpiresAt, tokenHash: sess.TokenHash}
	switch sess.Role {
	case config.RoleAgent:
		p.AgentID = sess.LoginID
	case config.RoleSupervisor:
	default:
		return Principal{}, internal("read session", fmt.Errorf("session %s has unknown role %q", sess.ID(), sess.Role))
	}
	return p, nil
}

// signedOut ends what the sessions ids of loginID were doing (they are
// deleted): the desktops are told (sessionsEnded), and an agent login
// signs the agent out (router.AgentSignedOut), as a logout, a password
// set and a deleted login all do: the agent takes no more contacts (an
// offer ringing goes to the next agent at once) and the assigned ones
// return to their queues unless the agent is back within the grace.
func (s *Server) signedOut(ctx context.Context, loginID string, ids []string) error {
	s.sessionsEnded(loginID, ids)
	if len(ids) == 0 {
		return nil
	}
	if _, isAgent := s.router.Snapshot().Agent(loginID); !isAgent {
		return nil
	}
	if _, err := s.router.AgentSignedOut(ctx, loginID); err != nil && !errors.Is(err, router.ErrNoAgent) {
		return routerError(err)
	}
	return nil
}

// sessionsEnded tells Options.OnSessionsEnded, if any, that sessions of
// loginID ended.
func (s *Server) sessionsEnded(loginID string, ids []string) {
	if s.onSessionsEnded != nil && len(ids) > 0 {
		s.onSessionsEnded(loginID, ids)
	}
}

// setSessionCookie sets (token non-empty) or clears the session cookie,
// Secure as ServeHTTP resolved it (Options.SecureCookie), or when r came
// over TLS.
func setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	secure := r.TLS != nil
	if cl, ok := r.Context().Value(clientKey{}).(client); ok {
		secure = cl.secure
	}
	c := &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}
