package agents

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/wsconn"
)

// Defaults used when Options leaves a field zero.
const (
	// conversationMessages is how many of a contact's latest messages a
	// snapshot or an assigned message carries; older ones are paged
	// over the HTTP API.
	conversationMessages = 100
)

// MessageFiles checks the files a reply names; *attachments.Store
// implements it.
type MessageFiles interface {
	Attach(files []attachments.File, maxTotal int64) ([]router.Attachment, error)
	MaxFileBytes() int64
}

var _ MessageFiles = (*attachments.Store)(nil)

// DefaultVerificationMethods are the ways an agent verifies a customer's
// claim when Options.VerificationMethods is nil.
var DefaultVerificationMethods = []string{"security questions"}

// Store is what the hub reads of contacts: the screen pop's reads and a
// contact's latest messages. *store.DB implements it.
type Store interface {
	screenpop.Store
	MessagesBefore(ctx context.Context, id string, beforeSeq, limit int) ([]router.Message, error)
}

// Options configure a Hub. Router, Store and Authenticate are required.
type Options struct {
	Router *router.Router
	Store  Store
	// ScreenPops builds screen pops; nil means one over Router and Store
	// without offers.
	ScreenPops *screenpop.Builder
	// Authenticate names the agent and the login session of an upgrade
	// request (the API's session cookie or bearer token), and when the
	// session expires (zero: never); an error, or an empty agent or
	// session id, refuses it with 401. It must refuse tokens that are not
	// an agent's session. The session's sockets are closed when it
	// expires.
	Authenticate func(*http.Request) (agentID, sessionID string, expiresAt time.Time, err error)
	// AllowedOrigins are browser origins (scheme://host[:port]) allowed
	// besides the daemon's own (an Origin whose host is the request's).
	AllowedOrigins []string
	// Dispositions are the wrap-up codes; when set, wrapup and close
	// accept only these (or none).
	Dispositions []config.Disposition
	// Segments and Products are the labels of the codes customer records
	// carry, sent to the desktop for the screen pop.
	Segments, Products []config.Label
	// AwayReasons are the reasons of the away state the desktop offers
	// (the snapshot's away_reasons). The router holds set_state to them
	// (router.Options.AwayReasons): give it the same list.
	AwayReasons []string
	// The agent's typing (at most once per typingEvery per contact and
	// socket) and reading of its own contacts' messages are announced
	// on the router's event stream (router.Signal), where the channels
	// hear them. Typing and Read, if set, hear them too: on the socket's
	// reader goroutine, without blocking.
	Typing func(contactID string)
	Read   func(contactID string, upToSeq int)
	// OnOfferOutcome, if set, records an agent's offer_outcome on a
	// contact the agent holds, durably, before the router adds it to the
	// contact's timeline and the agent gets its ack (the offer learner
	// plugs in here). Its error is the agent's: a *router.Error
	// (router.Errorf) is answered by its code with its message (one
	// that only wraps router.ErrInvalid gets the code and a generic
	// message), screenpop.ErrNotRecorded unavailable
	// (the desktop may retry: a retry must not count twice). It is
	// called on the socket's reader goroutine.
	OnOfferOutcome func(ctx context.Context, o screenpop.OfferOutcome) error
	// Verify, if set, records that agentID verified by method that the
	// customer of its contact contactID is the known customer they claim
	// to be (customers.Verify plugs in here); nil refuses every verify
	// request as unavailable. Its errors are the agent's, as the
	// router's. It is called on the socket's reader goroutine.
	Verify func(ctx context.Context, contactID, agentID, method string) error
	// VerificationMethods are the methods a verify request may name; nil
	// means DefaultVerificationMethods.
	VerificationMethods []string
	// CheckReply, if set, may refuse an agent's message to the customer
	// of a contact before it is written (the SMS channel refuses one to a
	// number that opted out): its error is the agent's, as the router's
	// (a *router.Error is answered by its code with its message). It is
	// called on the socket's reader goroutine.
	CheckReply func(ctx context.Context, c router.Contact) error
	// SMSMaxSegments is how many segments a reply on an SMS contact may
	// take before the composer asks the agent to confirm (0: no limit).
	SMSMaxSegments int
	// OwnEmailAddresses are the addresses email replies are sent from
	// (email.Sender.OwnAddresses), which a reply never copies: the
	// desktop leaves them out of the Cc it shows.
	OwnEmailAddresses []string
	// Files, if set, has the files agents attach to their email replies
	// (uploaded with POST /api/v1/attachments): send checks that each
	// is kept and that together they hold at most MaxMessageFileBytes
	// (0: attachments.DefaultMaxMessageBytes); the snapshot tells the desktop
	// both limits. Nil refuses a send with attachments.
	Files               MessageFiles
	MaxMessageFileBytes int64
	// Recipients, if set, settles the recipients of an agent's reply
	// that names its Cc (send's cc): the email channel checks that each
	// is among the conversation's Cc and returns the reply's To and Cc
	// (email.Sender.Recipients). Nil refuses a send with cc. Its error
	// is the agent's, as the router's. It is called on the socket's
	// reader goroutine.
	Recipients func(ctx context.Context, c router.Contact, cc []string) (to, kept []string, err error)
	// Clock gives the time of the typing throttle and of session expiry;
	// nil: time.Now. AfterFunc arms the timers that close a session's
	// sockets when it expires; nil: time.AfterFunc. Give the router's
	// clock's Now and AfterFunc in tests.
	Clock     func() time.Time
	AfterFunc func(d time.Duration, f func()) router.Timer
	Logger    *slog.Logger
}

