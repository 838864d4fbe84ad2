package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/pgtest"
)

// haConfig is writeConfig's configuration for node name, with a lease
// shorter than the default so that the test's takeovers are quick, yet
// long enough that a leader starved of CPU by the other tests on two
// cores does not lose it unprovoked (a 1 s lease did, once).
func haConfig(t *testing.T, name string) string {
	t.Helper()
	return haConfigLease(t, name, "3s", "500ms")
}

// haConfigLease is haConfig with the lease and renewal given (each
// attempt given 1 s).
func haConfigLease(t *testing.T, name, lease, renew string) string {
	t.Helper()
	path := writeConfig(t, t.TempDir())
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "ha:\n  node: %s\n  lease: %s\n  renew: %s\n  retry_timeout: 1s\n", name, lease, renew); err != nil {
		t.Fatal(err)
	}
	return path
}

// readyz is a node's /readyz: its status code and the leader it names.
func readyz(t testing.TB, base string) (int, string) {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Leader string `json:"leader"`
	}
	code, err := chaosCall(base, "GET", "/readyz", nil, nil, &r)
	if err != nil {
		return 0, ""
	}
	return code, r.Leader
}

// exited reports a daemon's exit (Wait's error) on the channel.
func exited(d *daemon) <-chan error {
	done := make(chan error, 1)
	go func() { done <- d.wait() }()
	return done
}

// TestHATakeover runs two nodes on one PostgreSQL. The first leads; the
// second stands by, says so on /readyz and proxies the API to the leader.
// The leader is stopped (SIGSTOP) past its lease: the standby takes over,
// and the old leader, continued, writes nothing and exits. A new node
// started on its data stands by; the leader is killed (SIGKILL): it
// takes over. Every contact acknowledged by any node, before or after
// either takeover, is there at the end, once.
func TestHATakeover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	env := []string{config.DatabaseURLEnv + "=" + pgtest.Database(t)}
	cfgA, cfgB := haConfig(t, "node-a"), haConfig(t, "node-b")
	a := startDaemonEnv(t, env, "-config", cfgA)
	if !strings.Contains(a.logs.String(), "role=leader") {
		t.Fatalf("the first node does not lead:\n%s", a.logs)
	}
	b := startDaemonEnv(t, env, "-config", cfgB)
	if !strings.Contains(b.logs.String(), "role=standby") {
		t.Fatalf("the second node does not stand by:\n%s", b.logs)
	}
	if code, leader := readyz(t, b.base); code != http.StatusServiceUnavailable || leader != a.base {
		t.Errorf("standby's /readyz: %d naming %q, want 503 naming %s", code, leader, a.base)
	}
	if code, _ := readyz(t, a.base); code != http.StatusOK {
		t.Errorf("leader's /readyz: %d, want 200", code)
	}

	var acked []string
	create := func(base, key string) (int, string) {
		var c contactReply
		code, err := call(base, "POST", "/api/v1/contacts", map[string]any{
			"channel": "api", "queue": "billing", "subject": key,
		}, map[string]string{"Idempotency-Key": key}, &c)
		if err != nil {
			return 0, ""
		}
		if code == http.StatusCreated {
			acked = append(acked, c.ID)
		}
		return code, c.ID
	}
	if code, _ := create(b.base, "via-standby"); code != http.StatusCreated {
		t.Fatalf("a contact through the standby: %d, want 201 (proxied)", code)
	}
	// An agent signs in and opens the desktop's socket through the
	// standby: the WebSocket is proxied too.
	var session struct {
		Token string `json:"token"`
	}
	if code, err := call(b.base, "POST", "/api/v1/login", map[string]string{"id": "a0", "password": crashAgentPassword}, nil, &session); err != nil || code != http.StatusOK {
		t.Fatalf("log in through the standby: %d %v", code, err)
	}
	drain(agentSocket(t, b.base, session.Token))
	if code, _ := create(a.base, "on-leader"); code != http.StatusCreated {
		t.Fatalf("a contact on the leader: %d", code)
	}

	// The leader pauses past its lease.
	aDone := exited(a)
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	b.waitReady(t)
	t.Logf("takeover after SIGSTOP: %s", time.Since(paused).Round(time.Millisecond))
	if code, _ := create(b.base, "after-takeover"); code != http.StatusCreated {
		t.Fatalf("a contact on the new leader: %d", code)
	}
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// Whatever the old leader answers now, it must not acknowledge a
	// write (its commit is fenced); it then exits with an error.
	if code, id := create(a.base, "on-the-deposed"); code == http.StatusCreated {
		t.Errorf("the deposed leader acknowledged contact %s", id)
	}
	if err := <-aDone; err == nil {
		t.Errorf("the deposed leader exited cleanly, want an error exit (it lost the lead)")
	}

	// A node restarted on the deposed one's data stands by behind b.
	a2 := startDaemonEnv(t, env, "-config", cfgA)
	if !strings.Contains(a2.logs.String(), "role=standby") {
		t.Fatalf("the restarted node does not stand by:\n%s", a2.logs)
	}
	if code, _ := create(a2.base, "via-new-standby"); code != http.StatusCreated {
		t.Fatalf("a contact through the new standby: %d", code)
	}
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	a2.waitReady(t)
	t.Logf("takeover after SIGKILL: %s", time.Since(killed).Round(time.Millisecond))

	var list struct {
		Contacts []contactReply `json:"contacts"`
	}
	if code, err := call(a2.base, "GET", "/api/v1/contacts?limit=100", nil, nil, &list); err != nil || code != http.StatusOK {
		t.Fatalf("list contacts: %d %v", code, err)
	}
	seen := map[string]int{}
	for _, c := range list.Contacts {
		seen[c.ID]++
	}
	for _, id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged contact %s: %d in the store, want 1", id, seen[id])
		}
	}
	if len(list.Contacts) != len(acked) {
		t.Errorf("%d contacts in the store, %d acknowledged", len(list.Contacts), len(acked))
	}
}

