package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// Bounds of the chaos test's waits: each polls a condition until it
// holds or the bound passes.
const (
	// readyWait bounds a restarted routerd's way to /readyz 200.
	readyWait = 60 * time.Second
	// progressWait bounds the wait for the traffic to go on between
	// two kills.
	progressWait = 90 * time.Second
	// chaosProgress is how many more contacts routerd must acknowledge
	// between two kills: a kill always lands in the middle of traffic.
	chaosProgress = 12
)

// chaosScenario plays every channel against the demo's agents and
// queues, briskly: agents think, handle and wrap up in a second or two,
// texts are retried by "Twilio" often, customers give up within seconds.
const chaosScenario = `
name: chaos
streams:
  - {queue: billing, channel: api, share: 0.30}
  - {queue: support, channel: chat, topic: support, share: 0.15}
  - {queue: sales, channel: chat, topic: sales, share: 0.15}
  - {queue: general, channel: sms, share: 0.25}
  - {channel: email, share: 0.15}
customers:
  patience: {mean: 8s, sd: 3s, max: 20s}
  extra_messages: {min: 0, max: 2}
  message_gap: {mean: 300ms, sd: 200ms}
  twilio_retries: 0.3
agents:
  password: "{id}-demo"
  staff: [{id: alice}, {id: bob}, {id: carol}, {id: dave}, {id: erin}]
  think: {mean: 150ms, sd: 100ms, max: 1s}
  handle: {mean: 600ms, sd: 300ms, max: 3s}
  wrapup: {mean: 100ms, sd: 50ms}
  decline: 0.05
  disposition: solved
`

// demoCapacity is config/demo.yaml's routing.capacity.
var demoCapacity = map[string]int{"chat": 3, "email": 5, "sms": 3, "api": 1}

// chaosRouterd is a routerd the chaos test kills and starts again, on
// one data directory and one port. Its methods are for the test's
// goroutine.
type chaosRouterd struct {
	bin  string
	args []string
	env  []string
	// prefix runs the binary in another namespace (nsenter); usually nil.
	prefix []string
	base   string
	cmd    *exec.Cmd
	exited chan error
	// logs keeps the last lines of the running process's stderr.
	logs *tailBuffer
	// restarts are the times start took, from the process's start to
	// /readyz 200.
	restarts []time.Duration
	// logPath, when set, gets every process's stderr, one after another.
	logPath string
}

// start runs routerd and waits for /readyz 200.
func (r *chaosRouterd) start(t *testing.T) {
	t.Helper()
	began := time.Now()
	r.spawn(t)
	r.waitReady(t)
	r.restarts = append(r.restarts, time.Since(began))
}

// spawn runs routerd and waits for its listen line.
func (r *chaosRouterd) spawn(t *testing.T) {
	t.Helper()
	argv := append(append(append([]string{}, r.prefix...), r.bin), r.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), r.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.cmd, r.exited, r.logs = cmd, make(chan error, 1), &tailBuffer{}
	listening := make(chan string, 1)
	var logFile io.Writer = io.Discard
	if r.logPath != "" {
		f, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		logFile = f
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			r.logs.add(sc.Text())
			fmt.Fprintln(logFile, sc.Text())
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case listening <- m[1]:
				default:
				}
			}
		}
		r.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case base := <-listening:
		r.base = base
	case err := <-r.exited:
		r.exited <- err
		t.Fatalf("routerd exited before listening (%v):\n%s", err, r.logs)
	case <-time.After(readyWait):
		t.Fatalf("routerd not listening within %s:\n%s", readyWait, r.logs)
	}
}

// waitReady polls /readyz until it answers 200.
func (r *chaosRouterd) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(readyWait)
	for {
		resp, err := http.Get(r.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("routerd not ready within %s:\n%s", readyWait, r.logs)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's state
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *chaosRouterd) kill(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(readyWait):
		t.Fatalf("routerd still running %s after SIGKILL", readyWait)
	}
}

