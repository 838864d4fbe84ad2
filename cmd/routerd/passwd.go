package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
)

// stdin is where passwd reads the password; tests replace it with a pipe.
var stdin = os.Stdin

// passwdCost is the bcrypt cost of the hashes passwd makes; tests lower
// it.
var passwdCost = api.DefaultBcryptCost

// passwd runs "routerd passwd": it reads a new password for a login from
// stdin and sets its hash in the store (which may be in use by a running
// daemon), ending the login's sessions; with -hash it prints the hash,
// for a configuration file, and touches nothing.
func passwd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("routerd passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: routerd passwd [-role agent|supervisor] [-config FILE] [-data DIR] LOGIN")
		fmt.Fprintln(stderr, "       routerd passwd -hash")
		fmt.Fprintln(stderr, "Reads the new password from stdin (asked twice on a terminal).")
		fs.PrintDefaults()
	}
	role := fs.String("role", config.RoleAgent, "the login's `role`: agent or supervisor")
	configPath, dataDir := configFlags(fs)
	hashOnly := fs.Bool("hash", false, "print the bcrypt hash of the password, for a password_hash in the configuration, and change nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hashOnly {
		if fs.NArg() > 0 {
			return fmt.Errorf("passwd -hash takes no login (got %q)", fs.Arg(0))
		}
		password, err := readPassword(stderr, "")
		if err != nil {
			return err
		}
		hash, err := api.HashPassword(password, passwdCost)
		if err != nil {
			return fmt.Errorf("passwd: %w", err)
		}
		_, err = fmt.Fprintln(stdout, hash)
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("passwd: want exactly one LOGIN")
	}
	login := fs.Arg(0)
	if *role != config.RoleAgent && *role != config.RoleSupervisor {
		return fmt.Errorf("passwd: -role %q: want agent or supervisor", *role)
	}
	cfg, err := loadConfig(*configPath, "", "")
	if err != nil {
		return err
	}
	if *dataDir != "" {
		// As loadConfig's -data, but also when store.path is written
		// "./data/switchboard.db" (as in the demo), not "data/...".
		if filepath.Clean(cfg.Store.Path) == filepath.Join(cfg.DataDir, config.DefaultDBFile) {
			cfg.Store.Path = filepath.Join(*dataDir, config.DefaultDBFile)
		}
		cfg.DataDir = *dataDir
	}
	password, err := readPassword(stderr, login)
	if err != nil {
		return err
	}
	hash, err := api.HashPassword(password, passwdCost)
	if err != nil {
		return fmt.Errorf("passwd: %w", err)
	}

	db, err := openConfiguredStore(ctx, cfg, 0)
	if err != nil {
		return err
	}
	defer db.Close()
	isAgent, err := db.AgentExists(ctx, login)
	if err != nil {
		return err
	}
	inConfig := slices.ContainsFunc(cfg.Agents, func(a config.Agent) bool { return a.ID == login })
	switch {
	case *role == config.RoleAgent && !isAgent && !inConfig:
		return fmt.Errorf("passwd: no agent %q in %s or the configuration (want an agent id, or -role supervisor)", login, cfg.Store.Path)
	case *role == config.RoleSupervisor && (isAgent || inConfig):
		return fmt.Errorf("passwd: %q is an agent; a supervisor login needs an id that no agent has", login)
	}
	if err := db.SetCredential(ctx, store.Credential{LoginID: login, Hash: hash, Role: *role, UpdatedAt: time.Now()}); err != nil {
		return err
	}
	ended, err := db.DeleteSessions(ctx, login)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s %q set in %s; %d session(s) ended\n", *role, login, cfg.Store.Path, len(ended))
	if configHash(cfg, login) {
		fmt.Fprintf(stderr, "routerd passwd: note: the configuration sets a password_hash for %q; it replaces this password when routerd next starts\n", login)
	}
	return nil
}

// configHash reports whether the configuration sets login's password.
func configHash(cfg *config.Config, login string) bool {
	for _, a := range cfg.Agents {
		if a.ID == login && a.PasswordHash != "" {
			return true
		}
	}
	for _, s := range cfg.Supervisors {
		if s.ID == login && s.PasswordHash != "" {
			return true
		}
	}
	return false
}

// readPassword reads the new password: asked twice without echo when
// stdin is a terminal, else the first line of stdin.
func readPassword(prompt io.Writer, login string) (string, error) {
	fd := int(stdin.Fd())
	if term.IsTerminal(fd) {
		who := ""
		if login != "" {
			who = " for " + login
		}
		fmt.Fprintf(prompt, "New password%s: ", who)
		first, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("passwd: read password: %w", err)
		}
		fmt.Fprint(prompt, "Repeat it: ")
		second, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("passwd: read password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("passwd: the passwords differ; nothing changed")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("passwd: read password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("passwd: no password on stdin (want one line)")
	}
	return line, nil
}
