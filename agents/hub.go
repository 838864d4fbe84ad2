package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/wsconn"
)

// Defaults used when Options leaves a field zero.
const (
	// defaultGrace is how long a disconnected agent keeps its contacts.
	defaultGrace = 60 * time.Second
	// conversationMessages is how many of a contact's latest messages a
	// snapshot or an assigned message carries; older ones are paged
	// over the HTTP API.
	conversationMessages = 100
)

// DefaultVerificationMethods are the ways an agent verifies a customer's
// claim when Options.VerificationMethods is nil.
var DefaultVerificationMethods = []string{"security questions"}

// Options configure a Hub. Router, Store and Authenticate are required.
type Options struct {
	Router *router.Router
	Store  screenpop.Store
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
	// AwayReasons are the reasons of the away state; when set, set_state
	// away accepts only these (or none).
	AwayReasons []string
	// Grace is how long a disconnected agent keeps its assigned contacts
	// (0: 60s).
	Grace time.Duration
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
	store        screenpop.Store
	popper       *screenpop.Builder
	auth         func(*http.Request) (string, string, time.Time, error)
	dispositions []config.Disposition
	awayReasons  []string
	grace        time.Duration
	typing       func(string)                                                       // Options.Typing, or nil
	read         func(string, int)                                                  // Options.Read, or nil
	onOutcome    func(context.Context, screenpop.OfferOutcome) error                // Options.OnOfferOutcome, or nil
	verify       func(ctx context.Context, contactID, agentID, method string) error // Options.Verify, or nil
	methods      []string                                                           // never empty
	log          *slog.Logger
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
		grace:        o.Grace,
		typing:       o.Typing,
		read:         o.Read,
		onOutcome:    o.OnOfferOutcome,
		verify:       o.Verify,
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
	if h.grace <= 0 {
		h.grace = defaultGrace
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

func (h *Hub) shardOf(agentID string) *shard {
	return h.shards[maphash.String(h.seed, agentID)%uint64(len(h.shards))]
}

func (sh *shard) put(j job) {
	sh.mu.Lock()
	sh.jobs = append(sh.jobs, j)
	sh.mu.Unlock()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// work runs the jobs of one shard in order until the hub closes.
func (h *Hub) work(sh *shard) {
	defer h.wg.Done()
	for {
		select {
		case <-sh.wake:
		case <-h.ctx.Done():
			return
		}
		for {
			sh.mu.Lock()
			jobs := sh.jobs
			sh.jobs = nil
			sh.mu.Unlock()
			if len(jobs) == 0 {
				break
			}
			for _, j := range jobs {
				if h.ctx.Err() != nil {
					return
				}
				if j.attach != nil {
					h.attach(j.attach)
				} else {
					h.deliver(j.note)
				}
			}
		}
	}
}

// ServeHTTP serves GET /ws/agent: origin, authentication, upgrade, then
// the connection until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "use GET with a WebSocket upgrade", http.StatusMethodNotAllowed)
		return
	}
	if !h.upgrader.CheckOrigin(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	agentID, sessionID, expiresAt, err := h.auth(r)
	if err != nil || agentID == "" || sessionID == "" {
		http.Error(w, "log in first: an agent session is required", http.StatusUnauthorized)
		return
	}
	if _, ok := h.rt.Snapshot().Agent(agentID); !ok {
		http.Error(w, "agent "+agentID+" is not known to the router", http.StatusForbidden)
		return
	}
	if h.closed.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r)
	if err != nil {
		return // the upgrader answered
	}
	c := &conn{h: h, ws: ws, agentID: agentID}
	if v := r.URL.Query().Get("resume"); v != "" {
		if seq, err := strconv.ParseUint(v, 10, 64); err == nil {
			c.resume, c.resumeSeq = true, seq
		}
	}
	p := h.register(c, sessionID, expiresAt)
	if h.closed.Load() {
		// Close ran while this socket was being upgraded.
		c.closeWith(wsconn.CloseGoingAway, "server shutting down")
	}
	p.mu.Lock()
	p.conns++
	if _, err := h.rt.AgentConnected(h.ctx, agentID); err != nil {
		h.log.Warn("agents: agent connected", "agent", agentID, "err", err)
	}
	p.mu.Unlock()
	h.shardOf(agentID).put(job{attach: c})
	c.serve()
	h.finish(c, p)
}

// register finds or creates c's session and records c. A new session
// that expires gets the timer that ends it then.
func (h *Hub) register(c *conn, sessionID string, expiresAt time.Time) *presence {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[sessionID]
	if s == nil || s.agentID != c.agentID {
		s = &session{id: sessionID, agentID: c.agentID}
		h.sessions[sessionID] = s
		h.byAgent[c.agentID] = append(h.byAgent[c.agentID], s)
		if !expiresAt.IsZero() {
			s.mu.Lock()
			s.expiry = h.afterFunc(expiresAt.Sub(h.now()), func() { h.endSession(s, true) })
			s.mu.Unlock()
		}
	}
	c.s = s
	h.conns[c] = true
	p := h.presence[c.agentID]
	if p == nil {
		p = &presence{}
		h.presence[c.agentID] = p
	}
	return p
}

// finish cleans up after c ended. The agent's last socket closing,
// unless it was replaced, tells the router the agent is gone.
func (h *Hub) finish(c *conn, p *presence) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	s := c.s
	s.mu.Lock()
	c.dead = true
	if s.conn == c {
		s.conn = nil
		gen := s.gen
		time.AfterFunc(sessionLinger, func() { h.linger(s, gen) })
	}
	s.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns--
	if p.conns > 0 || c.replaced.Load() || h.closed.Load() {
		return
	}
	if _, err := h.rt.AgentDisconnected(h.ctx, c.agentID, h.grace); err != nil {
		h.log.Warn("agents: agent disconnected", "agent", c.agentID, "err", err)
	}
}

