package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
)

// routerd backup copies the database of a running routerd, with the
// chat's key and the admin token, into a new private directory; the
// copy opens as a store with every contact created before it. It never
// writes into a directory that holds something.
func TestBackupWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, data, admin := startDemo(t)
	var ids []string
	for range 3 {
		var c struct {
			ID string `json:"id"`
		}
		d.must(t, admin, "POST", "/api/v1/contacts", map[string]any{"channel": "api", "queue": "billing",
			"customer": map[string]string{"name": "Ada"}, "body": "my statement"}, &c)
		ids = append(ids, c.ID)
	}
	// The demo has no mailbox, so no email key: one as the email
	// channel writes it.
	if err := writeAtomic(filepath.Join(data, emailSecretFile), bytes.Repeat([]byte{7}, sharedKeyBytes)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "backup-1")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"backup", "-data", data, out}, &stdout, &stderr); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "attachments") {
		t.Errorf("backup said %q; want it to name the attachments to copy", stdout.String())
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("backup directory: %v %v, want mode 0700", fi, err)
	}
	for _, name := range []string{config.DefaultDBFile, chatSecretFile, emailSecretFile, adminTokenFile} {
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", name, fi, err)
		}
		if name == config.DefaultDBFile {
			continue
		}
		want, _ := os.ReadFile(filepath.Join(data, name))
		if got, _ := os.ReadFile(filepath.Join(out, name)); len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s: copied %d bytes, want the data directory's %d", name, len(got), len(want))
		}
	}
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(out, config.DefaultDBFile)})
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer db.Close()
	for _, id := range ids {
		if _, err := db.Contact(ctx, id); err != nil {
			t.Errorf("contact %s in the backup: %v", id, err)
		}
	}
	if err := run(ctx, []string{"backup", "-data", data, out}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a backup into a directory that holds one: %v, want it refused", err)
	}
}

// On PostgreSQL routerd backup says to use PostgreSQL's own tools and
// writes nothing.
func TestBackupRefusesPostgres(t *testing.T) {
	t.Setenv(config.DatabaseURLEnv, "postgres://switchboard@127.0.0.1:1/switchboard")
	out := filepath.Join(t.TempDir(), "backup")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"backup", "-data", t.TempDir(), out}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup on PostgreSQL: %v, want it to point at pg_dump", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the backup's directory was made: %v", err)
	}
}
