package web

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeRouterd implements just enough of docs/protocol.md and the login API
// (docs/api.md) to drive the desktop page: it serves the page under
// /agent/, logs alice in, speaks the agent WebSocket, records every request
// the page sends and answers it like routerd would. The test pushes server
// messages (offers, customer messages) with push.
type fakeRouterd struct {
	t   *testing.T
	srv *httptest.Server
	// mux routes the fake's requests; a test may add its own.
	mux *http.ServeMux

	// requests receives every client frame, in order.
	requests chan envelope
	// conns receives the resume parameter of every socket the page opens.
	conns chan string

	mu       sync.Mutex // guards the fields below and every write to conn
	conn     *websocket.Conn
	seq      int
	sessions map[string]bool
	agent    map[string]any
	offer    map[string]any            // the offer ringing, or nil
	contacts map[string]map[string]any // contact id → ActiveContact
	msgSeq   int
}

// envelope is the frame of docs/protocol.md.
type envelope struct {
	Type string          `json:"type"`
	Seq  int             `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data"`
}

// The attachment limits the fake's snapshot tells.
const (
	fakeMaxFileBytes    = 1000
	fakeMaxMessageBytes = 1500
)

// The fake's agent and password.
const (
	fakeAgentID   = "alice"
	fakeAgentName = "Alice Martin"
	fakePassword  = "demo-alice"
)

func newFakeRouterd(t *testing.T) *fakeRouterd {
	t.Helper()
	f := &fakeRouterd{
		t:        t,
		requests: make(chan envelope, 100),
		conns:    make(chan string, 10),
		sessions: map[string]bool{},
		agent: map[string]any{
			"id": fakeAgentID, "name": fakeAgentName, "state": "available",
			"skills": map[string]int{"billing": 5}, "capacity": map[string]int{"chat": 3},
			"active": map[string]int{}, "contacts": []string{},
		},
		contacts: map[string]map[string]any{},
	}
	mux := http.NewServeMux()
	mux.Handle("GET /agent/", Handler())
	mux.HandleFunc("POST /api/v1/login", f.login)
	mux.HandleFunc("POST /api/v1/logout", f.logout)
	mux.HandleFunc("GET /api/v1/me", f.me)
	mux.HandleFunc("GET /ws/agent", f.socket)
	f.mux = mux
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.mu.Lock()
		if f.conn != nil {
			f.conn.Close()
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

// URL is the base URL of the fake daemon.
func (f *fakeRouterd) URL() string { return f.srv.URL }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (f *fakeRouterd) login(w http.ResponseWriter, r *http.Request) {
	var req struct{ ID, Password string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid", "malformed JSON")
		return
	}
	if req.ID != fakeAgentID || req.Password != fakePassword {
		apiError(w, http.StatusUnauthorized, "unauthorized", "wrong agent id or password")
		return
	}
	token := rand.Text()
	f.mu.Lock()
	f.sessions[token] = true
	agent := f.agent
	f.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "sb_session", Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{"agent": agent})
}

func (f *fakeRouterd) authenticated(r *http.Request) bool {
	c, err := r.Cookie("sb_session")
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sessions[c.Value]
}

func (f *fakeRouterd) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie("sb_session"); err == nil {
		f.mu.Lock()
		delete(f.sessions, c.Value)
		f.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: "sb_session", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeRouterd) me(w http.ResponseWriter, r *http.Request) {
	if !f.authenticated(r) {
		apiError(w, http.StatusUnauthorized, "unauthorized", "no session")
		return
	}
	f.mu.Lock()
	agent := f.agent
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"agent": agent})
}

func (f *fakeRouterd) socket(w http.ResponseWriter, r *http.Request) {
	if !f.authenticated(r) {
		apiError(w, http.StatusUnauthorized, "unauthorized", "no session")
		return
	}
	up := websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
		o := r.Header.Get("Origin")
		return o == "" || o == f.srv.URL
	}}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(64 << 10)
	f.mu.Lock()
	if f.conn != nil {
		f.conn.Close()
	}
	f.conn = conn
	f.writeLocked("snapshot", "", f.snapshotLocked())
	f.mu.Unlock()
	f.conns <- r.URL.Query().Get("resume")
	for {
		var env envelope
		if err := conn.ReadJSON(&env); err != nil {
			return
		}
		f.handle(env)
		f.requests <- env
	}
}

