package router

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func sk(kv ...any) map[string]int {
	m := map[string]int{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(int)
	}
	return m
}

func TestSkillsAndLevels(t *testing.T) {
	tests := []struct {
		name      string
		agents    []string // "id skill level ...", made available in this order
		reqs      []Requirement
		want      string // agent offered, "" for none
		wantInWhy []string
	}{
		{
			name:      "level-must-reach-minimum",
			agents:    []string{"bob billing 2", "alice billing 4 fr 5"},
			reqs:      []Requirement{{"billing", 3}, {"fr", 1}},
			want:      "alice",
			wantInWhy: []string{"alice: billing 4≥3, fr 5≥1", "skipped bob: billing 2<3"},
		},
		{
			name:   "every-requirement-must-hold",
			agents: []string{"alice billing 5", "bob fr 5"},
			reqs:   []Requirement{{"billing", 1}, {"fr", 1}},
			want:   "",
		},
		{
			name:      "no-requirements-any-agent",
			agents:    []string{"carol"},
			reqs:      []Requirement{},
			want:      "carol",
			wantInWhy: []string{"carol: no requirements"},
		},
		{
			name:   "exact-level-is-enough",
			agents: []string{"dave de 3"},
			reqs:   []Requirement{{"de", 3}},
			want:   "dave",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.queue(Queue{Name: "q"})
			for _, spec := range tt.agents {
				f := strings.Fields(spec)
				skills := map[string]int{}
				for i := 1; i+1 < len(f); i += 2 {
					lvl, _ := strconv.Atoi(f[i+1])
					skills[f[i]] = lvl
				}
				h.agent(f[0], skills, nil, AgentAvailable)
				h.advance(time.Second)
			}
			c := h.submit(NewContact{Queue: "q", Requirements: tt.reqs})
			if tt.want == "" {
				h.wantState(c.ID, ContactQueued, "")
				return
			}
			h.wantState(c.ID, ContactOffered, tt.want)
			why := h.lastReason(c.ID, "offered")
			for _, s := range tt.wantInWhy {
				if !strings.Contains(why, s) {
					t.Errorf("reason %q lacks %q", why, s)
				}
			}
		})
	}
}

func TestReasonNamesUnavailableAgents(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("bob", sk("billing", 4), sk("chat", 0, "email", 5), AgentAvailable)
	h.agent("carol", sk("billing", 5), nil, AgentAway)
	h.clock.Advance(time.Minute)
	h.agent("alice", sk("billing", 4), nil, AgentAvailable)
	h.advance(3*time.Minute + 12*time.Second)
	c := h.submit(NewContact{Queue: "q", Requirements: []Requirement{{"billing", 3}}})
	h.wantState(c.ID, ContactOffered, "alice")
	got := h.lastReason(c.ID, "offered")
	want := "alice: billing 4≥3; idle 3m12s (longest); skipped bob: chat 0/0; skipped carol: away"
	if got != want {
		t.Errorf("reason\n got %q\nwant %q", got, want)
	}
}

func TestRelaxation(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "billing", Requirements: []Requirement{{"billing", 4}, {"fr", 1}}, Relaxation: []RelaxStep{
		{Name: "drop fr", After: Duration(60 * time.Second), Drop: []string{"fr"}},
		{Name: "accept level 2", After: Duration(120 * time.Second), Min: map[string]int{"billing": 2}},
	}})
	h.agent("bob", sk("billing", 2), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "billing"})
	h.wantState(c.ID, ContactQueued, "")

	h.advance(59 * time.Second)
	if got := h.live(c.ID).Step; got != 0 {
		t.Fatalf("step after 59s: got %d, want 0", got)
	}
	h.advance(time.Second)
	got := h.live(c.ID)
	if got.Step != 1 || reqString(got.Effective) != "billing≥4" {
		t.Fatalf("after 60s: step %d requirements %s, want 1 and billing≥4", got.Step, reqString(got.Effective))
	}
	if why := h.lastReason(c.ID, "relaxed"); !strings.Contains(why, `"drop fr"`) {
		t.Errorf("relaxed event %q does not name the step", why)
	}
	h.wantState(c.ID, ContactQueued, "")
	h.advance(60 * time.Second)
	h.wantState(c.ID, ContactOffered, "bob")
	if why := h.lastReason(c.ID, "offered"); !strings.Contains(why, "billing 2≥2") || !strings.Contains(why, "relaxed 2 step(s)") {
		t.Errorf("offer reason %q does not show the relaxed requirement", why)
	}
}

