package replay

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Options tune Run. A nil *Options means the defaults.
type Options struct {
	// Dir is the directory of the replay's own store (a SQLite file);
	// empty means a temporary directory, removed by Result.Close.
	Dir string
	// Logger hears the replayed router; nil discards.
	Logger *slog.Logger
}

// Result is a replay done: the store the replayed router wrote, which
// Measure reads like the real one, and what could not be replayed.
type Result struct {
	// Store is the replay's store, open until Close.
	Store *store.DB
	// Replayed counts the recorded contacts fed to the replayed router.
	Replayed int
	// Skipped counts the recorded contacts not replayed, by reason.
	Skipped map[string]int
	// Refused counts the commands of the simulation that the router
	// refused (an agent's state it would not take, say), by the
	// router's error code.
	Refused map[string]int
	// Origin maps each replayed contact's id to the recorded one's.
	Origin map[string]string

	dir string // removed by Close when not empty
}

// Close closes the replay's store and removes its temporary directory.
func (r *Result) Close() error {
	err := r.Store.Close()
	if r.dir != "" {
		err = errors.Join(err, os.RemoveAll(r.dir))
	}
	return err
}

// Reasons a recorded contact is not replayed (Result.Skipped).
const (
	SkipNoQueue   = "queue not in the configuration"
	SkipNoChannel = "channel not in the configuration"
	SkipRefused   = "refused by the router"
)

// Run replays h under cfg in simulated time: a fresh router, built from
// cfg's queues, agents, strategies, relaxation steps, wrap-up and offer
// timeouts over a store of its own, under a router.ManualClock that
// jumps from one event to the next (an arrival, an agent's change of
// state, an agent's answer or wrap-up, a customer's patience running
// out, or one of the router's own timers), until h.To. The rules of the
// simulation are those of docs/replay.md; for a given history and
// configuration it decides the same way every time.
func Run(ctx context.Context, h *History, cfg *config.Config, o *Options) (*Result, error) {
	if o == nil {
		o = &Options{}
	}
	res := &Result{Skipped: map[string]int{}, Refused: map[string]int{}, Origin: map[string]string{}}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "routerd-replay-"); err != nil {
			return nil, fmt.Errorf("replay: make the replay's directory: %w", err)
		}
		res.dir = dir
	}
	fail := func(err error) (*Result, error) {
		if res.Store != nil {
			err = errors.Join(err, res.Store.Close())
		}
		if res.dir != "" {
			err = errors.Join(err, os.RemoveAll(res.dir))
		}
		return nil, err
	}
	var err error
	res.Store, err = store.Open(ctx, &store.Options{Path: filepath.Join(dir, "replay.db"), Synchronous: "normal"})
	if err != nil {
		return fail(fmt.Errorf("replay: open the replay's store: %w", err))
	}
	s := &sim{h: h, cfg: cfg, res: res, clock: router.NewManualClock(h.From), byID: map[string]int{}}
	opts := cfg.RouterOptions()
	// Presence is the desktops' business: the recorded states already
	// say when each agent could take contacts.
	opts.RequirePresence = false
	// The recorded away reasons are history, whatever the list now.
	opts.AwayReasons = nil
	opts.Clock, opts.Logger = s.clock, o.Logger
	opts.Notifier = router.NotifierFunc(s.notify)
	if s.r, err = router.New(res.Store, &opts); err != nil {
		return fail(fmt.Errorf("replay: %w", err))
	}
	if err := s.r.Start(ctx); err != nil {
		return fail(fmt.Errorf("replay: %w", err))
	}
	err = s.run(ctx)
	s.r.Close()
	if err != nil {
		return fail(err)
	}
	return res, nil
}

// eventKind is what a simulation event does.
type eventKind int

const (
	evState   eventKind = iota // an agent's recorded change of state
	evArrive                   // a recorded contact arrives
	evAbandon                  // its customer's patience runs out
	evAccept                   // an agent answers an offer
	evWrapUp                   // an agent ends a contact's talk
)

// event is one thing due in the simulation.
type event struct {
	at   time.Time
	seq  uint64 // ties at one instant go in the order they were scheduled
	kind eventKind
	// i is the index of the contact (h.Contacts) or of the state change
	// (sim.states).
	i int
	// id, agent and offeredAt name the replayed contact, its agent and
	// the offer that is answered.
	id, agent string
	offeredAt time.Time
}

type events []*event

