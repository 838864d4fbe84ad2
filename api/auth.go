package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/config"
)

// Principal is who made a request: a configured bearer token, or a login
// session (POST /api/v1/login). The token itself is never kept.
type Principal struct {
	// Name is the token's name from the configuration, or the login id
	// of a session.
	Name string `json:"name"`
	// Role is config.RoleAdmin, config.RoleSupervisor or
	// config.RoleIntegration for a token; config.RoleAgent or
	// config.RoleSupervisor for a session. A supervisor session has the
	// rights of a supervisor token.
	Role string `json:"role"`
	// AgentID is the agent of an agent session; empty otherwise.
	AgentID string `json:"agent_id,omitempty"`
	// SessionID is the non-secret id of the session (see
	// store.SessionID); empty for a configured token.
	SessionID string `json:"session_id,omitempty"`
	// ExpiresAt is when the session ends; zero for a configured token.
	ExpiresAt time.Time `json:"expires_at,omitzero"`

	// tokenHash is the session's token hash, for logout; never written.
	tokenHash string
}

// describe names the principal in an error message: token "crm" or
// session of "alice".
func (p Principal) describe() string {
	if p.SessionID != "" {
		return fmt.Sprintf("session of %q", p.Name)
	}
	return fmt.Sprintf("token %q", p.Name)
}

// Actor names the principal on the timelines of what it does
// (router.WithActor): "sam (supervisor)", "crm (integration)",
// "alice (agent)".
func (p Principal) Actor() string { return p.Name + " (" + p.Role + ")" }

type principalKey struct{}

// PrincipalFrom returns the principal of an authenticated request's
// context; ok is false on the public routes.
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// roles is a set of token roles allowed on a route.
type roles uint8

const (
	roleAdmin roles = 1 << iota
	roleSupervisor
	roleIntegration
	// roleAgent is an agent session's: its handlers limit it to the
	// agent's own agent and contacts.
	roleAgent
	// roleMetrics is a scrape token's: no API route allows it (routerd's
	// GET /metrics does, by Scrapes).
	roleMetrics

	// Shorthands for the route table.
	adminOnly = roleAdmin
	staff     = roleAdmin | roleSupervisor
	everyone  = roleAdmin | roleSupervisor | roleIntegration
	// creators may create contacts: admins and integrations.
	creators = roleAdmin | roleIntegration
	// anyone is every role, agent sessions included.
	anyone = everyone | roleAgent
)

// roleBit returns the set holding only role, 0 for an unknown role.
func roleBit(role string) roles {
	switch role {
	case config.RoleAdmin:
		return roleAdmin
	case config.RoleSupervisor:
		return roleSupervisor
	case config.RoleIntegration:
		return roleIntegration
	case config.RoleAgent:
		return roleAgent
	case config.RoleMetrics:
		return roleMetrics
	}
	return 0
}

// Scrapes reports whether a principal may read the metrics: an admin, a
// supervisor, or a token of role metrics.
func (p Principal) Scrapes() bool {
	return (roleAdmin | roleSupervisor | roleMetrics).allows(p.Role)
}

// allows reports whether the role may use a route of the set.
func (rs roles) allows(role string) bool { return rs&roleBit(role) != 0 }

// String lists the roles of the set: "admin, supervisor".
func (rs roles) String() string { return strings.Join(rs.names(), ", ") }

// names lists the roles of the set.
func (rs roles) names() []string {
	var names []string
	for _, r := range []string{config.RoleAdmin, config.RoleSupervisor, config.RoleIntegration, config.RoleAgent, config.RoleMetrics} {
		if rs.allows(r) {
			names = append(names, r)
		}
	}
	return names
}

// credential is a token as the server keeps it: the SHA-256 of the
// secret, never the secret.
type credential struct {
	digest    [sha256.Size]byte
	principal Principal
}

