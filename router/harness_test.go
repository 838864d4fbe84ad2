package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is an in-memory Store. It replays every committed batch and
// checks, independently of the router, that no agent ever holds more live
// contacts on a channel than its capacity.
type memStore struct {
	mu        sync.Mutex
	agents    map[string]Agent
	queues    map[string]Queue
	contacts  map[string]Contact
	events    map[string][]Event
	messages  map[string][]Message
	outbox    map[string]OutboxEntry
	log       []LogEntry
	tags      map[string][]string // Batch.Tags, the search index
	states    []AgentStateChange  // Batch.AgentStates
	commits   int
	violation error
	failNext  error // guarded by mu: the next Commit fails with it
	// blindExternal makes MessageByExternalID find nothing, as for a copy
	// that looked before the first was committed; guarded by mu.
	blindExternal bool
	defaults      map[Channel]int
}

func newMemStore() *memStore {
	return &memStore{
		agents: map[string]Agent{}, queues: map[string]Queue{}, contacts: map[string]Contact{},
		events: map[string][]Event{}, messages: map[string][]Message{}, defaults: DefaultCapacity,
		outbox: map[string]OutboxEntry{}, tags: map[string][]string{},
	}
}

func (s *memStore) Commit(_ context.Context, b *Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failNext; err != nil {
		s.failNext = nil
		return err
	}
	for _, e := range b.Events {
		evs := s.events[e.ContactID]
		if len(evs) > 0 && evs[len(evs)-1].Seq >= e.Seq {
			return fmt.Errorf("memstore: event seq %d after %d for %s", e.Seq, evs[len(evs)-1].Seq, e.ContactID)
		}
	}
	s.commits++
	for _, a := range b.Agents {
		s.agents[a.ID] = Agent{ID: a.ID, Name: a.Name, Skills: a.Skills, Capacity: a.Capacity}
	}
	for _, id := range b.DeletedAgents {
		delete(s.agents, id)
	}
	for _, q := range b.Queues {
		s.queues[q.Name] = q
	}
	for _, n := range b.DeletedQueues {
		delete(s.queues, n)
	}
	for _, c := range b.Contacts {
		s.contacts[c.ID] = c
	}
	s.log = append(s.log, b.Log...)
	for _, t := range b.Tags {
		s.tags[t.ContactID] = t.Tags
	}
	s.states = append(s.states, b.AgentStates...)
	for _, e := range b.Events {
		s.events[e.ContactID] = append(s.events[e.ContactID], e)
	}
	for _, m := range b.Messages {
		// The store's unique key: an external id is stored once, ever.
		if _, dup, _ := s.byExternalIDLocked(m.ExternalID); m.ExternalID != "" && dup && s.violation == nil {
			s.violation = fmt.Errorf("external id %q stored twice", m.ExternalID)
		}
		s.messages[m.ContactID] = append(s.messages[m.ContactID], m)
	}
	for _, e := range b.Outbox {
		s.outbox[e.ID] = e
	}
	for _, d := range b.Deliveries {
		ms := s.messages[d.ContactID]
		if d.Seq < 1 || d.Seq > len(ms) {
			if s.violation == nil {
				s.violation = fmt.Errorf("delivery of message %d of %s, which is not stored", d.Seq, d.ContactID)
			}
			continue
		}
		dd := d.Delivery
		if id := dd.ExternalID; id != "" && ms[d.Seq-1].ExternalID == "" {
			// The store's unique key holds for a provider's id too.
			if _, dup, _ := s.byExternalIDLocked(id); dup && s.violation == nil {
				s.violation = fmt.Errorf("external id %q stored twice", id)
			}
			ms[d.Seq-1].ExternalID = id
		}
		dd.ExternalID = ""
		ms[d.Seq-1].Delivery = &dd
	}
	s.check()
	return nil
}

// check records the first capacity violation in the committed state.
func (s *memStore) check() {
	if s.violation != nil {
		return
	}
	held := map[string]map[Channel]int{}
	for _, c := range s.contacts {
		if c.State == ContactOffered || c.State == ContactAssigned || c.State == ContactWrapUp {
			if held[c.AgentID] == nil {
				held[c.AgentID] = map[Channel]int{}
			}
			held[c.AgentID][c.Channel]++
		}
	}
	for id, chans := range held {
		a := s.agents[id]
		for ch, n := range chans {
			max, ok := a.Capacity[ch]
			if !ok {
				max = s.defaults[ch]
			}
			if n > max {
				s.violation = fmt.Errorf("agent %s holds %d %s contacts, capacity %d (commit %d)", id, n, ch, max, s.commits)
			}
		}
	}
}

func (s *memStore) Load(context.Context) (*Loaded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &Loaded{NextEventSeq: map[string]int{}, NextMessageSeq: map[string]int{}, Inbound: map[string]Inbound{}}
	for _, a := range s.agents {
		l.Agents = append(l.Agents, a)
	}
	for _, q := range s.queues {
		l.Queues = append(l.Queues, q)
	}
	for _, c := range s.contacts {
		if c.State.Final() {
			continue
		}
		l.Contacts = append(l.Contacts, c)
		l.NextEventSeq[c.ID] = len(s.events[c.ID]) + 1
		l.NextMessageSeq[c.ID] = len(s.messages[c.ID]) + 1
		for _, m := range s.messages[c.ID] {
			if m.ClientID != "" {
				l.ClientMessages = append(l.ClientMessages, m)
			}
			if m.Direction == "in" {
				in := l.Inbound[c.ID]
				in.Messages++
				in.Bytes += len(m.Body)
				l.Inbound[c.ID] = in
			}
		}
	}
	return l, nil
}

