package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
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

// TestPasswdClosesSockets: routerd passwd, run beside the daemon, ends
// the login's sessions in the store; the daemon closes their sockets at
// its next check (sessionCheckEvery), a desktop's and a dashboard's,
// though no request told it.
func TestPasswdClosesSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, data, _ := startDemo(t)
	desk := d.desktop(t, "carol")
	var login struct {
		Token string `json:"token"`
	}
	d.must(t, "", "POST", "/api/v1/login", map[string]string{"id": "sam", "password": "sam-demo"}, &login)
	board, _, err := websocket.DefaultDialer.Dial(strings.Replace(d.base, "http", "ws", 1)+"/ws/dashboard",
		http.Header{"Authorization": {"Bearer " + login.Token}})
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()

	for _, p := range []struct{ role, login, password string }{{"agent", "carol", "carols-new-password"}, {"supervisor", "sam", "sams-new-password"}} {
		withStdin(t, p.password+"\n")
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), []string{"passwd", "-data", data, "-role", p.role, p.login}, &stdout, &stderr); err != nil {
			t.Fatalf("passwd %s: %v\n%s", p.login, err, stderr.String())
		}
	}
	readUntil(t, desk, "session_replaced")
	for name, ws := range map[string]*websocket.Conn{"carol's desktop": desk, "sam's dashboard": board} {
		ws.SetReadDeadline(time.Now().Add(3 * sessionCheckEvery))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) {
					t.Errorf("%s: got %v, want it closed by the daemon", name, err)
				}
				break
			}
		}
	}
	code, err := callAs(login.Token, d.base, "GET", "/api/v1/me", nil, nil)
	if err != nil || code != http.StatusUnauthorized {
		t.Errorf("sam's old session: GET /api/v1/me %d %v, want 401", code, err)
	}
}
