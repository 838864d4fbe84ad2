package store_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/pgtest"
)

// BenchmarkCreateToAssigned measures durable throughput through the whole
// router over each store (SQLite, and PostgreSQL on this machine: the
// cluster package pgtest starts, over loopback TCP): each contact is created (and offered in the same
// commit) and accepted by a simulated agent, every step committed before
// it is acknowledged. Concurrent callers share commits (group commit).
// With close=true each contact is also closed, the whole lifecycle.
//
// eventlog=true writes the event log that webhooks read, as routerd does.
func BenchmarkCreateToAssigned(b *testing.B) {
	for _, driver := range []string{store.DriverSQLite, store.DriverPostgres} {
		for _, eventLog := range []bool{false, true} {
			for _, sync := range []string{"full", "normal"} {
				for _, callers := range []int{64, 256} {
					for _, closing := range []bool{false, true} {
						name := fmt.Sprintf("store=%s/eventlog=%v/synchronous=%s/callers=%d/close=%v", driver, eventLog, sync, callers, closing)
						b.Run(name, func(b *testing.B) { benchCreateToAssigned(b, driver, sync, callers, closing, eventLog) })
					}
				}
			}
		}
	}
}

func benchCreateToAssigned(b *testing.B, driver, synchronous string, workers int, closing, eventLog bool) {
	ctx := context.Background()
	o := &store.Options{Path: filepath.Join(b.TempDir(), "bench.db"), Synchronous: synchronous}
	if driver == store.DriverPostgres {
		o = &store.Options{Driver: driver, DSN: pgtest.Database(b), Synchronous: synchronous}
	}
	db, err := store.Open(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if driver == store.DriverPostgres {
		// As routerd runs on PostgreSQL: every commit fenced by the
		// leader's lease (docs/ha.md).
		if _, ok, err := db.AcquireLease(ctx, store.LeaderLease, "bench", "http://bench", time.Hour); err != nil || !ok {
			b.Fatalf("lease: %v %v", ok, err)
		}
		if err := db.Fence("bench", 1); err != nil {
			b.Fatal(err)
		}
	}
	r, err := router.New(db, &router.Options{EventLog: eventLog})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if _, err := r.PutQueue(ctx, router.Queue{Name: "q", Requirements: []router.Requirement{{Skill: "billing", Min: 1}}}); err != nil {
		b.Fatal(err)
	}
	// More agents than callers, with room for every contact when none
	// closes: a contact always finds an agent, so the figure is the
	// pipeline's, not a queue's.
	agents, capacity := 2*workers, 1
	if !closing {
		capacity = 100
		agents = max(agents, b.N/capacity+2*workers)
	}
	for i := 0; i < agents; i++ {
		id := fmt.Sprintf("agent%05d", i)
		spec := router.Agent{ID: id, Name: id, Skills: map[string]int{"billing": 3}, Capacity: map[string]int{"api": capacity}}
		if _, _, err := r.PutAgent(ctx, spec); err != nil {
			b.Fatal(err)
		}
		if _, err := r.SetAgentState(ctx, id, router.AgentAvailable, ""); err != nil {
			b.Fatal(err)
		}
	}
	var next, assigned atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				c, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelAPI, Queue: "q", Subject: "bench", Body: "hello"})
				if err != nil {
					b.Error(err)
					return
				}
				if c.State != router.ContactOffered {
					b.Errorf("contact %s is %s, want offered", c.ID, c.State)
					return
				}
				if _, err := r.Accept(ctx, c.ID, c.AgentID); err != nil {
					b.Error(err)
					return
				}
				assigned.Add(1)
				if !closing {
					continue
				}
				if _, err := r.CloseContact(ctx, c.ID, c.AgentID, "done", ""); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(assigned.Load())/elapsed.Seconds(), "contacts/s")
}

// restoreOpen is how many open contacts BenchmarkTakeoverRestore
// restores.
var restoreOpen = flag.Int("restore-open", 10000, "open contacts BenchmarkTakeoverRestore restores")

// BenchmarkTakeoverRestore measures what a standby does when it takes
// over (and what any restart does): a new router loads the live state
// from the store and restores it, 10,000 open contacts by default (3,000
// assigned to 500 agents, the rest waiting) with their events and
// messages.
//
//	go test -run=^$ -bench=TakeoverRestore ./store/
//	go test -run=^$ -bench='TakeoverRestore/store=sqlite' -benchtime=5x ./store/ -restore-open=100000
func BenchmarkTakeoverRestore(b *testing.B) {
	for _, driver := range []string{store.DriverSQLite, store.DriverPostgres} {
		b.Run("store="+driver, func(b *testing.B) { benchTakeoverRestore(b, driver) })
	}
}

func benchTakeoverRestore(b *testing.B, driver string) {
	ctx := context.Background()
	o := &store.Options{Path: filepath.Join(b.TempDir(), "bench.db")}
	if driver == store.DriverPostgres {
		o = &store.Options{Driver: driver, DSN: pgtest.Database(b)}
	}
	db, err := store.Open(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r, err := router.New(db, &router.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := r.PutQueue(ctx, router.Queue{Name: "q", Requirements: []router.Requirement{{Skill: "billing", Min: 1}}}); err != nil {
		b.Fatal(err)
	}
	const agents, capacity = 500, 6
	open := int64(*restoreOpen)
	for i := 0; i < agents; i++ {
		id := fmt.Sprintf("agent%05d", i)
		if _, _, err := r.PutAgent(ctx, router.Agent{ID: id, Name: id, Skills: map[string]int{"billing": 3}, Capacity: map[string]int{"api": capacity}}); err != nil {
			b.Fatal(err)
		}
		if _, err := r.SetAgentState(ctx, id, router.AgentAvailable, ""); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= open {
				c, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelAPI, Queue: "q", Subject: "bench", Body: "hello"})
				if err != nil {
					b.Error(err)
					return
				}
				if c.State == router.ContactOffered {
					if _, err := r.Accept(ctx, c.ID, c.AgentID); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	r.Close()
	if b.Failed() {
		return
	}
	for b.Loop() {
		r, err := router.New(db, &router.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s := r.Snapshot()
		if n := len(s.Contacts()); int64(n) != open {
			b.Fatalf("restored %d open contacts, want %d", n, open)
		}
		r.Close()
		b.StartTimer()
	}
}
