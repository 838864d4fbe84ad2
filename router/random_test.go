package router

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestRandomizedConcurrency drives the router from many goroutines at
// once: contacts arriving, agents changing state, accepts, declines,
// wrap-ups, closes and abandonments racing each other and the timers.
// The memStore replays every commit and fails the test if an agent ever
// held more than its capacity; afterwards every contact must be in
// exactly one consistent place.
func TestRandomizedConcurrency(t *testing.T) {
	const (
		agents   = 12
		contacts = 600
		workers  = 8
	)
	h := newHarness(t, &Options{OfferTimeout: map[Channel]time.Duration{ChannelChat: 3 * time.Second, ChannelEmail: 5 * time.Second},
		RequirePresence: true, DisconnectGrace: 4 * time.Second})
	h.queue(Queue{Name: "general"})
	h.queue(Queue{Name: "billing", Requirements: []Requirement{{"billing", 3}}, Relaxation: []RelaxStep{
		{Name: "any billing", After: Duration(2 * time.Second), Min: map[string]int{"billing": 1}},
	}, MaxWait: Duration(6 * time.Second), Overflow: "general"})
	ids := make([]string, agents)
	for i := range ids {
		ids[i] = fmt.Sprintf("agent%02d", i)
		h.agent(ids[i], map[string]int{"billing": 1 + i%5}, map[string]int{"chat": 1 + i%3, "email": 2}, AgentAvailable)
	}

	ctx := context.Background()
	var mu sync.Mutex
	var created []string // guarded by mu
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, seed*7+1))
			for i := 0; i < contacts/workers; i++ {
				ch := ChannelChat
				if rng.IntN(3) == 0 {
					ch = ChannelEmail
				}
				q := "general"
				if rng.IntN(2) == 0 {
					q = "billing"
				}
				c, _, err := h.r.Submit(ctx, NewContact{Channel: ch, Queue: q, Priority: rng.IntN(3)})
				if err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				mu.Lock()
				created = append(created, c.ID)
				mu.Unlock()
				// Act on a few random agents' contacts.
				for j := 0; j < 3; j++ {
					agent := ids[rng.IntN(agents)]
					a, ok := h.r.Snapshot().Agent(agent)
					if !ok {
						continue
					}
					switch op := rng.IntN(10); {
					case op < 4 && a.Offer != "":
						h.r.Accept(ctx, a.Offer, agent) // may lose a race: fine
					case op < 5 && a.Offer != "":
						h.r.Decline(ctx, a.Offer, agent, "")
					case op < 7 && len(a.Contacts) > 0:
						h.r.CloseContact(ctx, a.Contacts[rng.IntN(len(a.Contacts))], agent, "done", "")
					case op < 8 && len(a.Contacts) > 0:
						h.r.WrapUp(ctx, a.Contacts[rng.IntN(len(a.Contacts))], agent, "done", "")
					case op < 9:
						states := []AgentState{AgentAvailable, AgentAvailable, AgentAway, AgentOffline}
						h.r.SetAgentState(ctx, agent, states[rng.IntN(len(states))], "") // refused while not connected: fine
					case op < 10 && rng.IntN(2) == 0:
						// Desktops drop, sign out and come back.
						switch rng.IntN(3) {
						case 0:
							h.r.AgentDisconnected(ctx, agent)
						case 1:
							h.r.AgentSignedOut(ctx, agent)
						default:
							h.r.AgentConnected(ctx, agent)
						}
					default:
						mu.Lock()
						victim := created[rng.IntN(len(created))]
						mu.Unlock()
						h.r.Abandon(ctx, victim, "")
					}
				}
			}
		}(uint64(w + 1))
	}
	// Time moves on while the workers run: offers expire, steps relax,
	// wrap-ups end, queues overflow.
	stop := make(chan struct{})
	clockDone := make(chan struct{})
	go func() {
		defer close(clockDone)
		for {
			select {
			case <-stop:
				return
			default:
				h.clock.Advance(500 * time.Millisecond)
				if err := h.r.Sync(ctx); err != nil {
					t.Error(err)
					return
				}
				// Only an agent with a desktop takes contacts, in every
				// state the router published.
				for _, a := range h.r.Snapshot().Agents() {
					if !a.Connected && (a.State == AgentAvailable || a.Offer != "") {
						t.Errorf("agent %s is %s with offer %q but has no desktop", a.ID, a.State, a.Offer)
						return
					}
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-clockDone
	if err := h.r.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	snap := h.r.Snapshot()
	states := map[ContactState]int{}
	for _, id := range created {
		states[h.store.stored(id).State]++
	}
	// The workload must have gone through every state; which contacts are
	// still assigned at the end depends on the scheduling, so assignment
	// is read from the timelines.
	for _, st := range []ContactState{ContactClosed, ContactAbandoned, ContactQueued} {
		if states[st] == 0 {
			t.Errorf("no contact ended %s: the workload did not exercise it (%v)", st, states)
		}
	}
	assigned := 0
	for _, id := range created {
		for _, e := range h.store.timeline(id) {
			if e == "assigned" {
				assigned++
				break
			}
		}
	}
	if assigned == 0 {
		t.Errorf("no contact was ever assigned: the workload did not exercise it (%v)", states)
	}
	t.Logf("end states: %v", states)
	held := map[string]int{}
	seen := map[string]bool{}
	for _, id := range created {
		if seen[id] {
			t.Fatalf("contact %s created twice", id)
		}
		seen[id] = true
		live, isLive := snap.Contact(id)
		stored := h.store.stored(id)
		if stored.ID != id {
			t.Fatalf("contact %s acknowledged but not stored", id)
		}
		if isLive != !stored.State.Final() {
			t.Fatalf("contact %s: live %v but stored state %s", id, isLive, stored.State)
		}
		if isLive && (live.State != stored.State || live.AgentID != stored.AgentID) {
			t.Fatalf("contact %s: memory says %s/%s, store %s/%s", id, live.State, live.AgentID, stored.State, stored.AgentID)
		}
		switch stored.State {
		case ContactQueued:
			if stored.AgentID != "" {
				t.Errorf("queued contact %s names agent %s", id, stored.AgentID)
			}
		case ContactOffered, ContactAssigned, ContactWrapUp:
			held[stored.AgentID]++
			a, _ := snap.Agent(stored.AgentID)
			if !containsStr(a.Contacts, id) {
				t.Errorf("contact %s is %s with %s, who does not hold it", id, stored.State, stored.AgentID)
			}
		}
	}
	// The waiting index holds exactly the queued contacts.
	var queued, indexed []string
	for _, c := range snap.Contacts() {
		if c.State == ContactQueued {
			queued = append(queued, c.ID)
		}
	}
	for _, c := range snap.Queued() {
		indexed = append(indexed, c.ID)
	}
	slices.Sort(indexed)
	if !slices.Equal(queued, indexed) {
		t.Errorf("queued contacts %v, the waiting index has %v", queued, indexed)
	}
	for _, a := range snap.Agents() {
		if !a.Connected && (a.State == AgentAvailable || a.Offer != "") {
			t.Errorf("agent %s is %s with offer %q but has no desktop", a.ID, a.State, a.Offer)
		}
		if len(a.Contacts) != held[a.ID] {
			t.Errorf("agent %s holds %v, contacts say %d", a.ID, a.Contacts, held[a.ID])
		}
		for ch, n := range a.Active {
			if n > h.r.capacityOf(&a, ch) {
				t.Errorf("agent %s over capacity on %s: %d", a.ID, ch, n)
			}
		}
	}
	// Nothing routable is left waiting: with every agent available and
	// time run past every step, each queued contact has no free agent.
	for _, id := range ids {
		if _, err := h.r.AgentConnected(ctx, id); err != nil {
			t.Fatal(err)
		}
		h.state(id, AgentAvailable, "")
	}
	h.advance(10 * time.Second)
	snap = h.r.Snapshot()
	for _, c := range snap.Waiting("") {
		if agent, why, ok := snap.Match(&c); ok {
			t.Errorf("contact %s waits although %s could take it: %s", c.ID, agent, why)
		}
	}
}

func containsStr(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
