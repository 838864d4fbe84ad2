package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// BenchmarkBoard builds the live board (queues, agents, their JSON) of a
// large center: 5,000 agents, 50 queues, 2,000 contacts waiting and
// 1,000 ringing or held. The live page builds it at most once a second,
// once for all its viewers: ns/op is the share of a core it takes
// (1e7 ns/op is 1 %).
func BenchmarkBoard(b *testing.B) {
	const agents, queues, waiting, held = 5000, 50, 2000, 1000
	ctx := context.Background()
	db := benchStore(b)
	r := benchRouter(b, db, &router.Options{Clock: router.NewManualClock(t0), Capacity: map[router.Channel]int{router.ChannelChat: 1}})
	benchQueues(b, r, queues, true)
	for a := 0; a < agents; a++ {
		skills := map[string]int{fmt.Sprintf("s%02d", a%queues): 3, fmt.Sprintf("s%02d", (a+7)%queues): 2}
		id := fmt.Sprintf("a%04d", a)
		if _, _, err := r.PutAgent(ctx, router.Agent{ID: id, Name: id, Skills: skills}); err != nil {
			b.Fatal(err)
		}
		if a < held {
			if _, err := r.AgentConnected(ctx, id); err != nil {
				b.Fatal(err)
			}
			if _, err := r.SetAgentState(ctx, id, router.AgentAvailable, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	for c := 0; c < waiting+held; c++ {
		if _, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelChat, Queue: fmt.Sprintf("q%02d", c%queues)}); err != nil {
			b.Fatal(err)
		}
	}
	snap := r.Snapshot()
	stats, err := db.QueueStats(ctx, snap.At.Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		board := NewBoard(snap, stats, time.Hour)
		if _, err := json.Marshal(board); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWindowFigures is the part of a board that grows with the
// contacts: the window's figures of 50 queues when 100,000 contacts were
// answered in the last hour (28 a second). "store" reads them from the
// store at each build (QueueStats, then FiguresOf), as routerd did
// before; "kept" asks Waits, which keeps them as contacts come and go
// (seeded from the same store). ns/op per build; the live page builds at
// most once a second.
//
//	go test -run='^$' -bench=WindowFigures ./dashboards/
func BenchmarkWindowFigures(b *testing.B) {
	const queues, answered = 50, 100000
	ctx := context.Background()
	db := benchStore(b)
	now := t0.Add(time.Hour)
	var batch router.Batch
	for i := 0; i < answered; i++ {
		at := t0.Add(time.Duration(i) * time.Hour / answered)
		c := router.Contact{ID: fmt.Sprintf("c%07d", i), Channel: router.ChannelChat, Queue: fmt.Sprintf("q%02d", i%queues),
			State: router.ContactClosed, AgentID: "a", CreatedAt: at, EnqueuedAt: at, QueuedAt: at,
			AssignedAt: at.Add(time.Duration(i%120) * time.Second), EndedAt: at.Add(5 * time.Minute)}
		batch.Contacts = append(batch.Contacts, c)
		if len(batch.Contacts) == 1000 {
			if err := db.Commit(ctx, &batch); err != nil {
				b.Fatal(err)
			}
			batch.Contacts = batch.Contacts[:0]
		}
	}
	r := benchRouter(b, db, &router.Options{Clock: router.NewManualClock(now)})
	benchQueues(b, r, queues, false)
	snap := r.Snapshot()
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			stats, err := db.QueueStats(ctx, snap.At.Add(-time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range snap.Queues() {
				FiguresOf(stats[q.Name], q.ServiceLevel, time.Hour)
			}
		}
	})
	b.Run("kept", func(b *testing.B) {
		w := NewWaits(r, time.Hour)
		w.now = func() time.Time { return now }
		if err := w.Seed(ctx, db); err != nil {
			b.Fatal(err)
		}
		if f := w.Figures(snap)["q00"]; f.Answered != answered/queues {
			b.Fatalf("seeded %d answers of q00, want %d", f.Answered, answered/queues)
		}
		for b.Loop() {
			w.Figures(snap)
		}
	})
}

// BenchmarkWaitsNotify is what Waits costs per contact on the router's
// event stream: queued, then offered, accepted, and closed, each its own
// notification, in one of 50 queues with an hour's 100,000 answers kept.
func BenchmarkWaitsNotify(b *testing.B) {
	const queues = 50
	r := benchRouter(b, benchStore(b), &router.Options{Clock: router.NewManualClock(t0)})
	benchQueues(b, r, queues, false)
	w := NewWaits(r, time.Hour)
	at := t0
	w.now = func() time.Time { return at }
	i := 0
	for b.Loop() {
		at = at.Add(36 * time.Millisecond) // 100,000 an hour
		c := router.Contact{ID: fmt.Sprintf("c%09d", i), Queue: fmt.Sprintf("q%02d", i%queues), QueuedAt: at}
		i++
		c.State = router.ContactQueued
		w.Notify([]router.Notification{{Kind: router.NoteContact, Contact: &c}})
		o := c
		o.State = router.ContactOffered
		w.Notify([]router.Notification{{Kind: router.NoteOffer, Contact: &o}})
		a := o
		a.State, a.AssignedAt = router.ContactAssigned, at
		w.Notify([]router.Notification{{Kind: router.NoteAssigned, Contact: &a}})
		e := a
		e.State, e.EndedAt = router.ContactClosed, at.Add(time.Minute)
		w.Notify([]router.Notification{{Kind: router.NoteContactEnded, Contact: &e}})
	}
}

// benchStore opens a store in a temporary directory for a benchmark.
func benchStore(b *testing.B) *store.DB {
	b.Helper()
	db, err := store.Open(context.Background(), &store.Options{Path: filepath.Join(b.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchRouter starts a router on db with o for a benchmark.
func benchRouter(b *testing.B, db *store.DB, o *router.Options) *router.Router {
	b.Helper()
	r, err := router.New(db, o)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close) // before the store's
	return r
}

// benchQueues puts queues q00… with an 80 % in 20 s service level; with
// skills, queue qNN requires skill sNN.
func benchQueues(b *testing.B, r *router.Router, n int, skills bool) {
	b.Helper()
	for q := 0; q < n; q++ {
		qu := router.Queue{Name: fmt.Sprintf("q%02d", q), ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second)}}
		if skills {
			qu.Requirements = []router.Requirement{{Skill: fmt.Sprintf("s%02d", q), Min: 1}}
		}
		if _, err := r.PutQueue(context.Background(), qu); err != nil {
			b.Fatal(err)
		}
	}
}
