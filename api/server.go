package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/canned"
	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/httpstatus"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// loginPath is the one route under /api/ that needs no token.
const loginPath = "/api/v1/login"

// Options configure New. Router, Store and Tokens are required.
type Options struct {
	// Router is the started router that every write goes through.
	Router *router.Router
	// Store is the database the router commits to; contact history and
	// lists are read from it.
	Store *store.DB
	// Tokens are every bearer token, the admin token included. Names must
	// be unique and secrets non-empty and distinct.
	Tokens []config.Token
	// MaxBodyBytes caps a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger gets one line per request, with the client's address, and
	// the detail of internal errors; nil discards them. Bodies, tokens,
	// cookies and passwords are never logged.
	Logger *slog.Logger
	// ClientAddr, when not nil, returns the address of the client that
	// sent a request, for the login rate limit and the request log
	// (behind trusted proxies, clientaddr.Resolver.Addr); nil means the
	// host of RemoteAddr. It is called once per request, possibly
	// concurrently.
	ClientAddr func(*http.Request) string
	// SecureCookie, when not nil, reports whether the session cookie set
	// in answer to a request is Secure: the public URL is https, or the
	// client reached routerd, or a trusted proxy, over HTTPS. Nil means
	// when the request came over TLS. It is called once per request,
	// possibly concurrently.
	SecureCookie func(*http.Request) bool
	// Queues, when not nil, provides the body of GET /api/v1/queues,
	// written as {"queues": <result>}; nil means a built-in view of each
	// queue's definition, waiting count and oldest wait.
	Queues func(ctx context.Context) (any, error)
	// Sessions configures password logins and their sessions; nil means
	// the defaults (12 h sessions, bcrypt cost 12, 5 failed logins in a
	// row per address and login id, 20 per address, then growing waits).
	Sessions *SessionOptions
	// OnSessionsEnded, when not nil, is called after sessions of loginID
	// ended: replaced by a new login of the same id, logged out, ended by
	// a password change, or by deleting the login or its agent. sessionIDs are the sessions' non-secret ids
	// (Principal.SessionID), never tokens. It is called from request
	// goroutines, possibly concurrently, after the store has committed,
	// and must not block.
	OnSessionsEnded func(loginID string, sessionIDs []string)
	// OnCustomerErased, when not nil, is called after a customer's
	// personal data was erased from the store (DELETE
	// /api/v1/customers/{id}), so that copies held in memory go too
	// (the agent hub's replay buffers). It must not block.
	OnCustomerErased func(customerID string)
	// ScreenPop, when not nil, provides the body of GET
	// /api/v1/contacts/{id}/screen-pop. An error wrapping
	// router.ErrNoContact or store.ErrNotFound is answered 404; nil means
	// the route answers 503.
	ScreenPop func(ctx context.Context, contactID string) (any, error)
	// Offers, when not nil, is the offer catalog of /api/v1/offers; nil
	// means those routes answer 503.
	Offers OfferCatalog
	// Canned, when not nil, is the library of /api/v1/canned-responses;
	// nil means those routes answer 503.
	Canned *canned.Library
	// Webhooks, when not nil, are the outbound webhooks of
	// /api/v1/webhooks; nil means those routes answer 503.
	Webhooks WebhookRegistry
	// Intake is the way in of POST /api/v1/contacts and of the
	// customer's messages (POST /api/v1/contacts/{id}/messages, direction
	// in): it resolves the customer and starts follow-ups of ended
	// contacts (package intake). Nil means one over Router and Store that
	// submits contacts as given.
	Intake *intake.Intake
	// CheckReply, if set, may refuse a message to the customer of a
	// contact (direction out) before it is written (the SMS channel
	// refuses one to a number that opted out); a *router.Error is
	// answered as the router's.
	CheckReply func(ctx context.Context, c router.Contact) error
	// Recipients, if set, settles the recipients of a reply that names
	// its Cc (a message out with cc): the email channel checks that each
	// is among the conversation's Cc and returns the reply's To and Cc
	// (email.Sender.Recipients); a *router.Error is answered as the
	// router's. Nil refuses a message with cc.
	Recipients func(ctx context.Context, c router.Contact, cc []string) (to, kept []string, err error)
	// Attachments keeps the files of messages (POST /api/v1/attachments,
	// GET /api/v1/contacts/{id}/attachments/{sha256}); nil means those
	// routes answer 503 and messages carry no files.
	Attachments *attachments.Store
	// MaxMessageAttachmentBytes bounds the files of one message; 0 means
	// attachments.DefaultMaxMessageBytes.
	MaxMessageAttachmentBytes int64
	// UploadBytesPerHour bounds the bytes each caller uploads (POST
	// /api/v1/attachments) per hour; 0 means DefaultUploadBytesPerHour.
	UploadBytesPerHour int64
	// SupervisorNames are the display names of the supervisors' logins,
	// by login id (the configuration's supervisors). A supervisor's
	// whispers and messages to the customer carry theirs as the
	// author's name; a principal without one (an API token, a login
	// added over the API) whispers under its name and writes to the
	// customer under none, which the channels show as "Supervisor".
	SupervisorNames map[string]string
	// ReadyDetails, when set, adds the state of components that may
	// fail on their own (each email mailbox) to /readyz under
	// "details". They never make the daemon unready: one failing mailbox
	// must not take the agents' API out of a load balancer.
	ReadyDetails func() map[string]any
}

