package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// epoch is where every test's manual clock starts: a Monday, 09:00 UTC.
var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// readBound bounds every socket read; it only turns a hang into a failure.
const readBound = 10 * time.Second

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// env is a real router over a real SQLite store, with the chat channel
// served by httptest.
type env struct {
	t      testing.TB
	clock  *router.ManualClock
	router *router.Router
	db     *store.DB
	chat   *Channel
	srv    *httptest.Server
	fw     *forward
	// ro and o are the router's and the chat's options, for restart.
	ro router.Options
	o  Options
}

// forward lets the router notify a channel built after it, and an
// outbox dispatcher when a test adds one.
type forward struct {
	p   atomic.Pointer[Channel]
	out atomic.Pointer[outbox.Dispatcher]
}

func (f *forward) Notify(ns []router.Notification) {
	if c := f.p.Load(); c != nil {
		c.Notify(ns)
	}
	if d := f.out.Load(); d != nil {
		d.Notify(ns)
	}
}

func newEnv(t testing.TB, tune func(o *Options)) *env {
	t.Helper()
	return newEnvRouter(t, router.Options{}, tune)
}

// newEnvRouter is newEnv with the router's options ro (its clock and
// notifier are the env's).
func newEnvRouter(t testing.TB, ro router.Options, tune func(o *Options)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "switchboard.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	clock := router.NewManualClock(epoch)
	fw := &forward{}
	ro.Clock, ro.Notifier = clock, fw
	rt, err := router.New(db, &ro)
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("router.Start: %v", err)
	}
	t.Cleanup(rt.Close)
	for _, q := range []router.Queue{
		{Name: "billing", Requirements: []router.Requirement{{Skill: "billing", Min: 1}}},
		{Name: "sales", Requirements: []router.Requirement{{Skill: "sales", Min: 1}}},
		{Name: "backoffice"},
	} {
		if _, err := rt.PutQueue(ctx, q); err != nil {
			t.Fatalf("PutQueue: %v", err)
		}
	}
	o := Options{
		Router: rt, Store: db, Secret: testSecret, Clock: clock.Now,
		Topics: []Topic{
			{ID: "billing", Label: "Billing", Queue: "billing", OfflineQueue: "backoffice"},
			{ID: "sales", Label: "Sales", Queue: "sales"},
		},
		AllowedOrigins: []string{"https://shop.example.com"},
		// Generous limits unless a test tunes them.
		ConversationsPerMinute: 1000,
		MessagesPer10s:         1000,
		// Every change's standings at once (TestStandingsArePaced
		// tests the pace).
		StandingsEvery: time.Nanosecond,
		Logger:         slog.New(slog.DiscardHandler),
	}
	if tune != nil {
		tune(&o)
	}
	ch, err := New(o)
	if err != nil {
		t.Fatalf("chat.New: %v", err)
	}
	fw.p.Store(ch)
	srv := httptest.NewServer(ch.Handler())
	t.Cleanup(func() {
		ch.Close()
		srv.Close()
	})
	return &env{t: t, clock: clock, router: rt, db: db, chat: ch, srv: srv, fw: fw, ro: ro, o: o}
}

// restart stops the chat and the router, and starts new ones over the
// same store, as a routerd restart does: the customers' sockets close,
// and e.dial reaches the new chat.
func (e *env) restart() {
	e.t.Helper()
	e.chat.Close()
	e.srv.Close()
	e.router.Close()
	ro := e.ro
	rt, err := router.New(e.db, &ro)
	if err != nil {
		e.t.Fatalf("router.New: %v", err)
	}
	if err := rt.Start(context.Background()); err != nil {
		e.t.Fatalf("router.Start: %v", err)
	}
	e.t.Cleanup(rt.Close)
	o := e.o
	o.Router, o.Intake = rt, nil
	ch, err := New(o)
	if err != nil {
		e.t.Fatalf("chat.New: %v", err)
	}
	e.fw.p.Store(ch)
	srv := httptest.NewServer(ch.Handler())
	e.t.Cleanup(func() {
		ch.Close()
		srv.Close()
	})
	e.router, e.chat, e.srv = rt, ch, srv
}

// acceptedChat starts a chat of ada's that alice (available, one chat
// at a time) accepts, and returns its socket and conversation.
func (e *env) acceptedChat() (*client, conversationData) {
	e.t.Helper()
	alice(e, 1, router.AgentAvailable)
	c := e.dial(nil)
	conv := c.start(ada)
	if _, err := e.router.Accept(context.Background(), conv.ConversationID, "alice"); err != nil {
		e.t.Fatal(err)
	}
	return c, conv
}