// TestSharedSecretsOnPostgres: nodes with their own data directories on
// one PostgreSQL share the generated admin token (each node's file shows
// it) and the chat's key, so that a chat token one node signed is good
// on the next leader.
func TestSharedSecretsOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	type node struct {
		tok string
		key []byte
	}
	var nodes []node
	for range 2 {
		db, err := store.Open(ctx, &store.Options{Driver: store.DriverPostgres, DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		cfg := config.Default()
		cfg.Store.Driver, cfg.DataDir = config.DriverPostgres, t.TempDir()
		tok, err := adminToken(ctx, cfg, db, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		file, err := readAdminToken(filepath.Join(cfg.DataDir, adminTokenFile))
		if err != nil || file != tok {
			t.Errorf("the node's admin token file: %q, %v; want the token", file, err)
		}
		key, err := chatKey(ctx, cfg, db)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, node{tok, key})
	}
	if nodes[0].tok != nodes[1].tok || len(nodes[0].tok) < 16 {
		t.Errorf("admin tokens %q and %q, want one shared", nodes[0].tok, nodes[1].tok)
	}
	if !bytes.Equal(nodes[0].key, nodes[1].key) || len(nodes[0].key) != 32 {
		t.Errorf("chat keys differ or are not 32 bytes: %x, %x", nodes[0].key, nodes[1].key)
	}
}

// BenchmarkTakeover measures takeovers with the default lease (4 s,
// renewed every 1 s): two nodes on one PostgreSQL; each iteration kills
// the leader (SIGKILL) and times until the standby answers /readyz 200,
// then starts a new standby in the dead one's place. p50 and worst are
// reported.
//
//	go test -run=^$ -bench=Takeover -benchtime=20x ./cmd/routerd/
func BenchmarkTakeover(b *testing.B) {
	env := []string{config.DatabaseURLEnv + "=" + pgtest.Database(b)}
	cfgs := []string{writeConfig(b, b.TempDir()), writeConfig(b, b.TempDir())}
	leader := startDaemonEnv(b, env, "-config", cfgs[0])
	standby := startDaemonEnv(b, env, "-config", cfgs[1])
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		killed := time.Now()
		for {
			if code, _ := readyz(b, standby.base); code == http.StatusOK {
				break
			}
			time.Sleep(5 * time.Millisecond) // polling another process
		}
		took = append(took, time.Since(killed))
		leader.wait()
		leader, standby = standby, startDaemonEnv(b, env, "-config", cfgs[i%2])
	}
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "p50-s")
	b.ReportMetric(took[len(took)-1].Seconds(), "worst-s")
}

// TestHAGracefulRelease: a leader stopped with SIGTERM ends its lease as
// its last step, and exits cleanly; the standby takes over at once. The
// lease here is two minutes: without the release the standby would wait
// for it, past eventually's minute.
func TestHAGracefulRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	env := []string{config.DatabaseURLEnv + "=" + pgtest.Database(t)}
	a := startDaemonEnv(t, env, "-config", haConfigLease(t, "node-a", "2m", "1s"))
	b := startDaemonEnv(t, env, "-config", haConfigLease(t, "node-b", "2m", "1s"))
	if code, leader := readyz(t, b.base); code != http.StatusServiceUnavailable || leader != a.base {
		t.Fatalf("standby's /readyz: %d naming %q, want 503 naming %s", code, leader, a.base)
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := a.wait(); err != nil {
		t.Errorf("the leader stopped with SIGTERM: %v, want a clean exit", err)
	}
	b.waitReady(t)
}
