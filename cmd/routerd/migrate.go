package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
)

// migrate runs "routerd migrate status|up": status lists the schema's
// migrations, applied or pending, changing nothing; up applies the
// pending ones (as every start of the daemon does, under the same lock)
// and lists them.
func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("routerd migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: routerd migrate [-config FILE] [-data DIR] status|up")
		fmt.Fprintln(stderr, "status lists the schema's migrations, applied or pending; up applies the pending ones.")
		fmt.Fprintf(stderr, "The store is the configuration's, or PostgreSQL when %s is set.\n", config.DatabaseURLEnv)
		fs.PrintDefaults()
	}
	configPath, dataDir := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "status" && fs.Arg(0) != "up") {
		fs.Usage()
		return errors.New("migrate: want status or up")
	}
	cfg, err := loadConfig(*configPath, "", *dataDir)
	if err != nil {
		return err
	}
	opts := &store.Options{Path: cfg.Store.Path, Synchronous: cfg.Store.Synchronous}
	if cfg.Store.Driver == config.DriverPostgres {
		dsn, err := cfg.Store.DSN(nil)
		if err != nil {
			return fmt.Errorf("migrate: store: %w", err)
		}
		opts = &store.Options{Driver: store.DriverPostgres, DSN: dsn, Synchronous: cfg.Store.Synchronous}
	}
	if fs.Arg(0) == "up" {
		db, err := openConfiguredStore(ctx, cfg, 0)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := db.Close(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	states, err := store.Migrations(ctx, opts)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "VERSION\tAPPLIED\tNAME\n")
	pending := 0
	for _, s := range states {
		at := "pending"
		if !s.AppliedAt.IsZero() {
			at = s.AppliedAt.UTC().Format(time.RFC3339)
		} else {
			pending++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, at, s.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: %d migrations, %d pending\n", storeName(cfg), len(states), pending)
	return err
}
