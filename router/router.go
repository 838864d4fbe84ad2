// Package router keeps the live state of a contact center (agents, queues
// and the contacts not yet ended) and decides which agent gets which
// contact.
//
// One goroutine owns every write. Commands (a new contact, an agent's
// state, accept, decline, a timer coming due) queue up and are applied in
// order; the commands that arrive together share one go-memdb write
// transaction and one Store commit, and each caller is answered, and each
// agent told, only once that commit is durable. Routing runs inside the
// same transaction right after the commands, so a freed agent or a new
// contact is matched at once and nothing polls. With a single writer,
// "capacity is never exceeded" and "never offered twice" hold by
// construction; the offer still re-checks both.
//
// Commits are pipelined: while one batch is being written to the store, the
// writer already applies the next commands on top of it, and seals them
// into the next batch the moment the store is free. Snapshots may
// therefore show a decision up to one commit before it is durable; nobody
// is answered or notified before. If the store fails, the router stops
// (fail-stop): every later command gets ErrFailed, Failed is closed, and
// the process should restart and reload what was durable.
//
//	r, err := router.New(store, &router.Options{Notifier: hub})
//	if err := r.Start(ctx); err != nil { ... }
//	defer r.Close()
//	c, _, err := r.Submit(ctx, router.NewContact{Channel: "api", Queue: "billing"})
//
// A Router is safe for concurrent use.
package router

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/switchboard/switchboard/hours"
)

// Defaults used when Options leaves a field zero.
const (
	defaultOfferTimeout     = 30 * time.Second
	defaultWrapUp           = 30 * time.Second
	defaultPreferredTimeout = 60 * time.Second
	// defaultMaxBatch bounds how many queued commands share one commit.
	defaultMaxBatch = 256
	// DefaultCustomerMessages is how many messages a customer may add to
	// one contact (Options.CustomerMessages).
	DefaultCustomerMessages = 200
	// DefaultCustomerBytes is how many bytes of message bodies a customer
	// may add to one contact (Options.CustomerBytes).
	DefaultCustomerBytes = 1 << 20
	// DefaultDisconnectGrace is Options.DisconnectGrace when zero.
	DefaultDisconnectGrace = 60 * time.Second
	// maxSkipped is how many passed-over agents a decision's reason names.
	maxSkipped = 3
)

// DefaultCapacity is the per-channel capacity of an agent who does not
// set one.
var DefaultCapacity = map[Channel]int{ChannelChat: 3, ChannelEmail: 5, ChannelSMS: 3, ChannelAPI: 1}

// DefaultOfferTimeout is how long an offer rings, per channel.
var DefaultOfferTimeout = map[Channel]time.Duration{
	ChannelChat: 30 * time.Second, ChannelEmail: 2 * time.Minute,
	ChannelSMS: 60 * time.Second, ChannelAPI: 30 * time.Second,
}

