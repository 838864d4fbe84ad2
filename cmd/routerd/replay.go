package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/replay"
)

// replayTimeLayouts are the layouts -from and -to accept; those without
// a zone are in the dashboards' time zone (dashboards.time_zone).
var replayTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// replayCmd runs "routerd replay": it replays the period [-from, -to) of
// the store under the configuration -config (docs/replay.md) and prints
// the recorded figures beside the replayed ones; -html writes them as a
// page with charts, -json as JSON instead of the table.
func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("routerd replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: routerd replay -from TIME -to TIME -config OTHER.yaml [-data DIR] [-html FILE] [-json]")
		fmt.Fprintln(stderr, "Replays the contacts of [from, to) under OTHER.yaml's queues, agents and offers in simulated time,")
		fmt.Fprintln(stderr, "and prints the recorded figures beside the replayed ones; see docs/replay.md.")
		fmt.Fprintf(stderr, "The store read is OTHER.yaml's (store.path, -data), or PostgreSQL when %s is set.\n", config.DatabaseURLEnv)
		fs.PrintDefaults()
	}
	configPath := fs.String("config", "", "the configuration `file` to replay under (required)")
	dataDir := fs.String("data", "", "data `directory` of the store to read, overriding the configuration")
	fromText := fs.String("from", "", "start of the period, RFC 3339 or YYYY-MM-DD[THH:MM] in the dashboards' time zone (required)")
	toText := fs.String("to", "", "end of the period, excluded; same forms (required)")
	htmlPath := fs.String("html", "", "also write the report with charts as one HTML `file`")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("replay: unexpected argument %q", fs.Arg(0))
	}
	if *configPath == "" || *fromText == "" || *toText == "" {
		fs.Usage()
		return errors.New("replay: -config, -from and -to are required")
	}
	cfg, err := loadConfig(*configPath, "", *dataDir)
	if err != nil {
		return err
	}
	loc := cfg.Dashboards.Location()
	from, err := parseReplayTime("-from", *fromText, loc)
	if err != nil {
		return err
	}
	to, err := parseReplayTime("-to", *toText, loc)
	if err != nil {
		return err
	}
	if !to.After(from) {
		return fmt.Errorf("replay: -to %s is not after -from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	db, err := openConfiguredStore(ctx, cfg, 0)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer db.Close()
	rep, err := replay.Compare(ctx, db, from, to, cfg, filepath.Base(*configPath), nil)
	if err != nil {
		return err
	}
	if *htmlPath != "" {
		if err := writeReplayHTML(*htmlPath, rep); err != nil {
			return err
		}
	}
	if *asJSON {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteText(stdout)
}

func parseReplayTime(flagName, s string, loc *time.Location) (time.Time, error) {
	for _, layout := range replayTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("replay: %s %q: want RFC 3339 (2026-12-01T09:00:00Z) or 2026-12-01T09:00 or 2026-12-01 in the dashboards' time zone", flagName, s)
}

// writeReplayHTML writes the report's page to path, whole or not at all.
func writeReplayHTML(path string, rep *replay.Report) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".replay-*.html")
	if err != nil {
		return fmt.Errorf("replay: -html: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := rep.WriteHTML(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("replay: -html: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("replay: -html: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replay: -html: %w", err)
	}
	return nil
}
