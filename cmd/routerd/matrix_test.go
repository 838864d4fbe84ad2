package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/config"
)

// The principals of the authorization matrix.
const (
	anonymous     = "anonymous"
	badToken      = "bad token"
	integration   = "integration"
	supToken      = "supervisor token"
	supSession    = "supervisor session"
	admin         = "admin"
	agentA        = "agent A session"
	agentB        = "agent B session"
	chatCustomerA = "chat customer A"
	chatCustomerB = "chat customer B"
	metricsToken  = "metrics token"
)

var principals = []string{anonymous, badToken, integration, supToken, supSession, admin, agentA, agentB, chatCustomerA, chatCustomerB, metricsToken}

// Token secrets of the matrix's daemon.
const (
	matrixAdmin       = "matrix-admin-token-0123456789abcdef"
	matrixSupervisor  = "matrix-supervisor-token-0123456789abcdef"
	matrixIntegration = "matrix-integration-token-0123456789abcdef"
	matrixMetrics     = "matrix-metrics-token-0123456789abcdef"
)

// want is a route's expected status per principal: the roles it names
// get their status; every other principal is refused as the API refuses
// it (401 without a valid credential, 403 with one of another role).
type want map[string]int

// tokenless are the principals without an API credential: a chat
// customer's conversation token opens the chat, nothing else.
var tokenless = []string{anonymous, badToken, chatCustomerA, chatCustomerB}

func (w want) of(p string) int {
	if s, ok := w[p]; ok {
		return s
	}
	if slices.Contains(tokenless, p) {
		return http.StatusUnauthorized
	}
	return http.StatusForbidden
}

// all gives every principal status.
func all(status int) want {
	w := want{}
	for _, p := range principals {
		w[p] = status
	}
	return w
}

// grant gives status to each of ps, on top of w.
func (w want) grant(status int, ps ...string) want {
	out := want{}
	for k, v := range w {
		out[k] = v
	}
	for _, p := range ps {
		out[p] = status
	}
	return out
}

var (
	admins    = []string{admin}
	staff     = []string{admin, supToken, supSession}
	everyone  = []string{admin, supToken, supSession, integration}
	creators  = []string{admin, integration}
	sessions  = []string{supSession, agentA, agentB}
	allAgents = []string{agentA, agentB}
)

// matrixRow is one route: the request the matrix sends (ids filled in by
// the test: {contact} is agent A's assigned contact) and who gets what.
type matrixRow struct {
	pattern string
	method  string
	path    string
	body    string
	want    want
}