func TestPriorityThenAge(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q", ValueTiers: []ValueTier{{Min: 1000, Boost: 5}}})
	h.agent("alice", sk(), nil, AgentAway)
	old := h.submit(NewContact{Queue: "q"})
	h.advance(time.Second)
	urgent := h.submit(NewContact{Queue: "q", Priority: 2})
	h.advance(time.Second)
	vip := h.submit(NewContact{Queue: "q", Customer: Customer{ID: "v", Verified: true, Value: 5000}})
	h.advance(time.Second)
	// The same value merely claimed raises nothing.
	claim := h.submit(NewContact{Queue: "q", Customer: Customer{Value: 5000, Segment: "premium"}})
	h.advance(time.Second)
	older := h.submit(NewContact{Queue: "q"})
	if got := h.live(vip.ID).Rank; got != 5 {
		t.Fatalf("vip rank: got %d, want 5", got)
	}
	if got := h.live(claim.ID).Rank; got != 0 {
		t.Fatalf("claimed value's rank: got %d, want 0", got)
	}
	want := []string{vip.ID, urgent.ID, old.ID, claim.ID, older.ID}
	for i, id := range want {
		h.state("alice", AgentAvailable, "")
		h.wantState(id, ContactOffered, "alice")
		if _, err := h.r.Accept(h.ctx, id, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.r.CloseContact(h.ctx, id, "alice", "", ""); err != nil {
			t.Fatal(err)
		}
		h.state("alice", AgentAway, "")
		_ = i
	}
}

func TestRankParts(t *testing.T) {
	q := &Queue{Name: "q", Priority: 5, ValueTiers: []ValueTier{{Min: 100, Boost: 2}, {Min: 1000, Boost: 10}},
		SegmentBoosts: map[string]int{"premium": 20, "basic": 0}}
	tests := []struct {
		name     string
		priority int
		cu       Customer
		rank     int
		how      string
	}{
		{"nothing", 0, Customer{}, 5, "priority 0 + queue 5"},
		{"low tier", 1, Customer{Verified: true, Value: 150}, 8, "priority 1 + queue 5 + value ≥ 100: 2"},
		{"top tier", 0, Customer{Verified: true, Value: 1000}, 15, "priority 0 + queue 5 + value ≥ 1000: 10"},
		{"segment", 0, Customer{Verified: true, Segment: "premium"}, 25, "priority 0 + queue 5 + segment premium: 20"},
		{"both", -3, Customer{Verified: true, Value: 5000.5, Segment: "premium"}, 32, "priority -3 + queue 5 + value ≥ 1000: 10 + segment premium: 20"},
		{"segment without boost", 0, Customer{Verified: true, Segment: "basic"}, 5, "priority 0 + queue 5"},
		{"unknown segment", 0, Customer{Verified: true, Segment: "gold"}, 5, "priority 0 + queue 5"},
		{"claimed value and segment", 0, Customer{Value: 5000, Segment: "premium"}, 5, "priority 0 + queue 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rank, how := rankParts(tt.priority, q, tt.cu)
			if rank != tt.rank || how != tt.how {
				t.Errorf("got %d %q, want %d %q", rank, how, tt.rank, tt.how)
			}
			if got := rankOf(tt.priority, q, tt.cu); got != rank {
				t.Errorf("rankOf: got %d, want %d as rankParts", got, rank)
			}
		})
	}
}

func TestSegmentBoostOrdersQueue(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q", SegmentBoosts: map[string]int{"premium": 3}})
	h.agent("alice", sk(), nil, AgentAway)
	plain := h.submit(NewContact{Queue: "q", Customer: Customer{Verified: true, Segment: "basic"}})
	h.advance(time.Second)
	premium := h.submit(NewContact{Queue: "q", Customer: Customer{Verified: true, Segment: "premium"}})
	if why := h.lastReason(premium.ID, "created"); !strings.Contains(why, "rank 3 (priority 0 + queue 0 + segment premium: 3)") {
		t.Errorf("created reason %q does not explain the rank", why)
	}
	h.state("alice", AgentAvailable, "")
	h.wantState(premium.ID, ContactOffered, "alice")
	h.wantState(plain.ID, ContactQueued, "")
}

func TestPreferredAgent(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.agent("carol", sk(), nil, AgentAway)
	c := h.submit(NewContact{Queue: "q", Preferred: []string{"carol"}, PreferredTimeout: 30 * time.Second})
	h.wantState(c.ID, ContactQueued, "")
	h.advance(20 * time.Second)
	h.state("carol", AgentAvailable, "")
	h.wantState(c.ID, ContactOffered, "carol")
	if why := h.lastReason(c.ID, "offered"); !strings.Contains(why, "preferred agent") {
		t.Errorf("reason %q does not say preferred", why)
	}
	if _, err := h.r.Accept(h.ctx, c.ID, "carol"); err != nil {
		t.Fatal(err)
	}

	t.Run("timeout-opens-to-anyone", func(t *testing.T) {
		d := h.submit(NewContact{Queue: "q", Preferred: []string{"erin"}, PreferredTimeout: 30 * time.Second})
		h.wantState(d.ID, ContactQueued, "")
		h.advance(29 * time.Second)
		h.wantState(d.ID, ContactQueued, "")
		h.advance(time.Second)
		h.wantState(d.ID, ContactOffered, "alice")
	})
}

