package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

// readTimeout bounds every wait for a message: a failure bound, never a
// synchronisation.
const readTimeout = 10 * time.Second

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is a real router over a real SQLite store, a hub, and an HTTP
// server for it.
type env struct {
	t     testing.TB
	ctx   context.Context
	db    *store.DB
	clock *router.ManualClock
	rt    *router.Router
	hub   *Hub
	srv   *httptest.Server
}

// testAuth reads "Authorization: Bearer <agent>:<session>", or
// "<agent>:<session>:<expiry in Unix seconds>"; anything else is refused.
func testAuth(r *http.Request) (string, string, time.Time, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", "", time.Time{}, errors.New("no session")
	}
	agent, session, ok := strings.Cut(tok, ":")
	if !ok {
		return "", "", time.Time{}, errors.New("bad token")
	}
	session, exp, ok := strings.Cut(session, ":")
	if !ok {
		return agent, session, time.Time{}, nil
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return "", "", time.Time{}, errors.New("bad expiry")
	}
	return agent, session, time.Unix(secs, 0), nil
}

// awayReasons are the test desktop's reason codes of away.
var awayReasons = []string{"lunch", "break"}

func newEnv(t testing.TB, notifier ...router.Notifier) *env {
	t.Helper()
	return newEnvWith(t, nil, notifier...)
}

// newEnvWith is newEnv with a hook to change the hub's options.
func newEnvWith(t testing.TB, configure func(*Options), notifier ...router.Notifier) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	e := &env{t: t, ctx: ctx, db: db, clock: router.NewManualClock(epoch)}
	var hubNotifier router.Notifier = router.NotifierFunc(func(ns []router.Notification) { e.hub.Notify(ns) })
	if len(notifier) > 0 {
		hubNotifier = notifier[0]
	}
	e.rt, err = router.New(db, &router.Options{
		Clock: e.clock, Notifier: hubNotifier,
		OfferTimeout: map[string]time.Duration{"chat": 30 * time.Second, "email": 2 * time.Minute},
		// As routerd: the router holds the hub's list (config.RouterOptions).
		AwayReasons: awayReasons,
	})
	if err != nil {
		t.Fatalf("new router: %v", err)
	}
	o := &Options{
		Router: e.rt, Store: db, Authenticate: testAuth,
		AllowedOrigins: []string{"https://crm.example.com"},
		Dispositions:   []config.Disposition{{Code: "resolved", Label: "Resolved"}, {Code: "callback", Label: "Call back"}},
		AwayReasons:    awayReasons,
		Clock:          e.clock.Now,
		AfterFunc:      e.clock.AfterFunc,
	}
	if configure != nil {
		configure(o)
	}
	e.hub, err = NewHub(o)
	if err != nil {
		t.Fatalf("new hub: %v", err)
	}
	if err := e.rt.Start(ctx); err != nil {
		t.Fatalf("start router: %v", err)
	}
	e.srv = httptest.NewServer(e.hub)
	t.Cleanup(func() {
		e.hub.Close()
		e.srv.Close()
		e.rt.Close()
		db.Close()
	})
	if _, err := e.rt.PutQueue(ctx, router.Queue{Name: "billing", Requirements: []router.Requirement{{Skill: "billing", Min: 1}}}); err != nil {
		t.Fatalf("put queue: %v", err)
	}
	if _, err := e.rt.PutQueue(ctx, router.Queue{Name: "sales"}); err != nil {
		t.Fatalf("put queue: %v", err)
	}
	return e
}

// agent defines an agent with the billing skill.
func (e *env) agent(id string) {
	e.t.Helper()
	if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Skills: map[string]int{"billing": 3}}); err != nil {
		e.t.Fatalf("put agent %s: %v", id, err)
	}
}

// submit creates a contact.
func (e *env) submit(nc router.NewContact) router.Contact {
	e.t.Helper()
	if nc.Channel == "" {
		nc.Channel = "chat"
	}
	if nc.Queue == "" {
		nc.Queue = "billing"
	}
	c, _, err := e.rt.Submit(e.ctx, nc)
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	return c
}

func (e *env) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/agent" + query
}

// client is an agent's socket, as a desktop would hold it.
type client struct {
	t    testing.TB
	ws   *websocket.Conn
	last uint64 // the last seq read
	n    int    // request ids
	// pending are messages read while waiting for an answer, returned
	// by the next reads.
	pending []msg
	// all is every frame read from the socket, in order.
	all [][]byte
}

