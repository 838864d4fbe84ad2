package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/pgtest"
)

// routerd migrate status changes nothing and lists every migration
// pending on a new data directory; up applies them.
func TestMigrateCommand(t *testing.T) {
	t.Setenv(config.DatabaseURLEnv, "")
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	all, err := store.Migrations(ctx, &store.Options{Path: filepath.Join(dir, "none.db")})
	if err != nil {
		t.Fatal(err)
	}
	n := len(all)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"migrate", "-data", dir, "status"}, &out, &errOut); err != nil {
		t.Fatalf("migrate status: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("%d migrations, %d pending", n, n)) {
		t.Errorf("migrate status on a new directory: got\n%s\nwant every migration pending", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, config.DefaultDBFile)); !os.IsNotExist(err) {
		t.Errorf("migrate status created the database (%v), want nothing changed", err)
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "-data", dir, "up"}, &out, &errOut); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), fmt.Sprintf("%d migrations, 0 pending", n)) {
		t.Errorf("migrate up: got\n%s\nwant none pending", out.String())
	}
	if err := run(ctx, []string{"migrate", "-data", dir, "sideways"}, &out, &errOut); err == nil {
		t.Error("migrate sideways: no error, want a usage error")
	}
}

// ROUTERD_DATABASE_URL alone starts the demo on PostgreSQL: the data
// directory holds no SQLite file, the store's tables are in the database,
// and the demo's queues are served from it.
func TestDemoOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	dsn := pgtest.Database(t)
	data := filepath.Join(t.TempDir(), "data")
	d := startDaemonEnv(t, []string{config.DatabaseURLEnv + "=" + dsn}, "-listen", "127.0.0.1:0", "-data", data)
	if !strings.Contains(d.logs.String(), "store=postgres") {
		t.Errorf("the listening line does not name the store postgres:\n%s", d.logs)
	}
	tok, err := os.ReadFile(filepath.Join(data, adminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Queues []struct {
			Name string `json:"name"`
		} `json:"queues"`
	}
	if code, err := callAs(strings.TrimSpace(string(tok)), d.base, "GET", "/api/v1/queues", nil, &reply); err != nil || code != 200 {
		t.Fatalf("GET /api/v1/queues: %d %v", code, err)
	}
	if len(reply.Queues) != len(config.Demo().Queues) {
		t.Errorf("got %d queues, want the demo's %d", len(reply.Queues), len(config.Demo().Queues))
	}
	if _, err := os.Stat(filepath.Join(data, config.DefaultDBFile)); !os.IsNotExist(err) {
		t.Errorf("a SQLite file in the data directory (%v), want none", err)
	}
	states, err := store.Migrations(context.Background(), &store.Options{Driver: store.DriverPostgres, DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.AppliedAt.IsZero() {
			t.Errorf("migration %d pending in the database, want applied", s.Version)
		}
	}
}