func TestStrategies(t *testing.T) {
	tests := []struct {
		strategy Strategy
		want     []string // offered in turn, each accepted and kept
	}{
		// Occupancy is held/total over every channel: a1 of 11, a2 of 13,
		// a3 of 24; ties go to the longer idle.
		{LongestIdle, []string{"a1", "a2", "a3", "a1", "a2"}},
		{LeastOccupied, []string{"a1", "a2", "a3", "a3", "a2"}},
		{BestSkill, []string{"a2", "a2", "a2", "a2", "a3"}},
		{RoundRobin, []string{"a1", "a2", "a3", "a1", "a2"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.strategy), func(t *testing.T) {
			h := newHarness(t, nil)
			h.queue(Queue{Name: "q", Strategy: tt.strategy, Requirements: []Requirement{{"sales", 1}}})
			// a1 idle longest, small capacity; a2 best at sales; a3 roomiest.
			h.agent("a1", sk("sales", 1), sk("chat", 2), AgentAvailable)
			h.advance(time.Second)
			h.agent("a2", sk("sales", 5), sk("chat", 4), AgentAvailable)
			h.advance(time.Second)
			h.agent("a3", sk("sales", 2), sk("chat", 10, "email", 10), AgentAvailable)
			h.advance(time.Second)
			for i, want := range tt.want {
				c := h.submit(NewContact{Queue: "q"})
				h.wantState(c.ID, ContactOffered, want)
				if _, err := h.r.Accept(h.ctx, c.ID, want); err != nil {
					t.Fatalf("contact %d: %v", i, err)
				}
				h.advance(time.Second)
			}
		})
	}
}