// linger drops the replay buffer of a session that has had no socket
// since generation gen: a later resume gets a snapshot. The sequence
// goes on, never reused.
func (h *Hub) linger(s *session, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil && s.gen == gen {
		s.ring = ring{}
	}
}

// ForgetReplays empties the replay buffer of every session, as linger
// does for one: a socket that resumes later gets a fresh snapshot. It is
// called when a customer's personal data is erased, so that no frame
// about them (a screen pop, a message) stays in memory to be replayed;
// the buffers hold every customer's frames mixed, and erasing is rare,
// so all go. Frames already sent are the clients' own.
func (h *Hub) ForgetReplays() {
	h.mu.Lock()
	sessions := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		s.mu.Lock()
		s.ring = ring{}
		s.mu.Unlock()
	}
}

// EndSessions ends sessions of an agent (a new login took over, a
// logout, a password set, the login or the agent deleted): their sockets
// get session_replaced and close, and a resume of them is no longer
// possible. The agent is not marked disconnected: the caller decides its
// state (a logout may set it offline). Unknown ids are ignored.
func (h *Hub) EndSessions(agentID string, sessionIDs []string) {
	for _, id := range sessionIDs {
		h.mu.RLock()
		s := h.sessions[id]
		h.mu.RUnlock()
		if s != nil && s.agentID == agentID {
			h.endSession(s, false)
		}
	}
}

// endSession forgets s, unless it was already. Its socket, if any, is
// closed: with session_replaced, or, when the session expired, with
// closeExpired and as a drop, which tells the router the agent left.
func (h *Hub) endSession(s *session, expired bool) {
	h.mu.Lock()
	if h.sessions[s.id] != s {
		h.mu.Unlock()
		return
	}
	delete(h.sessions, s.id)
	h.byAgent[s.agentID] = slices.DeleteFunc(h.byAgent[s.agentID], func(o *session) bool { return o == s })
	if len(h.byAgent[s.agentID]) == 0 {
		delete(h.byAgent, s.agentID)
	}
	h.mu.Unlock()
	s.mu.Lock()
	s.ended, s.expired = true, expired
	c := s.conn
	s.conn = nil
	s.ring = ring{}
	timer := s.expiry
	s.expiry = nil
	s.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	if c != nil {
		h.closeEnded(c, expired)
	}
}

// closeEnded closes c, whose session ended.
func (h *Hub) closeEnded(c *conn, expired bool) {
	if expired {
		c.closeWith(closeExpired, "session expired")
		return
	}
	c.replaced.Store(true)
	c.closeWith(closeReplaced, "session replaced", frame(msgSessionReplaced, 0, "", []byte("{}")))
}

// attach makes c its session's socket and sends it what it missed: a
// replay if the session still has it, else a snapshot. A socket that had
// the session before is told session_replaced and closed.
func (h *Hub) attach(c *conn) {
	s := c.s
	s.mu.Lock()
	if c.dead {
		s.mu.Unlock()
		return
	}
	if s.ended {
		expired := s.expired
		s.mu.Unlock()
		h.closeEnded(c, expired)
		return
	}
	old := s.conn
	s.conn = c
	s.gen++
	replayed := false
	if c.resume && s.seq > 0 {
		var frames [][]byte
		if frames, replayed = s.ring.after(c.resumeSeq, s.seq); replayed && len(frames) > 0 {
			c.enqueue(frames...)
		}
	}
	s.mu.Unlock()
	if old != nil && old != c {
		old.replaced.Store(true)
		old.closeWith(closeReplaced, "session replaced", frame(msgSessionReplaced, 0, "", []byte("{}")))
	}
	if !replayed {
		s.push(msgSnapshot, h.snapshot(s.agentID))
	}
}

// sessionsOf returns the sessions of an agent.
func (h *Hub) sessionsOf(agentID string) []*session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Clone(h.byAgent[agentID])
}

