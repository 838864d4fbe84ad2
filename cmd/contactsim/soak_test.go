package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// soakFactor is how much a measure's average over the soak's last third
// may exceed its average over the first third (after the warm-up) for the
// soak to count as flat.
const soakFactor = 1.5

// soakWarmup is the longest warm-up left out of the comparison: the
// first third of the run, at most this: the process's heap, the page
// cache, the WAL and the agents' sockets settle, and the router's
// memory of recent idempotency keys and external ids (10 minutes,
// router/schema.go) fills before it holds steady.
const soakWarmup = 11 * time.Minute

// soakExtraAgents are the agents the soak adds to the retailer's 60
// (writeSoakConfig), so that 200 contacts a second are taken, not
// queued: a backlog would grow routerd's memory and sockets for its own
// reason, and the soak would say nothing of leaks.
const soakExtraAgents = 140

// soakScenario is the retailer's traffic over every channel, with every
// agent on all day (a constant capacity), for make soak.
const soakScenario = `
name: soak
streams:
  - {queue: orders, channel: api, share: 0.25}
  - {queue: orders, channel: chat, topic: orders, share: 0.20}
  - {queue: returns, channel: chat, topic: returns, share: 0.10}
  - {queue: delivery, channel: chat, topic: delivery, share: 0.10}
  - {queue: delivery, channel: sms, share: 0.20, to: "+15550002222"}
  - {channel: email, share: 0.10}
  - {queue: returns, channel: api, share: 0.05}
customers:
  patience: {mean: 30s, sd: 15s, max: 2m}
  extra_messages: {min: 0, max: 3}
  message_gap: {mean: 1s, sd: 500ms}
  complaints: 0.08
  twilio_retries: 0.1
agents:
  password: retailer-sim-password
  staff:
    - {prefix: r, count: 20}
    - {prefix: e, count: 25}
    - {prefix: n, count: 15}
    - {prefix: s, count: 140}  # soakExtraAgents
  think: {mean: 200ms, sd: 100ms, max: 5s}
  handle: {mean: 2s, sd: 1s, max: 10s}
  wrapup: {mean: 50ms, sd: 30ms}
  decline: 0.01
offers:
  acceptance:
    "*": {"*": 0.1}
`

// soakSample is one sampling of routerd during the soak.
type soakSample struct {
	At time.Duration
	// RSS is VmRSS from /proc/PID/status; the others are from /metrics
	// (process_resident_memory_bytes, go_goroutines, process_open_fds,
	// the sum of switchboard_contacts_created_total).
	RSS, MetricsRSS, Goroutines, OpenFiles, Contacts float64
	// StoreBytes is the database's files (the main file, its WAL and
	// shared memory).
	StoreBytes float64
}

// StorePerContact is the store's bytes per contact created.
func (s soakSample) StorePerContact() float64 {
	if s.Contacts == 0 {
		return math.NaN()
	}
	return s.StoreBytes / s.Contacts
}

// soakSeries are the measures that must stay flat, with their unit.
var soakSeries = []struct {
	name, unit string
	scale      float64
	of         func(soakSample) float64
}{
	{"resident memory (VmRSS)", "MiB", 1 << 20, func(s soakSample) float64 { return s.RSS }},
	{"goroutines", "", 1, func(s soakSample) float64 { return s.Goroutines }},
	{"open files", "", 1, func(s soakSample) float64 { return s.OpenFiles }},
	{"store size per contact", "KiB", 1 << 10, soakSample.StorePerContact},
}

