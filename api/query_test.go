package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
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
