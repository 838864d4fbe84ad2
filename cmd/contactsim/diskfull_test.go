package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smallDisk is a size-limited file system for a test: a tmpfs mounted in
// a user and mount namespace of its own (unshare, no root needed where
// unprivileged user namespaces are allowed), kept by a process that
// sleeps in it. Programs run inside with Prefix (nsenter); the test
// reaches the same files from outside at Outside.
type smallDisk struct {
	// Inside is the mount point as programs run with Prefix see it.
	Inside string
	// Outside is the same directory from the test's namespace
	// (/proc/PID/root/…).
	Outside string
	// Prefix runs a command in the namespace.
	Prefix []string
}

// newSmallDisk mounts a tmpfs of size (tmpfs's syntax: 32m) until the
// test ends. Without unshare or nsenter, or where the kernel refuses
// the namespace, the test is skipped outside CI (CI=true) and fails in
// it.
func newSmallDisk(t *testing.T, size string) *smallDisk {
	t.Helper()
	missing := func(err error) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("a size-limited file system (unshare, nsenter: util-linux): %v", err)
		}
		t.Skipf("no size-limited file system without root here (unshare, nsenter: util-linux): %v", err)
	}
	for _, bin := range []string{"unshare", "nsenter"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(err)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
		`mount -t tmpfs -o size="$1" tmpfs "$0" && echo mounted && exec sleep 86400`, dir, size)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		missing(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "mounted" {
		cmd.Wait()
		missing(fmt.Errorf("unshare: %s", strings.TrimSpace(stderr.String())))
	}
	pid := cmd.Process.Pid
	return &smallDisk{
		Inside:  dir,
		Outside: fmt.Sprintf("/proc/%d/root%s", pid, dir),
		Prefix:  []string{"nsenter", "-t", fmt.Sprint(pid), "--user", "--mount", "--preserve-credentials"},
	}
}

// fill writes a file until the file system is full and returns its
// path; the write must end in ENOSPC.
func (d *smallDisk) fill(t *testing.T) string {
	t.Helper()
	path := filepath.Join(d.Outside, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = io.Copy(f, zeroReader{})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the disk: got %v, want ENOSPC", err)
	}
	return path
}

