package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	tests := []struct {
		name       string
		notStarted bool
		closeStore bool
		path       string
		wantStatus int
		wantBody   string
	}{
		{"healthz", false, false, "/healthz", http.StatusOK, `{"status":"ok"}`},
		{"healthz-not-ready", true, false, "/healthz", http.StatusOK, `{"status":"ok"}`},
		{"ready", false, false, "/readyz", http.StatusOK, `"status":"ok"`},
		{"router-not-started", true, false, "/readyz", http.StatusServiceUnavailable, `"router":"not running: not started"`},
		{"store-closed", false, true, "/readyz", http.StatusServiceUnavailable, `"store":"not answering"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, envOptions{notStarted: tt.notStarted})
			if tt.closeStore {
				if err := e.db.Close(); err != nil {
					t.Fatalf("close store: %v", err)
				}
			}
			res := e.do("GET", tt.path, "", "")
			if res.status != tt.wantStatus || !strings.Contains(string(res.body), tt.wantBody) {
				t.Errorf("got %d %s, want %d with %s", res.status, res.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// A failing component shows in /readyz's details without making the
// daemon unready.
func TestReadyDetails(t *testing.T) {
	e := newEnvWith(t, envOptions{readyDetails: func() map[string]any {
		return map[string]any{"email": []map[string]string{{"name": "sales", "state": "failing", "error": "login refused"}}}
	}})
	res := e.do("GET", "/readyz", "", "")
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"details":{"email":[{"error":"login refused","name":"sales","state":"failing"}]}`) {
		t.Errorf("got %d %s, want 200 with the failing mailbox in details", res.status, res.body)
	}
}