// deliver turns a notification into its message and pushes it to the
// sessions of the notification's agent, and only theirs.
func (h *Hub) deliver(n router.Notification) {
	ss := h.sessionsOf(n.AgentID)
	if len(ss) == 0 {
		return
	}
	typ, data := h.render(n)
	if typ == "" {
		return
	}
	for _, s := range ss {
		s.push(typ, data)
	}
}

// render builds the message of a notification; typ is empty when it has
// none.
func (h *Hub) render(n router.Notification) (typ string, data []byte) {
	var v any
	switch n.Kind {
	case router.NoteOffer:
		typ, v = msgOffer, h.offer(*n.Contact, n.Reason)
	case router.NoteOfferWithdrawn:
		typ, v = msgOfferWithdrawn, withdrawnData{ContactID: n.Contact.ID, Reason: n.Reason}
	case router.NoteAssigned:
		typ, v = msgAssigned, h.active(*n.Contact)
	case router.NoteMessage:
		if n.Message == nil {
			return "", nil
		}
		typ, v = msgMessage, messageData{ContactID: n.Contact.ID, Message: *n.Message}
	case router.NoteContact:
		typ, v = msgContact, contactData{Contact: n.Contact.ForAgent(), Reason: n.Reason}
	case router.NoteContactEnded:
		typ, v = msgContactClosed, closedData{ContactID: n.Contact.ID, State: closedState(n), Reason: n.Reason}
	case router.NoteDelivery:
		if n.Message == nil || n.Message.Delivery == nil {
			return "", nil
		}
		typ, v = msgDelivery, deliveryData{ContactID: n.Message.ContactID, Seq: n.Message.Seq, Delivery: *n.Message.Delivery}
	case router.NoteAgent:
		if n.Agent == nil {
			return "", nil
		}
		typ, v = msgState, stateData{Agent: *n.Agent, Reason: n.Reason}
	default:
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("agents: encode message", "type", typ, "err", err)
		return "", nil
	}
	return typ, b
}

// closedState says how a contact left its agent: closed or abandoned
// (it ended), transferred, or returned (taken back to its queue after the
// agent's grace ran out).
func closedState(n router.Notification) string {
	switch {
	case n.Contact.State.Final():
		return string(n.Contact.State)
	case n.Reason == "transferred":
		return string(router.ContactTransferred)
	}
	return "returned"
}

// offer builds an offer with its screen pop. A store failure still sends
// the offer, with what the screen pop could show.
func (h *Hub) offer(c router.Contact, reason string) offerData {
	pop, err := h.popper.BuildFor(h.ctx, c, reason, c.OfferedAt, true)
	if err != nil {
		h.log.Warn("agents: screen pop of an offer", "contact", c.ID, "err", err)
	}
	return offerData{ContactID: c.ID, ExpiresAt: c.OfferExpires, Reason: reason, ScreenPop: pop}
}

// active builds an agent's contact with its conversation and screen pop.
func (h *Hub) active(c router.Contact) activeContact {
	ac := activeContact{Contact: c.ForAgent(), Messages: []router.Message{}}
	var err error
	if ac.ScreenPop, err = h.popper.BuildFor(h.ctx, c, "", c.AssignedAt, true); err != nil {
		h.log.Warn("agents: screen pop of a contact", "contact", c.ID, "err", err)
	}
	if ac.Messages, err = h.conversation(c.ID); err != nil {
		h.log.Warn("agents: conversation of a contact", "contact", c.ID, "err", err)
	}
	return ac
}

// conversation returns the latest messages of a contact, oldest first.
func (h *Hub) conversation(id string) ([]router.Message, error) {
	out := []router.Message{}
	after := 0
	for {
		page, err := h.store.Messages(h.ctx, id, after, store.MaxMessageLimit)
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, page...)
		if n := len(out); n > conversationMessages {
			out = slices.Clone(out[n-conversationMessages:])
		}
		if len(page) < store.MaxMessageLimit {
			return out, nil
		}
		after = page[len(page)-1].Seq
	}
}

// snapshot builds the snapshot of an agent: its state, its contacts with
// their conversations, its offer, and the desktop's configuration.
func (h *Hub) snapshot(agentID string) []byte {
	snap := h.rt.Snapshot()
	a, ok := snap.Agent(agentID)
	if !ok {
		a = router.Agent{ID: agentID, State: router.AgentOffline}
	}
	d := snapshotData{
		Agent: a, Contacts: []activeContact{},
		Dispositions: h.dispositions, AwayReasons: h.awayReasons, VerificationMethods: h.methods,
	}
	for _, id := range a.Contacts {
		c, ok := snap.Contact(id)
		if !ok || c.AgentID != agentID {
			continue
		}
		switch c.State {
		case router.ContactOffered:
			o := h.offer(c, "")
			o.Reason = o.ScreenPop.Contact.RoutedBecause
			d.Offer = &o
		case router.ContactAssigned, router.ContactWrapUp:
			d.Contacts = append(d.Contacts, h.active(c))
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		h.log.Error("agents: encode snapshot", "agent", agentID, "err", err)
		return []byte("{}")
	}
	return b
}
