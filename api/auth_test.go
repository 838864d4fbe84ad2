package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/config"
)

func TestAuthMatrix(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.must(http.StatusCreated, "PUT", "/api/v1/queues/spare", `{}`)
	// Live contacts for the actions, one per row that needs one.
	live := map[string]string{}
	for _, name := range []string{"abandon-admin", "abandon-sup", "abandon-int", "abandon-none", "close-admin", "close-sup", "close-int"} {
		live[name] = e.create(`{"channel":"api","queue":"billing"}`).ID
	}
	const (
		agentBody   = `{"name":"Carol","skills":{"billing":3}}`
		contactBody = `{"channel":"api","queue":"billing"}`
		messageBody = `{"direction":"in","body":"hello"}`
	)
	tokens := map[string]string{"admin": adminToken, "sup": supervisorToken, "int": integrationToken, "none": "", "bad": "not-a-token"}

	tests := []struct {
		who    string
		method string
		path   string
		body   string
		want   int
	}{
		{"none", "GET", "/healthz", "", http.StatusOK},
		{"none", "GET", "/readyz", "", http.StatusOK},
		{"none", "GET", "/api/v1/agents", "", http.StatusUnauthorized},
		{"bad", "GET", "/api/v1/agents", "", http.StatusUnauthorized},
		{"none", "GET", "/api/v1/no-such-thing", "", http.StatusUnauthorized},
		{"none", "POST", "/api/v1/contacts", contactBody, http.StatusUnauthorized},

		{"admin", "GET", "/api/v1/agents", "", http.StatusOK},
		{"sup", "GET", "/api/v1/agents", "", http.StatusOK},
		{"int", "GET", "/api/v1/agents", "", http.StatusForbidden},
		{"sup", "GET", "/api/v1/agents/alice", "", http.StatusOK},
		{"int", "GET", "/api/v1/agents/alice", "", http.StatusForbidden},

		{"admin", "PUT", "/api/v1/agents/carol", agentBody, http.StatusCreated},
		{"sup", "PUT", "/api/v1/agents/dave", agentBody, http.StatusForbidden},
		{"int", "PUT", "/api/v1/agents/erin", agentBody, http.StatusForbidden},
		{"sup", "DELETE", "/api/v1/agents/bob", "", http.StatusForbidden},
		{"int", "DELETE", "/api/v1/agents/bob", "", http.StatusForbidden},

		{"admin", "PUT", "/api/v1/agents/alice/state", `{"state":"away","reason":"lunch"}`, http.StatusOK},
		{"sup", "PUT", "/api/v1/agents/alice/state", `{"state":"offline"}`, http.StatusOK},
		{"int", "PUT", "/api/v1/agents/alice/state", `{"state":"available"}`, http.StatusForbidden},

		{"admin", "PUT", "/api/v1/queues/q-admin", `{}`, http.StatusCreated},
		{"sup", "PUT", "/api/v1/queues/q-sup", `{}`, http.StatusForbidden},
		{"int", "PUT", "/api/v1/queues/q-int", `{}`, http.StatusForbidden},
		{"sup", "DELETE", "/api/v1/queues/spare", "", http.StatusForbidden},
		{"int", "DELETE", "/api/v1/queues/spare", "", http.StatusForbidden},
		{"admin", "GET", "/api/v1/queues", "", http.StatusOK},
		{"sup", "GET", "/api/v1/queues", "", http.StatusOK},
		{"int", "GET", "/api/v1/queues", "", http.StatusOK},
		{"int", "GET", "/api/v1/queues/billing", "", http.StatusOK},

		{"admin", "POST", "/api/v1/contacts", contactBody, http.StatusCreated},
		{"sup", "POST", "/api/v1/contacts", contactBody, http.StatusForbidden},
		{"int", "POST", "/api/v1/contacts", contactBody, http.StatusCreated},
		{"admin", "GET", "/api/v1/contacts", "", http.StatusOK},
		{"sup", "GET", "/api/v1/contacts", "", http.StatusOK},
		{"int", "GET", "/api/v1/contacts", "", http.StatusOK},
		{"int", "GET", "/api/v1/contacts/" + live["close-int"], "", http.StatusOK},

		{"admin", "POST", "/api/v1/contacts/" + live["abandon-admin"] + "/abandon", "", http.StatusOK},
		{"sup", "POST", "/api/v1/contacts/" + live["abandon-sup"] + "/abandon", "", http.StatusOK},
		{"int", "POST", "/api/v1/contacts/" + live["abandon-int"] + "/abandon", "", http.StatusOK},
		{"none", "POST", "/api/v1/contacts/" + live["abandon-none"] + "/abandon", "", http.StatusUnauthorized},
		{"admin", "POST", "/api/v1/contacts/" + live["close-admin"] + "/close", "", http.StatusOK},
		{"sup", "POST", "/api/v1/contacts/" + live["close-sup"] + "/close", "", http.StatusOK},
		{"int", "POST", "/api/v1/contacts/" + live["close-int"] + "/close", "", http.StatusForbidden},
		{"int", "POST", "/api/v1/contacts/" + live["close-int"] + "/accept", `{"agent_id":"alice"}`, http.StatusForbidden},
		{"int", "POST", "/api/v1/contacts/" + live["close-int"] + "/transfer", `{"agent_id":"alice","queue":"spare"}`, http.StatusForbidden},
		{"admin", "POST", "/api/v1/contacts/" + live["close-int"] + "/messages", messageBody, http.StatusCreated},
		{"sup", "POST", "/api/v1/contacts/" + live["close-int"] + "/messages", messageBody, http.StatusCreated},
		{"int", "POST", "/api/v1/contacts/" + live["close-int"] + "/messages", messageBody, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.who+" "+tt.method+" "+tt.path, func(t *testing.T) {
			before := e.state()
			res := e.do(tt.method, tt.path, tokens[tt.who], tt.body)
			if res.status != tt.want {
				t.Fatalf("got status %d, want %d; %s", res.status, tt.want, res.body)
			}
			switch tt.want {
			case http.StatusUnauthorized:
				if got := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate: got %q, want Bearer", got)
				}
			case http.StatusForbidden:
				if !strings.Contains(string(res.body), `"code":"forbidden"`) || !strings.Contains(string(res.body), "allowed roles") {
					t.Errorf("body: got %s, want a forbidden error naming the allowed roles", res.body)
				}
			}
			if tt.want == http.StatusUnauthorized || tt.want == http.StatusForbidden {
				if e.state() != before {
					t.Errorf("a refused request changed the state")
				}
			}
		})
	}
}