// Options tune a Router. A nil *Options means the defaults.
type Options struct {
	// OfferTimeout per channel; a channel not named gets 30s.
	OfferTimeout map[Channel]time.Duration
	// Capacity is the default capacity per channel of an agent who does
	// not set one. Its keys are the channels the router accepts.
	Capacity map[Channel]int
	// WrapUp is the wrap-up time of queues that do not set one.
	WrapUp time.Duration
	// PreferredTimeout is how long preferred agents keep a contact to
	// themselves when the request does not say.
	PreferredTimeout time.Duration
	// MaxBatch bounds the commands that share one commit.
	MaxBatch int
	// CustomerMessages bounds the messages from the customer (direction
	// "in", the first body included) that one contact holds; past it
	// AddMessage wraps ErrLimit and stores nothing. Zero means
	// DefaultCustomerMessages; negative is an error.
	CustomerMessages int
	// CustomerBytes bounds the bytes of those messages' bodies, as
	// CustomerMessages does their number. Zero means DefaultCustomerBytes.
	CustomerBytes int
	// Outbound are the channels whose outbound messages a sender
	// delivers: such a message is stored with a queued delivery and its
	// outbox entry (Batch.Outbox), and NoteOutbox tells the dispatcher.
	Outbound []Channel
	// Calendars are the business hours that queues name (Queue.Hours),
	// by name; the router keeps the map and never changes it or them.
	Calendars map[string]*hours.Calendar
	// EventLog makes every batch carry the durable event log's entries
	// of what it changed (Batch.Log): contacts created, offered,
	// assigned and ended, messages in and out. The outbound webhooks
	// deliver them.
	EventLog bool
	// RequirePresence makes an agent routable only while a client of
	// theirs is connected (a desktop: AgentConnected, until
	// AgentDisconnected or AgentSignedOut): SetAgentState refuses
	// available to an agent without one, and wrap-up ends in offline for
	// an agent who left. Off, presence only holds contacts for the grace.
	RequirePresence bool
	// Observer, when set, hears how long routing and committing each
	// batch took (metrics).
	Observer Observer
	// DisconnectGrace is how long an agent who left keeps their assigned
	// contacts, and how long a dropped desktop's state waits to be
	// restored on reconnect; after a restart, every agent holding
	// contacts has it to come back. Zero means DefaultDisconnectGrace.
	DisconnectGrace time.Duration
	// AwayReasons are the reason codes an agent may give for away
	// (SetAgentState), besides none ("away"); none allows any valid name
	// (a replay of recorded states, tests). routerd sets the configured
	// ones: the desktop and the API are held to the same list.
	AwayReasons []string
	Clock       Clock
	Notifier    Notifier
	Logger      *slog.Logger
}

// Router routes contacts to agents. See the package documentation.
type Router struct {
	store    Store
	db       *memdb.MemDB
	clock    Clock
	notifier Notifier
	log      *slog.Logger

	offerTimeout     map[Channel]time.Duration
	capacity         map[Channel]int
	wrapUp           time.Duration
	preferredTimeout time.Duration
	maxBatch         int
	customerMessages int // never less than 1
	customerBytes    int // never less than 1
	outbound         map[Channel]bool
	requirePresence  bool
	observer         Observer                   // Options.Observer, or nil
	grace            time.Duration              // never zero
	calendars        map[string]*hours.Calendar // read only
	awayReasons      []string                   // Options.AwayReasons; read only
	eventLog         atomic.Bool                // Options.EventLog, then SetEventLog

	// closeMu makes Close and do exclusive: no command is queued once
	// closing began, so the loop answers every command queued before.
	closeMu  sync.RWMutex
	closing  bool // guarded by closeMu
	cmds     chan *command
	quit     chan struct{}
	stopped  chan struct{}
	started  atomic.Bool
	stopOnce sync.Once

	// commits carries sealed batches to the committer, in order; idle holds
	// a token while the committer can take one.
	commits chan *sealed
	idle    chan struct{}
	// failed is closed, and failure set, when a store commit fails.
	failed   chan struct{}
	failure  atomic.Pointer[error]
	failOnce sync.Once

	// tickQueued is set while a timer command waits in cmds.
	tickQueued atomic.Bool

	// stream publishes committed batches to subscriptions (Subscribe).
	stream stream
	// recheckFailures counts dropped proposals (RecheckFailures).
	recheckFailures atomic.Uint64
	// batchSeq numbers the sealed batches; owned by the loop goroutine.
	batchSeq uint64
	// committed is the number of the last batch committed to the store.
	committed atomic.Uint64

	// The fields below are owned by the loop goroutine.
	timers  timerHeap
	armed   Timer
	armedAt time.Time
	// seqs holds the next event and message numbers of each live contact.
	seqs map[string]contactSeqs
	// lastRR is the last agent offered a contact of each round-robin queue.
	lastRR map[string]string
	// stateAt is the time of each agent's last state history entry.
	stateAt map[string]time.Time
	ids     idGen
	// rev numbers skill maps, so that a route knows when to re-key.
	rev uint64
}

func (r *Router) nextRev() uint64 {
	r.rev++
	return r.rev
}

// contactSeqs are a live contact's next event and message numbers, and
// what its customer has sent (inMessages messages of inBytes bytes),
// which the customer limits bound.
type contactSeqs struct{ event, message, inMessages, inBytes int }

