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