func TestLogsNamePrincipalNotTokenOrBody(t *testing.T) {
	e := newEnv(t)
	e.seed()
	const secretBody = "card number 4111-1111-1111-1111"
	e.do("POST", "/api/v1/contacts", integrationToken, `{"channel":"api","queue":"billing","body":"`+secretBody+`"}`)
	e.do("GET", "/api/v1/agents", "wrong-token-1234", "")
	logs := e.logs.String()
	for _, leak := range []string{adminToken, supervisorToken, integrationToken, "wrong-token-1234", secretBody} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs contain %q:\n%s", leak, logs)
		}
	}
	for _, want := range []string{`"principal":"crm"`, `"role":"integration"`, `"path":"/api/v1/contacts"`, `"status":201`, `"status":401`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		tokens []config.Token
		want   string
	}{
		{"no-tokens", nil, "no tokens"},
		{"unnamed", []config.Token{{Role: config.RoleAdmin, Secret: "s1"}}, "name is empty"},
		{"same-name", []config.Token{{Name: "a", Role: config.RoleAdmin, Secret: "s1"}, {Name: "a", Role: config.RoleAdmin, Secret: "s2"}}, "used twice"},
		{"bad-role", []config.Token{{Name: "a", Role: "root", Secret: "s1"}}, `role "root"`},
		{"no-secret", []config.Token{{Name: "a", Role: config.RoleAdmin}}, "secret is empty"},
		{"same-secret", []config.Token{{Name: "a", Role: config.RoleAdmin, Secret: "s1"}, {Name: "b", Role: config.RoleIntegration, Secret: "s1"}}, "same secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{Router: e.router, Store: e.db, Tokens: tt.tokens})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "api: ") {
				t.Errorf("got %v, want an api: error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "s1") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

// TestCrossOrigin: a request that changes state with the session cookie
// must come from the server's own pages; bearer tokens and reads are not
// checked. A refused request changes nothing.
func TestCrossOrigin(t *testing.T) {
	e, _ := loginEnv(t, envOptions{})
	s := e.mustLogin("alice", alicePassword)
	own := e.srv.URL // a page of the server: its origin
	cookie := "sb_session=" + s.Token
	tests := []struct {
		name    string
		method  string
		token   string
		headers []string
		want    int
	}{
		{"fetch-same-origin", "PUT", "", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Origin", own}, http.StatusOK},
		{"origin-only-own", "PUT", "", []string{"Cookie", cookie, "Origin", own}, http.StatusOK},
		{"origin-host-case", "PUT", "", []string{"Cookie", cookie, "Origin", strings.ToUpper(own)}, http.StatusOK},
		{"cross-site", "PUT", "", []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"same-site-other-origin", "PUT", "", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-site", "Origin", "http://other.localhost"}, http.StatusForbidden},
		{"sec-fetch-site-wins-over-origin", "PUT", "", []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Origin", own}, http.StatusForbidden},
		{"user-typed", "PUT", "", []string{"Cookie", cookie, "Sec-Fetch-Site", "none"}, http.StatusForbidden},
		{"foreign-origin", "PUT", "", []string{"Cookie", cookie, "Origin", "https://evil.example"}, http.StatusForbidden},
		{"null-origin", "PUT", "", []string{"Cookie", cookie, "Origin", "null"}, http.StatusForbidden},
		{"no-origin", "PUT", "", []string{"Cookie", cookie}, http.StatusForbidden},
		{"bearer-session-no-origin", "PUT", s.Token, nil, http.StatusOK},
		{"bearer-session-foreign-origin", "PUT", s.Token, []string{"Origin", "https://crm.example"}, http.StatusOK},
		{"cookie-read-no-origin", "GET", "", []string{"Cookie", cookie}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := "away"
			if tt.want != http.StatusOK {
				state = "available"
			}
			before := e.state()
			body := ""
			if tt.method == "PUT" {
				body = `{"state":"` + state + `"}`
			}
			path := "/api/v1/agents/alice"
			if tt.method == "PUT" {
				path += "/state"
			}
			res := e.do(tt.method, path, tt.token, body, tt.headers...)
			if res.status != tt.want {
				t.Fatalf("got status %d, want %d; body %s", res.status, tt.want, res.body)
			}
			if tt.want == http.StatusForbidden {
				if msg := decodeAs[apiError](t, res).Error.Message; !strings.HasPrefix(msg, "cross-origin request refused") {
					t.Errorf("message: got %q", msg)
				}
				if after := e.state(); after != before {
					t.Errorf("a refused request changed the state")
				}
			}
		})
	}
	// The logout of the desktop, as a browser sends it.
	res := e.do("POST", "/api/v1/logout", "", "", "Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Origin", own)
	if res.status != http.StatusNoContent {
		t.Errorf("logout from the desktop: got status %d, want 204; body %s", res.status, res.body)
	}
}