// TestSoak is make soak: contactsim drives a routerd (the retailer's
// configuration with email added) over every channel for SOAK_DURATION
// at SOAK_RATE contacts a second, sampling its memory, goroutines, open
// files and store size every SOAK_EVERY into SOAK_OUT/soak.csv and a
// plot, soak.svg. It fails when anything acknowledged was lost or
// duplicated, or when a measure's average over the last third exceeds
// soakFactor times its average over the first (after the warm-up).
// Without SOAK_DURATION it is skipped: it is not part of make test.
func TestSoak(t *testing.T) {
	durText := os.Getenv("SOAK_DURATION")
	if durText == "" {
		t.Skip("make soak runs it (SOAK_DURATION)")
	}
	dur, err := time.ParseDuration(durText)
	if err != nil || dur <= 0 {
		t.Fatalf("SOAK_DURATION=%q: want a duration such as 30m", durText)
	}
	rate := 200.0
	if v := os.Getenv("SOAK_RATE"); v != "" {
		if rate, err = strconv.ParseFloat(v, 64); err != nil || rate <= 0 {
			t.Fatalf("SOAK_RATE=%q: want contacts a second", v)
		}
	}
	every := 10 * time.Second
	if v := os.Getenv("SOAK_EVERY"); v != "" {
		if every, err = time.ParseDuration(v); err != nil || every <= 0 {
			t.Fatalf("SOAK_EVERY=%q: want a duration", v)
		}
	}
	out := os.Getenv("SOAK_OUT")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}

	dove := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	createFolder(t, dove.Addr, soakMoveTo)
	sink := emailtest.NewSMTPSink(t, "smtp-user", "smtp-pass")
	mailed := drainSink(sink)
	dir := t.TempDir()
	listen := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	base := "http://" + listen
	tw := newTwilioStandIn(t, 1, base)
	data := filepath.Join(dir, "data")
	rd := &chaosRouterd{bin: buildRouterd(t, dir),
		args: []string{"-config", writeSoakConfig(t, dir, dove.Addr, sink), "-listen", listen, "-data", data},
		env: []string{"TWILIO_ACCOUNT_SID=" + testTwilioSID, "TWILIO_AUTH_TOKEN=" + testTwilioToken,
			"ROUTERD_PUBLIC_URL=" + testPublicURL, "ROUTERD_TWILIO_API_BASE_URL=" + tw.srv.URL}}
	rd.start(t)
	token, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ParseScenario("soak", []byte(soakScenario))
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed = 1
	opts := Options{
		URL: base, Token: strings.TrimSpace(string(token)), PublicURL: testPublicURL,
		TwilioAccountSID: testTwilioSID, TwilioAuthToken: testTwilioToken, SMSReplies: true,
		IMAPAddr: dove.Addr, IMAPUser: "support", IMAPPassword: "s3cret", EmailReplies: true,
		Rate: rate, Duration: dur, Drain: time.Minute,
		DefaultCapacity: map[string]int{"chat": 8, "email": 5, "sms": 8, "api": 8},
		BeforeCheck:     func(ctx context.Context) error { return mailCaughtUp(ctx, dove.Addr, base) },
		Progress:        testWriter{t},
	}
	sim, err := NewSim(sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	probe := &Sim{http: &http.Client{Timeout: requestTimeout}, opts: Options{URL: base, Token: opts.Token}}
	pid := rd.cmd.Process.Pid
	var samples []soakSample
	start := time.Now()
	sample := func() {
		s, err := probe.soakSample(pid, data)
		if err != nil {
			t.Errorf("sample at %s: %v", time.Since(start).Truncate(time.Second), err)
			return
		}
		s.At = time.Since(start)
		samples = append(samples, s)
		// Written as it goes: a run that ends badly keeps its samples.
		if err := writeSoakCSV(filepath.Join(out, "soak.csv"), samples); err != nil {
			t.Errorf("write the samples: %v", err)
		}
	}
	done := make(chan *Summary, 1)
	go func() {
		sm, err := sim.Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- sm
	}()
	sample()
	tick := time.NewTicker(every)
	var sm *Summary
	for sm == nil {
		select {
		case <-tick.C:
			// Only while the arrivals last: the drain and the check
			// are another load.
			if time.Since(start) <= dur {
				sample()
			}
		case sm = <-done:
		}
	}
	tick.Stop()
	tw.finish()

	if err := writeSoakCSV(filepath.Join(out, "soak.csv"), samples); err != nil {
		t.Fatal(err)
	}
	svg, err := os.Create(filepath.Join(out, "soak.svg"))
	if err != nil {
		t.Fatal(err)
	}
	writeSoakSVG(svg, samples, fmt.Sprintf("routerd under contactsim: %s at %g contacts/s, every channel", dur, rate))
	if err := svg.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s and %s (%d samples)", filepath.Join(out, "soak.csv"), filepath.Join(out, "soak.svg"), len(samples))
	if sm == nil {
		t.Fatal("contactsim failed")
	}
	tw.mu.Lock()
	texts := tw.created
	tw.mu.Unlock()
	t.Logf("%d contacts acknowledged (%.1f/s) of %d arrivals; screen pop p50 %.1f ms p99 %.1f ms; lost %d, duplicated %d, errors %d %v; %d texts and %d emails sent",
		sm.Acknowledged, sm.ThroughputPerS, sm.Arrivals, sm.P50Ms, sm.P99Ms, sm.Lost, sm.Duplicated, sm.Errors, sm.ErrorKinds, texts, mailed.Load())
	if sm.Check == nil || sm.Check.Failed() {
		t.Errorf("the check: %+v", sm.Check)
	}

	for _, line := range soakFlatness(samples, dur) {
		t.Log(line.text)
		if !line.ok {
			t.Errorf("not flat: %s", line.text)
		}
	}
}

