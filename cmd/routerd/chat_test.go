package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

type frame struct {
	Type string          `json:"type"`
	Seq  int             `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// readUntil reads frames until one of type typ; the deadline only bounds
// a failure.
func readUntil(t *testing.T, ws *websocket.Conn, typ string) frame {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if f.Type == typ {
			return f
		}
		if f.Type == "error" {
			t.Fatalf("waiting for %s: error %s", typ, f.Data)
		}
	}
}

// TestChatThroughTheDaemon checks the web chat as routerd serves it on
// its demo configuration: a customer starts a chat, it is routed to the
// available agent, and the agent's reply reaches the customer.
func TestChatThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, _, admin := startDemo(t)
	do := func(method, path string, body, out any) {
		t.Helper()
		d.must(t, admin, method, path, body, out)
	}
	d.desktop(t, "alice")
	do("PUT", "/api/v1/agents/alice/state", map[string]string{"state": "available"}, nil)

	for _, page := range []string{"/chat/", "/chat/widget.js", "/agent/"} {
		resp, err := http.Get(d.base + page)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", page, resp.Status, err)
		}
		resp.Body.Close()
	}

	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(d.base, "http", "ws", 1)+"/ws/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	readUntil(t, ws, "welcome")
	start := map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "topic": "billing", "message": "Charged twice"}
	if err := ws.WriteJSON(frame{Type: "start", ID: "1", Data: mustJSON(start)}); err != nil {
		t.Fatal(err)
	}
	var conv struct {
		ConversationID string `json:"conversation_id"`
	}
	if err := json.Unmarshal(readUntil(t, ws, "started").Data, &conv); err != nil || conv.ConversationID == "" {
		t.Fatalf("started: %v %+v", err, conv)
	}
	var c contactReply
	do("GET", "/api/v1/contacts/"+conv.ConversationID, nil, &c)
	if c.State != "offered" || c.AgentID != "alice" {
		t.Fatalf("chat contact: %s with %q, want offered to alice", c.State, c.AgentID)
	}
	// Alice logs in and opens her desktop's socket, then accepts.
	desk := d.desktop(t, "alice")
	if err := desk.WriteJSON(frame{Type: "accept", ID: "a1", Data: mustJSON(map[string]string{"contact_id": c.ID})}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, desk, "ack")
	readUntil(t, ws, "assigned")

	// Typing crosses both ways through routerd.
	if err := ws.WriteJSON(frame{Type: "typing", Data: mustJSON(map[string]any{})}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, desk, "typing")
	if err := desk.WriteJSON(frame{Type: "typing", Data: mustJSON(map[string]string{"contact_id": c.ID})}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "typing")
	do("POST", "/api/v1/contacts/"+c.ID+"/messages", map[string]string{"direction": "out", "author": "alice", "body": "Refunded."}, nil)
	var m struct {
		Body, Direction, Author string
	}
	for m.Body != "Refunded." {
		if err := json.Unmarshal(readUntil(t, ws, "message").Data, &m); err != nil {
			t.Fatal(err)
		}
	}
	if m.Direction != "out" || m.Author != "Alice Martin" {
		t.Errorf("reply: direction %q author %q, want out from Alice Martin", m.Direction, m.Author)
	}
}

// startDemo runs routerd on its demo configuration with a new data
// directory; it returns the daemon, the directory and the admin token the
// daemon wrote there.
func startDemo(t *testing.T) (d *daemon, data, admin string) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "data")
	d = startDaemon(t, "-listen", "127.0.0.1:0", "-data", data)
	tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return d, data, strings.TrimSpace(string(tok))
}

// must calls d's API as token and fails the test unless the answer is a
// success (below 300), decoded into out.
func (d *daemon) must(t *testing.T, token, method, path string, body, out any) {
	t.Helper()
	if code, err := callAs(token, d.base, method, path, body, out); err != nil || code >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, code, err)
	}
}

// desktop logs agent in with its demo password and opens its desktop
// socket, read up to the snapshot; the socket is closed with the test.
func (d *daemon) desktop(t *testing.T, agent string) *websocket.Conn {
	t.Helper()
	var login struct {
		Token string `json:"token"`
	}
	d.must(t, "", "POST", "/api/v1/login", map[string]string{"id": agent, "password": agent + "-demo"}, &login)
	return agentSocket(t, d.base, login.Token)
}

// agentSocket opens the agent desktop's WebSocket with a login session's
// token and reads its snapshot: the agent is present, and may be made
// available (only an agent with a desktop takes contacts).
func agentSocket(t *testing.T, base, token string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/ws/agent",
		http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	readUntil(t, ws, "snapshot")
	return ws
}

// drain reads ws until it closes, for a desktop whose frames the test
// does not read: a socket that is not read would be dropped as too slow.
func drain(ws *websocket.Conn) {
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestChatResumesAcrossRestart: a customer's conversation survives a
// restart of routerd: the token still opens it (its key is kept in the
// data directory), the history comes back once, and a resent message
// (same client id) is not stored twice.
func TestChatResumesAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, data, admin := startDemo(t)
	// Someone is online for support, so the chat is live.
	d.desktop(t, "carol")
	d.must(t, admin, "PUT", "/api/v1/agents/carol/state", map[string]string{"state": "available"}, nil)
	wsURL := func(d *daemon) string { return strings.Replace(d.base, "http", "ws", 1) + "/ws/chat" }
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(d), nil)
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "welcome")
	start := map[string]any{"name": "Ada", "email": "ada@example.com", "topic": "support", "message": "My router blinks red"}
	if err := ws.WriteJSON(frame{Type: "start", ID: "1", Data: mustJSON(start)}); err != nil {
		t.Fatal(err)
	}
	var conv struct {
		ConversationID string `json:"conversation_id"`
		Token          string `json:"token"`
	}
	if err := json.Unmarshal(readUntil(t, ws, "started").Data, &conv); err != nil || conv.Token == "" {
		t.Fatalf("started: %v %+v", err, conv)
	}
	send := frame{Type: "send", ID: "2", Data: mustJSON(map[string]string{"body": "Still blinking", "client_id": "c-1"})}
	if err := ws.WriteJSON(send); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ack")
	ws.Close()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.wait(); err != nil {
		t.Fatalf("routerd after SIGTERM: %v", err)
	}

	d2 := startDaemon(t, "-listen", "127.0.0.1:0", "-data", data)
	ws2, _, err := websocket.DefaultDialer.Dial(wsURL(d2), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	readUntil(t, ws2, "welcome")
	resume := frame{Type: "resume", ID: "3", Data: mustJSON(map[string]any{"conversation_id": conv.ConversationID, "token": conv.Token, "last_seq": 0})}
	if err := ws2.WriteJSON(resume); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws2, "resumed")
	var bodies []string
	for len(bodies) < 2 {
		var m struct{ Body string }
		if err := json.Unmarshal(readUntil(t, ws2, "message").Data, &m); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, m.Body)
	}
	if bodies[0] != "My router blinks red" || bodies[1] != "Still blinking" {
		t.Fatalf("history after restart: %q", bodies)
	}
	// The widget resends what it had not seen acknowledged: no duplicate.
	send.ID = "4"
	if err := ws2.WriteJSON(send); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws2, "ack")
	var c struct {
		Messages []struct{ Body string } `json:"messages"`
	}
	if code, err := callAs(admin, d2.base, "GET", "/api/v1/contacts/"+conv.ConversationID, nil, &c); err != nil || code != 200 {
		t.Fatalf("get contact: %d %v", code, err)
	}
	if len(c.Messages) != 2 {
		t.Fatalf("stored messages: %+v, want 2 (no duplicate)", c.Messages)
	}
}
