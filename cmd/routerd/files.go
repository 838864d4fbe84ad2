package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
)

// Modes of the data directory and of the files in it, whatever the
// umask: they hold the database, the admin token and the chat key.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// prepareDataDir creates dir (mode dirMode), or warns through log when an
// existing one is open to group or others.
func prepareDataDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return mkdirPrivate(dir)
	case err != nil:
		return fmt.Errorf("data directory: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		log.Warn("the data directory is open to group or others; make it private with chmod 700",
			"dir", dir, "mode", fmt.Sprintf("%#o", perm))
	}
	return nil
}

// mkdirPrivate creates dir, and its missing parents, mode dirMode
// whatever the umask; an existing dir is left as it is.
func mkdirPrivate(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Chmod(dir, dirMode); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	return nil
}

// openConfiguredStore opens the configured store: PostgreSQL with the URL of
// cfg.Store.DSN, or the SQLite file through openPrivateStore.
// writeCacheMiB is store.Options.WriteCacheMiB (SQLite only).
func openConfiguredStore(ctx context.Context, cfg *config.Config, writeCacheMiB int) (*store.DB, error) {
	if cfg.Store.Driver == config.DriverPostgres {
		dsn, err := cfg.Store.DSN(nil)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		// A leader stopped inside a write transaction loses its session
		// when its lease runs out, so that a standby can take the lease.
		return store.Open(ctx, &store.Options{Driver: store.DriverPostgres, DSN: dsn, Synchronous: cfg.Store.Synchronous,
			StalledWriteTimeout: cfg.HA.Lease.D()})
	}
	return openPrivateStore(ctx, &store.Options{Path: cfg.Store.Path, Synchronous: cfg.Store.Synchronous, WriteCacheMiB: writeCacheMiB})
}

// storeName names the store for logs: the SQLite file, or "postgres"
// (never the URL, which may hold a password).
func storeName(cfg *config.Config) string {
	if cfg.Store.Driver == config.DriverPostgres {
		return config.DriverPostgres
	}
	return cfg.Store.Path
}

// openPrivateStore opens the database with o, it and its -wal and -shm files
// mode fileMode whatever the umask: a new database file is created so
// before SQLite opens it (SQLite gives the -wal and -shm files the mode
// of the database), and the mode of existing ones is set.
func openPrivateStore(ctx context.Context, o *store.Options) (*store.DB, error) {
	if err := mkdirPrivate(filepath.Dir(o.Path)); err != nil {
		return nil, err
	}
	if err := createPrivate(o.Path); err != nil {
		return nil, fmt.Errorf("create database file: %w", err)
	}
	db, err := store.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{o.Path + "-wal", o.Path + "-shm"} {
		if err := os.Chmod(p, fileMode); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, errors.Join(fmt.Errorf("set the mode of %s: %w", p, err), db.Close())
		}
	}
	return db, nil
}

// createPrivate creates the empty file path, mode fileMode whatever the
// umask, or sets that mode on the existing file.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, os.ErrExist) {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() == fileMode {
			return err
		}
		return os.Chmod(path, fileMode)
	}
	if err != nil {
		return err
	}
	err = f.Chmod(fileMode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