// TestAuthorizationMatrix sends a request to every route of routerd (the
// API's, listed by api.Server.Routes, and the daemon's own, listed by its
// route table) as each kind of principal and checks the status. A route
// without a row fails the test: a new route needs its rule here.
//
// State-changing requests carry a body that fails to decode ("{"), or
// name an id that does not exist: a principal the route allows gets 400
// or 404 from the handler, one it refuses gets 401 or 403 before the
// handler runs, and nothing changes for the rows that follow. An agent
// session reaches only its own agent and contacts: the other agent's are
// 404, as if they did not exist.
func TestAuthorizationMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon in process")
	}
	srv, in := startMatrixDaemon(t)
	creds := map[string]string{
		badToken:     "Bearer not-a-token-at-all-0123456789",
		integration:  "Bearer " + matrixIntegration,
		supToken:     "Bearer " + matrixSupervisor,
		admin:        "Bearer " + matrixAdmin,
		metricsToken: "Bearer " + matrixMetrics,
	}
	creds[supSession] = "Bearer " + login(t, srv.URL, "sam")
	aliceToken := login(t, srv.URL, "alice")
	creds[agentA] = "Bearer " + aliceToken
	creds[agentB] = "Bearer " + login(t, srv.URL, "bob")

	// Agent A's contact: alice available (her desktop open), bob away,
	// an API contact offered to alice and accepted for her.
	drain(agentSocket(t, srv.URL, aliceToken))
	mcall(t, srv.URL, matrixAdmin, "PUT", "/api/v1/agents/bob/state", `{"state":"away"}`, nil)
	mcall(t, srv.URL, matrixAdmin, "PUT", "/api/v1/agents/alice/state", `{"state":"available"}`, nil)
	var c struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		AgentID string `json:"agent_id"`
	}
	mcall(t, srv.URL, matrixAdmin, "POST", "/api/v1/contacts", `{"channel":"api","queue":"billing","body":"hello"}`, &c)
	if c.AgentID != "alice" {
		t.Fatalf("the contact went to %q (%s), want alice", c.AgentID, c.State)
	}
	mcall(t, srv.URL, matrixAdmin, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`, nil)
	creds[chatCustomerA] = "Bearer " + chatToken(t, srv.URL, "a@example.com")
	creds[chatCustomerB] = "Bearer " + chatToken(t, srv.URL, "b@example.com")

	ok := http.StatusOK
	bad := http.StatusBadRequest
	none := http.StatusNotFound
	// Agent A's own contact: agent A passes, agent B does not see it.
	scoped := func(status int, roles ...string) want {
		return want{}.grant(status, roles...).grant(status, agentA).grant(none, agentB)
	}
	rows := []matrixRow{
		{"GET /healthz", "GET", "/healthz", "", all(ok)},
		{"GET /readyz", "GET", "/readyz", "", all(ok)},
		{"POST /api/v1/login", "POST", "/api/v1/login", "{", all(bad)},
		{"GET /api/v1/me", "GET", "/api/v1/me", "", want{}.grant(ok, everyone...).grant(ok, allAgents...)},
		{"PUT /api/v1/logins/{id}/password", "PUT", "/api/v1/logins/alice/password", "{", want{}.grant(bad, admins...)},
		{"DELETE /api/v1/logins/{id}", "DELETE", "/api/v1/logins/nobody", "", want{}.grant(none, admins...)},

		{"GET /api/v1/agents", "GET", "/api/v1/agents", "", want{}.grant(ok, staff...)},
		// Another agent's agent is forbidden (agents' ids are no secret).
		{"GET /api/v1/agents/{id}", "GET", "/api/v1/agents/alice", "", scoped(ok, staff...).grant(http.StatusForbidden, agentB)},
		{"GET /api/v1/agents/{id}/states", "GET", "/api/v1/agents/alice/states", "", scoped(ok, staff...).grant(http.StatusForbidden, agentB)},
		{"PUT /api/v1/agents/{id}", "PUT", "/api/v1/agents/alice", "{", want{}.grant(bad, admins...)},
		{"DELETE /api/v1/agents/{id}", "DELETE", "/api/v1/agents/nobody", "", want{}.grant(none, admins...)},
		{"PUT /api/v1/agents/{id}/state", "PUT", "/api/v1/agents/alice/state", "{", scoped(bad, staff...).grant(http.StatusForbidden, agentB)},

		{"GET /api/v1/canned-responses", "GET", "/api/v1/canned-responses", "", want{}.grant(ok, everyone...).grant(ok, allAgents...)},
		{"PUT /api/v1/canned-responses/{id}", "PUT", "/api/v1/canned-responses/greeting-x", "{", want{}.grant(bad, admins...)},
		{"DELETE /api/v1/canned-responses/{id}", "DELETE", "/api/v1/canned-responses/nothing", "", want{}.grant(none, admins...)},
		{"GET /api/v1/reports/queues", "GET", "/api/v1/reports/queues", "", want{}.grant(bad, staff...)},
		{"GET /api/v1/reports/agents", "GET", "/api/v1/reports/agents", "", want{}.grant(bad, staff...)},
		{"GET /api/v1/queues", "GET", "/api/v1/queues", "", want{}.grant(ok, everyone...).grant(ok, allAgents...)},
		{"GET /api/v1/queues/{name}", "GET", "/api/v1/queues/billing", "", want{}.grant(ok, everyone...).grant(ok, allAgents...)},
		{"PUT /api/v1/queues/{name}", "PUT", "/api/v1/queues/billing", "{", want{}.grant(bad, admins...)},
		{"DELETE /api/v1/queues/{name}", "DELETE", "/api/v1/queues/nowhere", "", want{}.grant(none, admins...)},

		{"POST /api/v1/contacts", "POST", "/api/v1/contacts", "{", want{}.grant(bad, creators...)},
		{"GET /api/v1/contacts", "GET", "/api/v1/contacts", "", want{}.grant(ok, everyone...).grant(ok, allAgents...)},
		{"GET /api/v1/contacts/{id}", "GET", "/api/v1/contacts/{contact}", "", scoped(ok, everyone...)},
		{"GET /api/v1/contacts/{id}/screen-pop", "GET", "/api/v1/contacts/{contact}/screen-pop", "", scoped(ok, everyone...)},
		{"POST /api/v1/contacts/{id}/accept", "POST", "/api/v1/contacts/{contact}/accept", "{", scoped(bad, staff...)},
		{"POST /api/v1/contacts/{id}/decline", "POST", "/api/v1/contacts/{contact}/decline", "{", scoped(bad, staff...)},
		{"POST /api/v1/contacts/{id}/wrapup", "POST", "/api/v1/contacts/{contact}/wrapup", "{", scoped(bad, staff...)},
		{"POST /api/v1/contacts/{id}/close", "POST", "/api/v1/contacts/{contact}/close", "{", scoped(bad, staff...)},
		{"POST /api/v1/contacts/{id}/tags", "POST", "/api/v1/contacts/{contact}/tags", "{", scoped(bad, staff...)},
		{"POST /api/v1/contacts/{id}/transfer", "POST", "/api/v1/contacts/{contact}/transfer", "{", scoped(bad, staff...)},
		{"POST /api/v1/contacts/{id}/abandon", "POST", "/api/v1/contacts/{contact}/abandon", "{", want{}.grant(bad, everyone...)},
		{"POST /api/v1/contacts/{id}/messages", "POST", "/api/v1/contacts/{contact}/messages", "{", scoped(bad, everyone...)},
		// Supervisors (and admins) take over and write to the customer;
		// an agent, even on its own contact, may not.
		{"POST /api/v1/contacts/{id}/takeover", "POST", "/api/v1/contacts/{contact}/takeover", "{", want{}.grant(bad, staff...)},
		{"POST /api/v1/contacts/{id}/takeover/messages", "POST", "/api/v1/contacts/{contact}/takeover/messages", "{", want{}.grant(bad, staff...)},

		// Files: anyone who may write a message uploads (no name: 400);
		// one no message of the contact carries is 404 to all.
		{"POST /api/v1/attachments", "POST", "/api/v1/attachments", "", want{}.grant(bad, everyone...).grant(bad, allAgents...)},
		{"GET /api/v1/contacts/{id}/attachments/{sha256}", "GET", "/api/v1/contacts/{contact}/attachments/" + strings.Repeat("0", 64), "",
			want{}.grant(none, everyone...).grant(none, allAgents...)},

		// An email's HTML: none for a message that has none.
		{"GET /api/v1/contacts/{id}/messages/{seq}/html", "GET", "/api/v1/contacts/{contact}/messages/1/html", "",
			want{}.grant(none, everyone...).grant(none, allAgents...)},

		{"PUT /api/v1/customers/{id}", "PUT", "/api/v1/customers/ada", "{", want{}.grant(bad, creators...)},
		{"GET /api/v1/customers/{id}", "GET", "/api/v1/customers/nobody", "", want{}.grant(none, everyone...)},
		{"GET /api/v1/customers/{id}/export", "GET", "/api/v1/customers/nobody/export", "", want{}.grant(none, everyone...)},
		{"GET /api/v1/customers/{id}/timeline", "GET", "/api/v1/customers/nobody/timeline", "", want{}.grant(none, everyone...)},
		{"DELETE /api/v1/customers/{id}", "DELETE", "/api/v1/customers/nobody", "", want{}.grant(none, creators...)},

		{"GET /api/v1/offers", "GET", "/api/v1/offers", "", want{}.grant(ok, everyone...)},
		{"GET /api/v1/offers/{id}", "GET", "/api/v1/offers/savings", "", want{}.grant(ok, everyone...)},
		{"PUT /api/v1/offers/{id}", "PUT", "/api/v1/offers/savings", "{", want{}.grant(bad, admins...)},
		{"DELETE /api/v1/offers/{id}", "DELETE", "/api/v1/offers/nothing", "", want{}.grant(none, admins...)},
		{"GET /api/v1/webhooks", "GET", "/api/v1/webhooks", "", want{}.grant(ok, admins...)},
		{"GET /api/v1/webhooks/{id}", "GET", "/api/v1/webhooks/nothing", "", want{}.grant(none, admins...)},
		{"PUT /api/v1/webhooks/{id}", "PUT", "/api/v1/webhooks/nothing", "{", want{}.grant(bad, admins...)},
		{"DELETE /api/v1/webhooks/{id}", "DELETE", "/api/v1/webhooks/nothing", "", want{}.grant(none, admins...)},

		// The daemon's own routes: pages and WebSockets.
		{"GET /{$}", "GET", "/", "", all(http.StatusFound)},
		{"GET /agent/", "GET", "/agent/", "", all(ok)},
		{"/chat/", "GET", "/chat/", "", all(ok)},
		{"GET /ws/agent", "WS", "/ws/agent", "", all(http.StatusUnauthorized).grant(http.StatusSwitchingProtocols, allAgents...)},
		{"/ws/chat", "WS", "/ws/chat", "", all(http.StatusSwitchingProtocols)},
		{"GET /metrics", "GET", "/metrics", "", want{}.grant(ok, append(staff, metricsToken)...)},
		{"GET /dashboard/", "GET", "/dashboard/", "", all(ok)},
		{"GET /ws/dashboard", "WS", "/ws/dashboard", "", want{}.grant(http.StatusSwitchingProtocols, staff...)},
		// Public: Twilio's webhooks. No credential of ours opens them,
		// only Twilio's signature (channels/sms's tests): 403 to all.
		{"POST /webhooks/twilio/sms", "POST", "/webhooks/twilio/sms", "{", all(http.StatusForbidden)},
		{"POST /webhooks/twilio/status", "POST", "/webhooks/twilio/status", "{", all(http.StatusForbidden)},

		// Last: it ends the sessions it is sent with. A configured token
		// has nothing to log out of.
		{"POST /api/v1/logout", "POST", "/api/v1/logout", "", want{}.grant(http.StatusNoContent, sessions...)},
	}

	// Every route has a row, and every row a route.
	var routes []string
	for _, r := range in.routes.api.Routes() {
		routes = append(routes, r.Pattern)
	}
	routes = append(routes, in.routes.patterns...)
	var covered []string
	for _, r := range rows {
		covered = append(covered, r.pattern)
	}
	for _, r := range routes {
		if !slices.Contains(covered, r) {
			t.Errorf("route %q has no row in the authorization matrix: add who may use it", r)
		}
	}
	for _, r := range covered {
		if !slices.Contains(routes, r) {
			t.Errorf("row %q names no route", r)
		}
	}

	for _, r := range rows {
		path := strings.ReplaceAll(r.path, "{contact}", c.ID)
		for _, p := range principals {
			got := send(t, srv.URL, r.method, path, r.body, creds[p])
			if w := r.want.of(p); got != w {
				t.Errorf("%s %s as %s: got %d, want %d", r.method, r.path, p, got, w)
			}
		}
	}
}

// startMatrixDaemon starts routerd in process on its demo configuration
// with a supervisor and an integration token, behind an httptest server.
// demoIn returns the demo configuration with its data in a temporary
// directory and the matrix's admin token, for a test that starts
// routerd in process.
func demoIn(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Demo()
	dir := t.TempDir()
	cfg.DataDir = dir
	cfg.Store.Path = filepath.Join(dir, config.DefaultDBFile)
	cfg.Auth.AdminToken = matrixAdmin
	return cfg
}

func startMatrixDaemon(t *testing.T) (*httptest.Server, *instance) {
	t.Helper()
	cfg := demoIn(t)
	cfg.Auth.Tokens = append(cfg.Auth.Tokens,
		config.TokenConfig{Name: "matrix-supervisor", Role: config.RoleSupervisor, Token: matrixSupervisor},
		config.TokenConfig{Name: "matrix-crm", Role: config.RoleIntegration, Token: matrixIntegration},
		config.TokenConfig{Name: "matrix-prometheus", Role: config.RoleMetrics, Token: matrixMetrics})
	// The SMS channel on, so that its routes are in the matrix.
	cfg.Twilio.AuthToken, cfg.PublicURL = "matrixtwiliotoken0123456789", "http://matrix.example.com"
	ctx, cancel := context.WithCancel(context.Background())
	in, err := start(ctx, cfg, false, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := httptest.NewServer(in.routes)
	t.Cleanup(func() {
		srv.Close()
		in.Close()
		cancel()
	})
	return srv, in
}

// send makes one request as the principal with the Authorization header
// auth (none when empty) and returns the status; "WS" dials a WebSocket.
func send(t *testing.T, base, method, path, body, auth string) int {
	t.Helper()
	h := http.Header{}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	if method == "WS" {
		ws, resp, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+path, h)
		if ws != nil {
			ws.Close()
		}
		if resp == nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		return resp.StatusCode
	}
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// mcall makes a request as token that must succeed, decoding into out.
func mcall(t *testing.T, base, token, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// login signs in a demo login and returns its session token.
func login(t *testing.T, base, id string) string {
	t.Helper()
	var s struct{ Token string }
	mcall(t, base, "", "POST", "/api/v1/login", `{"id":"`+id+`","password":"`+id+`-demo"}`, &s)
	return s.Token
}

// chatToken starts a chat as a customer with email and returns the
// conversation's token.
func chatToken(t *testing.T, base, email string) string {
	t.Helper()
	typ, data := chatStart(t, base, map[string]any{"name": "Someone", "email": email, "topic": "billing", "message": "hello", "leave_message": true})
	token, _ := data["token"].(string)
	if typ != "started" || token == "" {
		t.Fatalf("start: got %s %v, want started with a token", typ, data)
	}
	return token
}
