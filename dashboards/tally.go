package dashboards

import (
	"container/heap"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
)

// tally is the live board kept from the router's event stream, so that
// a tick's cost grows with what changed since the last, not with the
// agents and contacts: each batch names the agents and contacts it
// touched (router.Touched); at the next tick the tally reads only those
// from a snapshot, takes each one's old contribution out of its queues'
// counts and puts the new one in (the same rules as the views built
// whole: classOf, lineNow, agentView). A queue put or deleted, a lost
// event stream, or the agents' day refreshed (once a minute) builds it
// whole again; so does the first tick.
//
// Its counts are those of NewBoardOf on the same snapshot, byte for
// byte (TestTallyIsTheWholeBoard drives a router at random and compares
// after every step).
type tally struct {
	mu sync.Mutex
	// touched since the last update: the agents and contacts to read
	// again, or everything (whole). Guarded by mu: the router's
	// follower adds, the board's loop takes.
	agents, contacts map[string]bool
	whole            bool

	// The rest is the board's loop's alone.
	// agentsOnly keeps only the agents' counts (newAgentTally): the
	// touched contacts are not kept, nor the lines.
	agentsOnly bool

	queues   []router.Queue // by name
	channels []router.Channel
	rows     map[string]*agentRow // by agent id
	order    []string             // agent ids in the board's order
	lines    map[string]*queueLine
	held     map[string]heldContact // the contacts waiting, by id
}

// agentRow is one agent as the tally keeps it: its view and how it
// counts in the queues it is eligible for (view.Queues).
type agentRow struct {
	view  AgentView
	class agentClass
}

// heldContact is what the tally keeps of a contact in a line: what the
// line's rule (lineNow.add) reads of it.
type heldContact struct {
	c router.Contact
}

func holding(c *router.Contact) heldContact {
	return heldContact{c: router.Contact{ID: c.ID, Queue: c.Queue, State: c.State, Rank: c.Rank, EnqueuedAt: c.EnqueuedAt}}
}

// queueLine is one queue's counts: its eligible agents by class, its
// line, and the waiting contacts' enqueue times, oldest first.
type queueLine struct {
	def    router.Queue
	agents AgentCounts
	line   lineNow
	since  sinceHeap
}

func newTally() *tally {
	return &tally{agents: map[string]bool{}, contacts: map[string]bool{}, whole: true}
}

// newAgentTally is a tally of the queues' agent counts alone (the wait
// estimators'): what waits in the lines is not kept, so nothing of the
// contacts is.
func newAgentTally() *tally {
	t := newTally()
	t.agentsOnly = true
	return t
}

// touch records what one batch changed.
func (t *tally) touch(tc router.Touched) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.whole {
		return
	}
	if tc.Definitions {
		t.wholeLocked()
		return
	}
	for _, id := range tc.Agents {
		t.agents[id] = true
	}
	if t.agentsOnly {
		return
	}
	for _, id := range tc.Contacts {
		t.contacts[id] = true
	}
}

// touchAll makes the next update build everything again.
func (t *tally) touchAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wholeLocked()
}

func (t *tally) wholeLocked() {
	t.whole = true
	clear(t.agents)
	clear(t.contacts)
}

// drop lets go of everything kept, and builds whole at the next apply:
// nobody watches. The board's loop alone calls it.
func (t *tally) drop() {
	t.touchAll()
	t.queues, t.channels, t.rows, t.order, t.lines, t.held = nil, nil, nil, nil, nil, nil
}

// touched is what take took: the agents and contacts to read again, or
// everything.
type touched struct {
	agents, contacts []string
	whole            bool
}

// take returns what was touched since the last take, and forgets it.
// Take it before the snapshot it is applied to (apply): a batch is
// touched only once it is in memory, so the snapshot taken after holds
// every batch taken; one touched in between is read again next time.
func (t *tally) take() touched {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.whole {
		t.whole = false
		return touched{whole: true}
	}
	var tc touched
	for id := range t.agents {
		tc.agents = append(tc.agents, id)
	}
	for id := range t.contacts {
		tc.contacts = append(tc.contacts, id)
	}
	clear(t.agents)
	clear(t.contacts)
	return tc
}

// update takes what was touched and applies it to snap (take, then
// apply). For tests, which take the snapshot after the changes.
func (t *tally) update(snap *router.Snapshot) (changed []string, reordered bool) {
	return t.apply(snap, t.take())
}

// apply brings the tally to snap, which reflects at least every batch
// of tc (taken before it). It returns the agents whose rows may have
// changed (all of them when it built whole) and whether the board's
// agents changed membership or order (then t.order is the new order).
func (t *tally) apply(snap *router.Snapshot, tc touched) (changed []string, reordered bool) {
	agents, contacts, whole := tc.agents, tc.contacts, tc.whole
	if whole || t.rows == nil {
		t.build(snap)
		return slices.Clone(t.order), true
	}
	for _, id := range agents {
		old := t.rows[id]
		if old != nil {
			t.count(old, -1)
		}
		a, ok := snap.Agent(id)
		if !ok {
			if old != nil {
				delete(t.rows, id)
				reordered = true
			}
			continue
		}
		row := &agentRow{view: agentView(snap, &a, t.channels, t.queues), class: classOf(snap, &a)}
		t.rows[id] = row
		t.count(row, 1)
		changed = append(changed, id)
		reordered = reordered || old == nil || old.view.Name != a.Name
	}
	if reordered {
		t.sort()
	}
	for _, id := range contacts {
		old, had := t.held[id]
		if had {
			t.lines[old.c.Queue].line.add(&old.c, -1)
			delete(t.held, id)
		}
		if c, ok := snap.Contact(id); ok && waits(&c) && t.lines[c.Queue] != nil {
			h := holding(&c)
			t.held[id] = h
			t.hold(&h.c, !had || old.c.Queue != c.Queue || !old.c.EnqueuedAt.Equal(c.EnqueuedAt))
		}
	}
	return changed, reordered
}

