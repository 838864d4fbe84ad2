package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/canned"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/hours"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Test tokens; each role has one.
const (
	adminToken       = "admin-secret-7f3a9c1e"
	supervisorToken  = "supervisor-secret-5b2d8e4f"
	integrationToken = "integration-secret-9c6a1b3d"
)

// testMaxBody is the body limit of the test servers, small so that the
// 413 case is cheap.
const testMaxBody = 4096

// epoch is where the manual clock of every test starts.
var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var testTokens = []config.Token{
	{Name: "ops-admin", Role: config.RoleAdmin, Secret: adminToken},
	{Name: "floor-supervisor", Role: config.RoleSupervisor, Secret: supervisorToken},
	{Name: "crm", Role: config.RoleIntegration, Secret: integrationToken},
}

// env is a real router over a real SQLite store behind the API, served
// by httptest.
type env struct {
	t      testing.TB
	clock  *router.ManualClock
	router *router.Router
	db     *store.DB
	api    *Server
	srv    *httptest.Server
	logs   *syncBuffer
}

// envOptions change what newEnv builds.
type envOptions struct {
	// notStarted leaves the router unstarted.
	notStarted bool
	// queues is Options.Queues.
	queues func(ctx context.Context) (any, error)
	// onEnded is Options.OnSessionsEnded.
	onEnded func(loginID string, sessionIDs []string)
	// onErased is Options.OnCustomerErased.
	onErased func(customerID string)
	// screenPop is Options.ScreenPop.
	screenPop func(ctx context.Context, contactID string) (any, error)
	// intake resolves customers (Options.Intake's Resolve).
	intake func(ctx context.Context, nc router.NewContact) (router.NewContact, error)
	// tls serves over HTTPS.
	tls bool
	// offers makes Options.Offers over the env's store.
	offers func(db *store.DB) OfferCatalog
	// webhooks makes Options.Webhooks over the env's store.
	webhooks func(db *store.DB) WebhookRegistry
	// canned are the configured canned responses (Options.Canned over
	// the env's store when not nil).
	canned []canned.Response
	// clientAddr is Options.ClientAddr.
	clientAddr func(*http.Request) string
	// secureCookie is Options.SecureCookie.
	secureCookie func(*http.Request) bool
	// customerMessages is the router's Options.CustomerMessages.
	customerMessages int
	// calendars is the router's Options.Calendars.
	calendars map[string]*hours.Calendar
	// files makes Options.Attachments over the env's store.
	files func(db *store.DB) *attachments.Store
	// recipients is Options.Recipients.
	recipients func(ctx context.Context, c router.Contact, cc []string) ([]string, []string, error)
	// readyDetails is Options.ReadyDetails.
	readyDetails func() map[string]any
	// supervisorNames is Options.SupervisorNames.
	supervisorNames map[string]string
	// checkReply is Options.CheckReply.
	checkReply func(ctx context.Context, c router.Contact) error
	// uploadBytesPerHour is Options.UploadBytesPerHour.
	uploadBytesPerHour int64
	// outbound is the router's Options.Outbound.
	outbound []router.Channel
}

func newEnv(t testing.TB) *env { return newEnvWith(t, envOptions{}) }

