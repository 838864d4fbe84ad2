package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store/pgtest"
)

const testAdminToken = "crash-test-admin-token-0123456789"

// crashAgentPassword is the password of the crash test's agents.
const crashAgentPassword = "crash-agent-password"

// daemon is a routerd process started by a test.
type daemon struct {
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer

	waitOnce sync.Once
	waitErr  error
}

// wait waits for the process to exit and returns Wait's error; any
// number of callers, at once or in turn, get the same.
func (d *daemon) wait() error {
	d.waitOnce.Do(func() { d.waitErr = d.cmd.Wait() })
	return d.waitErr
}

// buildRouterd compiles this command once per test binary run.
var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "routerd-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "routerd")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

var listenRE = regexp.MustCompile(`msg=listening addr=(https?://[0-9.:]+)`)

// startDaemon runs routerd with args and waits for its listen line.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	return startDaemonEnv(t, nil, args...)
}

// startDaemonEnv is startDaemon with env added to the environment.
func startDaemonEnv(t testing.TB, env []string, args ...string) *daemon {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: &bytes.Buffer{}}
	t.Cleanup(func() {
		cmd.Process.Kill()
		d.wait()
	})
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		d.logs.WriteString(line + "\n")
		if m := listenRE.FindStringSubmatch(line); m != nil {
			d.base = m[1]
			break
		}
	}
	if d.base == "" {
		t.Fatalf("routerd exited before listening:\n%s", d.logs)
	}
	go io.Copy(io.Discard, stderr)
	return d
}

// waitReady waits until the daemon's /readyz answers 200: it leads.
func (d *daemon) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, "routerd ready", func() bool {
		code, err := call(d.base, "GET", "/readyz", nil, nil, nil)
		return err == nil && code == http.StatusOK
	})
}

// call sends a JSON request with the test's admin token and decodes the reply.
func call(base, method, path string, body any, headers map[string]string, out any) (int, error) {
	return request(testAdminToken, base, method, path, body, headers, out)
}

// callAs is call with another token.
func callAs(token, base, method, path string, body, out any) (int, error) {
	return request(token, base, method, path, body, nil, out)
}

func request(token, base, method, path string, body any, headers map[string]string, out any) (int, error) {
	return requestWith(http.DefaultClient, token, base, method, path, body, headers, out)
}

// requestWith is request through client.
func requestWith(client *http.Client, token, base, method, path string, body any, headers map[string]string, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s (%d): %v: %s", method, path, resp.StatusCode, err, data)
		}
	}
	return resp.StatusCode, nil
}

type contactReply struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	AgentID  string `json:"agent_id"`
	Timeline []struct {
		Event string `json:"event"`
	} `json:"timeline"`
}