// Hub serves the agent WebSocket (GET /ws/agent) and tells each agent's
// sockets what the router decided about that agent. It implements
// router.Notifier and http.Handler, and is safe for concurrent use.
type Hub struct {
	rt           *router.Router
	store        Store
	popper       *screenpop.Builder
	auth         func(*http.Request) (string, string, time.Time, error)
	dispositions []config.Disposition
	segments     []config.Label
	products     []config.Label
	awayReasons  []string
	typing       func(string)                                                       // Options.Typing, or nil
	read         func(string, int)                                                  // Options.Read, or nil
	onOutcome    func(context.Context, screenpop.OfferOutcome) error                // Options.OnOfferOutcome, or nil
	verify       func(ctx context.Context, contactID, agentID, method string) error // Options.Verify, or nil
	methods      []string                                                           // never empty
	checkReply   func(context.Context, router.Contact) error                        // Options.CheckReply, or nil
	smsSegments  int                                                                // Options.SMSMaxSegments
	ownEmail     []string                                                           // Options.OwnEmailAddresses
	log          *slog.Logger

	// The files and the Cc of email replies.
	files      MessageFiles                                                                // Options.Files, or nil
	maxFiles   int64                                                                       // a reply's files together; never 0
	recipients func(context.Context, router.Contact, []string) ([]string, []string, error) // Options.Recipients, or nil

	// upgrader checks origins and upgrades; never nil.
	upgrader *wsconn.Upgrader
	// now is the clock of the typing throttle and of session expiry;
	// never nil.
	now func() time.Time
	// afterFunc arms the expiry timers of sessions; never nil.
	afterFunc func(time.Duration, func()) router.Timer

	// ctx ends when the hub closes; router and store calls use it.
	ctx    context.Context
	cancel context.CancelFunc
	// shards deliver notifications: an agent's go to one shard, in order.
	shards []*shard
	seed   maphash.Seed
	wg     sync.WaitGroup
	closed atomic.Bool

	mu       sync.RWMutex
	sessions map[string]*session   // by session id; guarded by mu
	byAgent  map[string][]*session // guarded by mu
	presence map[string]*presence  // guarded by mu
	conns    map[*conn]bool        // open sockets; guarded by mu
}

// presence counts an agent's open sockets; mu orders the router calls
// of its connects and disconnects.
type presence struct {
	mu    sync.Mutex
	conns int // guarded by mu
}

// shard is a queue of deliveries worked by one goroutine.
type shard struct {
	mu   sync.Mutex
	jobs []job // guarded by mu
	wake chan struct{}
}

// job is a notification to deliver, or a socket to attach to its
// session (with a replay or a snapshot).
type job struct {
	note   router.Notification
	attach *conn
}

