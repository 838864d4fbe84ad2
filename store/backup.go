package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// Backup copies the SQLite database at path into target, a file it
// creates (mode 0600; it must not exist), while routerd may be running
// on the database: the copy is one read transaction (VACUUM INTO), so it
// holds the database as of one commit, never part of one, and it never
// blocks the writer (whose write-ahead log grows meanwhile, to be
// checkpointed after). The copy is compacted, and a database in itself:
// put it in place of the database, with no -wal or -shm file beside, to
// restore it. A target it could not finish is removed.
//
// PostgreSQL has its own tools (pg_dump, base backups): docs/ha.md.
func Backup(ctx context.Context, path, target string) (err error) {
	if err := checkPath(path); err != nil {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: backup: the database: %w", err)
	}
	// Created first, empty, so that the copy is never readable by
	// others, not even while it is written: VACUUM INTO writes into an
	// empty file.
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(target))
		}
	}()
	db, err := sql.Open("sqlite", path+fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeoutMillis))
	if err != nil {
		return fmt.Errorf("store: backup: open: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, target); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}