func (q events) Len() int { return len(q) }
func (q events) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q events) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *events) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *events) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// sim is one replay in progress; it is used by one goroutine, except
// notes, which the router's committer fills.
type sim struct {
	h     *History
	cfg   *config.Config
	res   *Result
	r     *router.Router
	clock *router.ManualClock
	queue events
	seq   uint64
	// states are h.States and the changes of the agents only the
	// configuration has.
	states []StateChange
	// byID maps a replayed contact's id to its index in h.Contacts.
	byID map[string]int
	// pickup is the ring of an answer for a contact that was never
	// answered; talk the talk time, by queue, of one that was never
	// handled (talkAll of every queue).
	pickup  time.Duration
	talk    map[string]time.Duration
	talkAll time.Duration

	mu    sync.Mutex
	notes []router.Notification // guarded by mu
}

func (s *sim) notify(ns []router.Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range ns {
		if n.Kind == router.NoteOffer || n.Kind == router.NoteAssigned {
			s.notes = append(s.notes, n)
		}
	}
}

func (s *sim) push(e *event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

// run sets the replayed router up at h.From and plays the events until
// h.To.
func (s *sim) run(ctx context.Context) error {
	for _, q := range s.cfg.RouterQueues() {
		if _, err := s.r.PutQueue(ctx, q); err != nil {
			return fmt.Errorf("replay: queue %q: %w", q.Name, err)
		}
	}
	s.states = slices.Clone(s.h.States)
	agents := map[string]bool{}
	for _, a := range s.cfg.RouterAgents() {
		if _, _, err := s.r.PutAgent(ctx, a); err != nil {
			return fmt.Errorf("replay: agent %q: %w", a.ID, err)
		}
		agents[a.ID] = true
		// An agent the store never knew follows no recorded state:
		// available all along.
		if _, known := s.h.Agents[a.ID]; !known {
			s.states = append(s.states, StateChange{Agent: a.ID, At: s.h.From, State: router.AgentAvailable})
		}
	}
	for i, st := range s.states {
		if agents[st.Agent] {
			s.push(&event{at: st.At, kind: evState, i: i})
		}
	}
	s.estimates()
	channels := s.r.Channels()
	for i, c := range s.h.Contacts {
		if _, ok := channels[c.Channel]; !ok {
			s.res.Skipped[SkipNoChannel]++
			continue
		}
		s.push(&event{at: c.Arrival, kind: evArrive, i: i})
	}
	if s.queue.Len() == 0 {
		return nil
	}
	for {
		next, ok := time.Time{}, false
		if s.queue.Len() > 0 {
			next, ok = s.queue[0].at, true
		}
		if t, armed := s.clock.Next(); armed && (!ok || t.Before(next)) {
			next, ok = t, true
		}
		if !ok || !next.Before(s.h.To) {
			return nil
		}
		// Zero fires a router timer already due.
		s.clock.Advance(max(next.Sub(s.clock.Now()), 0))
		if err := s.r.Sync(ctx); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		s.schedule()
		for s.queue.Len() > 0 && !s.queue[0].at.After(s.clock.Now()) {
			e := heap.Pop(&s.queue).(*event)
			if err := s.apply(ctx, e); err != nil {
				return err
			}
			s.schedule()
		}
	}
}

// estimates sets what the replay assumes for a contact answered in the
// replay but not in the record: the median ring before an answer, and
// the mean talk time of its queue's contacts that were handled.
func (s *sim) estimates() {
	var pickups []time.Duration
	sum, n := map[string]time.Duration{}, map[string]int{}
	var all time.Duration
	var count int
	for _, c := range s.h.Contacts {
		if !c.Answered {
			continue
		}
		pickups = append(pickups, c.Pickup)
		if !c.Open {
			sum[c.Queue] += c.Talk
			n[c.Queue]++
			all += c.Talk
			count++
		}
	}
	if len(pickups) > 0 {
		slices.Sort(pickups)
		s.pickup = pickups[len(pickups)/2]
	}
	s.talk = map[string]time.Duration{}
	for q, d := range sum {
		s.talk[q] = d / time.Duration(n[q])
	}
	if count > 0 {
		s.talkAll = all / time.Duration(count)
	}
}

// schedule turns what the router just told into the agents' next moves:
// an offer is answered after the contact's recorded ring, a contact
// taken is talked for its recorded talk time.
func (s *sim) schedule() {
	s.mu.Lock()
	notes := s.notes
	s.notes = nil
	s.mu.Unlock()
	now := s.clock.Now()
	for _, n := range notes {
		i, ok := s.byID[n.Contact.ID]
		if !ok {
			continue
		}
		c := &s.h.Contacts[i]
		switch n.Kind {
		case router.NoteOffer:
			pickup := s.pickup
			if c.Answered {
				pickup = c.Pickup
			}
			s.push(&event{at: now.Add(pickup), kind: evAccept, i: i, id: n.Contact.ID, agent: n.AgentID, offeredAt: n.Contact.OfferedAt})
		case router.NoteAssigned:
			if c.Open {
				continue // still handled when the period ends
			}
			talk := c.Talk
			if !c.Answered {
				var known bool
				if talk, known = s.talk[c.Queue]; !known {
					talk = s.talkAll
				}
			}
			s.push(&event{at: now.Add(talk), kind: evWrapUp, i: i, id: n.Contact.ID, agent: n.AgentID})
		}
	}
}

// apply runs one event on the replayed router. A command the router
// refuses is counted (Result.Refused), not fatal; a router that stopped
// is.
func (s *sim) apply(ctx context.Context, e *event) error {
	var err error
	snap := s.r.Snapshot()
	switch e.kind {
	case evState:
		st := s.states[e.i]
		a, ok := snap.Agent(st.Agent)
		switch {
		case !ok, a.State == st.State:
		case st.State == router.AgentAvailable && a.State == router.AgentWrapUp:
			// The replayed wrap-up ends in available by itself.
		default:
			_, err = s.r.SetAgentState(ctx, st.Agent, st.State, st.Reason)
		}
	case evArrive:
		c := s.h.Contacts[e.i]
		// Recorded before today's rules, or by ways they do not bound (a
		// transfer's window for its agent runs from the transfer):
		// fitted to the rule of a new contact, never refused for it.
		nc := router.NewContact{Channel: c.Channel, Queue: c.Queue, Customer: c.Customer.Fitted(), Subject: c.Subject,
			Requirements: c.Requirements, Priority: c.Priority}
		for _, p := range c.Preferred {
			if _, ok := snap.Agent(p); ok {
				nc.Preferred = append(nc.Preferred, p)
			}
		}
		if len(nc.Preferred) > 0 {
			nc.PreferredTimeout = min(c.PreferredFor, router.MaxPreferredTimeout)
		}
		if _, ok := snap.Queue(c.Queue); !ok {
			s.res.Skipped[SkipNoQueue]++
			return nil
		}
		got, _, serr := s.r.Submit(ctx, nc)
		if serr != nil {
			if errors.Is(serr, router.ErrFailed) {
				return fmt.Errorf("replay: %w", serr)
			}
			s.res.Skipped[SkipRefused]++
			return nil
		}
		s.res.Replayed++
		s.byID[got.ID] = e.i
		s.res.Origin[got.ID] = c.ID
		if c.PatienceKnown {
			s.push(&event{at: c.Arrival.Add(c.Patience), kind: evAbandon, i: e.i, id: got.ID})
		}
	case evAbandon:
		if c, ok := snap.Contact(e.id); ok && (c.State == router.ContactQueued || c.State == router.ContactOffered) {
			_, err = s.r.Abandon(ctx, e.id, "the customer's recorded patience ran out")
		}
	case evAccept:
		c, ok := snap.Contact(e.id)
		if ok && c.State == router.ContactOffered && c.AgentID == e.agent && c.OfferedAt.Equal(e.offeredAt) {
			_, err = s.r.Accept(ctx, e.id, e.agent)
		}
	case evWrapUp:
		c, ok := snap.Contact(e.id)
		if !ok || c.State != router.ContactAssigned || c.AgentID != e.agent {
			break
		}
		rec := s.h.Contacts[e.i]
		if rec.WrappedUp || !rec.Answered {
			_, err = s.r.WrapUp(ctx, e.id, e.agent, "", "")
		} else {
			_, err = s.r.CloseContact(ctx, e.id, e.agent, "", "")
		}
	}
	if err != nil {
		if errors.Is(err, router.ErrFailed) || errors.Is(err, router.ErrClosed) {
			return fmt.Errorf("replay: %w", err)
		}
		s.res.Refused[string(router.CodeOf(err))]++
	}
	return nil
}

// SkippedText is res.Skipped and res.Refused as one line, sorted; empty
// when nothing was skipped or refused.
func (r *Result) SkippedText() string {
	var parts []string
	for reason, n := range r.Skipped {
		parts = append(parts, fmt.Sprintf("%d contact(s) not replayed: %s", n, reason))
	}
	for code, n := range r.Refused {
		parts = append(parts, fmt.Sprintf("%d command(s) refused by the replayed router (%s)", n, code))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}
