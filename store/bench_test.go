package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// BenchmarkCommit measures the group-commit path: batches of n contacts,
// each with two events, with the default synchronous=full. contacts/s is
// the sustained insert rate.
func BenchmarkCommit(b *testing.B) {
	for _, sync := range []string{"full", "normal"} {
		for _, n := range []int{1, 64} {
			b.Run(fmt.Sprintf("sync=%s/contacts=%d", sync, n), func(b *testing.B) {
				ctx := context.Background()
				db, err := Open(ctx, &Options{Path: filepath.Join(b.TempDir(), "bench.db"), Synchronous: sync})
				if err != nil {
					b.Fatalf("Open: %v", err)
				}
				defer db.Close()
				batch := &router.Batch{
					Contacts: make([]router.Contact, n),
					Events:   make([]router.Event, 2*n),
				}
				b.ReportAllocs()
				seq := 0
				for b.Loop() {
					for j := range n {
						seq++
						id := fmt.Sprintf("c-%09d", seq)
						c := fullContact(id)
						c.CreatedAt = t0.Add(time.Duration(seq))
						batch.Contacts[j] = c
						batch.Events[2*j] = router.Event{ContactID: id, Seq: 1, At: c.CreatedAt, Event: "queued", Queue: c.Queue}
						batch.Events[2*j+1] = router.Event{ContactID: id, Seq: 2, At: c.CreatedAt, Event: "offered", AgentID: "agent-1", Queue: c.Queue}
					}
					if err := db.Commit(ctx, batch); err != nil {
						b.Fatalf("Commit: %v", err)
					}
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "contacts/s")
			})
		}
	}
}