// Server is the HTTP API. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	router *router.Router
	store  *store.DB
	// reportSlots bounds the reports computed at once (each reads its
	// whole range from the store).
	reportSlots chan struct{}
	creds       []credential
	maxBody     int64
	log         *slog.Logger
	queues      func(ctx context.Context) (any, error)
	mux         *http.ServeMux

	sessions        sessionConfig
	limiter         *limiter
	onSessionsEnded func(loginID string, sessionIDs []string)
	onErased        func(customerID string)
	clientAddr      func(*http.Request) string // never nil
	secureCookie    func(*http.Request) bool   // never nil
	screenPopper    func(ctx context.Context, contactID string) (any, error)
	offers          OfferCatalog                                // may be nil
	canned          *canned.Library                             // may be nil
	webhooks        WebhookRegistry                             // may be nil
	intake          *intake.Intake                              // never nil
	checkReply      func(context.Context, router.Contact) error // Options.CheckReply, or nil
	files           *attachments.Store                          // may be nil
	maxMessageFiles int64
	uploads         *uploadQuota
	// recipients is Options.Recipients, or nil.
	recipients func(context.Context, router.Contact, []string) ([]string, []string, error)
	// readyDetails is Options.ReadyDetails; may be nil.
	readyDetails func() map[string]any
	// supervisorNames is Options.SupervisorNames; may be nil.
	supervisorNames map[string]string

	// dummyMu guards dummy, the hash that logins with an unknown id are
	// compared against (dummyHash); nil until made.
	dummyMu sync.Mutex
	dummy   []byte

	// routeList is every route, in the order routes registered them;
	// written only by New.
	routeList []Route

	// probeMu guards probe, the router readiness check in flight, so that
	// concurrent /readyz calls share one.
	probeMu sync.Mutex
	probe   *routerProbe
}