func (f *fakeRouterd) snapshotLocked() map[string]any {
	contacts := []map[string]any{}
	for _, c := range f.contacts {
		contacts = append(contacts, c)
	}
	var offer any
	if f.offer != nil {
		offer = f.offer
	}
	return map[string]any{
		"agent":    f.agent,
		"contacts": contacts,
		"offer":    offer,
		"dispositions": []map[string]string{
			{"code": "solved", "label": "Solved"},
			{"code": "follow_up", "label": "Follow-up needed"},
			{"code": "sale", "label": "Sale"},
		},
		"segments":            []map[string]string{{"code": "gold", "label": "Gold tier"}},
		"products":            []map[string]string{{"code": "credit_card", "label": "Credit card"}},
		"away_reasons":        []string{"break", "lunch", "meeting"},
		"sms_max_segments":    2,
		"own_email_addresses": []string{"support@example.com", "billing@example.com"},
		"attachments":         map[string]int{"max_file_bytes": fakeMaxFileBytes, "max_message_bytes": fakeMaxMessageBytes},
	}
}

// writeLocked sends one server message on the current socket; f.mu is held.
func (f *fakeRouterd) writeLocked(typ, id string, data any) {
	if f.conn == nil {
		return
	}
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	env := envelope{Type: typ, ID: id, Data: b}
	// Answers and best-effort messages are not numbered.
	if id == "" && typ != "typing" && typ != "receipt" {
		f.seq++
		env.Seq = f.seq
	}
	f.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := f.conn.WriteJSON(env); err != nil {
		f.t.Logf("fake routerd: write %s: %v", typ, err)
	}
}

// push sends a server message to the page.
func (f *fakeRouterd) push(typ string, data any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch typ {
	case "offer":
		f.offer = data.(map[string]any)
	case "offer_withdrawn", "contact_closed":
		id := data.(map[string]any)["contact_id"]
		if f.offer != nil && f.offer["contact_id"] == id {
			f.offer = nil
		}
		if typ == "contact_closed" {
			delete(f.contacts, id.(string))
		}
	}
	f.writeLocked(typ, "", data)
}

// drop closes the page's socket from the server side.
func (f *fakeRouterd) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}

// lastSeq is the seq of the last message the fake sent.
func (f *fakeRouterd) lastSeq() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

