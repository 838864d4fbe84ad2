package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
)

// backup runs "routerd backup DIR": a copy of the SQLite database taken
// while routerd may be serving (store.Backup: one read transaction,
// never blocking the writer), with the data directory's secrets (the
// chat's key, so that customers resume their chats; the admin token),
// into DIR, a new private directory. docs/operations.md, "Backups".
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("routerd backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: routerd backup [-config FILE] [-data DIR] BACKUP_DIR")
		fmt.Fprintln(stderr, "copies the SQLite database (while routerd serves) and the data directory's secrets into BACKUP_DIR, a new directory.")
		fmt.Fprintln(stderr, "Copy the attachments' directory too; back PostgreSQL up with its own tools (docs/operations.md).")
		fs.PrintDefaults()
	}
	configPath, dataDir := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup: want the backup's directory")
	}
	out := fs.Arg(0)
	cfg, err := loadConfig(*configPath, "", *dataDir)
	if err != nil {
		return err
	}
	if cfg.Store.Driver == config.DriverPostgres {
		return errors.New("backup: the store is PostgreSQL: back it up with its own tools (pg_dump, base backups; docs/ha.md, \"Backup and restore\")")
	}
	if _, err := os.Stat(cfg.Store.Path); err != nil {
		return fmt.Errorf("backup: the database: %w", err)
	}
	if err := newPrivateDir(out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// Named as store.path names it: restored, it goes back there.
	dbName := filepath.Base(cfg.Store.Path)
	dbCopy := filepath.Join(out, dbName)
	if err := store.Backup(ctx, cfg.Store.Path, dbCopy); err != nil {
		return err
	}
	copied := []string{dbName}
	for _, name := range []string{chatSecretFile, emailSecretFile, adminTokenFile} {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if err := writeAtomic(filepath.Join(out, name), b); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		copied = append(copied, name)
	}
	fi, err := os.Stat(dbCopy)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "backed up %s (%d bytes) into %s: %v\nthe attachments are files in %s: copy them too (they never change once written)\n",
		cfg.Store.Path, fi.Size(), out, copied, cfg.AttachmentsDir())
	return err
}

// syncDir makes dir's entries durable (the files' own data is synced by
// whoever wrote them).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// newPrivateDir creates dir mode dirMode, or takes an empty one (made
// private); it refuses a directory that holds anything, so that a backup
// never mixes with another.
func newPrivateDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return mkdirPrivate(dir)
	case err != nil:
		return err
	case len(entries) > 0:
		return fmt.Errorf("%s is not empty", dir)
	}
	return os.Chmod(dir, dirMode)
}
