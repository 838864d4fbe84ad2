package main

import (
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestDeleteClosesDesktop: deleting an agent, or its login, closes the
// agent's open desktop socket at once (the API tells the hub), and the
// agent's password no longer logs in.
func TestDeleteClosesDesktop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, _, admin := startDemo(t)
	tests := []struct {
		name, agent, path string
	}{
		{"delete-agent", "alice", "/api/v1/agents/alice"},
		{"delete-login", "bob", "/api/v1/logins/bob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := d.desktop(t, tt.agent)
			d.must(t, admin, "DELETE", tt.path, nil, nil)
			readUntil(t, ws, "session_replaced")
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err := ws.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 4001 {
				t.Errorf("after session_replaced: got %v, want close 4001", err)
			}
			code, err := callAs("", d.base, "POST", "/api/v1/login", map[string]string{"id": tt.agent, "password": tt.agent + "-demo"}, nil)
			if err != nil || code != 401 {
				t.Errorf("login with the deleted password: got %d %v, want 401", code, err)
			}
		})
	}
}