// soakVerdict is one measure's comparison of the thirds.
type soakVerdict struct {
	text string
	ok   bool
}

// soakFlatness compares each measure's average over the last third of
// the samples with the first third's, the warm-up left out.
func soakFlatness(samples []soakSample, dur time.Duration) []soakVerdict {
	warm := min(soakWarmup, dur/3)
	var kept []soakSample
	for _, s := range samples {
		if s.At >= warm {
			kept = append(kept, s)
		}
	}
	if len(kept) < 3 {
		return []soakVerdict{{fmt.Sprintf("%d samples after the warm-up (%s): too few to compare thirds", len(kept), warm), false}}
	}
	third := len(kept) / 3
	var out []soakVerdict
	for _, m := range soakSeries {
		first, last := soakMean(kept[:third], m.of), soakMean(kept[len(kept)-third:], m.of)
		ratio := last / first
		out = append(out, soakVerdict{
			fmt.Sprintf("%s: first third %.1f %s, last third %.1f %s: ×%.2f (flat: ≤ ×%.1f)", m.name, first/m.scale, m.unit, last/m.scale, m.unit, ratio, soakFactor),
			ratio <= soakFactor,
		})
	}
	return out
}

func soakMean(ss []soakSample, of func(soakSample) float64) float64 {
	sum, n := 0.0, 0
	for _, s := range ss {
		if v := of(s); !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	return sum / float64(n)
}

// soakSample reads routerd's process pid and its /metrics, and the
// store's files in data.
func (s *Sim) soakSample(pid int, data string) (soakSample, error) {
	var out soakSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return out, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			out.RSS = kb * 1024
		}
	}
	req, _ := http.NewRequest("GET", s.opts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.opts.Token)
	resp, err := s.http.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("GET /metrics: %d", resp.StatusCode)
	}
	found := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, value, ok := metricLine(sc.Text())
		if !ok {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			out.MetricsRSS = value
		case "go_goroutines":
			out.Goroutines = value
		case "process_open_fds":
			out.OpenFiles = value
		case "switchboard_contacts_created_total":
			out.Contacts += value
		default:
			continue
		}
		found[name] = true
	}
	for _, name := range []string{"process_resident_memory_bytes", "go_goroutines", "process_open_fds"} {
		if !found[name] {
			return out, fmt.Errorf("/metrics has no %s", name)
		}
	}
	for _, f := range []string{"switchboard.db", "switchboard.db-wal", "switchboard.db-shm"} {
		if fi, err := os.Stat(filepath.Join(data, f)); err == nil {
			out.StoreBytes += float64(fi.Size())
		}
	}
	return out, nil
}

// metricLine parses a sample line of Prometheus' text format: its
// metric's name (labels left out) and value.
func metricLine(line string) (string, float64, bool) {
	if line == "" || line[0] == '#' {
		return "", 0, false
	}
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		return "", 0, false
	}
	v, err := strconv.ParseFloat(line[i+1:], 64)
	if err != nil {
		return "", 0, false
	}
	name := line[:i]
	if j := strings.IndexByte(name, '{'); j >= 0 {
		name = name[:j]
	}
	return name, v, true
}