func newEnvWith(t testing.TB, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "switchboard.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	clock := router.NewManualClock(epoch)
	rt, err := router.New(db, &router.Options{Clock: clock, CustomerMessages: o.customerMessages, Calendars: o.calendars, Outbound: o.outbound})
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	if !o.notStarted {
		if err := rt.Start(ctx); err != nil {
			t.Fatalf("router.Start: %v", err)
		}
		t.Cleanup(rt.Close)
	}
	logs := &syncBuffer{}
	var offerCat OfferCatalog
	if o.offers != nil {
		offerCat = o.offers(db)
	}
	var hooks WebhookRegistry
	if o.webhooks != nil {
		hooks = o.webhooks(db)
	}
	var lib *canned.Library
	if o.canned != nil {
		lib = canned.NewLibrary(o.canned, db)
	}
	var files *attachments.Store
	if o.files != nil {
		files = o.files(db)
	}
	s, err := New(Options{
		Router: rt, Store: db, Tokens: testTokens, MaxBodyBytes: testMaxBody, Webhooks: hooks, Canned: lib,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Queues: o.queues,
		// The lowest bcrypt cost keeps the tests fast; the manual clock
		// drives session expiry and the login rate limit.
		Sessions:         &SessionOptions{BcryptCost: bcrypt.MinCost, Now: clock.Now},
		OnSessionsEnded:  o.onEnded,
		OnCustomerErased: o.onErased,
		ScreenPop:        o.screenPop,
		Offers:           offerCat,
		Intake:           &intake.Intake{Router: rt, Store: db, Resolve: o.intake},
		Attachments:      files,
		Recipients:       o.recipients,
		// Small, so that the tests reach the limits.
		MaxMessageAttachmentBytes: 40,
		ClientAddr:                o.clientAddr,
		SecureCookie:              o.secureCookie,
		ReadyDetails:              o.readyDetails,
		SupervisorNames:           o.supervisorNames,
		CheckReply:                o.checkReply,
		UploadBytesPerHour:        o.uploadBytesPerHour,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewUnstartedServer(s)
	if o.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return &env{t: t, clock: clock, router: rt, db: db, api: s, srv: srv, logs: logs}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer // guarded by mu
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request. A non-empty body goes with Content-Type
// application/json; header holds name, value pairs applied after that
// (an empty value removes the header).
func (e *env) do(method, path, token, body string, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatalf("NewRequest: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// must sends a request as admin and fails the test unless it gets want.
func (e *env) must(want int, method, path, body string) response {
	e.t.Helper()
	res := e.do(method, path, adminToken, body)
	if res.status != want {
		e.t.Fatalf("%s %s: got status %d, want %d; body %s", method, path, res.status, want, res.body)
	}
	return res
}

// decodeAs decodes a response body.
func decodeAs[T any](t testing.TB, res response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
	return v
}

// apiError is the decoded error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// detail is the decoded body of GET /api/v1/contacts/{id}.
type detail struct {
	router.Contact
	Timeline []router.Event   `json:"timeline"`
	Messages []router.Message `json:"messages"`
	Waiting  *struct {
		Position int                  `json:"position"`
		Explain  []router.Eligibility `json:"explain"`
	} `json:"waiting"`
}

// seed puts queue billing (billing≥3) and agents alice (billing 4, fr 5)
// and bob (billing 3), both offline.
func (e *env) seed() {
	e.t.Helper()
	e.must(http.StatusCreated, "PUT", "/api/v1/queues/billing", `{"requirements":[{"skill":"billing","min":3}],"service_level":{"target":0.8,"within":"20s"}}`)
	e.must(http.StatusCreated, "PUT", "/api/v1/agents/alice", `{"name":"Alice","skills":{"billing":4,"fr":5},"capacity":{"chat":3,"api":1}}`)
	e.must(http.StatusCreated, "PUT", "/api/v1/agents/bob", `{"name":"Bob","skills":{"billing":3},"capacity":{"chat":3,"api":1}}`)
}

// available makes the agents available in order, one second apart, so
// that the first has been idle longest.
func (e *env) available(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		e.clock.Advance(time.Second)
		e.must(http.StatusOK, "PUT", "/api/v1/agents/"+id+"/state", `{"state":"available"}`)
	}
}

// create posts a contact as admin and returns it.
func (e *env) create(body string) router.Contact {
	e.t.Helper()
	return decodeAs[router.Contact](e.t, e.must(http.StatusCreated, "POST", "/api/v1/contacts", body))
}

// contact reads a contact's detail.
func (e *env) contact(id string) detail {
	e.t.Helper()
	return decodeAs[detail](e.t, e.must(http.StatusOK, "GET", "/api/v1/contacts/"+id, ""))
}

// state renders everything a request could change: the router's agents,
// queues and live contacts, and every stored contact with its timeline
// and messages. Two equal renders mean nothing changed.
func (e *env) state() string {
	e.t.Helper()
	ctx := context.Background()
	snap := e.router.Snapshot()
	type stored struct {
		Contact  router.Contact
		Timeline []router.Event
		Messages []router.Message
	}
	var all []stored
	for cursor := ""; ; {
		page, err := e.db.Contacts(ctx, store.ContactFilter{Limit: store.MaxContactLimit, Cursor: cursor})
		if err != nil {
			e.t.Fatalf("store.Contacts: %v", err)
		}
		for _, c := range page.Contacts {
			tl, err := e.db.Timeline(ctx, c.ID)
			if err != nil {
				e.t.Fatalf("store.Timeline: %v", err)
			}
			ms, err := e.db.Messages(ctx, c.ID, 0, store.MaxMessageLimit)
			if err != nil {
				e.t.Fatalf("store.Messages: %v", err)
			}
			all = append(all, stored{c, tl, ms})
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	b, err := json.Marshal(map[string]any{
		"agents": snap.Agents(), "queues": snap.Queues(), "live": snap.Contacts(), "stored": all,
	})
	if err != nil {
		e.t.Fatalf("marshal state: %v", err)
	}
	return string(b)
}

// events lists the event names of a timeline.
func events(tl []router.Event) []string {
	var names []string
	for _, ev := range tl {
		names = append(names, ev.Event)
	}
	return names
}