// Notifier hears what the router decided, after it is durable. Notify is
// called from the router's goroutine and must not block.
type Notifier interface {
	Notify(ns []Notification)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func([]Notification)

// Notify calls f.
func (f NotifierFunc) Notify(ns []Notification) { f(ns) }

// Notifiers returns a Notifier that tells each of ns in turn; it is a
// BatchNotifier, and tells those of ns that are one each batch.
func Notifiers(ns ...Notifier) Notifier { return notifiers(ns) }

type notifiers []Notifier

func (ns notifiers) Notify(batch []Notification) {
	for _, n := range ns {
		n.Notify(batch)
	}
}

func (ns notifiers) NotifyBatch(p Published) {
	for _, n := range ns {
		tell(n, p)
	}
}

// tell gives n the batch p: all of it to a BatchNotifier, whenever p
// notifies or touches something, else its notifications, if any.
func tell(n Notifier, p Published) {
	if bn, ok := n.(BatchNotifier); ok {
		if len(p.Notes) > 0 || !p.Touched.Empty() {
			bn.NotifyBatch(p)
		}
		return
	}
	if len(p.Notes) > 0 {
		n.Notify(p.Notes)
	}
}

// NoteKind names what a Notification tells.
type NoteKind string

// Notification kinds.
const (
	// NoteOffer: Contact is offered to AgentID until Contact.OfferExpires.
	NoteOffer NoteKind = "offer"
	// NoteOfferWithdrawn: the offer of Contact to AgentID is over (Reason).
	NoteOfferWithdrawn NoteKind = "offer_withdrawn"
	// NoteAssigned: AgentID accepted Contact.
	NoteAssigned NoteKind = "assigned"
	// NoteContact: Contact changed (state, queue, requirements).
	NoteContact NoteKind = "contact"
	// NoteContactEnded: Contact left AgentID (closed, abandoned, transferred).
	NoteContactEnded NoteKind = "contact_ended"
	// NoteAgent: Agent changed (state, capacity, skills).
	NoteAgent NoteKind = "agent"
	// NoteMessage: Message was added to Contact.
	NoteMessage NoteKind = "message"
	// NoteOutbox: Outbox is an outbound Message of Contact to deliver,
	// committed with it.
	NoteOutbox NoteKind = "outbox"
	// NoteDelivery: the delivery of Message (ContactID, Seq, Delivery) of
	// a contact with AgentID (empty once it ended) changed.
	NoteDelivery NoteKind = "delivery"
	// NoteSignal: Signal, something a person did that changes no state
	// (typing, reading), announced (Announce) and never committed.
	NoteSignal NoteKind = "signal"
)

// Signal kinds (Signal.Kind).
const (
	// SignalTyping: From is typing a message on ContactID.
	SignalTyping = "typing"
	// SignalRead: the agent read the customer's messages up to UpToSeq.
	SignalRead = "read"
	// SignalReceipt: the customer's screen shows the agent's messages up
	// to DeliveredSeq, and the customer read them up to ReadSeq.
	SignalReceipt = "receipt"
)

// Signal is something a person did on a live contact that changes no
// state: the channels and the agents' hub tell each other through the
// event stream (Announce), best effort, never stored.
type Signal struct {
	Kind      string
	ContactID string
	// From is AuthorAgent or AuthorCustomer.
	From                           string
	UpToSeq, DeliveredSeq, ReadSeq int
}

// Reasons of notifications that are codes, which readers (and the agent
// desktop's protocol) may act on; other reasons are for people (why a
// contact was routed, why an offer was withdrawn).
const (
	ReasonCreated           = "created"
	ReasonTransferred       = "transferred"
	ReasonVerified          = "verified"
	ReasonClaimForgotten    = "claim_forgotten"
	ReasonReconnected       = "reconnected"
	ReasonRestored          = "restored"
	ReasonDefinitionChanged = "definition changed"
	// ReasonTakenOver: a supervisor took the contact over
	// (Contact.TakenOverBy).
	ReasonTakenOver = "taken_over"
)

// Observer hears how the router's work goes, for metrics. Its methods
// run on the router's goroutines: they must return at once.
type Observer interface {
	// Routed: a batch of commands was applied and routed in memory
	// (the decisions), in took.
	Routed(commands int, took time.Duration)
	// Committed: the store wrote a batch in took; err is its failure.
	Committed(commands int, took time.Duration, err error)
}

// Notification is one thing the router decided.
type Notification struct {
	Kind    NoteKind
	AgentID string
	Contact *Contact
	Agent   *Agent
	Message *Message
	Outbox  *OutboxEntry
	Signal  *Signal
	Reason  string
}

// New returns a router over store. Call Start before any command.
func New(store Store, o *Options) (*Router, error) {
	if o == nil {
		o = &Options{}
	}
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		return nil, fmt.Errorf("router: build schema: %w", err)
	}
	r := &Router{
		store:            store,
		db:               db,
		clock:            o.Clock,
		notifier:         o.Notifier,
		log:              o.Logger,
		offerTimeout:     map[Channel]time.Duration{},
		capacity:         map[Channel]int{},
		wrapUp:           o.WrapUp,
		preferredTimeout: o.PreferredTimeout,
		maxBatch:         o.MaxBatch,
		customerMessages: cmp.Or(o.CustomerMessages, DefaultCustomerMessages),
		customerBytes:    cmp.Or(o.CustomerBytes, DefaultCustomerBytes),
		calendars:        maps.Clone(o.Calendars),
		awayReasons:      slices.Clone(o.AwayReasons),
		cmds:             make(chan *command, 1024),
		quit:             make(chan struct{}),
		stopped:          make(chan struct{}),
		commits:          make(chan *sealed, 1),
		idle:             make(chan struct{}, 1),
		failed:           make(chan struct{}),
		seqs:             map[string]contactSeqs{},
		stateAt:          map[string]time.Time{},
		lastRR:           map[string]string{},
		outbound:         map[Channel]bool{},
		requirePresence:  o.RequirePresence,
		observer:         o.Observer,
		grace:            cmp.Or(o.DisconnectGrace, DefaultDisconnectGrace),
	}
	if o.DisconnectGrace < 0 {
		return nil, fmt.Errorf("router: disconnect grace is negative")
	}
	for _, ch := range o.Outbound {
		r.outbound[ch] = true
	}
	r.eventLog.Store(o.EventLog)
	for ch, d := range DefaultOfferTimeout {
		r.offerTimeout[ch] = d
	}
	for ch, d := range o.OfferTimeout {
		r.offerTimeout[ch] = d
	}
	capacity := o.Capacity
	if capacity == nil {
		capacity = DefaultCapacity
	}
	for ch, n := range capacity {
		if n < 0 {
			return nil, fmt.Errorf("router: capacity of channel %q is negative", ch)
		}
		r.capacity[ch] = n
	}
	if r.customerMessages < 0 || r.customerBytes < 0 {
		return nil, fmt.Errorf("router: customer limits are negative (%d messages, %d bytes)", r.customerMessages, r.customerBytes)
	}
	if r.clock == nil {
		r.clock = WallClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.notifier == nil {
		r.notifier = NotifierFunc(func([]Notification) {})
	}
	if r.wrapUp == 0 {
		r.wrapUp = defaultWrapUp
	}
	if r.preferredTimeout == 0 {
		r.preferredTimeout = defaultPreferredTimeout
	}
	if r.maxBatch <= 0 {
		r.maxBatch = defaultMaxBatch
	}
	return r, nil
}

// Start loads the durable state, returns what a restart changed to the
// queue (offers in flight return to it), and starts the writer goroutine.
func (r *Router) Start(ctx context.Context) error {
	if r.started.Swap(true) {
		return fmt.Errorf("router: started twice")
	}
	loaded, err := r.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("router: load state: %w", err)
	}
	w := r.begin()
	if err := w.restore(loaded); err != nil {
		w.txn.Abort()
		return err
	}
	w.route()
	if err := r.store.Commit(ctx, &w.batch); err != nil {
		w.txn.Abort()
		return fmt.Errorf("router: commit restored state: %w", err)
	}
	r.publish(w)
	r.idle <- struct{}{}
	go r.commitLoop()
	go r.loop()
	return nil
}

