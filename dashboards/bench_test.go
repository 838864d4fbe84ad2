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
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(b.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r, err := router.New(db, &router.Options{Clock: router.NewManualClock(t0), Capacity: map[router.Channel]int{router.ChannelChat: 1}})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for q := 0; q < queues; q++ {
		skill := fmt.Sprintf("s%02d", q)
		if _, err := r.PutQueue(ctx, router.Queue{Name: fmt.Sprintf("q%02d", q), Requirements: []router.Requirement{{Skill: skill, Min: 1}},
			ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second)}}); err != nil {
			b.Fatal(err)
		}
	}
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
