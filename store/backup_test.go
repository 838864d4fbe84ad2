package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// A backup taken while the database is written holds every contact
// committed before it, opens as a store of its own, is private to its
// owner, and never overwrites a file.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sb.db")
	db, err := Open(ctx, &Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const before = 50
	for i := range before {
		commit(t, db, &router.Batch{Contacts: []router.Contact{simpleContact(fmt.Sprintf("c-%03d", i), router.ContactQueued, t0.Add(time.Duration(i)*time.Second))}})
	}
	// Commits go on during the backup.
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := before; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := db.Commit(ctx, &router.Batch{Contacts: []router.Contact{simpleContact(fmt.Sprintf("c-%03d", i), router.ContactQueued, t0)}}); err != nil {
				done <- err
				return
			}
		}
	}()
	target := filepath.Join(t.TempDir(), "backup.db")
	err = Backup(ctx, path, target)
	close(stop)
	if werr := <-done; werr != nil {
		t.Fatalf("a commit during the backup: %v", werr)
	}
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", fi, err)
	}
	copyDB, err := Open(ctx, &Options{Path: target})
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer copyDB.Close()
	for i := range before {
		if _, err := copyDB.Contact(ctx, fmt.Sprintf("c-%03d", i)); err != nil {
			t.Errorf("contact %d committed before the backup: %v", i, err)
		}
	}
	if err := Backup(ctx, path, target); err == nil || !errors.Is(err, os.ErrExist) {
		t.Errorf("a backup over an existing file: %v, want it refused", err)
	}
	if err := Backup(ctx, filepath.Join(dir, "nope.db"), filepath.Join(t.TempDir(), "b.db")); err == nil {
		t.Error("a backup of no database succeeded")
	}
}
