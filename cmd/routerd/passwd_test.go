package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// withStdin makes passwd read input from a pipe, and lowers its bcrypt
// cost, for the test.
func withStdin(t *testing.T, input string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.WriteString(input)
		w.Close()
	}()
	oldStdin, oldCost := stdin, passwdCost
	stdin, passwdCost = r, bcrypt.MinCost
	t.Cleanup(func() {
		stdin, passwdCost = oldStdin, oldCost
		r.Close()
	})
}

// openStore opens the demo store of a data directory, as a running
// daemon would hold it.
func openStore(t *testing.T, dataDir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), &store.Options{Path: filepath.Join(dataDir, config.DefaultDBFile)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPasswd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// The "daemon" holds the store open, with a session of alice's.
	db := openStore(t, dir)
	at := time.Now()
	if err := db.CreateSession(ctx, store.Session{TokenHash: strings.Repeat("ab", 32), LoginID: "alice", Role: config.RoleAgent,
		CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantErr string // empty for success
		wantOut string
	}{
		{"agent", []string{"-data", dir, "alice"}, "a-new-password\n", "", `password of agent "alice" set`},
		{"crlf", []string{"-data", dir, "bob"}, "bobs-password\r\n", "", `password of agent "bob" set`},
		{"no-newline", []string{"-data", dir, "-role", "supervisor", "sue"}, "sues-password", "", `password of supervisor "sue" set`},
		{"unknown-agent", []string{"-data", dir, "zoe"}, "zoes-password\n", `no agent "zoe"`, ""},
		{"supervisor-named-like-agent", []string{"-data", dir, "-role", "supervisor", "carol"}, "carols-password\n", `"carol" is an agent`, ""},
		{"too-short", []string{"-data", dir, "dave"}, "short\n", "want at least 10", ""},
		{"empty-stdin", []string{"-data", dir, "dave"}, "", "no password on stdin", ""},
		{"bad-role", []string{"-data", dir, "-role", "admin", "dave"}, "daves-password\n", `-role "admin"`, ""},
		{"no-login", []string{"-data", dir}, "daves-password\n", "want exactly one LOGIN", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withStdin(t, tt.stdin)
			var stdout, stderr bytes.Buffer
			err := run(ctx, append([]string{"passwd"}, tt.args...), &stdout, &stderr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout: got %q, want it to contain %q", stdout.String(), tt.wantOut)
			}
			if strings.Contains(stdout.String()+stderr.String(), strings.TrimSpace(tt.stdin)) {
				t.Errorf("output shows the password: %q %q", stdout.String(), stderr.String())
			}
		})
	}

	for login, want := range map[string]struct{ password, role string }{
		"alice": {"a-new-password", config.RoleAgent},
		"bob":   {"bobs-password", config.RoleAgent},
		"sue":   {"sues-password", config.RoleSupervisor},
	} {
		c, err := db.Credential(ctx, login)
		if err != nil {
			t.Fatalf("credential of %s: %v", login, err)
		}
		if c.Role != want.role || bcrypt.CompareHashAndPassword([]byte(c.Hash), []byte(want.password)) != nil {
			t.Errorf("credential of %s: got role %s and a hash not of %q", login, c.Role, want.password)
		}
	}
	for _, login := range []string{"zoe", "carol", "dave"} {
		if _, err := db.Credential(ctx, login); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("credential of %s: got %v, want none", login, err)
		}
	}
	if _, err := db.Session(ctx, strings.Repeat("ab", 32)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("alice's session: got %v, want it ended", err)
	}
}

func TestPasswdReportsSessionsAndConfigHash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openStore(t, dir)
	at := time.Now()
	for _, h := range []string{"a", "b"} {
		if err := db.CreateSession(ctx, store.Session{TokenHash: strings.Repeat(h, 64), LoginID: "alice", Role: config.RoleAgent,
			CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	withStdin(t, "a-new-password\n")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"passwd", "-data", dir, "alice"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "2 session(s) ended") {
		t.Errorf("stdout: got %q, want 2 sessions ended", stdout.String())
	}
	// The demo configuration sets alice's hash: passwd says so.
	if !strings.Contains(stderr.String(), "replaces this password when routerd next starts") {
		t.Errorf("stderr: got %q, want the note about the configuration's hash", stderr.String())
	}
}

func TestPasswdHash(t *testing.T) {
	withStdin(t, "correct-horse-battery\n")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"passwd", "-hash"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	hash := strings.TrimSpace(stdout.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("correct-horse-battery")); err != nil {
		t.Errorf("printed %q: not a hash of the password: %v", hash, err)
	}
	// The hash is one the configuration accepts.
	if _, err := config.Parse("x.yaml", []byte("supervisors:\n  - {id: sam, password_hash: \""+hash+"\"}\n")); err != nil {
		t.Errorf("configuration with the hash: %v", err)
	}
}

func TestSeedCredentials(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openStore(t, dir)
	cfg := config.Demo()
	opts := cfg.RouterOptions() // the calendars its queues name
	rt, err := router.New(db, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer rt.Close()

	if err := seed(ctx, cfg, rt, db); err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, c := range []struct{ login, role string }{{"alice", config.RoleAgent}, {"erin", config.RoleAgent}, {"sam", config.RoleSupervisor}} {
		got, err := db.Credential(ctx, c.login)
		if err != nil {
			t.Fatalf("credential of %s: %v", c.login, err)
		}
		if got.Role != c.role || bcrypt.CompareHashAndPassword([]byte(got.Hash), []byte(c.login+"-demo")) != nil {
			t.Errorf("credential of %s: got role %s, want %s with the demo password", c.login, got.Role, c.role)
		}
	}

	// A session survives a restart with the same hash, not a new hash.
	at := time.Now()
	sess := store.Session{TokenHash: strings.Repeat("c", 64), LoginID: "alice", Role: config.RoleAgent, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := seed(ctx, cfg, rt, db); err != nil {
		t.Fatalf("seed again: %v", err)
	}
	if _, err := db.Session(ctx, sess.TokenHash); err != nil {
		t.Errorf("session after a seed with the same hash: %v", err)
	}
	cfg.Agents[0].PasswordHash = cfg.Agents[1].PasswordHash // alice gets bob's
	if err := seed(ctx, cfg, rt, db); err != nil {
		t.Fatalf("seed with a new hash: %v", err)
	}
	if _, err := db.Session(ctx, sess.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session after a new hash: got %v, want it ended", err)
	}
}
