// Command routerd is the Switchboard daemon: it routes contacts from every
// channel to the best available agent.
//
//	routerd                      # the demo: SQLite in ./data, 127.0.0.1:8080
//	routerd -config routerd.yaml # your configuration
//	routerd -print-config        # the effective configuration, to start from
//	routerd passwd alice         # set agent alice's desktop password (stdin)
//	routerd import customers customers.csv # upsert customer profiles from CSV or JSON lines
//	routerd migrate status       # the schema's migrations, applied or pending (up applies them)
//	routerd backup /backups/sb-1 # a copy of the database (while routerd serves) and the data directory's secrets
//	routerd replay -from 2026-12-01T09:00 -to 2026-12-01T17:00 -config other.yaml # what if: the period under another configuration
//
// SIGTERM or an interrupt shuts it down gracefully; SIGHUP reloads the TLS
// certificate (tls.cert_file, tls.key_file).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	_ "time/tzdata" // business hours (calendars) name time zones; not every host has the database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "routerd:", err)
		}
		code := 2
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		os.Exit(code)
	}
}

// exitError is an error after which routerd exits with code rather than
// 2 (usage or fatal error).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// run parses the command line and serves until ctx ends, or runs the
// passwd, import, migrate, backup or replay subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "passwd" {
		return passwd(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "migrate" {
		return migrate(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "backup" {
		return backup(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "replay" {
		return replayCmd(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "import" {
		if len(args) < 2 || args[1] != "customers" {
			fmt.Fprintln(stderr, "usage: routerd import customers [flags] FILE (see routerd import customers -help)")
			return errors.New("import: want \"import customers\"; customers are what can be imported today")
		}
		return importCustomers(ctx, args[2:], stdout, stderr)
	}
	fs := flag.NewFlagSet("routerd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath, dataDir := configFlags(fs)
	listen := fs.String("listen", "", "listen `address`, overriding the configuration")
	printConfig := fs.Bool("print-config", false, "print the effective configuration and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (for performance work: go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile to `file` when routerd is told to stop, as it begins to shut down (for performance work: go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see routerd -help)", fs.Arg(0))
	}
	cfg, err := loadConfig(*configPath, *listen, *dataDir)
	if err != nil {
		return err
	}
	if *printConfig {
		out, err := cfg.YAML()
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			return fmt.Errorf("memprofile: %w", err)
		}
		stopped, cancel := context.WithCancel(ctx)
		written := make(chan struct{})
		defer func() { cancel(); <-written }()
		go func() {
			defer close(written)
			defer f.Close()
			<-stopped.Done() // told to stop (or serve failed): what it holds, before it lets go
			runtime.GC()
			if err := pprof.WriteHeapProfile(f); err != nil {
				fmt.Fprintf(stderr, "routerd: memprofile: %v\n", err)
			}
		}()
	}
	return serve(ctx, cfg, *configPath == "", stderr)
}

// configFlags adds the -config and -data flags that the daemon and every
// subcommand reading its configuration take (replay's say what it
// reads).
func configFlags(fs *flag.FlagSet) (configPath, dataDir *string) {
	return fs.String("config", "", "YAML configuration `file` (default: the built-in demo)"),
		fs.String("data", "", "data `directory`, overriding the configuration")
}