// writeSoakCSV writes the samples, one a row.
func writeSoakCSV(path string, samples []soakSample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"elapsed_s", "vmrss_bytes", "process_resident_memory_bytes", "goroutines", "open_fds", "contacts_created", "store_bytes", "store_bytes_per_contact"})
	for _, s := range samples {
		w.Write([]string{
			strconv.FormatFloat(s.At.Seconds(), 'f', 1, 64),
			strconv.FormatFloat(s.RSS, 'f', 0, 64), strconv.FormatFloat(s.MetricsRSS, 'f', 0, 64),
			strconv.FormatFloat(s.Goroutines, 'f', 0, 64), strconv.FormatFloat(s.OpenFiles, 'f', 0, 64),
			strconv.FormatFloat(s.Contacts, 'f', 0, 64), strconv.FormatFloat(s.StoreBytes, 'f', 0, 64),
			strconv.FormatFloat(s.StorePerContact(), 'f', 0, 64),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeSoakSVG draws each measure of soakSeries against time, one panel
// each, from zero to its highest value.
func writeSoakSVG(w io.Writer, samples []soakSample, title string) {
	const (
		width, panelH, left, right, top, gap = 720, 120, 70, 20, 40, 40
	)
	height := top + len(soakSeries)*(panelH+gap)
	end := time.Second
	if n := len(samples); n > 0 {
		end = max(end, samples[n-1].At)
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/><text x="%d" y="20" font-size="14">%s</text>`+"\n", left, html.EscapeString(title))
	plotW := float64(width - left - right)
	for i, m := range soakSeries {
		y0 := float64(top + i*(panelH+gap) + 15)
		hi := 0.0
		for _, s := range samples {
			if v := m.of(s) / m.scale; !math.IsNaN(v) {
				hi = max(hi, v)
			}
		}
		if hi == 0 {
			hi = 1
		}
		label := m.name
		if m.unit != "" {
			label += " (" + m.unit + ")"
		}
		fmt.Fprintf(w, `<text x="%d" y="%.0f">%s</text>`+"\n", left, y0-4, html.EscapeString(label))
		fmt.Fprintf(w, `<rect x="%d" y="%.0f" width="%.0f" height="%d" fill="none" stroke="#999"/>`+"\n", left, y0, plotW, panelH)
		fmt.Fprintf(w, `<text x="%d" y="%.0f" text-anchor="end">%.4g</text><text x="%d" y="%.0f" text-anchor="end">0</text>`+"\n",
			left-6, y0+10, hi, left-6, y0+float64(panelH))
		var pts []string
		for _, s := range samples {
			v := m.of(s) / m.scale
			if math.IsNaN(v) {
				continue
			}
			x := float64(left) + plotW*s.At.Seconds()/end.Seconds()
			y := y0 + float64(panelH)*(1-v/hi)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		fmt.Fprintf(w, `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pts, " "))
	}
	fmt.Fprintf(w, `<text x="%d" y="%d">0</text><text x="%d" y="%d" text-anchor="end">%s</text>`+"\n",
		left, height-8, width-right, height-8, end.Truncate(time.Second))
	fmt.Fprintln(w, `</svg>`)
}

// writeSoakConfig writes the retailer's configuration with the email
// channel added (the orders mailbox on imapAddr, replies through the
// sink).
func writeSoakConfig(t *testing.T, dir, imapAddr string, sink *emailtest.SMTPSink) string {
	t.Helper()
	retailer, err := os.ReadFile("routerd-retailer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The retailer's agents, and soakExtraAgents more of the same
	// kind, before the queues.
	hash := regexp.MustCompile(`password_hash: "[^"]+"`).FindString(string(retailer))
	at := strings.Index(string(retailer), "\nqueues:")
	if hash == "" || at < 0 {
		t.Fatal("routerd-retailer.yaml changed: update writeSoakConfig")
	}
	var extra strings.Builder
	for i := 1; i <= soakExtraAgents; i++ {
		fmt.Fprintf(&extra, "\n  - {id: s%03d, name: Agent S%03d, skills: {orders: 3, returns: 3, delivery: 3}, %s}", i, i, hash)
	}
	cfg := string(retailer[:at]) + extra.String() + string(retailer[at:])
	path := writeEmailConfig(t, dir, cfg, "orders", imapAddr, sink)
	// As docs/email.md advises for a busy mailbox: what is taken in
	// leaves INBOX, which stays small (with after: seen a 75-minute
	// soak left 90,000 messages there, and Dovecot slowed with them).
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.Replace(string(b), `start: "2000-01-01"}`, `start: "2000-01-01", after: move, move_to: `+soakMoveTo+`}`, 1)
	if moved == string(b) {
		t.Fatal("writeEmailConfig changed: update writeSoakConfig")
	}
	if err := os.WriteFile(path, []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// soakMoveTo is the folder the soak's mailbox moves what it took in to.
const soakMoveTo = "Processed"

// createFolder creates folder in the support mailbox of the IMAP server
// at addr.
func createFolder(t *testing.T, addr, folder string) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "s3cret").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(folder, nil).Wait(); err != nil {
		t.Fatalf("create %s: %v", folder, err)
	}
}

// testWriter passes contactsim's progress lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