func TestCapacity(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
	var ids []string
	for i := 0; i < 3; i++ {
		c := h.submit(NewContact{Queue: "q"})
		ids = append(ids, c.ID)
	}
	// One offer rings at a time; accepting frees the agent for the next.
	h.wantState(ids[0], ContactOffered, "alice")
	h.wantState(ids[1], ContactQueued, "")
	if _, err := h.r.Accept(h.ctx, ids[0], "alice"); err != nil {
		t.Fatal(err)
	}
	h.wantState(ids[1], ContactOffered, "alice")
	if _, err := h.r.Accept(h.ctx, ids[1], "alice"); err != nil {
		t.Fatal(err)
	}
	h.wantState(ids[2], ContactQueued, "")
	if got := h.agentNow("alice").Active["chat"]; got != 2 {
		t.Fatalf("active chats: got %d, want 2", got)
	}
	// Another channel has its own capacity.
	e := h.submit(NewContact{Queue: "q", Channel: ChannelEmail})
	h.wantState(e.ID, ContactOffered, "alice")
	if _, err := h.r.Decline(h.ctx, e.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	// Freed capacity goes at once to the oldest waiting contact.
	if _, err := h.r.CloseContact(h.ctx, ids[0], "alice", "solved", ""); err != nil {
		t.Fatal(err)
	}
	h.wantState(ids[2], ContactOffered, "alice")
	if why := h.lastReason(ids[2], "offered"); !strings.Contains(why, "freed capacity") {
		t.Errorf("reason %q does not say freed capacity", why)
	}
}

func TestWrapUpAcrossQueues(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "a", WrapUp: Duration(20 * time.Second)})
	h.queue(Queue{Name: "b"})
	h.agent("alice", sk(), sk("chat", 3), AgentAvailable)
	c := h.submit(NewContact{Queue: "a"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.WrapUp(h.ctx, c.ID, "alice", "sold", "upsell ok"); err != nil {
		t.Fatal(err)
	}
	if got := h.agentNow("alice").State; got != AgentWrapUp {
		t.Fatalf("agent state: got %s, want wrapup", got)
	}
	other := h.submit(NewContact{Queue: "b"})
	h.wantState(other.ID, ContactQueued, "")
	h.advance(19 * time.Second)
	h.wantState(other.ID, ContactQueued, "")
	h.advance(time.Second)
	h.wantState(other.ID, ContactOffered, "alice")
	done := h.wantState(c.ID, ContactClosed, "alice")
	if done.Disposition != "sold" {
		t.Errorf("disposition: got %q, want sold", done.Disposition)
	}

	t.Run("closing-ends-wrapup-early", func(t *testing.T) {
		if _, err := h.r.Accept(h.ctx, other.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.r.WrapUp(h.ctx, other.ID, "alice", "", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := h.r.CloseContact(h.ctx, other.ID, "alice", "", ""); err != nil {
			t.Fatal(err)
		}
		if got := h.agentNow("alice").State; got != AgentAvailable {
			t.Fatalf("agent state: got %s, want available", got)
		}
	})
}

func TestDeclineAndTimeout(t *testing.T) {
	h := newHarness(t, &Options{OfferTimeout: map[Channel]time.Duration{ChannelChat: 10 * time.Second}})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.advance(time.Second)
	h.agent("bob", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q"})
	h.wantState(c.ID, ContactOffered, "alice")
	age := c.EnqueuedAt

	if _, err := h.r.Decline(h.ctx, c.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	got := h.wantState(c.ID, ContactOffered, "bob")
	if !got.EnqueuedAt.Equal(age) {
		t.Errorf("age changed on decline: %v, want %v", got.EnqueuedAt, age)
	}

	// Bob lets it ring out: he goes away as "missed", nobody is left.
	h.advance(10 * time.Second)
	h.wantState(c.ID, ContactQueued, "")
	b := h.agentNow("bob")
	if b.State != AgentAway || b.Reason != "missed" {
		t.Fatalf("bob after timeout: %s (%s), want away (missed)", b.State, b.Reason)
	}
	if n := len(h.notesOf(NoteOfferWithdrawn, "bob")); n != 1 {
		t.Errorf("bob got %d withdrawals, want 1", n)
	}
	// Alice declined it: she is free but never offered it again.
	if a := h.agentNow("alice"); a.Offer != "" {
		t.Fatalf("alice rings for %s after declining", a.Offer)
	}
	h.agent("erin", sk(), nil, AgentAvailable)
	h.wantState(c.ID, ContactOffered, "erin")
	if _, err := h.r.Decline(h.ctx, c.ID, "alice", ""); !isErr(err, ErrNotYours) {
		t.Errorf("decline by alice of erin's offer: got %v, want ErrNotYours", err)
	}
}

func TestAbandonWithdrawsOffer(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), sk("chat", 1), AgentAvailable)
	c := h.submit(NewContact{Queue: "q"})
	next := h.submit(NewContact{Queue: "q"})
	h.wantState(c.ID, ContactOffered, "alice")
	if _, err := h.r.Abandon(h.ctx, c.ID, "customer closed the chat"); err != nil {
		t.Fatal(err)
	}
	h.wantState(c.ID, ContactAbandoned, "")
	if n := len(h.notesOf(NoteOfferWithdrawn, "alice")); n != 1 {
		t.Fatalf("withdrawals to alice: got %d, want 1", n)
	}
	h.wantState(next.ID, ContactOffered, "alice")
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); !isErr(err, ErrNoContact) {
		t.Errorf("accept after abandon: got %v, want ErrNoContact", err)
	}
}

func TestAgentLeavingWithdrawsOffer(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q"})
	h.wantState(c.ID, ContactOffered, "alice")
	h.state("alice", AgentAway, "lunch")
	h.wantState(c.ID, ContactQueued, "")
	h.state("alice", AgentAvailable, "")
	h.wantState(c.ID, ContactOffered, "alice")
}

func TestOverflow(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "general"})
	h.queue(Queue{Name: "vip", Requirements: []Requirement{{"vip", 1}}, MaxWait: Duration(time.Minute), Overflow: "general"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "vip"})
	h.wantState(c.ID, ContactQueued, "")
	h.advance(time.Minute)
	got := h.wantState(c.ID, ContactOffered, "alice")
	if got.Queue != "general" || !got.EnqueuedAt.Equal(c.EnqueuedAt) {
		t.Errorf("after overflow: queue %s enqueued %v, want general and %v", got.Queue, got.EnqueuedAt, c.EnqueuedAt)
	}
}

func TestTransfer(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.queue(Queue{Name: "tech", Requirements: []Requirement{{"tech", 3}}})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.agent("bob", sk("tech", 4), nil, AgentAway)
	c := h.submit(NewContact{Queue: "q"})
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.Transfer(h.ctx, c.ID, "alice", "tech", ""); err != nil {
		t.Fatal(err)
	}
	h.wantState(c.ID, ContactQueued, "")
	if got := h.agentNow("alice").Active["chat"]; got != 0 {
		t.Errorf("alice still holds %d chats", got)
	}
	h.state("bob", AgentAvailable, "")
	h.wantState(c.ID, ContactOffered, "bob")
}

func TestBadCommandsChangeNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	before := h.store.commits
	cases := []struct {
		name string
		err  error
		run  func() error
	}{
		{"unknown-queue", ErrNoQueue, func() error { _, _, err := h.r.Submit(h.ctx, NewContact{Channel: "chat", Queue: "nope"}); return err }},
		{"unknown-channel", ErrInvalid, func() error { _, _, err := h.r.Submit(h.ctx, NewContact{Channel: "fax", Queue: "q"}); return err }},
		{"negative-level", ErrInvalid, func() error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: "chat", Queue: "q", Requirements: []Requirement{{"x", -1}}})
			return err
		}},
		{"bad-strategy", ErrInvalid, func() error { _, err := h.r.PutQueue(h.ctx, Queue{Name: "z", Strategy: "fastest"}); return err }},
		{"negative-segment-boost", ErrInvalid, func() error {
			_, err := h.r.PutQueue(h.ctx, Queue{Name: "z", SegmentBoosts: map[string]int{"premium": -1}})
			return err
		}},
		{"empty-segment", ErrInvalid, func() error {
			_, err := h.r.PutQueue(h.ctx, Queue{Name: "z", SegmentBoosts: map[string]int{"": 1}})
			return err
		}},
		{"long-customer-segment", ErrInvalid, func() error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Queue: "q", Customer: Customer{Segment: strings.Repeat("s", 201)}})
			return err
		}},
		{"overflow-to-self", ErrInvalid, func() error { _, err := h.r.PutQueue(h.ctx, Queue{Name: "z", Overflow: "z"}); return err }},
		{"steps-out-of-order", ErrInvalid, func() error {
			_, err := h.r.PutQueue(h.ctx, Queue{Name: "z", Relaxation: []RelaxStep{{Name: "b", After: 60}, {Name: "a", After: 30}}})
			return err
		}},
		{"bad-agent-id", ErrInvalid, func() error { _, _, err := h.r.PutAgent(h.ctx, Agent{ID: "a b", Name: "x"}); return err }},
		{"unknown-agent-state", ErrNoAgent, func() error { _, err := h.r.SetAgentState(h.ctx, "zed", AgentAvailable, ""); return err }},
		{"wrapup-state-not-settable", ErrInvalid, func() error { _, err := h.r.SetAgentState(h.ctx, "alice", AgentWrapUp, ""); return err }},
		{"accept-unknown", ErrNoContact, func() error { _, err := h.r.Accept(h.ctx, "nope", "alice"); return err }},
		{"delete-queue-in-use", ErrConflict, func() error {
			if _, err := h.r.PutQueue(h.ctx, Queue{Name: "child", Overflow: "q"}); err != nil {
				return err
			}
			before = h.store.commits
			return h.r.DeleteQueue(h.ctx, "q")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !isErr(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if h.store.commits != before {
				t.Errorf("a refused command committed something")
			}
		})
	}
}

func TestIdempotentSubmit(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	nc := NewContact{Channel: "chat", Queue: "q", IdempotencyKey: "k1", IdempotencyHash: "h1"}
	first, created, err := h.r.Submit(h.ctx, nc)
	if err != nil || !created {
		t.Fatalf("first submit: created %v, err %v", created, err)
	}
	again, created, err := h.r.Submit(h.ctx, nc)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("retry: got %s created %v err %v, want %s, false, nil", again.ID, created, err, first.ID)
	}
	nc.IdempotencyHash = "other"
	if _, _, err := h.r.Submit(h.ctx, nc); !isErr(err, ErrIdempotency) {
		t.Fatalf("reuse with another body: got %v, want ErrIdempotency", err)
	}

	t.Run("remembered-after-the-contact-ended", func(t *testing.T) {
		if _, err := h.r.CloseContact(h.ctx, first.ID, "", "", ""); err != nil {
			t.Fatal(err)
		}
		nc.IdempotencyHash = "h1"
		again, created, err := h.r.Submit(h.ctx, nc)
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("retry after close: got %s created %v err %v, want %s, false, nil", again.ID, created, err, first.ID)
		}
	})

	t.Run("forgotten-in-memory-after-the-ttl", func(t *testing.T) {
		h.advance(keyTTL)
		if n := h.r.Snapshot().txn; n == nil {
			t.Fatal("no snapshot")
		}
		raw, err := h.r.Snapshot().txn.First(tableKeys, indexID, "k1")
		if err != nil || raw != nil {
			t.Fatalf("key still in memory after the TTL: %v %v", raw, err)
		}
	})
}