// tailBuffer keeps the last lines written to it; safe for concurrent use.
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *tailBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) == 60 {
		b.lines = b.lines[1:]
	}
	b.lines = append(b.lines, line)
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// twilioStandIn is Twilio's Messages API as routerd's replies see it,
// and Twilio's status callbacks: each message created is reported
// delivered, out of order and retried (delivered, then sent, then
// delivered again, or sent after delivered), signed as Twilio signs.
type twilioStandIn struct {
	srv     *httptest.Server
	reports chan string // MessageSids to report on
	done    chan struct{}
	target  string // routerd's base URL

	mu sync.Mutex
	// created counts the messages created; guarded by mu.
	created int
	// delivered holds the MessageSids whose "delivered" routerd
	// answered 204; stale counts the reports of an earlier status
	// answered 204 after that. Guarded by mu.
	delivered map[string]bool
	stale     int
	// refused counts the reports routerd answered otherwise (404: a
	// message whose sid a restart lost, sent again under another);
	// guarded by mu.
	refused map[int]int
	// unknown holds the MessageSids routerd answered 404 (it never
	// stored them: killed between Twilio's answer and the commit, it
	// sent the text again under another); unknownThenKnown counts
	// reports taken after a 404 of the same sid. Guarded by mu.
	unknown          map[string]bool
	unknownThenKnown int
	// history is what happened to each MessageSid, for a failure's
	// message; guarded by mu.
	history map[string][]string
}

// note adds to sid's history; the caller holds mu.
func (tw *twilioStandIn) note(sid, what string) {
	tw.history[sid] = append(tw.history[sid], time.Now().Format("15:04:05.000000")+" "+what)
}

// newTwilioStandIn starts the stand-in; target is routerd's base URL,
// for the status callbacks.
func newTwilioStandIn(t *testing.T, seed uint64, target string) *twilioStandIn {
	tw := &twilioStandIn{reports: make(chan string, 100000), done: make(chan struct{}), target: target,
		delivered: map[string]bool{}, refused: map[int]int{}, unknown: map[string]bool{}, history: map[string][]string{}}
	tw.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != testTwilioSID || p != testTwilioToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.ParseForm()
		tw.mu.Lock()
		tw.created++
		n := tw.created
		tw.mu.Unlock()
		sid := fmt.Sprintf("SM%032x", n)
		tw.mu.Lock()
		tw.note(sid, "created for "+r.PostForm.Get("Body"))
		tw.mu.Unlock()
		tw.reports <- sid
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid": %q, "status": "queued", "to": %q}`, sid, r.PostForm.Get("To"))
	}))
	t.Cleanup(tw.srv.Close)
	go tw.report(mrand.New(mrand.NewPCG(seed, 1)))
	return tw
}

// report posts each message's status callbacks, in one of a few
// orders, each post retried (as Twilio does) while routerd is down.
func (tw *twilioStandIn) report(rng *mrand.Rand) {
	defer close(tw.done)
	orders := [][]string{
		{"sent", "delivered"},
		{"delivered", "sent"},                      // out of order
		{"sent", "delivered", "delivered"},         // retried
		{"delivered", "sent", "delivered", "sent"}, // both
	}
	for sid := range tw.reports {
		seenDelivered, unknown := false, false
		for _, st := range orders[rng.IntN(len(orders))] {
			code := tw.post(sid, st)
			tw.mu.Lock()
			tw.note(sid, fmt.Sprintf("%s: %d", st, code))
			if code == http.StatusNotFound {
				tw.unknown[sid] = true
				unknown = true
			} else if unknown && code == http.StatusNoContent {
				tw.unknownThenKnown++
				tw.note(sid, "taken after a 404")
			}
			switch {
			case code == http.StatusNoContent && st == "delivered":
				tw.delivered[sid], seenDelivered = true, true
			case code == http.StatusNoContent && seenDelivered:
				tw.stale++
			case code != http.StatusNoContent:
				tw.refused[code]++
			}
			tw.mu.Unlock()
		}
	}
}

// post sends one signed status callback, retried on a network error or
// a 5xx for up to restartWait; it returns the last status code (0: no
// answer).
func (tw *twilioStandIn) post(sid, status string) int {
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {testTwilioSID}, "MessageStatus": {status}}
	deadline := time.Now().Add(restartWait)
	for {
		req, _ := http.NewRequest("POST", tw.target+"/webhooks/twilio/status", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", twilioSignature(testTwilioToken, testPublicURL+"/webhooks/twilio/status", form))
		code := 0
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			code = resp.StatusCode
		}
		if code != 0 && code < 500 || time.Now().After(deadline) {
			return code
		}
		time.Sleep(retryPause) // Twilio's back-off, not a synchronisation
	}
}

// unknownSids returns the MessageSids routerd answered 404.
func (tw *twilioStandIn) unknownSids() []string {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	var out []string
	for sid := range tw.unknown {
		out = append(out, sid)
	}
	return out
}

// histories returns the histories of the sids reported after a 404.
func (tw *twilioStandIn) histories() string {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	var out []string
	for sid, h := range tw.history {
		if slices.ContainsFunc(h, func(s string) bool { return strings.HasSuffix(s, "taken after a 404") }) {
			out = append(out, sid+":\n  "+strings.Join(h, "\n  "))
		}
	}
	return strings.Join(out, "\n")
}