// Failed is closed when the router stopped because its store failed.
func (r *Router) Failed() <-chan struct{} { return r.failed }

// Err returns why the router failed, or nil.
func (r *Router) Err() error {
	if p := r.failure.Load(); p != nil {
		return *p
	}
	return nil
}

func (r *Router) fail(err error) {
	r.failOnce.Do(func() {
		err = fmt.Errorf("%w: %w", ErrFailed, err)
		r.failure.Store(&err)
		r.log.Error("router: store commit failed; refusing further commands", "err", err)
		close(r.failed)
		r.stream.closeAll(err)
	})
}

// Close stops the router after the commands already queued; later
// commands fail with ErrClosed.
func (r *Router) Close() {
	if !r.started.Load() {
		return
	}
	r.stopOnce.Do(func() {
		r.closeMu.Lock()
		r.closing = true
		r.closeMu.Unlock()
		close(r.quit)
	})
	<-r.stopped
	r.stream.closeAll(ErrClosed)
}

// Channels returns the channels the router accepts, with their default
// agent capacity.
func (r *Router) Channels() map[Channel]int {
	m := make(map[Channel]int, len(r.capacity))
	for ch, n := range r.capacity {
		m[ch] = n
	}
	return m
}

// command is one request to the writer goroutine.
type command struct {
	ctx   context.Context
	apply func(w *write) (any, error)
	reply chan result
}