func TestStoreFailureStopsRouter(t *testing.T) {
	st := newMemStore()
	clk := NewManualClock(epoch)
	h := startHarness(t, st, clk, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	st.mu.Lock()
	st.failNext = errDisk
	st.mu.Unlock()
	_, _, err := h.r.Submit(h.ctx, NewContact{Channel: "chat", Queue: "q"})
	if !isErr(err, errDisk) || !isErr(err, ErrFailed) {
		t.Fatalf("submit when the store fails: got %v, want ErrFailed wrapping the store's error", err)
	}
	select {
	case <-h.r.Failed():
	default:
		t.Fatal("Failed is not closed after a store failure")
	}
	if _, err := h.r.SetAgentState(h.ctx, "alice", AgentAway, ""); !isErr(err, ErrFailed) {
		t.Fatalf("command after the failure: got %v, want ErrFailed", err)
	}
	if n := len(h.notesOf(NoteOffer, "")); n != 0 {
		t.Fatalf("%d offers announced although nothing was durable", n)
	}
	h.r.Close()

	// A restart sees only what was durable: no contact, alice offline.
	h2 := startHarness(t, st, clk, nil)
	if n := len(h2.r.Snapshot().Contacts()); n != 0 {
		t.Fatalf("%d contacts after restart, want 0", n)
	}
	h2.state("alice", AgentAvailable, "")
	c := h2.submit(NewContact{Queue: "q"})
	h2.wantState(c.ID, ContactOffered, "alice")
}

var errDisk = &diskError{}

type diskError struct{}

func (*diskError) Error() string { return "disk full" }

func TestRestart(t *testing.T) {
	st := newMemStore()
	clk := NewManualClock(epoch)
	h := startHarness(t, st, clk, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), sk("chat", 3), AgentAvailable)
	h.agent("bob", sk(), nil, AgentAway)
	assigned := h.submit(NewContact{Queue: "q", Body: "hello"})
	if _, err := h.r.Accept(h.ctx, assigned.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	offered := h.submit(NewContact{Queue: "q"})
	h.wantState(offered.ID, ContactOffered, "alice")
	h.state("alice", AgentAway, "")
	h.state("alice", AgentAvailable, "")
	h.wantState(offered.ID, ContactOffered, "alice")
	queued := h.submit(NewContact{Queue: "q", Requirements: []Requirement{{"nobody", 1}}})
	h.r.Close()

	h2 := startHarness(t, st, clk, nil)
	h2.wantState(assigned.ID, ContactAssigned, "alice")
	h2.wantState(offered.ID, ContactQueued, "")
	h2.wantState(queued.ID, ContactQueued, "")
	a := h2.agentNow("alice")
	if a.State != AgentOffline || a.Active["chat"] != 1 {
		t.Fatalf("alice after restart: %s with %d chats, want offline with 1", a.State, a.Active["chat"])
	}
	h2.state("alice", AgentAvailable, "")
	h2.wantState(offered.ID, ContactOffered, "alice")
	tl := st.timeline(offered.ID)
	if tl[len(tl)-2] != "offer_withdrawn" {
		t.Errorf("timeline %v lacks the withdrawal at restart", tl)
	}
	if _, _, err := h2.r.AddMessage(h2.ctx, assigned.ID, Message{Direction: "out", Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	msgs := st.messages[assigned.ID]
	st.mu.Unlock()
	if len(msgs) != 2 || msgs[1].Seq != 2 {
		t.Errorf("messages after restart: %+v, want seq 1 and 2", msgs)
	}
}

func TestIDsSortInCreationOrder(t *testing.T) {
	var g idGen
	prev := ""
	for i := 0; i < 1000; i++ {
		id := g.next(epoch.Add(time.Duration(i/100) * time.Millisecond))
		if len(id) != 26 || id <= prev {
			t.Fatalf("id %d %q does not sort after %q", i, id, prev)
		}
		prev = id
	}
}

// TestEligibleAgreesWithIneligible guards the matcher's fast path: it must
// decide exactly as the reason-giving check does.
func TestEligibleAgreesWithIneligible(t *testing.T) {
	h := newHarness(t, nil)
	now := epoch.Add(time.Minute)
	agents := []*Agent{
		{ID: "a", State: AgentAvailable, Skills: sk("x", 3), Active: map[string]int{}},
		{ID: "b", State: AgentAway, Reason: "lunch", Skills: sk("x", 3), Active: map[string]int{}},
		{ID: "c", State: AgentAvailable, Offer: "z", Skills: sk("x", 3), Active: map[string]int{}},
		{ID: "d", State: AgentAvailable, Skills: sk("x", 3), Capacity: sk("chat", 1), Active: map[string]int{"chat": 1}},
		{ID: "e", State: AgentAvailable, Skills: sk("x", 1), Active: map[string]int{}},
		{ID: "f", State: AgentAvailable, Skills: sk("y", 5), Active: map[string]int{}},
	}
	contacts := []*Contact{
		{Channel: "chat", Effective: []Requirement{{"x", 2}}},
		{Channel: "chat", Effective: []Requirement{{"x", 2}}, Declined: []string{"a"}},
		{Channel: "chat", Preferred: []string{"e"}, PreferredUntil: now.Add(time.Second)},
		{Channel: "email"},
	}
	for _, c := range contacts {
		for _, a := range agents {
			why := h.r.ineligible(a, c, now)
			if got := h.r.eligible(a, c, now); got != (why == "") {
				t.Errorf("agent %s, contact %+v: eligible %v but ineligible says %q", a.ID, c, got, why)
			}
		}
	}
}

func TestDisconnectGrace(t *testing.T) {
	h := newHarness(t, &Options{DisconnectGrace: 30 * time.Second})
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), sk("chat", 2), AgentAvailable)
	held := h.submit(NewContact{Queue: "q"})
	if _, err := h.r.Accept(h.ctx, held.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	ringing := h.submit(NewContact{Queue: "q"})
	h.wantState(ringing.ID, ContactOffered, "alice")
	h.advance(time.Minute)
	waiting := h.submit(NewContact{Queue: "q", Priority: 5})

	a, err := h.r.AgentDisconnected(h.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.State != AgentOffline || a.Reason != "disconnected" {
		t.Fatalf("alice: %s (%s), want offline (disconnected)", a.State, a.Reason)
	}
	h.wantState(ringing.ID, ContactQueued, "")
	h.wantState(held.ID, ContactAssigned, "alice")

	t.Run("reconnect-keeps-contacts", func(t *testing.T) {
		h.advance(10 * time.Second)
		if _, err := h.r.AgentConnected(h.ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		h.advance(30 * time.Second)
		h.wantState(held.ID, ContactAssigned, "alice")
	})

	t.Run("no-return-takes-them-back-to-the-front", func(t *testing.T) {
		if _, err := h.r.AgentDisconnected(h.ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		h.advance(29 * time.Second)
		h.wantState(held.ID, ContactAssigned, "alice")
		h.advance(time.Second)
		got := h.wantState(held.ID, ContactQueued, "")
		if !got.Returned {
			t.Errorf("returned contact not marked returned")
		}
		if n := len(h.agentNow("alice").Contacts); n != 0 {
			t.Errorf("alice still holds %d contacts", n)
		}
		h.agent("bob", sk(), sk("chat", 1), AgentAvailable)
		// Bob gets the returned contact first, before older and
		// higher-priority contacts that were waiting all along.
		h.wantState(held.ID, ContactOffered, "bob")
		h.wantState(waiting.ID, ContactQueued, "")
	})
}

func TestRecordEvent(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q"})
	if err := h.r.RecordEvent(h.ctx, c.ID, "alice", "offer_outcome", "savings: accepted"); err != nil {
		t.Fatal(err)
	}
	if err := h.r.RecordEvent(h.ctx, c.ID, "bob", "offer_outcome", "x"); !isErr(err, ErrNotYours) {
		t.Errorf("event by another agent: got %v, want ErrNotYours", err)
	}
	if err := h.r.RecordEvent(h.ctx, c.ID, "", "bad event", "x"); !isErr(err, ErrInvalid) {
		t.Errorf("bad event name: got %v, want ErrInvalid", err)
	}
	if got := h.lastReason(c.ID, "offer_outcome"); got != "savings: accepted" {
		t.Errorf("event reason: got %q", got)
	}
}

func TestCloseAnswersEveryCommand(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := 0; i < 400; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- h.r.Sync(h.ctx)
		}()
	}
	h.r.Close()
	wg.Wait() // hangs, and the test times out, if a command is left unanswered
	close(errs)
	for err := range errs {
		if err != nil && !isErr(err, ErrClosed) {
			t.Fatalf("got %v, want nil or ErrClosed", err)
		}
	}
	if err := h.r.Sync(h.ctx); !isErr(err, ErrClosed) {
		t.Fatalf("after Close: got %v, want ErrClosed", err)
	}
}

func TestMessageResendIsDeduplicated(t *testing.T) {
	st := newMemStore()
	clk := NewManualClock(epoch)
	h := startHarness(t, st, clk, nil)
	h.queue(Queue{Name: "q"})
	c := h.submit(NewContact{Queue: "q"})
	first, dup, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "hello", ClientID: "m1"})
	if err != nil || dup {
		t.Fatalf("first: dup %v err %v", dup, err)
	}
	again, dup, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "hello", ClientID: "m1"})
	if err != nil || !dup || again.Seq != first.Seq {
		t.Fatalf("resend: got seq %d dup %v err %v, want seq %d dup true", again.Seq, dup, err, first.Seq)
	}
	h.r.Close()

	h2 := startHarness(t, st, clk, nil)
	again, dup, err = h2.r.AddMessage(h2.ctx, c.ID, Message{Direction: "in", Body: "hello", ClientID: "m1"})
	if err != nil || !dup || again.Seq != first.Seq {
		t.Fatalf("resend after restart: got seq %d dup %v err %v, want seq %d dup true", again.Seq, dup, err, first.Seq)
	}
	other, dup, err := h2.r.AddMessage(h2.ctx, c.ID, Message{Direction: "in", Body: "more", ClientID: "m2"})
	if err != nil || dup || other.Seq != first.Seq+1 {
		t.Fatalf("new message: got seq %d dup %v err %v, want seq %d", other.Seq, dup, err, first.Seq+1)
	}
	if n := len(st.messages[c.ID]); n != 2 {
		t.Fatalf("stored %d messages, want 2", n)
	}
}