// grepLog returns the lines of the file at path that hold any of words.
func grepLog(t *testing.T, path string, words []string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		for _, w := range words {
			if strings.Contains(line, w) {
				out = append(out, strings.TrimRight(line, "\n"))
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// finish reports what is left and waits for the reporter to end.
func (tw *twilioStandIn) finish() {
	close(tw.reports)
	<-tw.done
}

// drainSink takes what the SMTP sink receives as it comes (its buffer
// holds 1,000: a full one stalls the sink's DATA answers) and counts it.
func drainSink(sink *emailtest.SMTPSink) *atomic.Int64 {
	var n atomic.Int64
	go func() {
		for range sink.Received {
			n.Add(1)
		}
	}()
	return &n
}

// chaosEnv reads a positive integer from the environment, or def.
func chaosEnv(t *testing.T, name string, def uint64) uint64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// freeLoopbackPort returns a loopback port nobody listens on now: the
// port routerd keeps across its restarts.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeChaosConfig writes config/demo.yaml with the email channel
// added (the support mailbox on imapAddr, replies through the sink) and
// a number to reply to texts from.
func writeChaosConfig(t *testing.T, dir, imapAddr string, sink *emailtest.SMTPSink) string {
	t.Helper()
	demo, err := os.ReadFile("../../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Replies to texts go from the demo's number (its route only
	// receives otherwise).
	cfg := strings.Replace(string(demo), `      # from: "+15550001111"`, `      from: "+15550001111"`, 1)
	if cfg == string(demo) {
		t.Fatal("config/demo.yaml's twilio route changed: update writeChaosConfig")
	}
	return writeEmailConfig(t, dir, cfg, "support", imapAddr, sink)
}

// writeEmailConfig writes cfg with the email channel added (the support
// mailbox on imapAddr, taken into queue, replies through the sink, the
// passwords in files of dir) as dir/routerd.yaml, and returns its path.
func writeEmailConfig(t *testing.T, dir, cfg, queue, imapAddr string, sink *emailtest.SMTPSink) string {
	t.Helper()
	for name, secret := range map[string]string{"imap-password": "s3cret", "smtp-password": sink.Pass} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	imapHost, imapPort, _ := net.SplitHostPort(imapAddr)
	smtpHost, smtpPort, _ := net.SplitHostPort(sink.Addr)
	cfg += fmt.Sprintf(`
email:
  domain: support.example.com
  smtp: {host: %[1]s, port: %[2]s, security: plain, allow_plaintext: true, user: %[3]s, password_file: %[4]s/smtp-password}
  queues:
    - {queue: %[7]s, address: support@example.com, display_name: Example Support}
  mailboxes:
    - {name: support, host: %[5]s, port: %[6]s, security: plain, allow_plaintext: true, user: support,
       password_file: %[4]s/imap-password, queue: %[7]s, start: "2000-01-01"}
`, smtpHost, smtpPort, sink.User, dir, imapHost, imapPort, queue)
	path := filepath.Join(dir, "routerd.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mailCaughtUp waits until routerd has taken every mail of the mailbox:
// its committed UID (/readyz) reaches the mailbox's last UID.
func mailCaughtUp(ctx context.Context, imapAddr, base string) error {
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		return fmt.Errorf("IMAP: %w", err)
	}
	defer c.Close()
	if err := c.Login("support", "s3cret").Wait(); err != nil {
		return fmt.Errorf("IMAP login: %w", err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{UIDNext: true}).Wait()
	if err != nil {
		return fmt.Errorf("IMAP status: %w", err)
	}
	last := uint32(st.UIDNext) - 1
	deadline := time.Now().Add(progressWait)
	for {
		var r struct {
			Details struct {
				Email []struct {
					LastUID uint32 `json:"last_uid"`
				} `json:"email"`
			} `json:"details"`
		}
		code, err := (&Sim{http: http.DefaultClient, opts: Options{URL: base}}).api(ctx, "GET", "/readyz", nil, nil, &r)
		if err == nil && code == http.StatusOK && len(r.Details.Email) == 1 && r.Details.Email[0].LastUID >= last {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("routerd took mail up to UID %v, the mailbox holds up to %d, after %s", r.Details.Email, last, progressWait)
		}
		time.Sleep(50 * time.Millisecond) // polling another process's state
	}
}

// TestChaos runs contactsim against a routerd that is killed (SIGKILL)
// at random moments and started again on the same data directory,
// CHAOS_ROUNDS times (3; make chaos: 20), while every channel is busy:
// API contacts (retried with their Idempotency-Key), chats (resumed
// with their token), texts (Twilio's retries, out-of-order and
// repeated status callbacks), email (appended over IMAP to a Dovecot
// the test kills too, answered through an SMTP server the test stops),
// and agents whose desktops drop while an offer rings. Afterwards every
// contact and message routerd acknowledged is there exactly once, no
// contact of the run is there twice, no agent held more than its
// capacity, no offer rang for a contact that had ended, and every
// delivered status routerd took stays delivered. CHAOS_SEED replays
// a run's kill moments (the traffic's timing is the machine's).
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds routerd and kills it")
	}
	rounds := int(chaosEnv(t, "CHAOS_ROUNDS", 3))
	seed := chaosEnv(t, "CHAOS_SEED", uint64(time.Now().UnixNano()))
	t.Logf("CHAOS_SEED=%d CHAOS_ROUNDS=%d", seed, rounds)
	rng := mrand.New(mrand.NewPCG(seed, 0))

	dove := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	sink := emailtest.NewSMTPSink(t, "smtp-user", "smtp-pass")
	mailed := drainSink(sink)
	dir := t.TempDir()
	// routerd keeps its port across restarts: its clients, Twilio's
	// callbacks included, find it again there.
	listen := fmt.Sprintf("127.0.0.1:%d", freeLoopbackPort(t))
	base := "http://" + listen
	rd := &chaosRouterd{bin: buildRouterd(t, dir), logPath: filepath.Join(dir, "routerd.log")}
	tw := newTwilioStandIn(t, seed, base)
	rd.args = []string{"-config", writeChaosConfig(t, dir, dove.Addr, sink), "-listen", listen, "-data", filepath.Join(dir, "data")}
	rd.env = []string{"TWILIO_ACCOUNT_SID=" + testTwilioSID, "TWILIO_AUTH_TOKEN=" + testTwilioToken,
		"ROUTERD_PUBLIC_URL=" + testPublicURL, "ROUTERD_TWILIO_API_BASE_URL=" + tw.srv.URL}
	rd.start(t)
	if rd.base != base {
		t.Fatalf("routerd listens on %s, want %s", rd.base, base)
	}
	token, err := os.ReadFile(filepath.Join(dir, "data", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ParseScenario("chaos", []byte(chaosScenario))
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed = seed
	sim, err := NewSim(sc, Options{
		URL: base, Token: strings.TrimSpace(string(token)), PublicURL: testPublicURL,
		TwilioAccountSID: testTwilioSID, TwilioAuthToken: testTwilioToken, SMSReplies: true,
		IMAPAddr: dove.Addr, IMAPUser: "support", IMAPPassword: "s3cret", EmailReplies: true,
		Rate: 8, Drain: 40 * time.Second, Restarts: true, DropOnOffer: 0.1, DefaultCapacity: demoCapacity,
		BeforeCheck: func(ctx context.Context) error {
			return mailCaughtUp(ctx, dove.Addr, base)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	type result struct {
		sm  *Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sm, err := sim.Run(ctx)
		done <- result{sm, err}
	}()

	// waitProgress waits until routerd acknowledged n more contacts.
	waitProgress := func(n int64) {
		t.Helper()
		target := sim.n.acked.Load() + n
		deadline := time.Now().Add(progressWait)
		for sim.n.acked.Load() < target {
			select {
			case r := <-done:
				t.Fatalf("contactsim ended early: %v", r.err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d contacts acknowledged, want %d within %s; routerd's log:\n%s", sim.n.acked.Load(), target, progressWait, rd.logs)
			}
			time.Sleep(20 * time.Millisecond) // polling the customers' progress
		}
	}
	// moment waits a random time: when the next blow lands.
	moment := func() { time.Sleep(time.Duration(rng.Int64N(int64(time.Second)))) }

	start := time.Now()
	waitProgress(chaosProgress)
	for round := 1; round <= rounds; round++ {
		what := "routerd"
		switch round % 3 {
		case 1:
			// The IMAP server dies mid-stream: contactsim's appends and
			// routerd's fetcher lose their connections; routerd is
			// killed while it is down and comes back without it.
			what = "Dovecot, then routerd"
			dove.Kill()
			moment()
			rd.kill(t)
			rd.start(t)
			moment()
			dove.Start(t)
		case 2:
			// The SMTP server goes down while replies go out; routerd
			// is killed with replies in its outbox.
			what = "the SMTP server, then routerd"
			sink.Stop()
			moment()
			rd.kill(t)
			rd.start(t)
			moment()
			sink.Start(t)
		default:
			// Killed, and killed again while it restores its state.
			what = "routerd twice, the second time as it starts"
			rd.kill(t)
			rd.spawn(t)
			rd.kill(t)
			rd.start(t)
		}
		t.Logf("round %d (%s): killed %s, back in %s; %d contacts acknowledged so far", round, time.Since(start).Truncate(time.Millisecond), what,
			rd.restarts[len(rd.restarts)-1].Truncate(time.Millisecond), sim.n.acked.Load())
		waitProgress(chaosProgress)
		moment()
	}
	stop()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	tw.finish()
	sm, ck := r.sm, r.sm.Check
	if ck == nil {
		t.Fatalf("no check: errors %v", sm.ErrorKinds)
	}
	t.Logf("%d rounds in %s: %d contacts acknowledged of %d arrivals, %d of the run in routerd (%d answered, %d replied to, %d abandoned); %d offers dropped by a desktop, %d sockets reopened; refused %v",
		rounds, time.Since(start).Truncate(time.Second), sm.Acknowledged, sm.Arrivals, ck.Contacts, ck.Answered, ck.Replied, ck.Abandoned,
		sim.n.drops.Load(), sim.n.reconnects.Load(), sm.Refused)
	if ck.Failed() {
		t.Errorf("lost %d contacts and %d messages, duplicated %d contacts and %d messages, %d times over capacity, %d offers after the end: %v",
			ck.LostContacts, ck.LostMessages, ck.DuplicatedContacts, ck.DuplicatedMessages, ck.OverCapacity, ck.OffersAfterEnd, ck.Examples)
	}
	if sm.Errors != 0 {
		t.Errorf("got %d errors %v, want 0", sm.Errors, sm.ErrorKinds)
	}
	if sm.Acknowledged < int64(chaosProgress*(rounds+1)) || ck.Answered == 0 || ck.Replied == 0 {
		t.Errorf("got %d acknowledged, %d answered, %d replied to; want traffic through every round", sm.Acknowledged, ck.Answered, ck.Replied)
	}
	if sim.n.reconnects.Load() == 0 || sim.n.drops.Load() == 0 {
		t.Errorf("%d sockets reopened, %d dropped while an offer rang; want some of each", sim.n.reconnects.Load(), sim.n.drops.Load())
	}

	// Status callbacks: what routerd took as delivered stays delivered,
	// whatever came after it.
	tw.mu.Lock()
	delivered, stale, refused, created := len(tw.delivered), tw.stale, tw.refused, tw.created
	unknown, unknownThenKnown := len(tw.unknown), tw.unknownThenKnown
	tw.mu.Unlock()
	if unknownThenKnown > 0 {
		t.Errorf("%d status reports were taken after routerd had answered 404 for the same MessageSid", unknownThenKnown)
		t.Logf("what the stand-in saw:\n%s\nrouterd's log of the MessageSids it answered 404:\n%s", tw.histories(), grepLog(t, rd.logPath, tw.unknownSids()))
	}
	if delivered == 0 {
		t.Errorf("no status callback was taken (%d texts sent, refused %v)", created, refused)
	}
	wrong := 0
	for _, id := range chaosContactIDs(t, sim, "sms") {
		msgs, _, err := sim.contactMessages(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Direction == "out" && tw.delivered[m.ExternalID] && (m.Delivery == nil || m.Delivery.Status != "delivered") {
				wrong++
				if wrong <= 5 {
					t.Errorf("text %s of contact %s: routerd took delivered, holds %+v", m.ExternalID, id, m.Delivery)
				}
			}
		}
	}
	t.Logf("texts: %d sent to the stand-in, %d reported delivered, %d stale reports after it, %d MessageSids unknown to routerd, other answers %v; %d emails at the SMTP server",
		created, delivered, stale, unknown, refused, mailed.Load())
}

// chaosContactIDs lists the ids of routerd's contacts of one channel
// created since the run began.
func chaosContactIDs(t *testing.T, s *Sim, channel string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		q := url.Values{"limit": {"500"}, "channel": {channel}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Contacts []contactAnswer `json:"contacts"`
			Next     string          `json:"next"`
		}
		code, err := s.api(context.Background(), "GET", "/api/v1/contacts?"+q.Encode(), nil, nil, &page)
		if err != nil || code != http.StatusOK {
			t.Fatalf("list contacts: %d %v", code, err)
		}
		for _, c := range page.Contacts {
			if c.Channel == channel {
				ids = append(ids, c.ID)
			}
		}
		if page.Next == "" {
			return ids
		}
		cursor = page.Next
	}
}