// NewHub returns a hub; Close it when the server stops (hijacked
// connections outlive http.Server.Shutdown).
func NewHub(o *Options) (*Hub, error) {
	if o == nil {
		o = &Options{}
	}
	switch {
	case o.Router == nil:
		return nil, fmt.Errorf("agents: new hub: %w: Router", ErrMissingOption)
	case o.Store == nil:
		return nil, fmt.Errorf("agents: new hub: %w: Store", ErrMissingOption)
	case o.Authenticate == nil:
		return nil, fmt.Errorf("agents: new hub: %w: Authenticate", ErrMissingOption)
	}
	h := &Hub{
		rt: o.Router, store: o.Store, popper: o.ScreenPops, auth: o.Authenticate,
		dispositions: slices.Clone(o.Dispositions),
		awayReasons:  slices.Clone(o.AwayReasons),
		segments:     orEmpty(o.Segments),
		products:     orEmpty(o.Products),
		typing:       o.Typing,
		read:         o.Read,
		onOutcome:    o.OnOfferOutcome,
		verify:       o.Verify,
		checkReply:   o.CheckReply,
		smsSegments:  o.SMSMaxSegments,
		ownEmail:     slices.Clone(o.OwnEmailAddresses),
		methods:      slices.Clone(o.VerificationMethods),
		now:          o.Clock,
		afterFunc:    o.AfterFunc,
		log:          o.Logger,
		seed:         maphash.MakeSeed(),
		sessions:     map[string]*session{},
		byAgent:      map[string][]*session{},
		presence:     map[string]*presence{},
		conns:        map[*conn]bool{},
	}
	h.files, h.recipients = o.Files, o.Recipients
	h.maxFiles = cmp.Or(o.MaxMessageFileBytes, attachments.DefaultMaxMessageBytes)
	var err error
	if h.upgrader, err = wsconn.New(wsconn.Options{AllowedOrigins: o.AllowedOrigins, ReadLimit: maxFrameSize}); err != nil {
		return nil, fmt.Errorf("agents: new hub: %w", err)
	}
	if h.dispositions == nil {
		h.dispositions = []config.Disposition{}
	}
	if h.awayReasons == nil {
		h.awayReasons = []string{}
	}
	if len(h.methods) == 0 {
		h.methods = slices.Clone(DefaultVerificationMethods)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.afterFunc == nil {
		h.afterFunc = func(d time.Duration, f func()) router.Timer { return time.AfterFunc(d, f) }
	}
	if h.popper == nil {
		h.popper = &screenpop.Builder{Router: h.rt, Store: h.store, Logger: h.log}
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	n := max(4, 2*runtime.GOMAXPROCS(0))
	for range n {
		sh := &shard{wake: make(chan struct{}, 1)}
		h.shards = append(h.shards, sh)
		h.wg.Add(1)
		go h.work(sh)
	}
	return h, nil
}

// Close ends every socket (close 1001) and stops delivering. Agents are
// not marked disconnected: the daemon is stopping.
func (h *Hub) Close() {
	if h.closed.Swap(true) {
		return
	}
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	h.cancel()
	for _, c := range conns {
		c.closeWith(wsconn.CloseGoingAway, "server shutting down")
	}
	h.wg.Wait()
}

// Resync catches up after the hub missed some of the router's
// notifications (router.Follow): no desktop may resume from a replay that
// lacks them, so the replays are forgotten and every socket is closed;
// each desktop reconnects and gets a snapshot.
func (h *Hub) Resync(*router.Snapshot) {
	h.ForgetReplays()
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.closeWith(wsconn.CloseGoingAway, "resynchronising: reconnect")
	}
}

// Notify implements router.Notifier. It never blocks on a socket or the
// store: it queues each notification for the hub goroutine of its agent,
// which builds the message (with the screen pop) and hands it to that
// agent's sockets. A notification without an agent goes nowhere: an agent
// hears only about itself and its own contacts.
func (h *Hub) Notify(ns []router.Notification) {
	if h.closed.Load() {
		return
	}
	for _, n := range ns {
		if n.Kind == router.NoteSignal {
			h.signal(n.Signal)
			continue
		}
		if n.AgentID == "" {
			continue
		}
		h.shardOf(n.AgentID).put(job{note: n})
	}
}

// signal passes on what a customer did (router.Announce by a channel):
// typing, and receipts of the agent's messages.
func (h *Hub) signal(s *router.Signal) {
	if s == nil || s.From != router.AuthorCustomer {
		return
	}
	switch s.Kind {
	case router.SignalTyping:
		h.CustomerTyping(s.ContactID)
	case router.SignalReceipt:
		h.CustomerReceipt(s.ContactID, s.DeliveredSeq, s.ReadSeq)
	}
}

// orEmpty is a copy of labels, never nil (the snapshot's JSON says []).
func orEmpty(labels []config.Label) []config.Label {
	if labels == nil {
		return []config.Label{}
	}
	return slices.Clone(labels)
}
