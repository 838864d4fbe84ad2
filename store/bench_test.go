package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// BenchmarkCommit measures the group-commit path on each store: batches
// of n contacts, each with two events, with the default synchronous=full. contacts/s is
// the sustained insert rate.
func BenchmarkCommit(b *testing.B) {
	for _, driver := range []string{DriverSQLite, DriverPostgres} {
		b.Run(driver, func(b *testing.B) { benchCommit(b) })
	}
}

// benchCommit is BenchmarkCommit on the store its name says (testDialect).
func benchCommit(b *testing.B) {
	for _, sync := range []string{"full", "normal"} {
		for _, n := range []int{1, 64} {
			b.Run(fmt.Sprintf("sync=%s/contacts=%d", sync, n), func(b *testing.B) {
				ctx := context.Background()
				o := testOptions(b)
				o.Synchronous = sync
				db, err := Open(ctx, o)
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

// BenchmarkCustomerTimeline measures the screen pop's history query: the
// 11 newest contacts of one customer (by id and by a claimed email) among
// 100,000 contacts of 20,000 customers.
//
//	go test -run=^$ -bench=CustomerTimeline ./store/
func BenchmarkCustomerTimeline(b *testing.B) {
	const contacts, customers = 100_000, 20_000
	ctx := context.Background()
	db, err := Open(ctx, &Options{Path: filepath.Join(b.TempDir(), "bench.db"), Synchronous: "normal"})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer db.Close()
	for start := 0; start < contacts; start += 1000 {
		batch := &router.Batch{}
		for n := start; n < start+1000; n++ {
			c := fullContact(fmt.Sprintf("c-%09d", n))
			c.State, c.CreatedAt = router.ContactClosed, t0.Add(time.Duration(n)*time.Second)
			c.Customer = router.Customer{ID: fmt.Sprintf("cu-%d", n%customers), Email: fmt.Sprintf("c%d@example.com", n%customers)}
			batch.Contacts = append(batch.Contacts, c)
		}
		if err := db.Commit(ctx, batch); err != nil {
			b.Fatalf("Commit: %v", err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		f := TimelineFilter{CustomerID: fmt.Sprintf("cu-%d", i%customers), Email: fmt.Sprintf("c%d@example.com", i%customers), Limit: 11}
		page, err := db.CustomerTimeline(ctx, f)
		if err != nil || len(page.Contacts) != contacts/customers {
			b.Fatalf("CustomerTimeline: got %d contacts, %v; want %d", len(page.Contacts), err, contacts/customers)
		}
	}
}