// handle answers a request from the page as routerd would.
func (f *fakeRouterd) handle(env envelope) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d map[string]any
	if err := json.Unmarshal(env.Data, &d); err != nil {
		f.writeLocked("error", env.ID, map[string]string{"code": "invalid", "message": "data: " + err.Error()})
		return
	}
	id, _ := d["contact_id"].(string)
	fail := func(code, msg string) {
		f.writeLocked("error", env.ID, map[string]string{"code": code, "message": msg})
	}
	switch env.Type {
	case "set_state":
		f.agent = clone(f.agent)
		f.agent["state"] = d["state"]
		f.agent["reason"] = d["reason"]
		f.writeLocked("ack", env.ID, map[string]any{"agent": f.agent})
		f.writeLocked("state", "", map[string]any{"agent": f.agent, "reason": "set by the agent"})
	case "accept":
		if f.offer == nil || f.offer["contact_id"] != id {
			fail("not_found", "no offer for contact "+strconv.Quote(id))
			return
		}
		pop := f.offer["screen_pop"].(map[string]any)
		contact := clone(pop["contact"].(map[string]any))
		contact["state"] = "assigned"
		ac := map[string]any{"contact": contact, "messages": pop["contact"].(map[string]any)["first_messages"], "screen_pop": pop}
		f.contacts[id] = ac
		f.offer = nil
		f.writeLocked("ack", env.ID, map[string]any{"contact": contact})
		f.writeLocked("assigned", "", ac)
	case "decline":
		if f.offer == nil || f.offer["contact_id"] != id {
			fail("not_found", "no offer for contact "+strconv.Quote(id))
			return
		}
		f.offer = nil
		f.writeLocked("ack", env.ID, map[string]any{})
	case "send":
		if f.contacts[id] == nil {
			fail("not_found", "no contact "+strconv.Quote(id))
			return
		}
		f.msgSeq++
		msg := map[string]any{"seq": 100 + f.msgSeq, "at": time.Now().UTC().Format(time.RFC3339), "direction": "out",
			"author": fakeAgentID, "body": d["body"], "client_id": d["client_id"]}
		if d["attachments"] != nil {
			msg["attachments"] = d["attachments"]
		}
		if d["cc"] != nil { // routerd names the recipients of a reply that chose its Cc
			msg["to"], msg["cc"] = []string{"ada@example.com"}, d["cc"]
		}
		f.writeLocked("ack", env.ID, map[string]any{"message": msg})
		f.writeLocked("message", "", map[string]any{"contact_id": id, "message": msg})
	case "wrapup", "close":
		ac := f.contacts[id]
		if ac == nil {
			fail("not_found", "no contact "+strconv.Quote(id))
			return
		}
		contact := clone(ac["contact"].(map[string]any))
		contact["state"] = map[string]string{"wrapup": "wrapup", "close": "closed"}[env.Type]
		contact["disposition"] = d["disposition"]
		ac = clone(ac)
		ac["contact"] = contact
		f.contacts[id] = ac
		f.writeLocked("ack", env.ID, map[string]any{"contact": contact})
		if env.Type == "wrapup" {
			f.writeLocked("contact", "", map[string]any{"contact": contact, "reason": "wrap-up 30s"})
		}
	case "transfer_targets":
		f.writeLocked("ack", env.ID, map[string]any{
			"queues": []map[string]any{{"name": "billing", "waiting": 2}, {"name": "nowhere", "waiting": 0}},
			"agents": []map[string]any{{"id": "bob", "name": "Bob Stone", "state": "available"}},
		})
	case "transfer":
		if d["queue"] == "nowhere" {
			fail("not_found", `no such queue "nowhere"`)
			return
		}
		f.writeLocked("ack", env.ID, map[string]any{})
	case "offer_outcome":
		f.writeLocked("ack", env.ID, map[string]any{})
	case "typing":
		// Best effort: no ack, an error only for a contact not alice's.
		if f.contacts[id] == nil {
			fail("not_found", "no contact "+strconv.Quote(id))
		}
	case "read":
		if f.contacts[id] == nil {
			fail("not_found", "no contact "+strconv.Quote(id))
			return
		}
		f.writeLocked("ack", env.ID, map[string]any{"up_to_seq": d["up_to_seq"]})
	default:
		fail("invalid", "unknown type "+strconv.Quote(env.Type))
	}
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// expect returns the next request of type typ the page sent, failing the
// test if none comes within the timeout. Requests of other types before it
// are logged and skipped.
func (f *fakeRouterd) expect(typ string) map[string]any {
	f.t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case env := <-f.requests:
			if env.Type != typ {
				f.t.Logf("fake routerd: skipped %s while waiting for %s", env.Type, typ)
				continue
			}
			var d map[string]any
			if err := json.Unmarshal(env.Data, &d); err != nil {
				f.t.Fatalf("%s data: %v", typ, err)
			}
			if env.ID == "" && typ != "typing" {
				f.t.Errorf("%s without a request id", typ)
			}
			return d
		case <-timeout:
			f.t.Fatalf("the page sent no %s request", typ)
		}
	}
}

// expectConn returns the resume parameter of the next socket the page opens.
func (f *fakeRouterd) expectConn() string {
	f.t.Helper()
	select {
	case resume := <-f.conns:
		return resume
	case <-time.After(15 * time.Second):
		f.t.Fatal("the page opened no socket")
		return ""
	}
}
