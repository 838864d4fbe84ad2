package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Password limits.
const (
	// MinPasswordLen is the fewest characters a new password may have.
	MinPasswordLen = 10
	// MaxPasswordBytes is the longest password bcrypt takes, in bytes.
	MaxPasswordBytes = 72
)

// Limits of SessionOptions.BcryptCost.
const (
	minBcryptCost = bcrypt.MinCost
	maxBcryptCost = 16
)

// ErrWeakPassword is wrapped by CheckPassword's error.
var ErrWeakPassword = errors.New("api: password refused")

// CheckPassword returns nil if password may be set: at least
// MinPasswordLen characters and at most MaxPasswordBytes bytes. Its error
// wraps ErrWeakPassword and says what is wanted, never the password.
func CheckPassword(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: %d characters; want at least %d", ErrWeakPassword, n, MinPasswordLen)
	case len(password) > MaxPasswordBytes:
		return fmt.Errorf("%w: %d bytes; want at most %d (bcrypt ignores the rest)", ErrWeakPassword, len(password), MaxPasswordBytes)
	}
	return nil
}

// HashPassword checks password with CheckPassword and returns its bcrypt
// hash of the given cost (0 means DefaultBcryptCost).
func HashPassword(password string, cost int) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("api: hash password: %w", err)
	}
	return string(h), nil
}

// passwordRequest is the body of PUT /api/v1/logins/{id}/password.
type passwordRequest struct {
	Password string `json:"password"`
	// Role is "agent" or "supervisor".
	Role string `json:"role"`
}

func (s *Server) putLoginPassword(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	// A login's id is an agent's or a supervisor's: a name, by the
	// router's rule.
	if err := router.ValidateName("", "login id", id); err != nil {
		return invalidf("%s", err.Message)
	}
	var req passwordRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := missing("password", req.Password, "role", req.Role); err != nil {
		return err
	}
	_, isAgent := s.router.Snapshot().Agent(id)
	switch req.Role {
	case config.RoleAgent:
		if !isAgent {
			return notFoundf("agent %q does not exist; an agent login needs the agent (PUT /api/v1/agents/{id}) first", id)
		}
	case config.RoleSupervisor:
		if isAgent {
			return conflictf("%q is an agent; a supervisor login needs an id that no agent has", id)
		}
	default:
		return invalidf("field \"role\": %q: want \"agent\" or \"supervisor\"", req.Role)
	}
	if err := CheckPassword(req.Password); err != nil {
		return invalidf("field \"password\": %s", strings.TrimPrefix(err.Error(), ErrWeakPassword.Error()+": "))
	}
	hash, err := HashPassword(req.Password, s.sessions.cost)
	if err != nil {
		return internal("hash password", err)
	}
	ctx := r.Context()
	if err := s.store.SetCredential(ctx, store.Credential{LoginID: id, Hash: hash, Role: req.Role, UpdatedAt: s.sessions.now()}); err != nil {
		return internal("set credential", err)
	}
	s.forgetDummyHash()
	ended, err := s.store.DeleteSessions(ctx, id)
	if err != nil {
		return internal("end sessions", err)
	}
	p, _ := PrincipalFrom(ctx)
	s.log.Info("api: password set", "login", id, "role", req.Role, "by", p.Name, "sessions_ended", len(ended))
	if err := s.signedOut(ctx, id, ended); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteLogin(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	ctx := r.Context()
	existed, ended, err := s.store.DeleteLogin(ctx, id)
	if err != nil {
		return internal("delete login", err)
	}
	if !existed && len(ended) == 0 {
		return notFoundf("login %q does not exist", id)
	}
	s.forgetDummyHash()
	p, _ := PrincipalFrom(ctx)
	s.log.Info("api: login deleted", "login", id, "by", p.Name, "sessions_ended", len(ended))
	if err := s.signedOut(ctx, id, ended); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
