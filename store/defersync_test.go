package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

// A deferred transaction commits like any other, and leaves the writer
// as it found it: on SQLite the connection's synchronous setting back to
// FULL (also after a transaction that failed), on PostgreSQL
// synchronous_commit on for the next transaction.
func TestDeferSync(t *testing.T) { forEachDialect(t, testDeferSync) }

func testDeferSync(t *testing.T) {
	db := openTest(t)
	ctx := DeferSync(context.Background())
	// Inside, the transaction does not wait for the disk.
	if err := db.inTx(ctx, "look", func(tx *sql.Tx) error {
		if db.dialect.name == DriverPostgres {
			var v string
			if err := tx.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil {
				return err
			}
			if v != "off" {
				t.Errorf("synchronous_commit %q inside a deferred transaction, want off", v)
			}
			return nil
		}
		var v int
		if err := tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&v); err != nil {
			return err
		}
		if v != 1 { // NORMAL
			t.Errorf("synchronous %d inside a deferred transaction, want 1 (normal)", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	writerAsConfigured(t, db)
	// A context cancelled as the transaction runs leaves the writer as
	// configured too.
	cctx, cancel := context.WithCancel(ctx)
	_ = db.inTx(cctx, "cancelled", func(tx *sql.Tx) error {
		cancel()
		return cctx.Err()
	})
	writerAsConfigured(t, db)
	ada := Customer{ID: "ada", Name: "Ada", CreatedAt: custEpoch, UpdatedAt: custEpoch}
	if err := db.CreateCustomer(ctx, ada, Identity{Kind: IdentityEmail, Value: "ada@example.com", Verified: true}); err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	if got, err := db.Customer(context.Background(), "ada"); err != nil || got.Name != "Ada" {
		t.Fatalf("Customer: %+v %v", got, err)
	}
	writerAsConfigured(t, db)
	// A transaction that fails (the identity is held) restores it too.
	bob := Customer{ID: "bob", Name: "Bob", CreatedAt: custEpoch, UpdatedAt: custEpoch}
	var ice *IdentityConflictError
	if err := db.CreateCustomer(ctx, bob, Identity{Kind: IdentityEmail, Value: "ada@example.com", Verified: true}); !errors.As(err, &ice) {
		t.Fatalf("CreateCustomer with a held identity: %v, want an IdentityConflictError", err)
	}
	if _, err := db.Customer(context.Background(), "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the failed creation left bob: %v", err)
	}
	writerAsConfigured(t, db)
}

// writerAsConfigured fails the test unless the writer's next
// transaction waits for the disk.
func writerAsConfigured(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if db.dialect.name == DriverPostgres {
		var v string
		if err := tx.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "on" {
			t.Errorf("synchronous_commit %q after a deferred transaction, want on", v)
		}
		return
	}
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != 2 { // FULL
		t.Errorf("synchronous %d after a deferred transaction, want 2 (full)", v)
	}
}
