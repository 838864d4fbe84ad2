package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store/pgtest"
)

// openTwo opens two handles on one new PostgreSQL database: two nodes.
func openTwo(t *testing.T) (a, b *DB) {
	t.Helper()
	dsn := pgtest.Database(t)
	for _, p := range []**DB{&a, &b} {
		db, err := Open(context.Background(), &Options{Driver: DriverPostgres, DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		*p = db
	}
	return a, b
}

// TestLease: one holder at a time; the epoch grows at every change of
// holder; renewing and releasing are the holder's alone.
func TestLease(t *testing.T) {
	a, b := openTwo(t)
	ctx := context.Background()
	if _, found, err := a.ReadLease(ctx, LeaderLease); err != nil || found {
		t.Fatalf("before anyone: found %v, %v", found, err)
	}
	l, ok, err := a.AcquireLease(ctx, LeaderLease, "node-a", "http://a", time.Minute)
	if err != nil || !ok || l.Epoch != 1 {
		t.Fatalf("a acquires: %+v, %v, %v", l, ok, err)
	}
	l, ok, err = b.AcquireLease(ctx, LeaderLease, "node-b", "http://b", time.Minute)
	if err != nil || ok || l.Holder != "node-a" || l.Address != "http://a" || l.Epoch != 1 || l.Left <= 0 || l.Left > time.Minute {
		t.Fatalf("b while a holds: %+v, %v, %v", l, ok, err)
	}
	if err := a.RenewLease(ctx, LeaderLease, "node-a", 1, time.Minute); err != nil {
		t.Fatalf("a renews: %v", err)
	}
	if err := b.RenewLease(ctx, LeaderLease, "node-b", 1, time.Minute); !errors.Is(err, ErrFenced) {
		t.Errorf("b renews a's lease: %v, want ErrFenced", err)
	}
	if err := b.ReleaseLease(ctx, LeaderLease, "node-b", 1); !errors.Is(err, ErrFenced) {
		t.Errorf("b releases a's lease: %v, want ErrFenced", err)
	}
	if err := a.ReleaseLease(ctx, LeaderLease, "node-a", 1); err != nil {
		t.Fatalf("a releases: %v", err)
	}
	l, ok, err = b.AcquireLease(ctx, LeaderLease, "node-b", "http://b", time.Minute)
	if err != nil || !ok || l.Epoch != 2 {
		t.Fatalf("b after a released: %+v, %v, %v", l, ok, err)
	}
	if err := a.RenewLease(ctx, LeaderLease, "node-a", 1, time.Minute); !errors.Is(err, ErrFenced) {
		t.Errorf("a renews after b took over: %v, want ErrFenced", err)
	}
	if l, found, err := a.ReadLease(ctx, LeaderLease); err != nil || !found || l.Holder != "node-b" || l.Epoch != 2 {
		t.Errorf("read: %+v, %v, %v", l, found, err)
	}
}

// TestFencedWrites: a leader whose lease another took (it was paused
// past its lease) can write nothing more, through Commit or any other
// write, and what it tried is not in the database.
func TestFencedWrites(t *testing.T) {
	a, b := openTwo(t)
	ctx := context.Background()
	// a's lease ends the moment it is taken: a "paused" leader.
	if _, ok, err := a.AcquireLease(ctx, LeaderLease, "node-a", "http://a", time.Nanosecond); err != nil || !ok {
		t.Fatalf("a acquires: %v, %v", ok, err)
	}
	if err := a.Fence("node-a", 1); err != nil {
		t.Fatal(err)
	}
	commit(t, a, &router.Batch{Contacts: []router.Contact{simpleContact("before", router.ContactQueued, t0)}})
	if err := a.CreateSession(ctx, Session{TokenHash: "h1", LoginID: "alice", Role: "agent", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("a's session while it leads: %v", err)
	}

	if _, ok, err := b.AcquireLease(ctx, LeaderLease, "node-b", "http://b", time.Minute); err != nil || !ok {
		t.Fatalf("b takes over: %v, %v", ok, err)
	}
	if err := b.Fence("node-b", 2); err != nil {
		t.Fatal(err)
	}
	err := a.Commit(ctx, &router.Batch{Contacts: []router.Contact{simpleContact("after", router.ContactQueued, t0)}})
	if !errors.Is(err, ErrFenced) {
		t.Errorf("a's commit after the takeover: %v, want ErrFenced", err)
	}
	if err := a.CreateSession(ctx, Session{TokenHash: "h2", LoginID: "alice", Role: "agent", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); !errors.Is(err, ErrFenced) {
		t.Errorf("a's session after the takeover: %v, want ErrFenced", err)
	}
	if _, err := a.PutCustomer(ctx, Customer{ID: "ada", Name: "Ada", CreatedAt: t0, UpdatedAt: t0}, nil, "test"); !errors.Is(err, ErrFenced) {
		t.Errorf("a's customer after the takeover: %v, want ErrFenced", err)
	}
	if _, err := b.Contact(ctx, "after"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the deposed leader's contact: %v, want not found", err)
	}
	if _, err := b.Session(ctx, "h2"); err == nil {
		t.Errorf("the deposed leader's session is stored")
	}
	// The new leader writes.
	commit(t, b, &router.Batch{Contacts: []router.Contact{simpleContact("b1", router.ContactQueued, t0)}})
	if _, err := b.Contact(ctx, "before"); err != nil {
		t.Errorf("what a wrote while it led: %v", err)
	}
}

// TestFenceWaitsForAWriteInFlight: a takeover waits for the old leader's
// open write transaction, and that transaction's commit lands before the
// new leader's epoch: never after the new leader could have read.
func TestFenceWaitsForAWriteInFlight(t *testing.T) {
	a, b := openTwo(t)
	ctx := context.Background()
	if _, ok, err := a.AcquireLease(ctx, LeaderLease, "node-a", "http://a", time.Nanosecond); err != nil || !ok {
		t.Fatalf("a acquires: %v, %v", ok, err)
	}
	if err := a.Fence("node-a", 1); err != nil {
		t.Fatal(err)
	}
	tx, err := a.beginWrite(ctx) // holds the lease row
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ('in-flight', 'x', 0)`); err != nil {
		t.Fatal(err)
	}
	took := make(chan error, 1)
	go func() {
		_, ok, err := b.AcquireLease(ctx, LeaderLease, "node-b", "http://b", time.Minute)
		if err == nil && !ok {
			err = fmt.Errorf("not acquired")
		}
		took <- err
	}()
	// The takeover waits on the row lock: PostgreSQL says so.
	waitFor(t, func() bool {
		var n int
		err := b.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
		return err == nil && n == 1
	})
	if err := tx.Commit(); err != nil {
		t.Fatalf("the write in flight: %v", err)
	}
	if err := <-took; err != nil {
		t.Fatalf("b takes over: %v", err)
	}
	var v string
	if err := b.read.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = 'in-flight'`).Scan(&v); err != nil {
		t.Errorf("the write that committed before the takeover: %v", err)
	}
}

// waitFor polls cond until it holds (the test's deadline ends it).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSecretShared: the nodes asking for a secret together all get the
// one the first wrote.
func TestSecretShared(t *testing.T) { forEachDialect(t, testSecretShared) }

func testSecretShared(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := db.Secret(ctx, "chat", func() (string, error) { return fmt.Sprintf("value-%d", i), nil })
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] || v == "" {
			t.Fatalf("secrets differ: %q", got)
		}
	}
	v, err := db.Secret(ctx, "chat", func() (string, error) { return "", errors.New("generated again") })
	if err != nil || v != got[0] {
		t.Errorf("read again: %q, %v", v, err)
	}
}

// TestStalledLeaderReleased: a leader stopped inside a write
// transaction holds the lease row's lock; the server ends its session
// after StalledWriteTimeout, so the takeover goes on instead of waiting
// for as long as the leader stays stopped, and the stalled transaction
// commits nothing.
func TestStalledLeaderReleased(t *testing.T) {
	dsn := pgtest.Database(t)
	ctx := context.Background()
	a, err := Open(ctx, &Options{Driver: DriverPostgres, DSN: dsn, StalledWriteTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, &Options{Driver: DriverPostgres, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, ok, err := a.AcquireLease(ctx, LeaderLease, "node-a", "http://a", time.Nanosecond); err != nil || !ok {
		t.Fatalf("a acquires: %v, %v", ok, err)
	}
	if err := a.Fence("node-a", 1); err != nil {
		t.Fatal(err)
	}
	tx, err := a.beginWrite(ctx) // then a stops: the lease row stays locked
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ('stalled', 'x', 0)`); err != nil {
		t.Fatal(err)
	}
	// b tries as a standby does, each attempt bounded; it gets the
	// lease once the server ended a's session.
	start := time.Now()
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		_, ok, err := b.AcquireLease(actx, LeaderLease, "node-b", "http://b", time.Minute)
		cancel()
		if err == nil && ok {
			break
		}
		if time.Since(start) > 8*time.Second { // the default timeout (10 s) would not do
			t.Fatalf("no takeover while the stalled leader holds its transaction: %v", err)
		}
	}
	if err := tx.Commit(); err == nil {
		t.Error("the stalled transaction committed after the takeover")
	}
	var n int
	if err := b.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM secrets WHERE name = 'stalled'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the stalled write: %d rows, %v; want none", n, err)
	}
}
