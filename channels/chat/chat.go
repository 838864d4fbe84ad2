package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/wsconn"
)

// Timeouts of the channel.
const (
	// commandTimeout bounds one router command or store read made for a
	// customer's frame.
	commandTimeout = 10 * time.Second
	// queueRefresh re-computes positions and estimates while nothing
	// happens, because the estimate's window moves with time.
	queueRefresh = 15 * time.Second
	// statsTTL is how long the window's answered counts are reused.
	statsTTL = 10 * time.Second
	// typingEvery is how often a customer's typing is passed on.
	typingEvery = 3 * time.Second
)

// Receipt is what the channel knows of a conversation's marks: the
// highest agent message (seq) written to the customer's socket, and the
// highest the customer reported as read.
type Receipt struct {
	DeliveredSeq int `json:"delivered_seq"`
	ReadSeq      int `json:"read_seq"`
}

// Channel is the web chat channel. It implements router.Notifier and
// serves the customer's WebSocket and pages through Handler. It is safe
// for concurrent use.
type Channel struct {
	o        Options // resolved, never changed
	topics   map[string]Topic
	upgrader *wsconn.Upgrader // the sockets' origin policy and limits; never nil
	static   http.Handler
	csp      string // the pages' Content-Security-Policy, without frame-ancestors' self

	perAddr *limiter
	perConv *limiter

	mu     sync.RWMutex
	convs  map[string]map[*conn]struct{} // conversations' sockets by contact id; guarded by mu
	conns  map[*conn]struct{}            // every socket; guarded by mu
	byAddr map[string]int                // open sockets per customer address, none zero; guarded by mu

	// offered are conversations whose contact was offered to an agent
	// or whose socket just became ready, to be looked at once by the
	// next round of standings: the queued ones are found in the router's
	// waiting index, these are not. Guarded by omu, apart from mu so
	// that Notify never waits for a round's scan.
	omu     sync.Mutex
	offered map[string]struct{}

	smu sync.Mutex
	// surveyed are the contacts surveyed at their wrap-up, until they
	// end, seeded with those in wrap-up at New and Resync (surveyedIn);
	// guarded by smu.
	surveyed map[string]bool
	// pending are the ended conversations whose survey is to be offered,
	// oldest first; surveyors is how many goroutines work through them,
	// at most maxSurveyors (queueSurvey); surveysIdle is signalled when
	// it drops to 0; surveysStopped is set by Close. Guarded by smu.
	pending        []router.Contact
	surveyors      int
	surveysIdle    sync.Cond
	surveysStopped bool
	// testHookSurvey, if set (by tests, before New returns the channel to
	// traffic), is called by a surveyor before it offers a survey.
	testHookSurvey func(router.Contact)

	rmu      sync.Mutex
	receipts map[string]*Receipt // guarded by rmu

	// dirty asks the queue goroutine to recompute positions; statsStale
	// asks it to read the window's statistics again (a contact was
	// answered or abandoned).
	dirty      chan struct{}
	statsStale atomic.Bool
	quit       chan struct{}
	stopped    chan struct{}
	once       sync.Once
}

var _ router.Notifier = (*Channel)(nil)