func TestOldIdempotencyKeyFromStore(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	nc := NewContact{Channel: "chat", Queue: "q", IdempotencyKey: "old", IdempotencyHash: "h"}
	first, _, err := h.r.Submit(h.ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.r.CloseContact(h.ctx, first.ID, "", "", ""); err != nil {
		t.Fatal(err)
	}
	h.advance(keyTTL + time.Hour) // the router forgot the key; the store did not
	again, created, err := h.r.Submit(h.ctx, nc)
	if err != nil || created || again.ID != first.ID || again.State != ContactClosed {
		t.Fatalf("got %s (%s) created %v err %v, want %s closed, not created", again.ID, again.State, created, err, first.ID)
	}
	nc.IdempotencyHash = "other"
	if _, _, err := h.r.Submit(h.ctx, nc); !isErr(err, ErrIdempotency) {
		t.Fatalf("other body: got %v, want ErrIdempotency", err)
	}
}

// TestSkillMaskNeverRejectsAQualifiedAgent: the bitmap is a prefilter; a
// false "no" would hide an eligible agent from routing.
func TestSkillMaskNeverRejectsAQualifiedAgent(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		skills := map[string]int{}
		for j := rng.IntN(8); j > 0; j-- {
			skills[fmt.Sprintf("s%d", rng.IntN(200))] = rng.IntN(6)
		}
		var reqs []Requirement
		for j := rng.IntN(3); j > 0; j-- {
			reqs = append(reqs, Requirement{fmt.Sprintf("s%d", rng.IntN(200)), rng.IntN(3)})
		}
		need := needMask(reqs)
		if meets(skills, reqs) && skillMask(skills)&need != need {
			t.Fatalf("mask rejects skills %v for %v", skills, reqs)
		}
	}
}

