package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/store/pgtest"
)

// Nodes that start together on one new PostgreSQL database migrate it
// once: each Open succeeds, and every version is recorded once. (Without
// the migration lock two fail, on schema_migrations or on a migration's
// CREATE TABLE.) SQLite is one node's file: a first start of several
// processes on a file that does not exist yet can fail with
// SQLITE_BUSY while one of them switches it to WAL; not tested here.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	ctx := context.Background()
	o := &Options{Driver: DriverPostgres, DSN: pgtest.Database(t)}
	const nodes = 4
	dbs := make([]*DB, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { dbs[i], errs[i] = Open(ctx, o) })
	}
	wg.Wait()
	for i := range nodes {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		defer dbs[i].Close()
	}
	if t.Failed() {
		return
	}
	var rows, distinct int
	if err := dbs[0].read.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != len(migrations) || distinct != len(migrations) {
		t.Errorf("schema_migrations: got %d rows of %d versions, want %d of %d", rows, distinct, len(migrations), len(migrations))
	}
}

// Migrations lists every migration pending on a new database, changing
// nothing, and every one applied after Open.
func TestMigrationStatus(t *testing.T) { forEachDialect(t, testMigrationStatus) }

func testMigrationStatus(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	before, err := Migrations(ctx, o)
	if err != nil {
		t.Fatalf("Migrations before Open: %v", err)
	}
	if len(before) != len(migrations) {
		t.Fatalf("before Open: got %d migrations, want %d", len(before), len(migrations))
	}
	for _, m := range before {
		if !m.AppliedAt.IsZero() {
			t.Errorf("before Open: version %d applied at %v, want pending", m.Version, m.AppliedAt)
		}
	}
	// Status changed nothing: still no table, or no file.
	if again, err := Migrations(ctx, o); err != nil || again[0].AppliedAt != (time.Time{}) {
		t.Errorf("Migrations again: %v, %v; want all pending", again, err)
	}
	start := time.Now()
	db, err := Open(ctx, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	after, err := Migrations(ctx, o)
	if err != nil {
		t.Fatalf("Migrations after Open: %v", err)
	}
	if len(after) != len(migrations) {
		t.Fatalf("after Open: got %d migrations, want %d", len(after), len(migrations))
	}
	for i, m := range after {
		if m.Version != migrations[i].version || m.Name != migrations[i].name {
			t.Errorf("after Open: got version %d %q, want %d %q", m.Version, m.Name, migrations[i].version, migrations[i].name)
		}
		if m.AppliedAt.Before(start.Add(-time.Second)) {
			t.Errorf("after Open: version %d applied at %v, want after %v", m.Version, m.AppliedAt, start)
		}
	}
}

// A PostgreSQL store is opened with a DSN only, and errors never repeat
// the DSN (it may hold a password).
func TestPostgresOptions(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no-dsn", Options{Driver: DriverPostgres}},
		{"path", Options{Driver: DriverPostgres, DSN: "postgres://u:hunter2@127.0.0.1:1/db", Path: "x.db"}},
		{"bad-dsn", Options{Driver: DriverPostgres, DSN: "postgres://u:hunter2@127.0.0.1:notaport/db"}},
		{"dsn-for-sqlite", Options{DSN: "postgres://u:hunter2@127.0.0.1:1/db"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(ctx, &tc.o)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want ErrBadOptions")
			}
			if !errors.Is(err, ErrBadOptions) {
				t.Errorf("got %v, want ErrBadOptions", err)
			}
			if s := err.Error(); strings.Contains(s, "hunter2") || strings.Contains(s, "notaport") {
				t.Errorf("error %q repeats the DSN", s)
			}
		})
	}
}
