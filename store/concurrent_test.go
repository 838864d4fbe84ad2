package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// TestReadsDuringCommits runs readers alongside the writer: with WAL they
// neither block it nor fail with SQLITE_BUSY, and each read sees a
// consistent state (a contact's events are committed with it).
func TestReadsDuringCommits(t *testing.T) { forEachDialect(t, testReadsDuringCommits) }

func testReadsDuringCommits(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const commits, readers = 50, 4

	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, readers+1)
	wg.Go(func() {
		defer close(done)
		for i := range commits {
			id := fmt.Sprintf("c-%03d", i)
			b := &router.Batch{
				Contacts: []router.Contact{simpleContact(id, router.ContactQueued, t0.Add(time.Duration(i)))},
				Events:   events(id, 1, 2),
			}
			if err := db.Commit(ctx, b); err != nil {
				errs <- fmt.Errorf("commit %d: %w", i, err)
				return
			}
		}
	})
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				l, err := db.Load(ctx)
				if err != nil {
					errs <- fmt.Errorf("load: %w", err)
					return
				}
				for id, next := range l.NextEventSeq {
					if next != 3 {
						errs <- fmt.Errorf("contact %s: next event seq %d, want 3", id, next)
						return
					}
				}
				if _, err := db.Contacts(ctx, ContactFilter{State: "queued", Limit: 5}); err != nil {
					errs <- fmt.Errorf("contacts: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(load(t, db).Contacts); got != commits {
		t.Errorf("contacts after the run: got %d, want %d", got, commits)
	}
}