// build counts everything of snap anew.
func (t *tally) build(snap *router.Snapshot) {
	t.queues, t.channels = sortedQueues(snap), sortedChannels(snap)
	t.lines = make(map[string]*queueLine, len(t.queues))
	for _, q := range t.queues {
		t.lines[q.Name] = &queueLine{def: q, line: lineNow{newRank: snap.Rank(0, q, router.Customer{})}}
	}
	agents := snap.Agents()
	t.rows = make(map[string]*agentRow, len(agents))
	for i := range agents {
		a := &agents[i]
		row := &agentRow{view: agentView(snap, a, t.channels, t.queues), class: classOf(snap, a)}
		t.rows[a.ID] = row
		t.count(row, 1)
	}
	t.sort()
	t.held = map[string]heldContact{}
	if t.agentsOnly {
		return
	}
	for _, c := range snap.Contacts() {
		if waits(&c) && t.lines[c.Queue] != nil {
			h := holding(&c)
			t.held[c.ID] = h
			t.hold(&h.c, true)
		}
	}
}

// count adds (d = 1) or takes out (d = −1) row's agent in the counts of
// the queues it is eligible for.
func (t *tally) count(row *agentRow, d int) {
	for _, q := range row.view.Queues {
		if l := t.lines[q]; l != nil {
			l.agents.add(row.class, row.view.Reason, d)
		}
	}
}

// hold adds the waiting contact c to its queue's line, and its enqueue
// time to the line's order when it is new there (since).
func (t *tally) hold(c *router.Contact, since bool) {
	l := t.lines[c.Queue]
	l.line.add(c, 1)
	if since && !c.EnqueuedAt.IsZero() {
		heap.Push(&l.since, enqueued{at: c.EnqueuedAt, id: c.ID})
	}
}

// sort orders t.order as the board orders its agents.
func (t *tally) sort() {
	t.order = t.order[:0]
	for id := range t.rows {
		t.order = append(t.order, id)
	}
	slices.SortFunc(t.order, func(x, y string) int {
		return boardOrder(t.rows[x].view.Name, x, t.rows[y].view.Name, y)
	})
}

// lineOf is queue q's line at now: its counts, and its oldest wait from
// the earliest enqueue time of a contact still held (the entries of
// contacts gone are dropped as they come to the top).
func (t *tally) lineOf(q string, now time.Time) line {
	l := t.lines[q]
	for l.since.Len() > 0 {
		e := l.since[0]
		if h, ok := t.held[e.id]; ok && h.c.Queue == q && h.c.EnqueuedAt.Equal(e.at) {
			break
		}
		heap.Pop(&l.since)
	}
	if n := l.line.waiting + l.line.offered; l.since.Len() > 2*n+64 {
		l.compact(t.held, q)
	}
	ln := l.line
	ln.earliest = time.Time{}
	if l.since.Len() > 0 {
		ln.earliest = l.since[0].at
	}
	return ln.figures(now)
}

// compact drops the entries of contacts no longer held in q: a contact
// taken in its turn leaves its entry at the top, dropped there, but one
// that left out of turn (abandoned, moved) would stay until the older
// ones left.
func (l *queueLine) compact(held map[string]heldContact, q string) {
	kept, seen := l.since[:0], map[string]bool{}
	for _, e := range l.since {
		if h, ok := held[e.id]; ok && h.c.Queue == q && h.c.EnqueuedAt.Equal(e.at) && !seen[e.id] {
			kept, seen[e.id] = append(kept, e), true
		}
	}
	clear(l.since[len(kept):])
	l.since = kept
	heap.Init(&l.since)
}

// queueViews are the views of every queue, by name, from the counts
// kept and the window's figures.
func (t *tally) queueViews(now time.Time, figures map[string]WindowFigures, window time.Duration) []QueueView {
	views := make([]QueueView, 0, len(t.queues))
	for _, q := range t.queues {
		counts := t.lines[q.Name].agents
		counts.AwayReasons = maps.Clone(counts.AwayReasons) // the view's own: the tally's changes
		views = append(views, assembleQueue(q, t.lineOf(q.Name, now), counts, figures[q.Name], window))
	}
	return views
}

// board is the whole board the tally keeps, at snap.At: what
// NewBoardOf(snap, figures, window) builds. For tests; the live page
// encodes only the rows that changed.
func (t *tally) board(snap *router.Snapshot, figures map[string]WindowFigures, window time.Duration) Board {
	b := Board{At: snap.At, Queues: t.queueViews(snap.At, figures, window), Agents: make([]AgentView, 0, len(t.order))}
	for _, id := range t.order {
		b.Agents = append(b.Agents, t.rows[id].view)
	}
	return b
}

// enqueued is one waiting contact's enqueue time.
type enqueued struct {
	at time.Time
	id string
}

// sinceHeap is a min-heap of enqueue times (container/heap).
type sinceHeap []enqueued

func (h sinceHeap) Len() int { return len(h) }
func (h sinceHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].id < h[j].id
}
func (h sinceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sinceHeap) Push(x any)   { *h = append(*h, x.(enqueued)) }
func (h *sinceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = enqueued{}
	*h = old[:len(old)-1]
	return e
}