// New checks o and returns the API server.
func New(o Options) (*Server, error) {
	if o.Router == nil {
		return nil, errors.New("api: options: Router is nil")
	}
	if o.Store == nil {
		return nil, errors.New("api: options: Store is nil")
	}
	if o.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("api: options: MaxBodyBytes %d: want 0 (the default, %d) or more", o.MaxBodyBytes, DefaultMaxBodyBytes)
	}
	creds, err := newCredentials(o.Tokens)
	if err != nil {
		return nil, err
	}
	sessions, err := newSessionConfig(o.Sessions)
	if err != nil {
		return nil, err
	}
	s := &Server{
		router:      o.Router,
		store:       o.Store,
		reportSlots: make(chan struct{}, maxConcurrentReports),
		creds:       creds,
		maxBody:     o.MaxBodyBytes,
		log:         o.Logger,
		queues:      o.Queues,
		mux:         http.NewServeMux(),

		sessions:        sessions,
		limiter:         newLimiter(sessions.window),
		onSessionsEnded: o.OnSessionsEnded,
		onErased:        o.OnCustomerErased,
		clientAddr:      o.ClientAddr,
		secureCookie:    o.SecureCookie,
		screenPopper:    o.ScreenPop,
		offers:          o.Offers,
		canned:          o.Canned,
		webhooks:        o.Webhooks,
		intake:          o.Intake,
		checkReply:      o.CheckReply,
		recipients:      o.Recipients,
		files:           o.Attachments,
		maxMessageFiles: o.MaxMessageAttachmentBytes,
		readyDetails:    o.ReadyDetails,
		supervisorNames: maps.Clone(o.SupervisorNames),
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxMessageFiles == 0 {
		s.maxMessageFiles = attachments.DefaultMaxMessageBytes
	}
	s.uploads = newUploadQuota(cmp.Or(o.UploadBytesPerHour, DefaultUploadBytesPerHour), s.sessions.now)
	if s.intake == nil {
		s.intake = &intake.Intake{Router: o.Router, Store: o.Store}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clientAddr == nil {
		s.clientAddr = clientaddr.Peer
	}
	if s.secureCookie == nil {
		s.secureCookie = func(r *http.Request) bool { return r.TLS != nil }
	}
	s.routes()
	return s, nil
}

// routes registers every endpoint with the roles that may use it.
func (s *Server) routes() {
	s.public("GET /healthz", s.healthz)
	s.public("GET /readyz", s.readyz)

	// Sessions. Agent sessions (roleAgent) reach only the routes that
	// name it, and there only their own agent and contacts (scope.go).
	s.public("POST /api/v1/login", s.login)
	s.handle("POST /api/v1/logout", anyone, s.logout)
	s.handle("GET /api/v1/me", anyone, s.me)
	s.handle("PUT /api/v1/logins/{id}/password", adminOnly, s.putLoginPassword)
	s.handle("DELETE /api/v1/logins/{id}", adminOnly, s.deleteLogin)

	s.handle("GET /api/v1/agents", staff, s.listAgents)
	s.handle("GET /api/v1/agents/{id}", staff|roleAgent, s.getAgent)
	s.handle("GET /api/v1/agents/{id}/states", staff|roleAgent, s.agentStates)
	s.handle("PUT /api/v1/agents/{id}", adminOnly, s.putAgent)
	s.handle("DELETE /api/v1/agents/{id}", adminOnly, s.deleteAgent)
	s.handle("PUT /api/v1/agents/{id}/state", staff|roleAgent, s.putAgentState)

	s.handle("GET /api/v1/reports/queues", staff, s.queueReport)
	s.handle("GET /api/v1/reports/agents", staff, s.agentReport)
	s.handle("GET /api/v1/queues", anyone, s.listQueues)
	s.handle("GET /api/v1/queues/{name}", anyone, s.getQueue)
	s.handle("PUT /api/v1/queues/{name}", adminOnly, s.putQueue)
	s.handle("DELETE /api/v1/queues/{name}", adminOnly, s.deleteQueue)

	s.handle("POST /api/v1/contacts", creators, s.createContact)
	s.handle("GET /api/v1/contacts", anyone, s.listContacts)
	s.handle("GET /api/v1/contacts/{id}", anyone, s.getContact)
	s.handle("GET /api/v1/contacts/{id}/screen-pop", anyone, s.screenPop)
	s.handle("POST /api/v1/contacts/{id}/accept", staff|roleAgent, s.accept)
	s.handle("POST /api/v1/contacts/{id}/decline", staff|roleAgent, s.decline)
	s.handle("POST /api/v1/contacts/{id}/wrapup", staff|roleAgent, s.wrapUp)
	s.handle("POST /api/v1/contacts/{id}/close", staff|roleAgent, s.closeContact)
	s.handle("POST /api/v1/contacts/{id}/transfer", staff|roleAgent, s.transfer)
	s.handle("POST /api/v1/contacts/{id}/tags", staff|roleAgent, s.tagContact)
	s.handle("POST /api/v1/contacts/{id}/abandon", everyone, s.abandon)
	s.handle("POST /api/v1/contacts/{id}/messages", anyone, s.addMessage)
	// Supervisors take a contact over and write to its customer.
	s.handle("POST /api/v1/contacts/{id}/takeover", staff, s.takeOver)
	s.handle("POST /api/v1/contacts/{id}/takeover/messages", staff, s.supervisorMessage)
	// Files: uploaded by anyone who may write a message, read by whoever
	// may read a contact whose messages carry them.
	s.handle("POST /api/v1/attachments", anyone, s.uploadAttachment)
	s.handle("GET /api/v1/contacts/{id}/attachments/{sha256}", anyone, s.getAttachment)
	s.handle("GET /api/v1/contacts/{id}/messages/{seq}/html", anyone, s.messageHTML)

	// Customer profiles. Agents get them through the screen pop only.
	s.handle("PUT /api/v1/customers/{id}", creators, s.putCustomer)
	s.handle("GET /api/v1/customers/{id}", everyone, s.getCustomer)
	s.handle("GET /api/v1/customers/{id}/export", everyone, s.exportCustomer)
	s.handle("GET /api/v1/customers/{id}/timeline", everyone, s.getCustomerTimeline)
	s.handle("DELETE /api/v1/customers/{id}", creators, s.deleteCustomer)

	// The offer catalog: staff and integrations read it, admins change it.
	s.handle("GET /api/v1/offers", everyone, s.listOffers)
	s.handle("GET /api/v1/offers/{id}", everyone, s.getOffer)
	s.handle("PUT /api/v1/offers/{id}", adminOnly, s.putOffer)
	s.handle("DELETE /api/v1/offers/{id}", adminOnly, s.deleteOffer)

	// Canned responses: everyone reads them (agents insert them), admins
	// change those of the API.
	s.handle("GET /api/v1/canned-responses", anyone, s.listCanned)
	s.handle("PUT /api/v1/canned-responses/{id}", adminOnly, s.putCanned)
	s.handle("DELETE /api/v1/canned-responses/{id}", adminOnly, s.deleteCanned)

	// Outbound webhooks carry customers' messages and hold secrets:
	// admins only.
	s.handle("GET /api/v1/webhooks", adminOnly, s.listWebhooks)
	s.handle("GET /api/v1/webhooks/{id}", adminOnly, s.getWebhook)
	s.handle("PUT /api/v1/webhooks/{id}", adminOnly, s.putWebhook)
	s.handle("DELETE /api/v1/webhooks/{id}", adminOnly, s.deleteWebhook)
}

// Route is one endpoint of the API: its net/http pattern and who may
// use it.
type Route struct {
	// Pattern is "METHOD /path/{param}".
	Pattern string
	// Public routes need no token. Others are open to Roles (config's
	// role names); an agent session's (config.RoleAgent) reaches only its
	// own agent and contacts.
	Public bool
	Roles  []string
}

// Routes returns every route the server answers, in registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.routeList) }

// handlerFunc is an endpoint: it writes a success itself and returns the
// error to answer otherwise.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers an authenticated route that the roles rs may use.
func (s *Server) handle(pattern string, rs roles, h handlerFunc) {
	s.routeList = append(s.routeList, Route{Pattern: pattern, Roles: rs.names()})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		if !rs.allows(p.Role) {
			s.writeError(w, r, errorf(http.StatusForbidden, codeForbidden,
				"%s has role %s, which may not %s; allowed roles: %s", p.describe(), p.Role, pattern, rs))
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// public registers a route that needs no token.
func (s *Server) public(pattern string, h handlerFunc) {
	s.routeList = append(s.routeList, Route{Pattern: pattern, Public: true})
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// client is who sent a request, resolved once by ServeHTTP and kept in
// the request's context.
type client struct {
	addr   string
	secure bool // the session cookie is Secure
}

// clientKey is the context key of a request's client.
type clientKey struct{}

// ServeHTTP authenticates requests under /api/ (but the login), routes them, answers
// unknown paths and methods in JSON, and logs one line per request: method,
// path (never the query), status, duration, principal and client address.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := httpstatus.NewRecorder(w)
	var p Principal
	c := client{addr: s.clientAddr(r), secure: s.secureCookie(r)}
	r = r.WithContext(context.WithValue(r.Context(), clientKey{}, c))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("api: panic", "method", r.Method, "path", r.URL.Path, "client", c.addr, "panic", v, "stack", string(debug.Stack()))
			if !sw.Written() {
				s.writeError(sw, r, internal("handler", fmt.Errorf("panic: %v", v)))
			}
		}
		s.log.Info("api: request", "method", r.Method, "path", r.URL.Path, "status", sw.Status(),
			"duration", time.Since(start), "principal", p.Name, "role", p.Role, "client", c.addr)
	}()
	sw.Header().Set("Cache-Control", "no-store")
	sw.Header().Set("X-Content-Type-Options", "nosniff")

	if (r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")) && r.URL.Path != loginPath {
		var err *httpError
		if p, err = s.authenticate(r); err != nil {
			s.writeError(sw, r, err)
			return
		}
		if err := checkCrossOrigin(r); err != nil {
			s.writeError(sw, r, err)
			return
		}
		// Every event the request's commands record names who asked.
		ctx := router.WithActor(context.WithValue(r.Context(), principalKey{}, p), p.Actor())
		r = r.WithContext(ctx)
	}
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.notRouted(sw, r, h)
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// notRouted answers, in JSON, a request that matches no route: 405 with
// Allow when the path exists with other methods, 404 otherwise.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); probe.status == http.StatusMethodNotAllowed && allow != "" {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			"method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
		return
	}
	s.writeError(w, r, notFoundf("no endpoint at %s; see docs/api.md", r.URL.Path))
}

// headerProbe records what the mux's own 404 and 405 handlers would say.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(status int)      { p.status = status }

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := marshal(v)
	if err != nil {
		return internal("encode response", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// marshal encodes v as one line of JSON, leaving <, > and & as they are.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeError answers err: an *httpError as itself, anything else as a
// 500. The detail of a 5xx goes to the log, never to the client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = internal("handler", err)
	}
	if he.status >= 500 {
		p, _ := PrincipalFrom(r.Context())
		s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "status", he.status,
			"principal", p.Name, "client", clientAddr(r), "err", err)
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	}
	b, _ := marshal(errorBody{Error: errorDetail{Code: he.code, Message: he.message, Field: he.field}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(he.status)
	_, _ = w.Write(b)
}