// newCredentials checks tokens and keeps their digests.
func newCredentials(tokens []config.Token) ([]credential, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("api: options: no tokens; want at least the admin token")
	}
	names := map[string]bool{}
	digests := map[[sha256.Size]byte]string{}
	creds := make([]credential, 0, len(tokens))
	for i, t := range tokens {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("api: options: tokens[%d]: name is empty", i)
		case names[t.Name]:
			return nil, fmt.Errorf("api: options: tokens[%d]: name %q is used twice", i, t.Name)
		case roleBit(t.Role) == 0 || t.Role == config.RoleAgent:
			return nil, fmt.Errorf("api: options: token %q: role %q: want admin, supervisor, integration or metrics", t.Name, t.Role)
		case t.Secret == "":
			return nil, fmt.Errorf("api: options: token %q: secret is empty", t.Name)
		}
		d := sha256.Sum256([]byte(t.Secret))
		if other, dup := digests[d]; dup {
			return nil, fmt.Errorf("api: options: tokens %q and %q have the same secret", other, t.Name)
		}
		names[t.Name], digests[d] = true, t.Name
		creds = append(creds, credential{digest: d, principal: Principal{Name: t.Name, Role: t.Role}})
	}
	return creds, nil
}

// Authenticate returns the principal of r: a configured bearer token
// first, then a session token, as a bearer token or the sb_session
// cookie. Its error wraps ErrUnauthorized when r carries no valid
// credential; any other error is the store's. The WebSocket upgrade calls
// it; the API's own routes are authenticated by ServeHTTP.
func (s *Server) Authenticate(r *http.Request) (Principal, error) {
	p, err := s.authenticate(r)
	if err != nil {
		return Principal{}, err
	}
	return p, nil
}

// authenticate finds the principal of r's bearer token or session
// cookie. Every configured token is compared, in constant time, whatever
// matches; a token that is none of them is looked up as a session.
func (s *Server) authenticate(r *http.Request) (Principal, *httpError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			return s.sessionPrincipal(r.Context(), c.Value)
		}
		return Principal{}, errorf(http.StatusUnauthorized, codeUnauthorized,
			"missing bearer token: send the header \"Authorization: Bearer <token>\"")
	}
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return Principal{}, errorf(http.StatusUnauthorized, codeUnauthorized,
			"missing bearer token: send the header \"Authorization: Bearer <token>\"")
	}
	d := sha256.Sum256([]byte(token))
	var (
		found Principal
		match int
	)
	for i := range s.creds {
		if subtle.ConstantTimeCompare(d[:], s.creds[i].digest[:]) == 1 {
			found, match = s.creds[i].principal, 1
		}
	}
	if match == 1 {
		return found, nil
	}
	if looksLikeSession(token) {
		return s.sessionPrincipal(r.Context(), token)
	}
	return Principal{}, errorf(http.StatusUnauthorized, codeUnauthorized, "unknown bearer token")
}

// checkCrossOrigin refuses, with 403, a request authenticated by the
// session cookie that may change state (any method but GET, HEAD and
// OPTIONS) unless a page of the server's own origin sent it: a browser
// sends the cookie with requests that other sites' pages make (cross-site
// request forgery). Browsers say where a request comes from in
// Sec-Fetch-Site, which must be same-origin, or, older ones, in Origin,
// whose host must be the request's; a request with neither is refused.
// Requests with an Authorization header are not the browser's doing and
// are not checked.
func checkCrossOrigin(r *http.Request) *httpError {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get("Authorization") != "" {
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" {
			return nil
		}
		return errorf(http.StatusForbidden, codeForbidden,
			"cross-origin request refused: Sec-Fetch-Site is %q; a request that changes state with the session cookie must come from this server's own pages (send the session token as a bearer token otherwise)", site)
	}
	origin := r.Header.Get("Origin")
	if u, err := url.Parse(origin); origin != "" && err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return errorf(http.StatusForbidden, codeForbidden,
		"cross-origin request refused: Origin %q is not this server's; a request that changes state with the session cookie must come from this server's own pages (send the session token as a bearer token otherwise)", origin)
}