// agent creates an agent with skills and chat capacity in state.
func (e *env) agent(id, name string, skills map[string]int, chatCap int, state router.AgentState) {
	e.t.Helper()
	ctx := context.Background()
	if _, _, err := e.router.PutAgent(ctx, router.Agent{ID: id, Name: name, Skills: skills, Capacity: map[string]int{"chat": chatCap}}); err != nil {
		e.t.Fatalf("PutAgent: %v", err)
	}
	if state != router.AgentOffline {
		if _, err := e.router.SetAgentState(ctx, id, state, ""); err != nil {
			e.t.Fatalf("SetAgentState: %v", err)
		}
	}
}

// client is a customer's socket.
type client struct {
	t    testing.TB
	ws   *websocket.Conn
	next int
	// welcome is the first frame's data.
	welcome welcomeData
}

func (e *env) dial(header http.Header) *client {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/chat"
	ws, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		e.t.Fatalf("dial: %v (response %v)", err, resp)
	}
	e.t.Cleanup(func() { ws.Close() })
	c := &client{t: e.t, ws: ws}
	f := c.expect(typeWelcome)
	c.decode(f, &c.welcome)
	return c
}

// frame is a received envelope.
type frame struct {
	Type string          `json:"type"`
	Seq  int64           `json:"seq"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

// request sends one frame and returns its id.
func (c *client) request(typ string, data any) string {
	c.t.Helper()
	c.next++
	id := fmt.Sprintf("q%d", c.next)
	raw, err := json.Marshal(data)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.ws.WriteJSON(envelope{Type: typ, ID: id, Data: raw}); err != nil {
		c.t.Fatalf("write %s: %v", typ, err)
	}
	return id
}

// read returns the next frame.
func (c *client) read() frame {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(readBound))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

// expect reads until a frame of typ, failing on an unexpected error frame.
func (c *client) expect(typ string) frame {
	c.t.Helper()
	for {
		f := c.read()
		if f.Type == typ {
			return f
		}
		if f.Type == typeError {
			c.t.Fatalf("got error %s while waiting for %s", f.Data, typ)
		}
	}
}

// until reads frames up to and including the answer to request id and
// returns them all.
func (c *client) until(id string) []frame {
	c.t.Helper()
	var got []frame
	for {
		f := c.read()
		got = append(got, f)
		if f.ID == id && (f.Type == typeAck || f.Type == typeError || f.Type == typeStarted || f.Type == typeResumed) {
			return got
		}
	}
}

// answer reads up to the answer to id and returns it.
func (c *client) answer(id string) frame {
	c.t.Helper()
	fs := c.until(id)
	return fs[len(fs)-1]
}

func (c *client) decode(f frame, v any) {
	c.t.Helper()
	if err := json.Unmarshal(f.Data, v); err != nil {
		c.t.Fatalf("decode %s %s: %v", f.Type, f.Data, err)
	}
}

// errorCode returns the code of an error frame, failing on anything else.
func (c *client) errorCode(f frame) string {
	c.t.Helper()
	if f.Type != typeError {
		c.t.Fatalf("got %s %s, want error", f.Type, f.Data)
	}
	var d struct{ Code, Message string }
	c.decode(f, &d)
	if strings.Contains(d.Message, "router:") {
		c.t.Errorf("error %s: message %q carries the router's package prefix", d.Code, d.Message)
	}
	return d.Code
}

// start opens a conversation and returns its answer.
func (c *client) start(d startData) conversationData {
	c.t.Helper()
	f := c.answer(c.request(typeStart, d))
	if f.Type != typeStarted {
		c.t.Fatalf("start: got %s %s, want started", f.Type, f.Data)
	}
	var cd conversationData
	c.decode(f, &cd)
	return cd
}

// queueFrame reads up to the next queue frame.
func (c *client) queueFrame() queueData {
	c.t.Helper()
	var q queueData
	c.decode(c.expect(typeQueue), &q)
	return q
}

func (c *client) sendText(body, clientID string) (frame, []frame) {
	c.t.Helper()
	fs := c.until(c.request(typeSend, sendData{Body: body, ClientID: clientID}))
	return fs[len(fs)-1], fs[:len(fs)-1]
}

// messages returns the message frames among fs.
func messagesOf(t testing.TB, fs []frame) []messageData {
	t.Helper()
	var out []messageData
	for _, f := range fs {
		if f.Type == typeMessage {
			var m messageData
			if err := json.Unmarshal(f.Data, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// storedMessages returns the conversation as the store has it.
func (e *env) storedMessages(id string) []router.Message {
	e.t.Helper()
	ms, err := e.db.Messages(context.Background(), id, 0, store.MaxMessageLimit)
	if err != nil {
		e.t.Fatalf("Messages: %v", err)
	}
	return ms
}

func alice(e *env, capChat int, state router.AgentState) {
	e.agent("alice", "Alice Martin", map[string]int{"billing": 5}, capChat, state)
}

func fptr(f float64) *float64 { return &f }

func fmtQ(q queueData) string {
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(q)
	return strings.TrimSpace(b.String())
}
