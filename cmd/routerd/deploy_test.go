package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/diskspace"
)

// logWait bounds how long a test waits for a line of the daemon's log
// before it fails; it only ever ends a test that failed.
const logWait = time.Minute

var redirectRE = regexp.MustCompile(`msg="redirecting to https" addr=(http://[0-9.:]+)`)

// TestDeploymentThroughTheDaemon runs routerd with TLS, an HTTP
// redirect and a umask of 000: it serves HTTPS, redirects plain HTTP,
// serves a renewed certificate after SIGHUP, and keeps its data
// directory 0700 and the files in it (the database with its -wal and
// -shm, the admin token, the chat key) 0600.
func TestDeploymentThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs routerd")
	}
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b := newTestCert(t, 1), newTestCert(t, 2)
	a.install(t, certFile, keyFile)
	data := filepath.Join(dir, "data")
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %s
trusted_proxies: [10.0.0.0/8]
tls:
  cert_file: %s
  key_file: %s
  redirect_http: 127.0.0.1:0
queues:
  - name: general
chat:
  topics: [{id: help, label: Help, queue: general}]
`, data, certFile, keyFile)
	cfgPath := filepath.Join(dir, "routerd.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// The shell sets the umask that the daemon's modes must not depend on.
	cmd := exec.Command("/bin/sh", "-c", `umask 000 && exec "$0" "$@"`, bin, "-config", cfgPath)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// await returns the first line of the log from now on that matches
	// re, failing the test if the daemon exits or logWait passes first.
	var logged strings.Builder
	await := func(re *regexp.Regexp) []string {
		t.Helper()
		deadline := time.After(logWait)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("routerd exited before logging %s:\n%s", re, logged.String())
				}
				logged.WriteString(line + "\n")
				if m := re.FindStringSubmatch(line); m != nil {
					return m
				}
			case <-deadline:
				t.Fatalf("routerd did not log %s within %s:\n%s", re, logWait, logged.String())
			}
		}
	}
	redirect := await(redirectRE)[1]
	base := await(listenRE)[1]
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("listening on %s, want https", base)
	}
	client := trusting(a, b)

	if got := servedSerial(t, client, base+"/healthz"); got != 1 {
		t.Errorf("got certificate %d, want 1", got)
	}
	res, err := client.Get(redirect + "/agent/?x=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if want := base + "/agent/?x=1"; res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want {
		t.Errorf("plain HTTP: got %d to %q, want 308 to %q", res.StatusCode, res.Header.Get("Location"), want)
	}

	b.install(t, certFile, keyFile)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	await(regexp.MustCompile(`msg="tls: certificate reloaded"`))
	if got := servedSerial(t, client, base+"/healthz"); got != 2 {
		t.Errorf("after SIGHUP: got certificate %d, want 2", got)
	}

	want := map[string]os.FileMode{
		data: 0o700, "switchboard.db": 0o600, "switchboard.db-wal": 0o600, "switchboard.db-shm": 0o600,
		adminTokenFile: 0o600, chatSecretFile: 0o600, config.DefaultAttachmentsDir: 0o700,
		diskspace.ReserveName: 0o600,
	}
	for name, mode := range want {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(data, name)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: got mode %#o, want %#o", name, fi.Mode().Perm(), mode)
		}
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := want[e.Name()]; !ok {
			t.Errorf("unexpected file %s in the data directory: add it to the modes checked", e.Name())
		}
	}
}