type result struct {
	v   any
	err error
}

// deferred is a command result computed after routing, so that a reply
// shows what routing did (a new contact already offered, say).
type deferred func(w *write) any

// do runs apply on the writer goroutine and waits for its durable result.
func (r *Router) do(ctx context.Context, apply func(w *write) (any, error)) (any, error) {
	if !r.started.Load() {
		return nil, ErrNotStarted
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	c := &command{ctx: ctx, apply: apply, reply: make(chan result, 1)}
	r.closeMu.RLock()
	if r.closing {
		r.closeMu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case r.cmds <- c:
		r.closeMu.RUnlock()
	case <-r.failed:
		r.closeMu.RUnlock()
		return nil, r.Err()
	case <-ctx.Done():
		r.closeMu.RUnlock()
		return nil, ctx.Err()
	}
	// Once queued, a command is applied or refused by the loop; wait for
	// its answer even if ctx ends, so callers never guess.
	res := <-c.reply
	return res.v, res.err
}

// sealed is a batch committed in memory and waiting for the store.
type sealed struct {
	seq     uint64
	batch   *Batch
	notes   []Notification
	touched Touched
	cmds    []*command
	results []result
}

// loop applies commands as they arrive into an open batch, and seals the
// batch whenever the committer is free (or the batch is full).
func (r *Router) loop() {
	defer close(r.stopped)
	defer close(r.commits)
	var w *write
	for {
		if w == nil {
			select {
			case c := <-r.cmds:
				w = r.begin()
				w.apply(c)
			case <-r.quit:
				r.drain()
				return
			}
			continue
		}
		if len(w.cmds) >= r.maxBatch {
			<-r.idle
			r.seal(w)
			w = nil
			continue
		}
		select {
		case c := <-r.cmds:
			w.apply(c)
		case <-r.idle:
			r.seal(w)
			w = nil
		case <-r.quit:
			<-r.idle
			r.seal(w)
			r.drain()
			return
		}
	}
}

// apply runs one command in w.
func (w *write) apply(c *command) {
	if len(w.cmds) == 0 {
		w.started = time.Now()
	}
	w.cmds = append(w.cmds, c)
	var res result
	if err := c.ctx.Err(); err != nil {
		res.err = err
	} else if err := w.r.Err(); err != nil {
		res.err = err
	} else {
		w.actor = ActorFrom(c.ctx)
		res.v, res.err = c.apply(w)
		w.actor = ""
	}
	w.results = append(w.results, res)
}

// seal routes w, commits it in memory, and hands it to the committer.
func (r *Router) seal(w *write) {
	if r.Err() != nil {
		w.txn.Abort()
		for i, c := range w.cmds {
			if w.results[i].err == nil {
				w.results[i] = result{err: r.Err()}
			}
			c.reply <- w.results[i]
		}
		r.idle <- struct{}{}
		return
	}
	w.route()
	for i := range w.results {
		if d, ok := w.results[i].v.(deferred); ok {
			w.results[i].v = d(w)
		}
	}
	if r.observer != nil {
		r.observer.Routed(len(w.cmds), time.Since(w.started))
	}
	r.batchSeq++
	if err := w.txn.Insert(tableMeta, &meta{ID: metaBatch, Seq: r.batchSeq}); err != nil {
		panic(fmt.Sprintf("router: write meta: %v", err)) // schema bug
	}
	r.publish(w)
	for i := range w.batch.Contacts {
		w.touched.Contacts = append(w.touched.Contacts, w.batch.Contacts[i].ID)
	}
	r.commits <- &sealed{seq: r.batchSeq, batch: &w.batch, notes: w.notes, touched: w.touched, cmds: w.cmds, results: w.results}
}

// publish makes w visible in memory and takes over its timers and
// sequence numbers.
func (r *Router) publish(w *write) {
	w.txn.Commit()
	for id, s := range w.seqs {
		r.seqs[id] = s
	}
	for _, id := range w.ended {
		delete(r.seqs, id)
	}
	for _, t := range w.timers {
		r.timers.push(t)
	}
	r.arm()
}

// commitLoop writes sealed batches to the store in order; only then are
// callers answered and agents told.
func (r *Router) commitLoop() {
	for s := range r.commits {
		if r.Err() == nil && !s.batch.Empty() {
			start := time.Now()
			err := r.store.Commit(context.Background(), s.batch)
			if r.observer != nil {
				r.observer.Committed(len(s.cmds), time.Since(start), err)
			}
			if err != nil {
				r.fail(err)
			}
		}
		if r.Err() == nil {
			r.committed.Store(s.seq)
		}
		if err := r.Err(); err != nil {
			for i := range s.results {
				s.results[i] = result{err: err}
			}
		} else {
			p := Published{Seq: s.seq, Notes: s.notes, Touched: s.touched}
			tell(r.notifier, p)
			r.stream.publish(p)
		}
		for i, c := range s.cmds {
			c.reply <- s.results[i]
		}
		r.idle <- struct{}{}
	}
}

// drain answers the commands still queued at shutdown.
func (r *Router) drain() {
	if r.armed != nil {
		r.armed.Stop()
	}
	for {
		select {
		case c := <-r.cmds:
			c.reply <- result{err: ErrClosed}
		default:
			<-r.idle // the committer has finished the last batch
			return
		}
	}
}

// arm sets the one real timer for the earliest entry of the heap.
func (r *Router) arm() {
	next, ok := r.timers.peek()
	if !ok {
		return
	}
	if r.armed != nil && !r.armedAt.After(next) {
		return
	}
	if r.armed != nil {
		r.armed.Stop()
	}
	r.armedAt = next
	r.armed = r.clock.AfterFunc(next.Sub(r.clock.Now()), r.tick)
}

// tick queues a timer command unless one is already waiting.
func (r *Router) tick() {
	if r.tickQueued.Swap(true) {
		return
	}
	c := &command{ctx: context.Background(), reply: make(chan result, 1), apply: func(w *write) (any, error) {
		r.tickQueued.Store(false)
		r.armed = nil
		for {
			t, ok := r.timers.popDue(w.now)
			if !ok {
				break
			}
			switch t.kind {
			case timerContact:
				w.reconcileContact(t.id)
			case timerAgent:
				w.reconcileAgent(t.id)
			case timerKey:
				w.forgetKey(t.id)
			case timerExternal:
				w.forgetExternal(t.id)
			}
		}
		return nil, nil
	}}
	select {
	case r.cmds <- c:
	case <-r.quit:
	}
}

// Sync returns once every command queued before it has been applied and
// committed. Tests use it after ManualClock.Advance.
func (r *Router) Sync(ctx context.Context) error {
	_, err := r.do(ctx, func(*write) (any, error) { return nil, nil })
	return err
}

// actorKey carries who asks for a command (WithActor).
type actorKey struct{}

// WithActor returns ctx carrying who asks for the commands run with it
// ("sam (supervisor)"): the events they record name them (Event.By), so
// that every action on a contact's timeline says who did it.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}