// New returns a Channel. It starts one goroutine that keeps the waiting
// customers' positions and estimates up to date; Close stops it.
func New(o Options) (*Channel, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	c := &Channel{
		o:        o,
		topics:   map[string]Topic{},
		perAddr:  newLimiter(o.ConversationsPerMinute, time.Minute),
		perConv:  newLimiter(o.MessagesPer10s, 10*time.Second),
		convs:    map[string]map[*conn]struct{}{},
		conns:    map[*conn]struct{}{},
		byAddr:   map[string]int{},
		offered:  map[string]struct{}{},
		receipts: map[string]*Receipt{},
		surveyed: map[string]bool{},
		dirty:    make(chan struct{}, 1),
		quit:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	c.surveysIdle.L = &c.smu
	if o.CSAT.Enabled() {
		// After a restart, the contacts in wrap-up were surveyed by the
		// process before.
		c.surveyed = surveyedIn(o.Router.Snapshot())
	}
	for _, t := range o.Topics {
		c.topics[t.ID] = t
	}
	c.upgrader, err = wsconn.New(wsconn.Options{
		AllowedOrigins: o.AllowedOrigins,
		ReadLimit:      int64(2*o.MaxMessageBytes + frameOverhead),
		SendBuffer:     sendBuffer,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	c.static = c.staticHandler()
	go c.queueLoop()
	c.markDirty()
	return c, nil
}

// Close closes every customer socket, stops the queue goroutine, drops
// the surveys not yet offered and waits for those being offered.
// Customers reconnect (to the next process) by themselves.
func (c *Channel) Close() {
	c.once.Do(func() {
		close(c.quit)
		<-c.stopped
		c.closeAll()
		c.stopSurveys()
	})
}

// Resync catches up after the chat missed some of the router's
// notifications (router.Follow): every customer's socket is closed, and
// each page resumes its conversation from the store. The queue figures
// are recomputed; the contacts surveyed at their wrap-up are those of
// snap (the ended ones forgotten, those that entered it meanwhile
// counted: their customers are asked as their pages resume).
func (c *Channel) Resync(snap *router.Snapshot) {
	if c.o.CSAT.Enabled() && snap != nil {
		surveyed := surveyedIn(snap)
		c.smu.Lock()
		c.surveyed = surveyed
		c.smu.Unlock()
	}
	c.closeAll()
	c.markDirty()
}

// Handler serves GET /ws/chat, GET /chat/ (the standalone page, its
// modules and CSS) and GET /chat/widget.js.
func (c *Channel) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/chat", c.serveWS)
	mux.Handle("GET /chat/", c.static)
	return mux
}

// Receipts returns the marks of a live conversation: how far the agent's
// messages reached the customer and how far the customer read them.
func (c *Channel) Receipts(contactID string) (Receipt, bool) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	r, ok := c.receipts[contactID]
	if !ok {
		return Receipt{}, false
	}
	return *r, true
}

// AgentTyping tells the customer of contactID that the agent is typing
// (best effort, never persisted).
func (c *Channel) AgentTyping(contactID string) {
	c.broadcast(contactID, typeTyping, map[string]string{"from": "agent"})
}

// AgentRead tells the customer of contactID that the agent read their
// messages up to upToSeq (best effort, never persisted).
func (c *Channel) AgentRead(contactID string, upToSeq int) {
	c.broadcast(contactID, typeRead, readData{UpToSeq: upToSeq})
}

// setReceipt changes the marks of contactID with f and announces them
// when they moved; nothing for a contact that ended (a page reading a
// conversation resumed after its end): dropReceipt ran at its end, and
// a mark made now would never go.
func (c *Channel) setReceipt(contactID string, f func(r *Receipt)) {
	c.rmu.Lock()
	r := c.receipts[contactID]
	if r == nil {
		// Looked at under rmu: a contact that ends after this look is
		// dropped by its end's notification, which waits for rmu.
		if _, live := c.o.Router.Snapshot().Contact(contactID); !live {
			c.rmu.Unlock()
			return
		}
		r = &Receipt{}
		c.receipts[contactID] = r
	}
	before := *r
	f(r)
	after := *r
	c.rmu.Unlock()
	if after == before {
		return
	}
	c.o.Router.Announce(router.Signal{Kind: router.SignalReceipt, ContactID: contactID, From: router.AuthorCustomer,
		DeliveredSeq: after.DeliveredSeq, ReadSeq: after.ReadSeq})
}

// acquire counts one more socket of addr and reports whether it is
// within ConnectionsPerAddress; release gives back one that it allowed.
func (c *Channel) acquire(addr string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byAddr[addr] >= c.o.ConnectionsPerAddress {
		return false
	}
	c.byAddr[addr]++
	return true
}

func (c *Channel) release(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byAddr[addr]--; c.byAddr[addr] <= 0 {
		delete(c.byAddr, addr)
	}
}

// subscribe adds cn to the sockets of contactID.
func (c *Channel) subscribe(contactID string, cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.convs[contactID]
	if set == nil {
		set = map[*conn]struct{}{}
		c.convs[contactID] = set
	}
	set[cn] = struct{}{}
}

// lookAgain has the next pushStandings look at conversation id, which
// may be offered to an agent.
func (c *Channel) lookAgain(id string) {
	c.omu.Lock()
	c.offered[id] = struct{}{}
	c.omu.Unlock()
	c.markDirty()
}

// forget removes cn from every index.
func (c *Channel) forget(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.conns, cn)
	id := cn.conversation()
	if set := c.convs[id]; set != nil {
		delete(set, cn)
		if len(set) == 0 {
			delete(c.convs, id)
		}
	}
}

// sockets returns the sockets of contactID.
func (c *Channel) sockets(contactID string) []*conn {
	c.mu.RLock()
	defer c.mu.RUnlock()
	set := c.convs[contactID]
	if len(set) == 0 {
		return nil
	}
	out := make([]*conn, 0, len(set))
	for cn := range set {
		out = append(out, cn)
	}
	return out
}

// broadcast sends one frame to every socket of contactID.
func (c *Channel) broadcast(contactID, typ string, data any) {
	conns := c.sockets(contactID)
	if len(conns) == 0 {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err) // our own types always marshal
	}
	for _, cn := range conns {
		cn.push(typ, "", raw, 0)
	}
}

func (c *Channel) markDirty() {
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

func (c *Channel) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), commandTimeout)
}

// closeAll closes every customer socket, outside the lock.
func (c *Channel) closeAll() {
	c.mu.Lock()
	all := make([]*conn, 0, len(c.conns))
	for cn := range c.conns {
		all = append(all, cn)
	}
	c.mu.Unlock()
	for _, cn := range all {
		cn.close()
	}
}
