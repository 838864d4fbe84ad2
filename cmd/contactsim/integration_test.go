package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Stand-in credentials of the test's Twilio account.
const (
	testTwilioSID   = "AC0123456789abcdef0123456789abcdef"
	testTwilioToken = "contactsimTestTwilioToken0123456"
	// testPublicURL is the URL routerd checks signatures over; nothing
	// listens there (Twilio would call it).
	testPublicURL = "https://contactsim.test"
)

var listenRE = regexp.MustCompile(`msg=listening addr=(https?://[0-9.:]+)`)

// startRouterd builds cmd/routerd and runs its demo (the embedded
// configuration, its agents and customers) on a loopback port in a
// temporary directory, with the SMS channel on against a stand-in of
// Twilio's Messages API; it returns the base URL and the data directory.
func startRouterd(t *testing.T, twilioAPI string) (base, data string) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	return runRouterd(t, dir, []string{"-listen", "127.0.0.1:0", "-data", data},
		"TWILIO_ACCOUNT_SID="+testTwilioSID, "TWILIO_AUTH_TOKEN="+testTwilioToken,
		"ROUTERD_PUBLIC_URL="+testPublicURL, "ROUTERD_TWILIO_API_BASE_URL="+twilioAPI), data
}

// runRouterd builds cmd/routerd into dir and runs it with args and env
// until the test ends; it returns the base URL it listens on.
func runRouterd(t *testing.T, dir string, args []string, env ...string) string {
	t.Helper()
	cmd := exec.Command(buildRouterd(t, dir), args...)
	cmd.Env = append(os.Environ(), env...)
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
	var logs bytes.Buffer
	base := ""
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		logs.WriteString(sc.Text() + "\n")
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("routerd exited before listening:\n%s", logs.String())
	}
	go io.Copy(io.Discard, stderr)
	return base
}

// buildRouterd builds cmd/routerd into dir and returns the binary's path.
func buildRouterd(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "routerd")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "../routerd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build routerd: %v\n%s", err, out)
	}
	return bin
}

// TestAgainstRouterd runs contactsim for a few seconds against the real
// routerd's demo over every channel it has (the API, the chat, Twilio's
// webhooks), then reads from routerd itself that contacts were routed,
// answered and replied to, and that contactsim's check found nothing
// lost, duplicated or failed.
func TestAgainstRouterd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs routerd")
	}
	var texts atomic.Int64
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != testTwilioSID || p != testTwilioToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.ParseForm()
		n := texts.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid": "SM%032x", "status": "queued", "to": %q}`, n, r.PostForm.Get("To"))
	}))
	defer twilio.Close()
	base, data := startRouterd(t, twilio.URL)
	token, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = run(ctx, []string{
		"-url", base, "-token-file", filepath.Join(data, "admin-token"), "-scenario", "bank",
		"-duration", "4s", "-rate", "8", "-seed", "42", "-json", "-drain", "30s",
		"-twilio-account-sid", testTwilioSID, "-twilio-auth-token", testTwilioToken,
		"-public-url", testPublicURL, "-sms-replies", "-viewers", "3",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("contactsim: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var sm struct {
		ThroughputPerS float64        `json:"throughput_per_s"`
		P50Ms          float64        `json:"p50_ms"`
		P99Ms          float64        `json:"p99_ms"`
		Lost           int            `json:"lost"`
		Duplicated     int            `json:"duplicated"`
		Errors         int            `json:"errors"`
		ErrorKinds     map[string]int `json:"error_kinds"`
		Acknowledged   int            `json:"acknowledged"`
		RunID          string         `json:"run_id"`
		Check          *Check         `json:"check"`
		Offers         OfferSummary   `json:"offers"`
		Board          *BoardSummary  `json:"board"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sm); err != nil {
		t.Fatalf("decode -json: %v\n%s", err, stdout.String())
	}
	if sm.Lost != 0 || sm.Duplicated != 0 || sm.Errors != 0 || sm.Check == nil {
		t.Errorf("got lost %d, duplicated %d, errors %d %v, check %+v; want 0, 0, 0 and a check", sm.Lost, sm.Duplicated, sm.Errors, sm.ErrorKinds, sm.Check)
	}
	if sm.Acknowledged == 0 || sm.ThroughputPerS <= 0 || sm.P99Ms <= 0 || sm.P50Ms > sm.P99Ms {
		t.Errorf("got %d acknowledged, %.1f/s, p50 %.1f ms, p99 %.1f ms; want contacts and latencies", sm.Acknowledged, sm.ThroughputPerS, sm.P50Ms, sm.P99Ms)
	}
	if sm.Offers.Violations != 0 {
		t.Errorf("got %d offers shown where none may be: %v", sm.Offers.Violations, sm.Offers.Why)
	}
	// Three supervisors watched the board: contacts showed on it at
	// their agents, within a tick (1 s) and the build, with room for a
	// busy machine under the race detector.
	if b := sm.Board; b == nil || b.Viewers != 3 || b.Frames < 3 || b.Errors != 0 || b.Samples == 0 || b.LagP99Ms > 5000 {
		t.Errorf("board: %+v; want 3 viewers reading frames, contacts on the board within 5 s", b)
	}

	// What routerd holds, read here rather than from contactsim: the
	// run's contacts, closed by an agent, with the agent's reply.
	tok := strings.TrimSpace(string(token))
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Contacts []struct {
			ID      string `json:"id"`
			Channel string `json:"channel"`
			AgentID string `json:"agent_id"`
		} `json:"contacts"`
	}
	get("/api/v1/contacts?state=closed&limit=500", &page)
	closedBy := map[string]int{}
	replied := 0
	for _, c := range page.Contacts {
		if c.AgentID == "" {
			continue
		}
		closedBy[c.Channel]++
		var full struct {
			Messages []struct{ Direction, Body string } `json:"messages"`
		}
		get("/api/v1/contacts/"+c.ID, &full)
		for _, m := range full.Messages {
			if m.Direction == "out" && strings.Contains(m.Body, "[sim "+sm.RunID+"-") {
				replied++
				break
			}
		}
	}
	total := 0
	for _, n := range closedBy {
		total += n
	}
	if total == 0 || replied == 0 {
		t.Errorf("routerd holds %d contacts closed by an agent (%v), %d with a simulated agent's reply; want some of each", total, closedBy, replied)
	}
	t.Logf("%d acknowledged (%.1f/s), screen pop p50 %.1f ms p99 %.1f ms; routerd: %v closed by agents, %d replied; %d texts to the stand-in; board %+v",
		sm.Acknowledged, sm.ThroughputPerS, sm.P50Ms, sm.P99Ms, closedBy, replied, texts.Load(), sm.Board)
}