// zeroReader reads zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestDiskFull fills the file system of routerd's data directory (a
// real ENOSPC from a size-limited tmpfs) while clients create contacts,
// then frees it. As issue #18 asks: once the disk guard sees it nearly
// full, new contacts are refused with a clear error and nothing is
// acknowledged, while everything else keeps serving (reads, a message
// on a live contact, an abandon: the reserve the guard freed is their
// room); routerd never stops; freed, it takes new contacts again; every
// contact acknowledged before, during and after is in the store exactly
// once.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds routerd and fills a disk")
	}
	disk := newSmallDisk(t, "24m")
	dir := t.TempDir()
	// The demo, with a guard sized for a 24 MiB disk.
	demo, err := os.ReadFile("../../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(demo), "\ndisk:") {
		t.Fatal("config/demo.yaml sets disk: update the test")
	}
	cfg := filepath.Join(disk.Outside, "routerd.yaml")
	if err := os.WriteFile(cfg, append(demo, "\ndisk:\n  min_free_bytes: 4194304\n  reserve_bytes: 4194304\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	rd := &chaosRouterd{bin: buildRouterd(t, dir), prefix: disk.Prefix,
		args: []string{"-config", filepath.Join(disk.Inside, "routerd.yaml"), "-listen", listen, "-data", filepath.Join(disk.Inside, "data")}}
	rd.start(t)
	token, err := os.ReadFile(filepath.Join(disk.Outside, "data", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Sim{http: &http.Client{Timeout: requestTimeout}, opts: Options{URL: rd.base, Token: strings.TrimSpace(string(token))}}
	ctx := context.Background()

	acked := map[string]string{} // idempotency key (the subject) → contact id
	n := 0
	// create asks for one contact; it returns the answer's status and
	// the error's code and message.
	create := func() (int, string) {
		n++
		key := fmt.Sprintf("diskfull-%d", n)
		body, _ := json.Marshal(map[string]any{
			"channel": "api", "queue": "billing", "subject": key, "body": strings.Repeat("a long enough first message ", 20),
		})
		req, _ := http.NewRequest("POST", s.opts.URL+"/api/v1/contacts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.opts.Token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := s.http.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var ans struct {
			ID    string `json:"id"`
			Error struct {
				Code, Message string
			} `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&ans)
		if resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK {
			acked[key] = ans.ID
		}
		return resp.StatusCode, ans.Error.Code + ": " + ans.Error.Message
	}
	// low waits until /readyz says the disk is low (or not).
	low := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(readyWait)
		for {
			var r struct {
				Details struct {
					Disk struct {
						Low bool `json:"low"`
					} `json:"disk"`
				} `json:"details"`
			}
			if code, err := s.api(ctx, "GET", "/readyz", nil, nil, &r); err == nil && code == http.StatusOK && r.Details.Disk.Low == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the disk guard did not say low=%v within %s:\n%s", want, readyWait, rd.logs)
			}
			time.Sleep(50 * time.Millisecond) // polling another process's state
		}
	}
	for range 20 {
		if code, msg := create(); code != http.StatusCreated {
			t.Fatalf("before the disk is full: got %d %s, want 201", code, msg)
		}
	}
	var live string
	for _, id := range acked {
		live = id
		break
	}

	filler := disk.fill(t)
	low(true)
	for range 5 {
		before := len(acked)
		code, msg := create()
		if code != http.StatusServiceUnavailable || !strings.Contains(msg, "disk is nearly full") || len(acked) != before {
			t.Fatalf("a new contact with the disk full: got %d %q, want 503 naming the disk, nothing acknowledged", code, msg)
		}
	}
	// The rest keeps serving.
	if code, err := s.api(ctx, "GET", "/api/v1/contacts?limit=1", nil, nil, nil); err != nil || code != http.StatusOK {
		t.Errorf("reading contacts with the disk full: %d %v, want 200", code, err)
	}
	if code, err := s.api(ctx, "POST", "/api/v1/contacts/"+live+"/messages", map[string]any{"direction": "in", "body": "still there?"}, nil, nil); err != nil || code != http.StatusCreated {
		t.Errorf("a message on a live contact with the disk full: %d %v, want 201", code, err)
	}
	if code, err := s.api(ctx, "POST", "/api/v1/contacts/"+live+"/abandon", map[string]any{"reason": "test"}, nil, nil); err != nil || code != http.StatusOK {
		t.Errorf("abandoning a contact with the disk full: %d %v, want 200", code, err)
	}
	// A message on the ended contact would start a follow-up: a new
	// contact, refused as such.
	if code, err := s.api(ctx, "POST", "/api/v1/contacts/"+live+"/messages", map[string]any{"direction": "in", "body": "one more thing"}, nil, nil); code != http.StatusServiceUnavailable {
		t.Errorf("a follow-up with the disk full: %d %v, want 503", code, err)
	}
	select {
	case err := <-rd.exited:
		t.Fatalf("routerd exited with the disk full: %v\n%s", err, rd.logs)
	default:
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	low(false)
	for range 10 {
		if code, msg := create(); code != http.StatusCreated {
			t.Fatalf("after the disk was freed: got %d %s, want 201", code, msg)
		}
	}
	bySubject := map[string][]string{}
	for _, id := range chaosContactIDs(t, s, "api") {
		var c struct {
			Subject string `json:"subject"`
		}
		if code, err := s.api(ctx, "GET", "/api/v1/contacts/"+id, nil, nil, &c); err != nil || code != http.StatusOK {
			t.Fatalf("read contact %s: %d %v", id, code, err)
		}
		bySubject[c.Subject] = append(bySubject[c.Subject], id)
	}
	for key, id := range acked {
		if ids := bySubject[key]; len(ids) != 1 || ids[0] != id {
			t.Errorf("acknowledged %s (%s): in the store as %v", key, id, ids)
		}
	}
	for key, ids := range bySubject {
		if len(ids) > 1 {
			t.Errorf("%s made %d contacts: %v", key, len(ids), ids)
		}
	}
	t.Logf("%d contacts acknowledged of %d asked for, each in the store once", len(acked), n)
}