func TestQueuedContactsAreAnnounced(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	c := h.submit(NewContact{Queue: "q"})
	if _, err := h.r.Abandon(h.ctx, c.ID, "gone"); err != nil {
		t.Fatal(err)
	}
	var created, ended bool
	for _, n := range h.notesOf(NoteContact, "") {
		created = created || (n.Contact.ID == c.ID && n.Reason == "created")
	}
	for _, n := range h.notesOf(NoteContactEnded, "") {
		ended = ended || (n.Contact.ID == c.ID && n.AgentID == "" && n.Contact.State == ContactAbandoned)
	}
	if !created || !ended {
		t.Fatalf("created announced %v, abandonment announced %v; want both", created, ended)
	}
}

// An idempotency key is not forgotten while the batch that stores it is
// not yet committed, however long the commit takes: a copy that asked
// the store before that commit must still be caught in memory.
func TestKeyKeptUntilCommitted(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	if _, _, err := h.r.Submit(h.ctx, NewContact{Channel: "chat", Queue: "q", IdempotencyKey: "k", IdempotencyHash: "h"}); err != nil {
		t.Fatal(err)
	}
	inMemory := func() bool {
		raw, err := h.r.Snapshot().txn.First(tableKeys, indexID, "k")
		if err != nil {
			t.Fatal(err)
		}
		return raw != nil
	}
	h.r.committed.Store(0) // as if its batch were still being committed
	h.advance(keyTTL)
	if !inMemory() {
		t.Fatal("the key was forgotten before its batch was committed")
	}
	h.advance(keyTTL) // committed since (the tick's own batch): forgotten
	if inMemory() {
		t.Fatal("the key is still in memory after its batch was committed and the TTL passed again")
	}
}
