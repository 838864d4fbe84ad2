package router

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// nopStore accepts every batch; the benchmarks here measure the
// in-memory decision, the store has its own benchmarks.
type nopStore struct{}

func (nopStore) Commit(context.Context, *Batch) error  { return nil }
func (nopStore) Load(context.Context) (*Loaded, error) { return &Loaded{}, nil }
func (nopStore) ContactByKey(context.Context, string) (Contact, bool, error) {
	return Contact{}, false, nil
}
func (nopStore) MessageByExternalID(context.Context, string) (Message, bool, error) {
	return Message{}, false, nil
}

const (
	benchSkills   = 50
	benchWaiting  = 10000
	skillsPerAgnt = 5
)

// benchRouter builds a router with n available agents, each with five of
// fifty skills at levels 1–5 and idle times spread over an hour, and
// 10,000 contacts waiting for a level nobody has.
func benchRouter(b *testing.B, n int) (*Router, *rand.Rand) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	clk := NewManualClock(epoch)
	r, err := New(nopStore{}, &Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	w := r.begin()
	q := &Queue{Name: "q", Strategy: LongestIdle}
	if err := w.txn.Insert(tableQueues, q); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		skills := map[string]int{}
		for len(skills) < skillsPerAgnt {
			skills[fmt.Sprintf("skill%02d", rng.IntN(benchSkills))] = 1 + rng.IntN(5)
		}
		w.putAgent(&Agent{
			ID: fmt.Sprintf("agent%06d", i), Name: "x", Skills: skills, skillsRev: r.nextRev(),
			Capacity: map[string]int{"chat": 3}, State: AgentAvailable,
			IdleSince: epoch.Add(-time.Duration(rng.IntN(3600)) * time.Second), Active: map[string]int{},
		}, false)
	}
	for i := 0; i < benchWaiting; i++ {
		c := &Contact{ID: NewID(epoch), Channel: "chat", Queue: "q", State: ContactQueued,
			Requirements: []Requirement{{fmt.Sprintf("skill%02d", rng.IntN(benchSkills)), 9}},
			EnqueuedAt:   epoch.Add(-time.Duration(rng.IntN(600)) * time.Second)}
		c.Effective = c.Requirements
		if err := w.txn.Insert(tableContacts, c); err != nil {
			b.Fatal(err)
		}
	}
	w.txn.Commit()
	return r, rng
}

func benchContact(rng *rand.Rand) *Contact {
	c := &Contact{ID: NewID(epoch), Channel: "chat", Queue: "q", State: ContactQueued, EnqueuedAt: epoch}
	s1, s2 := rng.IntN(benchSkills), rng.IntN(benchSkills-1)
	if s2 >= s1 {
		s2++
	}
	c.Requirements = []Requirement{{fmt.Sprintf("skill%02d", s1), 1 + rng.IntN(3)}}
	if rng.IntN(2) == 0 {
		c.Requirements = append(c.Requirements, Requirement{fmt.Sprintf("skill%02d", s2), 1})
	}
	c.Effective = c.Requirements
	return c
}

// matchable returns contacts that some agent can take.
func matchable(r *Router, rng *rand.Rand) []*Contact {
	snap := r.Snapshot()
	var cs []*Contact
	for len(cs) < 1024 {
		if c := benchContact(rng); func() bool { _, _, ok := snap.Match(c); return ok }() {
			cs = append(cs, c)
		}
	}
	return cs
}

// latencies records per-operation times and reports p50 and p99.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(0, "ns/op") // the percentiles say it better
}

var agentCounts = []int{1000, 10000, 100000}

// BenchmarkMatch measures finding the agent for a contact on a snapshot.
func BenchmarkMatch(b *testing.B) {
	for _, n := range agentCounts {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			r, rng := benchRouter(b, n)
			snap := r.Snapshot()
			cs := make([]*Contact, 1024)
			for i := range cs {
				cs[i] = benchContact(rng)
			}
			lat := make(latencies, 0, b.N)
			found := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				_, ok := snap.Propose(cs[i%len(cs)])
				lat = append(lat, time.Since(start))
				if ok {
					found++
				}
			}
			b.StopTimer()
			if found == 0 {
				b.Fatal("no match found: the benchmark measures nothing")
			}
			lat.report(b)
		})
	}
}

// BenchmarkDecision measures a whole routing decision: match in the
// write transaction, reserve the agent (contact and agent written), and
// commit the memdb transaction. Each reservation is then undone, untimed.
func BenchmarkDecision(b *testing.B) {
	for _, n := range agentCounts {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			r, rng := benchRouter(b, n)
			cs := matchable(r, rng)
			lat := make(latencies, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := cloneContact(cs[i%len(cs)])
				c.ID = fmt.Sprintf("bench%09d", i)
				start := time.Now()
				w := r.begin()
				q, _ := w.queue("q")
				p, ok := r.matchContact(w.txn, c, q, w.now)
				if !ok {
					b.Fatal("no agent")
				}
				a := p.agent
				w.offer(c, a, r.reason(w.txn, &p, c, q, w.now))
				w.txn.Commit()
				lat = append(lat, time.Since(start))

				// Undo, outside the measured window (StopTimer would stop
				// the world on every iteration).
				u := r.begin()
				u.putAgent(a, false)
				u.txn.Delete(tableContacts, c)
				u.txn.Commit()
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}

// BenchmarkFloor measures the least a decision can cost: one bare memdb
// write transaction updating one agent in the same schema.
func BenchmarkFloor(b *testing.B) {
	for _, n := range agentCounts {
		b.Run(fmt.Sprintf("agents=%d", n), func(b *testing.B) {
			r, rng := benchRouter(b, n)
			lat := make(latencies, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := fmt.Sprintf("agent%06d", rng.IntN(n))
				start := time.Now()
				txn := r.db.Txn(true)
				raw, _ := txn.First(tableAgents, indexID, id)
				a := cloneAgent(raw.(*Agent))
				a.Active["chat"] ^= 1 // what an offer or a close changes
				txn.Insert(tableAgents, a)
				txn.Commit()
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			lat.report(b)
		})
	}
}