func writeConfig(t testing.TB, dir string) string {
	t.Helper()
	// The agents sign in (crashAgentPassword) to open their desktops.
	hash, err := bcrypt.GenerateFromPassword([]byte(crashAgentPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var agents strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&agents, "  - id: a%d\n    name: Agent %d\n    skills: {billing: 3}\n    capacity: {api: 100}\n    password_hash: %q\n", i, i, hash)
	}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %s
auth:
  admin_token: %s
agents:
%squeues:
  - name: billing
    requirements: [{skill: billing, min: 1}]
`, filepath.Join(dir, "data"), testAdminToken, agents.String())
	path := filepath.Join(dir, "routerd.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCrashRecovery kills routerd with SIGKILL while contacts flow and
// checks, after a restart on the same data, that every acknowledged
// contact is there in a state at least as far as acknowledged, and that
// retrying what was in flight duplicates nothing.
//
// It runs on each store: SQLite in the data directory, and PostgreSQL
// (a fresh database of the test's cluster, named by ROUTERD_DATABASE_URL
// alone).
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	t.Run("sqlite", func(t *testing.T) { testCrashRecovery(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		// A password (the cluster trusts loopback) that must not reach
		// the logs.
		dsn := strings.Replace(pgtest.Database(t), "postgres@", "postgres:"+secretInURL+"@", 1)
		testCrashRecovery(t, []string{config.DatabaseURLEnv + "=" + dsn})
	})
}

// secretInURL is the password in the PostgreSQL URL of the crash test.
const secretInURL = "never-logged-pw"

func testCrashRecovery(t *testing.T, env []string) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	d := startDaemonEnv(t, env, "-config", cfgPath)
	for i := 0; i < 8; i++ {
		// Each agent's desktop is open (only then do they take contacts);
		// the test plays them over the API.
		var session struct {
			Token string `json:"token"`
		}
		if code, err := call(d.base, "POST", "/api/v1/login", map[string]string{"id": fmt.Sprintf("a%d", i), "password": crashAgentPassword}, nil, &session); err != nil || code != 200 {
			t.Fatalf("log a%d in: %d %v", i, code, err)
		}
		drain(agentSocket(t, d.base, session.Token))
		if code, err := call(d.base, "PUT", fmt.Sprintf("/api/v1/agents/a%d/state", i), map[string]string{"state": "available"}, nil, nil); err != nil || code != 200 {
			t.Fatalf("set a%d available: %d %v", i, code, err)
		}
	}

	type record struct {
		key      string
		body     map[string]any
		id       string // set once creation was acknowledged
		accepted bool   // set once the accept was acknowledged
	}
	const workers, killAfter = 16, 300
	var (
		mu      sync.Mutex
		records []*record
		byID    = map[string]*record{}
		acks    atomic.Int64
		enough  = make(chan struct{})
		once    sync.Once
		wg      sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				rec := &record{key: fmt.Sprintf("k-%d-%d", w, i), body: map[string]any{
					"channel": "api", "queue": "billing", "subject": fmt.Sprintf("crash %d/%d", w, i),
					"customer": map[string]any{"email": fmt.Sprintf("c%d@example.com", w)},
				}}
				mu.Lock()
				records = append(records, rec)
				mu.Unlock()
				var c contactReply
				code, err := call(d.base, "POST", "/api/v1/contacts", rec.body, map[string]string{"Idempotency-Key": rec.key}, &c)
				if err != nil || code != http.StatusCreated {
					return // the daemon is gone (or refused): stop this worker
				}
				mu.Lock()
				rec.id = c.ID
				byID[c.ID] = rec
				mu.Unlock()
				// Play agent a(w%8): accept whatever rings for it, this
				// contact or one from the backlog.
				agent := fmt.Sprintf("a%d", w%8)
				var a struct {
					Offer string `json:"offer"`
				}
				if code, err := call(d.base, "GET", "/api/v1/agents/"+agent, nil, nil, &a); err != nil || code != http.StatusOK {
					return
				}
				if a.Offer != "" {
					code, err := call(d.base, "POST", "/api/v1/contacts/"+a.Offer+"/accept", map[string]string{"agent_id": agent}, nil, nil)
					if err != nil {
						return
					}
					if code == http.StatusOK {
						mu.Lock()
						if r := byID[a.Offer]; r != nil {
							r.accepted = true
						}
						mu.Unlock()
					}
				}
				if acks.Add(1) >= killAfter {
					once.Do(func() { close(enough) })
				}
			}
		}(w)
	}
	<-enough
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	d.wait()

	d2 := startDaemonEnv(t, env, "-config", cfgPath)
	// On PostgreSQL the dead process's lease runs out first (ha.lease).
	d2.waitReady(t)
	if strings.Contains(d.logs.String()+d2.logs.String(), secretInURL) {
		t.Errorf("the daemon logged the database URL's password:\n%s", d.logs)
	}
	acked, accepted := 0, 0
	for _, rec := range records {
		if rec.id == "" {
			continue
		}
		acked++
		var c contactReply
		code, err := call(d2.base, "GET", "/api/v1/contacts/"+rec.id, nil, nil, &c)
		if err != nil || code != http.StatusOK {
			t.Fatalf("acknowledged contact %s (%s) after restart: %d %v", rec.id, rec.key, code, err)
		}
		switch {
		case rec.accepted:
			accepted++
			if c.State != "assigned" {
				t.Errorf("contact %s: accept was acknowledged, state now %s", rec.id, c.State)
			}
		case c.State != "queued" && c.State != "assigned":
			// Offered before the crash: back in the queue (agents are
			// offline after a restart), or assigned if an accept was in
			// flight and committed.
			t.Errorf("contact %s: created and acknowledged, state now %s", rec.id, c.State)
		}
	}
	if acked < killAfter || accepted < killAfter/4 {
		t.Fatalf("only %d contacts acknowledged (%d accepted) before the kill, want ≥ %d (%d)", acked, accepted, killAfter, killAfter/4)
	}

	// Retry every creation whose answer was lost: the same key must give
	// the contact that may already exist, never a second one.
	keys := map[string]string{}
	for _, rec := range records {
		var c contactReply
		code, err := call(d2.base, "POST", "/api/v1/contacts", rec.body, map[string]string{"Idempotency-Key": rec.key}, &c)
		if err != nil || (code != http.StatusOK && code != http.StatusCreated) {
			t.Fatalf("retry %s: %d %v", rec.key, code, err)
		}
		if rec.id != "" && c.ID != rec.id {
			t.Fatalf("retry %s: got contact %s, want %s", rec.key, c.ID, rec.id)
		}
		keys[rec.key] = c.ID
	}
	total := 0
	seen := map[string]bool{}
	cursor := ""
	for {
		var page struct {
			Contacts []contactReply `json:"contacts"`
			Next     string         `json:"next"`
		}
		code, err := call(d2.base, "GET", "/api/v1/contacts?limit=500&cursor="+cursor, nil, nil, &page)
		if err != nil || code != http.StatusOK {
			t.Fatalf("list contacts: %d %v", code, err)
		}
		for _, c := range page.Contacts {
			if seen[c.ID] {
				t.Fatalf("contact %s listed twice", c.ID)
			}
			seen[c.ID] = true
			total++
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if total != len(keys) {
		t.Errorf("%d contacts stored for %d idempotency keys: a retry duplicated or a contact was lost", total, len(keys))
	}
	t.Logf("killed after %d acknowledgements (%d accepted); %d keys, %d contacts after retries", acked, accepted, len(keys), total)
}

// TestGracefulShutdown checks SIGTERM: the daemon stops serving, exits 0,
// and what it acknowledged is there on the next start.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	d := startDaemon(t, "-config", cfgPath)
	var c contactReply
	if code, err := call(d.base, "POST", "/api/v1/contacts", map[string]any{"channel": "api", "queue": "billing"}, nil, &c); err != nil || code != 201 {
		t.Fatalf("create: %d %v", code, err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.wait(); err != nil {
		t.Fatalf("routerd after SIGTERM: %v\n%s", err, d.logs)
	}
	d2 := startDaemon(t, "-config", cfgPath)
	var got contactReply
	if code, err := call(d2.base, "GET", "/api/v1/contacts/"+c.ID, nil, nil, &got); err != nil || code != 200 || got.State != "queued" {
		t.Fatalf("after restart: %d %v state %q, want 200 queued", code, err, got.State)
	}
}

var _ = time.Second