// msg is a server message.
type msg struct {
	Type string          `json:"type"`
	Seq  uint64          `json:"seq"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
	raw  []byte
}

func (e *env) dial(agent, session, query string) *client {
	e.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + agent + ":" + session}}
	ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(query), h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial as %s: %v (status %d)", agent, err, status)
	}
	c := &client{t: e.t, ws: ws}
	e.t.Cleanup(func() { ws.Close() })
	return c
}

// connect dials and reads the snapshot.
func (e *env) connect(agent, session string) (*client, snapshotView) {
	e.t.Helper()
	c := e.dial(agent, session, "")
	m := c.expect(msgSnapshot)
	var s snapshotView
	decode(e.t, m, &s)
	return c, s
}

// read returns the next message, failing after readTimeout.
func (c *client) read() msg {
	c.t.Helper()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m
	}
	return c.readSocket()
}

// readSocket reads the next frame from the socket and checks that seqs
// have no gaps.
func (c *client) readSocket() msg {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(readTimeout))
	typ, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		c.t.Fatalf("got frame type %d, want text", typ)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("decode %s: %v", b, err)
	}
	m.raw = b
	c.all = append(c.all, b)
	if m.Seq != 0 {
		if c.last != 0 && m.Seq != c.last+1 && m.Type != msgSnapshot {
			c.t.Fatalf("got seq %d after %d, want %d (%s)", m.Seq, c.last, c.last+1, b)
		}
		c.last = m.Seq
	}
	return m
}

// expect reads until a message of type typ, skipping others, and returns
// it.
func (c *client) expect(typ string) msg {
	c.t.Helper()
	for {
		if m := c.read(); m.Type == typ {
			return m
		}
	}
}

// expectFor reads until a message of type typ about contactID.
func (c *client) expectFor(typ, contactID string) msg {
	c.t.Helper()
	for {
		m := c.read()
		if m.Type != typ {
			continue
		}
		var d struct {
			ContactID string `json:"contact_id"`
			Contact   struct {
				ID string `json:"id"`
			} `json:"contact"`
		}
		decode(c.t, m, &d)
		if d.ContactID == contactID || d.Contact.ID == contactID {
			return m
		}
	}
}

// request sends a request and returns its answer (ack or error),
// skipping the messages in between.
func (c *client) request(typ string, data any) msg {
	c.t.Helper()
	c.n++
	id := fmt.Sprintf("%s-%d", typ, c.n)
	b, err := json.Marshal(map[string]any{"type": typ, "id": id, "data": data})
	if err != nil {
		c.t.Fatalf("encode: %v", err)
	}
	c.sendRaw(b)
	for {
		m := c.readSocket()
		if (m.Type == msgAck || m.Type == msgError) && m.ID == id {
			return m
		}
		c.pending = append(c.pending, m)
	}
}

// ok sends a request that must be acked.
func (c *client) ok(typ string, data any) msg {
	c.t.Helper()
	m := c.request(typ, data)
	if m.Type != msgAck {
		c.t.Fatalf("%s: got %s %s, want ack", typ, m.Type, m.Data)
	}
	return m
}

// fails sends a request that must fail with code.
func (c *client) fails(typ string, data any, code string) {
	c.t.Helper()
	m := c.request(typ, data)
	var e errorData
	decode(c.t, m, &e)
	if m.Type != msgError || e.Code != code {
		c.t.Fatalf("%s: got %s %s, want error %s", typ, m.Type, m.Data, code)
	}
}

// notify sends a request without an id: nothing answers it unless it
// fails.
func (c *client) notify(typ string, data any) {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"type": typ, "data": data})
	if err != nil {
		c.t.Fatalf("encode: %v", err)
	}
	c.sendRaw(b)
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	c.ws.SetWriteDeadline(time.Now().Add(readTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func decode(t testing.TB, m msg, v any) {
	t.Helper()
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("decode %s data %s: %v", m.Type, m.Data, err)
	}
}

// Views of the server's messages, as a client decodes them.
type snapshotView struct {
	Agent        router.Agent         `json:"agent"`
	Contacts     []activeView         `json:"contacts"`
	Offer        *offerView           `json:"offer"`
	Dispositions []config.Disposition `json:"dispositions"`
	AwayReasons  []string             `json:"away_reasons"`
	// VerificationMethods are the verify request's methods.
	VerificationMethods []string    `json:"verification_methods"`
	SMSMaxSegments      int         `json:"sms_max_segments"`
	Attachments         *fileLimits `json:"attachments"`
}

type activeView struct {
	Contact   router.Contact   `json:"contact"`
	Messages  []router.Message `json:"messages"`
	ScreenPop screenpop.Pop    `json:"screen_pop"`
}

type offerView struct {
	ContactID string        `json:"contact_id"`
	ExpiresAt time.Time     `json:"expires_at"`
	Reason    string        `json:"reason"`
	ScreenPop screenpop.Pop `json:"screen_pop"`
}

// recordingOffers keeps the requests it gets.
type recordingOffers struct {
	mu  sync.Mutex
	got []screenpop.OfferRequest // guarded by mu
}

func (r *recordingOffers) PopOffers(_ context.Context, req screenpop.OfferRequest) ([]screenpop.Offer, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
	if req.Profile == nil {
		return nil, "no profile", nil
	}
	return nil, "", nil
}
