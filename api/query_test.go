package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// TestTimeRangeOneRule: the reports and an agent's state history read
// from and to by one rule (timeRange): the same bad time is refused by
// each in the same words; only the reports require both.
func TestTimeRangeOneRule(t *testing.T) {
	e := newEnv(t)
	e.seed()
	routes := []string{"/api/v1/reports/queues", "/api/v1/reports/agents", "/api/v1/agents/alice/states"}
	const from, to = "2026-03-02T00:00:00+01:00", "2026-03-02T06:00:00Z"
	tests := []struct {
		name     string
		from, to string
		message  string // "" when taken
		optional bool   // taken by the route that does not require both
	}{
		{"a range", from, to, "", false},
		{"from not a time", "yesterday", to, `query parameter "from": "yesterday" is not an RFC 3339 time (such as 2026-03-02T00:00:00+01:00)`, false},
		{"to a date only", from, "2026-03-02", `query parameter "to": "2026-03-02" is not an RFC 3339 time (such as 2026-03-02T00:00:00+01:00)`, false},
		{"to without its offset", from, "2026-03-02T06:00:00", `query parameter "to": "2026-03-02T06:00:00" is not an RFC 3339 time (such as 2026-03-02T00:00:00+01:00)`, false},
		{"no to", from, "", `query parameter "to" is required (RFC 3339, such as 2026-03-02T00:00:00+01:00)`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, route := range routes {
				q := url.Values{"from": {tt.from}}
				if tt.to != "" {
					q.Set("to", tt.to)
				}
				res := e.do("GET", route+"?"+q.Encode(), adminToken, "")
				required := route != "/api/v1/agents/alice/states"
				if tt.message == "" || tt.optional && !required {
					if res.status != http.StatusOK {
						t.Errorf("%s: got %d %s, want 200", route, res.status, res.body)
					}
					continue
				}
				var got apiError
				json.Unmarshal(res.body, &got)
				if res.status != http.StatusBadRequest || got.Error.Message != tt.message {
					t.Errorf("%s: got %d %s, want 400 %q", route, res.status, res.body, tt.message)
				}
			}
		})
	}
}

// TestQueryOneRule: every route with a query takes its parameters by one
// rule (queryParams: each known, each once) and reads a page size by one
// rule (pageLimit), in the same words. A contact's page of messages took
// messages_after twice, using the first.
func TestQueryOneRule(t *testing.T) {
	e := newEnv(t)
	e.seed()
	c := decodeAs[router.Contact](t, e.must(http.StatusCreated, "POST", "/api/v1/contacts", `{"channel":"api","queue":"billing","body":"hi"}`))
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada", `{"name":"Ada"}`)
	for _, tt := range []struct {
		name, path, message string
	}{
		{"contacts-unknown", "/api/v1/contacts?since=x", `unknown query parameter "since"; valid: state, channel, queue, customer, tag, limit, cursor`},
		{"contact-unknown", "/api/v1/contacts/" + c.ID + "?since=x", `unknown query parameter "since"; valid: messages_after`},
		{"contact-twice", "/api/v1/contacts/" + c.ID + "?messages_after=1&messages_after=2", `query parameter "messages_after" is given 2 times; give it once`},
		{"contacts-twice", "/api/v1/contacts?queue=a&queue=b", `query parameter "queue" is given 2 times; give it once`},
		{"contacts-limit", "/api/v1/contacts?limit=0", `query parameter "limit": "0": want an integer from 1 to 500 (default 50)`},
		{"states-limit", "/api/v1/agents/alice/states?limit=0", `query parameter "limit": "0": want an integer from 1 to 1000 (default 1000)`},
		{"timeline-limit", "/api/v1/customers/ada/timeline?limit=0", `query parameter "limit": "0": want an integer from 1 to 100 (default 20)`},
		{"customer-limit", "/api/v1/customers/ada?timeline_limit=x", `query parameter "timeline_limit": "x": want an integer from 1 to 100 (default 20)`},
		// The reports' own rule of a range, its message as it is, not
		// found by trimming the text of an error.
		{"report-backwards", "/api/v1/reports/queues?from=2026-03-02T06:00:00Z&to=2026-03-02T00:00:00Z", `to (2026-03-02T00:00:00Z) is not after from (2026-03-02T06:00:00Z)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("GET", tt.path, adminToken, "")
			var got apiError
			json.Unmarshal(res.body, &got)
			if res.status != http.StatusBadRequest || got.Error.Message != tt.message {
				t.Errorf("got %d %s, want 400 %q", res.status, res.body, tt.message)
			}
		})
	}
}