func (s *memStore) ContactByKey(_ context.Context, key string) (Contact, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.contacts {
		if c.IdempotencyKey == key {
			return c, true, nil
		}
	}
	return Contact{}, false, nil
}

func (s *memStore) MessageByExternalID(_ context.Context, id string) (Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blindExternal {
		return Message{}, false, nil
	}
	return s.byExternalIDLocked(id)
}

func (s *memStore) byExternalIDLocked(id string) (Message, bool, error) {
	for _, ms := range s.messages {
		for _, m := range ms {
			if m.ExternalID == id {
				return m, true, nil
			}
		}
	}
	return Message{}, false, nil
}

func (s *memStore) stored(id string) Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contacts[id]
}

func (s *memStore) timeline(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.events[id] {
		out = append(out, e.Event)
	}
	return out
}

// harness is a started router on a manual clock with a memStore.
type harness struct {
	t     *testing.T
	r     *Router
	store *memStore
	clock *ManualClock
	ctx   context.Context

	mu    sync.Mutex
	notes []Notification // guarded by mu
}

var epoch = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, opts *Options) *harness {
	t.Helper()
	return startHarness(t, newMemStore(), NewManualClock(epoch), opts)
}

func startHarness(t *testing.T, st *memStore, clk *ManualClock, opts *Options) *harness {
	t.Helper()
	h := &harness{t: t, store: st, clock: clk, ctx: context.Background()}
	if opts == nil {
		opts = &Options{}
	}
	opts.Clock = clk
	opts.Notifier = NotifierFunc(func(ns []Notification) {
		h.mu.Lock()
		h.notes = append(h.notes, ns...)
		h.mu.Unlock()
	})
	r, err := New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.r = r
	t.Cleanup(func() {
		r.Close()
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.violation != nil {
			t.Errorf("capacity violated: %v", st.violation)
		}
	})
	return h
}

func (h *harness) queue(q Queue) {
	h.t.Helper()
	if _, err := h.r.PutQueue(h.ctx, q); err != nil {
		h.t.Fatalf("PutQueue(%s): %v", q.Name, err)
	}
}

// agent defines an agent and, unless state is offline, sets that state.
func (h *harness) agent(id string, skills map[string]int, capacity map[string]int, state AgentState) {
	h.t.Helper()
	if _, _, err := h.r.PutAgent(h.ctx, Agent{ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Skills: skills, Capacity: capacity}); err != nil {
		h.t.Fatalf("PutAgent(%s): %v", id, err)
	}
	if state != AgentOffline {
		// As a desktop does: connect, then choose a state.
		if _, err := h.r.AgentConnected(h.ctx, id); err != nil {
			h.t.Fatalf("AgentConnected(%s): %v", id, err)
		}
		h.state(id, state, "")
	}
}

func (h *harness) state(id string, st AgentState, reason string) {
	h.t.Helper()
	if _, err := h.r.SetAgentState(h.ctx, id, st, reason); err != nil {
		h.t.Fatalf("SetAgentState(%s, %s): %v", id, st, err)
	}
}

func (h *harness) submit(nc NewContact) Contact {
	h.t.Helper()
	if nc.Channel == "" {
		nc.Channel = ChannelChat
	}
	c, _, err := h.r.Submit(h.ctx, nc)
	if err != nil {
		h.t.Fatalf("Submit: %v", err)
	}
	return c
}

// advance moves time on and waits until the router handled what came due.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.clock.Advance(d)
	if err := h.r.Sync(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) live(id string) Contact {
	h.t.Helper()
	c, ok := h.r.Snapshot().Contact(id)
	if !ok {
		return h.store.stored(id)
	}
	return c
}

func (h *harness) wantState(id string, state ContactState, agentID string) Contact {
	h.t.Helper()
	c := h.live(id)
	if c.State != state || c.AgentID != agentID {
		h.t.Fatalf("contact %s: got %s with %q, want %s with %q (timeline %v)", id, c.State, c.AgentID, state, agentID, h.store.timeline(id))
	}
	return c
}

func (h *harness) lastReason(id, event string) string {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	evs := h.store.events[id]
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Event == event {
			return evs[i].Reason
		}
	}
	return ""
}

func (h *harness) notesOf(kind NoteKind, agentID string) []Notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Notification
	for _, n := range h.notes {
		if n.Kind == kind && (agentID == "" || n.AgentID == agentID) {
			out = append(out, n)
		}
	}
	return out
}

func (h *harness) agentNow(id string) Agent {
	h.t.Helper()
	a, ok := h.r.Snapshot().Agent(id)
	if !ok {
		h.t.Fatalf("no agent %s", id)
	}
	return a
}

func isErr(err, target error) bool { return errors.Is(err, target) }

var _ = slices.Contains[[]string]
