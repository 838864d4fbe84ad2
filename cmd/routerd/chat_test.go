package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
	data := filepath.Join(t.TempDir(), "data")
	d := startDaemon(t, "-listen", "127.0.0.1:0", "-data", data)
	tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(string(tok))
	do := func(method, path string, body, out any) {
		t.Helper()
		code, err := callAs(admin, d.base, method, path, body, out)
		if err != nil || code >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, code, err)
		}
	}
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
	var login struct {
		Token string `json:"token"`
	}
	if code, err := callAs("", d.base, "POST", "/api/v1/login", map[string]string{"id": "alice", "password": "alice-demo"}, &login); err != nil || code != 200 {
		t.Fatalf("login: %d %v", code, err)
	}
	desk, _, err := websocket.DefaultDialer.Dial(strings.Replace(d.base, "http", "ws", 1)+"/ws/agent",
		http.Header{"Authorization": {"Bearer " + login.Token}})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	readUntil(t, desk, "snapshot")
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

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
