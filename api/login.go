package api

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// loginFailed is the one answer to a wrong login id or password.
const loginFailed = "wrong login id or password"

// loginRequest is the body of POST /api/v1/login.
type loginRequest struct {
	ID       string `json:"id"`
	Password string `json:"password"`
}

// loginResponse is the answer to a successful login.
type loginResponse struct {
	// Token is the session token: a bearer token for clients other than
	// browsers, which use the cookie set with it.
	Token     string    `json:"token"`
	Role      string    `json:"role"`
	AgentID   string    `json:"agent_id,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// dummyHash returns a bcrypt hash of a random password that a login
// with an unknown id is compared against, so that it takes as long as one
// with a wrong password: its cost is the one most of the stored hashes
// have (the higher of a tie), whichever way they were set (the API, the
// configuration, routerd passwd), or the server's cost if none is
// stored. It is made again after a password is set through the API.
func (s *Server) dummyHash(ctx context.Context) ([]byte, error) {
	s.dummyMu.Lock()
	defer s.dummyMu.Unlock()
	if s.dummy != nil {
		return s.dummy, nil
	}
	hashes, err := s.store.CredentialHashes(ctx)
	if err != nil {
		return nil, internal("read credential hashes", err)
	}
	cost := s.sessions.cost
	count := map[int]int{}
	for _, h := range hashes {
		c, err := bcrypt.Cost([]byte(h))
		if err != nil {
			continue
		}
		count[c]++
		if n := count[c]; n > count[cost] || n == count[cost] && c > cost {
			cost = c
		}
	}
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	dummy, err := bcrypt.GenerateFromPassword(pw, cost)
	if err != nil {
		return nil, internal("make dummy hash", err)
	}
	s.dummy = dummy
	return dummy, nil
}

// forgetDummyHash makes dummyHash make the hash again, after the stored
// hashes changed.
func (s *Server) forgetDummyHash() {
	s.dummyMu.Lock()
	s.dummy = nil
	s.dummyMu.Unlock()
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := missing("id", req.ID, "password", req.Password); err != nil {
		return err
	}
	if len(req.ID) > router.MaxNameLen {
		// No login has such an id: refused before it is counted, so that
		// the limiter keeps nothing of it.
		return errorf(http.StatusUnauthorized, codeUnauthorized, loginFailed)
	}
	now := s.sessions.now()
	addr := clientaddr.LimitKey(clientAddr(r))
	addrKey := s.limiter.key(AddressFailures*s.sessions.maxFailures, "addr", addr)
	pairKey := s.limiter.key(s.sessions.maxFailures, "addr+id", addr, req.ID)
	if wait, ok := s.limiter.begin(now, addrKey, pairKey); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return errorf(http.StatusTooManyRequests, codeTooManyRequests,
			"too many failed logins from this address; retry in %d s", secs)
	}
	outcome := attemptUncounted
	defer func() {
		end := s.sessions.now()
		s.limiter.end(end, pairKey, outcome)
		if outcome == attemptSucceeded {
			// A success forgives the address nothing: its other
			// failures may be someone else's guesses.
			outcome = attemptUncounted
		}
		s.limiter.end(end, addrKey, outcome)
	}()
	ctx := r.Context()
	cred, err := s.store.Credential(ctx, req.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		dummy, err := s.dummyHash(ctx)
		if err != nil {
			return err
		}
		_ = bcrypt.CompareHashAndPassword(dummy, []byte(req.Password))
		outcome = attemptFailed
		return errorf(http.StatusUnauthorized, codeUnauthorized, loginFailed)
	case err != nil:
		return internal("read credential", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(cred.Hash), []byte(req.Password)) != nil {
		outcome = attemptFailed
		return errorf(http.StatusUnauthorized, codeUnauthorized, loginFailed)
	}
	if cred.Role == config.RoleAgent {
		if _, ok := s.router.Snapshot().Agent(req.ID); !ok {
			s.log.Info("api: login refused: the agent no longer exists", "login", req.ID)
			outcome = attemptFailed
			return errorf(http.StatusUnauthorized, codeUnauthorized, loginFailed)
		}
	}
	outcome = attemptSucceeded

	token, hash, err := newSessionToken()
	if err != nil {
		return internal("new session", err)
	}
	sess := store.Session{TokenHash: hash, LoginID: req.ID, Role: cred.Role, CreatedAt: now, ExpiresAt: now.Add(s.sessions.ttl)}
	if _, err := s.store.DeleteExpiredSessions(ctx, now); err != nil {
		return internal("delete expired sessions", err)
	}
	ended, err := s.store.ReplaceSessions(ctx, sess)
	if err != nil {
		return internal("create session", err)
	}
	s.log.Info("api: login", "login", req.ID, "role", cred.Role, "session", sess.ID(), "replaced", ended)
	s.sessionsEnded(req.ID, ended)
	setSessionCookie(w, r, token)
	res := loginResponse{Token: token, Role: cred.Role, ExpiresAt: sess.ExpiresAt}
	if cred.Role == config.RoleAgent {
		res.AgentID = req.ID
	}
	return writeJSON(w, http.StatusOK, res)
}

// clientAddr is the address of the request's client, as ServeHTTP
// resolved it (Options.ClientAddr): behind trusted proxies the client's,
// not the proxy's; otherwise the host of the peer.
func clientAddr(r *http.Request) string {
	if c, ok := r.Context().Value(clientKey{}).(client); ok {
		return c.addr
	}
	return clientaddr.Peer(r)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	if p.SessionID == "" {
		return errorf(http.StatusForbidden, codeForbidden,
			"%s is a configured API token, not a login session; there is nothing to log out of", p.describe())
	}
	if _, err := s.store.DeleteSession(r.Context(), p.tokenHash); err != nil {
		return internal("delete session", err)
	}
	s.log.Info("api: logout", "login", p.Name, "session", p.SessionID)
	if err := s.signedOut(r.Context(), p.Name, []string{p.SessionID}); err != nil {
		return err
	}
	setSessionCookie(w, r, "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	return writeJSON(w, http.StatusOK, p)
}
