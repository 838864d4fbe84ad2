package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/nextbest"
)

// Timing of the run's phases and requests.
const (
	// requestTimeout bounds one HTTP request to routerd.
	requestTimeout = 15 * time.Second
	// httpAttempts is how often a customer's request is sent before it
	// counts as an error (a retry carries the same Idempotency-Key or
	// MessageSid, so it is safe).
	httpAttempts = 3
	// retryPause is the pause before the next attempt.
	retryPause = 200 * time.Millisecond
	// progressEvery is how often the progress line is drawn.
	progressEvery = time.Second
	// lookupWorkers fetch known customers and, at the end, contacts.
	lookupWorkers = 8
	// restartWait is how long, with Options.Restarts, a request is
	// retried and a socket reconnected before it counts as an error: a
	// killed routerd's restart, its store's recovery included.
	restartWait = 45 * time.Second
)

// Options is how contactsim runs; the zero value of a field means its
// default.
type Options struct {
	// URL is routerd's base URL; PublicURL the one Twilio's signatures
	// are over (default URL).
	URL, PublicURL string
	// Token is an admin or integration token (contacts, the final check).
	Token string
	// TwilioAccountSID and TwilioAuthToken sign the texts; without the
	// token the scenario's SMS streams are skipped.
	TwilioAccountSID, TwilioAuthToken string
	// AgentPassword overrides the scenario's agents.password.
	AgentPassword string
	// Duration of the arrivals; 0 runs until ctx ends.
	Duration time.Duration
	// Rate, when ≥ 0, replaces the scenario's rate and profile: a
	// constant Rate arrivals a second.
	Rate float64
	// Drain bounds the time given to contacts in flight after the
	// arrivals stop (default 20s).
	Drain time.Duration
	// SLWithin is the service level's threshold (default 20s).
	SLWithin time.Duration
	// IMAPAddr (host:port), IMAPUser, IMAPPassword and IMAPFolder name
	// the mailbox routerd reads (its email.mailboxes[]); IMAPTLS dials
	// TLS. EmailTo is the address written to. Without IMAPAddr the
	// scenario's email streams are skipped.
	IMAPAddr, IMAPUser, IMAPPassword, IMAPFolder, EmailTo string
	IMAPTLS                                               bool
	// SMSReplies lets agents answer texts (they go out through routerd's
	// Twilio account: only against a stand-in or a test account).
	SMSReplies bool
	// EmailReplies lets agents answer email (sent by routerd's SMTP:
	// only with a sink or a test account).
	EmailReplies bool
	// Restarts says routerd may be killed and restarted during the run
	// (the chaos test): requests are retried and sockets reconnected for
	// up to restartWait (a chat resumes its conversation with its token,
	// an agent logs in again if its session is gone), and a request cut
	// by a restart is refused, not an error: only what routerd
	// acknowledged must be there, once.
	Restarts bool
	// DropOnOffer is the share of offers at which the agent's desktop
	// drops its socket while the offer rings, then reconnects (with
	// Restarts only): routerd must offer the contact again elsewhere.
	DropOnOffer float64
	// Viewers is how many supervisors watch the live board over
	// /ws/dashboard during the run (the token must be an admin's):
	// the summary's "board" says how far behind it was.
	Viewers int
	// DefaultCapacity is routerd's routing.capacity (channel → contacts),
	// for the check that no agent held more than its capacity; an agent's
	// own capacity overrides it. nil: only the channels an agent's own
	// capacity names are checked.
	DefaultCapacity map[string]int
	// BeforeCheck, when set, runs after the drain and before the check:
	// the chaos test waits there for routerd to have read every mail the
	// IMAP server acknowledged. An error is counted as one.
	BeforeCheck func(context.Context) error
	// Progress receives the progress line (nil: none); TTY draws it in
	// place.
	Progress io.Writer
	TTY      bool
}

// tagRE finds contactsim's tag in a message: [sim RUN-N.K], K the
// customer's message number or rK an agent's reply.
var tagRE = regexp.MustCompile(`\[sim ([a-z0-9]+-[0-9]+)\.(r?[0-9]+)\]`)

// parseTag returns the contact tag and the message tag in body.
func parseTag(body string) (contact, msg string, ok bool) {
	m := tagRE.FindStringSubmatch(body)
	if m == nil {
		return "", "", false
	}
	return m[1], m[1] + "." + m[2], true
}

// Sim is one run. Its methods are safe for concurrent use.
type Sim struct {
	opts  Options
	sc    *Scenario
	runID string
	// numberBase makes the run's texters' numbers its own.
	numberBase int
	http       *http.Client
	start      time.Time
	arr        *Arrivals
	// seed and seq derive each goroutine's own random source.
	seed uint64
	seq  atomic.Uint64
	// draining is closed when the arrivals stop: waiting customers
	// leave, agents finish at once.
	draining chan struct{}

	mu       sync.Mutex
	contacts map[string]*simContact // by contact tag; guarded by mu
	ackedMsg map[string]bool        // message tags routerd acknowledged; guarded by mu
	replyAt  map[string]time.Time   // agent reply tag → when sent; guarded by mu
	errs     map[string]int         // by kind; guarded by mu
	refused  map[string]int         // expected refusals by kind; guarded by mu
	odd      map[string]int         // anomalies of routerd's by kind; guarded by mu
	known    []*knownCustomer       // never changed after setup
	skipped  []string               // what the run could not do, said in the summary

	// mailbox appends the email customers' mail; nil without -imap-addr.
	mailbox *mailbox

	customers sync.WaitGroup
	handling  sync.WaitGroup
	agents    []*agentConn

	srcAddr atomic.Uint32 // next loopback source address for chats
	// replySeq numbers the agents' replies: a contact handled again
	// after a reconnect never reuses a reply's tag.
	replySeq atomic.Int64
	// seen is every offer an agent's socket received; guarded by mu.
	seen []seenOffer

	popLat, replyLat, waitLat Latencies
	n                         counters
	// boards are the board's viewers (Options.Viewers); nil without.
	boards *viewers
	offers offerStats
}

// counters are the run's counts.
type counters struct {
	arrivals, acked, offered, answered, answeredInSL, abandoned, declined, withdrawn, closed atomic.Int64
	messages, replies                                                                        atomic.Int64
	// drops are the agents' sockets dropped while an offer rang
	// (DropOnOffer); reconnects the sockets opened again after a drop.
	drops, reconnects atomic.Int64
}

// offerStats is what the screen pops offered and how customers took it.
type offerStats struct {
	mu                    sync.Mutex
	pops                  int     // pops with at least one offer; guarded by mu
	learned, random, best float64 // sums of true acceptance; guarded by mu
	recorded, accepted    int     // outcomes sent; guarded by mu
	violations            map[string]int
	withheld              map[string]int
}

// simContact is one simulated customer's contact.
type simContact struct {
	tag, channel, queue string
	customer            *knownCustomer // nil for a stranger
	complaining         bool

	mu         sync.Mutex
	sentAt     time.Time // when the first message was sent; guarded by mu
	id         string    // guarded by mu
	acked      bool      // guarded by mu
	offeredAt  time.Time // guarded by mu
	assignedAt time.Time // guarded by mu
	abandoned  bool      // guarded by mu
	// waited: routerd said the contact waits in its queue (the API's
	// answer "queued", a chat queue position of 1 or more) before an
	// agent was offered it: its screen pop's latency includes the wait.
	waited   bool // guarded by mu
	assigned chan struct{}
	ended    chan struct{}
	endOnce  sync.Once
}

// seenOffer is an offer as an agent's socket received it.
type seenOffer struct {
	agent, contact string
	at             time.Time
}

// knownCustomer is a profile routerd holds, as read at the start.
type knownCustomer struct {
	id, email, phone, segment string
	// marketing and profiling are the profile's consent (false when
	// refused or unknown).
	marketing, profiling bool
	// optedOut: the customer texted STOP during this run.
	optedOut atomic.Bool
}

// NewSim prepares a run of sc.
func NewSim(sc *Scenario, opts Options) (*Sim, error) {
	if opts.URL == "" {
		return nil, fmt.Errorf("contactsim: -url is required")
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("contactsim: -url %q: want http(s)://host:port", opts.URL)
	}
	opts.URL = strings.TrimSuffix(opts.URL, "/")
	if opts.PublicURL == "" {
		opts.PublicURL = opts.URL
	}
	opts.PublicURL = strings.TrimSuffix(opts.PublicURL, "/")
	if opts.IMAPFolder == "" {
		opts.IMAPFolder = "INBOX"
	}
	if opts.EmailTo == "" {
		opts.EmailTo = "support@example.com"
	}
	if opts.Token == "" {
		return nil, fmt.Errorf("contactsim: no token: give -token, -token-file or CONTACTSIM_TOKEN (make run writes data/admin-token)")
	}
	if opts.Drain <= 0 {
		opts.Drain = 20 * time.Second
	}
	if opts.SLWithin <= 0 {
		opts.SLWithin = 20 * time.Second
	}
	if opts.Rate >= 0 {
		// A rate given on the command line is the rate: constant, the
		// profile left aside.
		sc.Rate, sc.Profile = opts.Rate, nil
	}
	var b [5]byte
	rand.Read(b[:])
	seed := sc.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	s := &Sim{
		opts: opts, sc: sc, seed: seed,
		runID:      strings.ToLower(base32.StdEncoding.EncodeToString(b[:])),
		numberBase: int(b[0])<<8 | int(b[1]),
		draining:   make(chan struct{}),
		contacts:   map[string]*simContact{}, ackedMsg: map[string]bool{}, replyAt: map[string]time.Time{},
		errs: map[string]int{}, refused: map[string]int{}, odd: map[string]int{},
		http: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{
			MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second,
		}},
	}
	s.offers.violations, s.offers.withheld = map[string]int{}, map[string]int{}
	return s, nil
}

// rng returns a new random source of the run's seed.
func (s *Sim) rng() *mrand.Rand {
	return mrand.New(mrand.NewPCG(s.seed, s.seq.Add(1)))
}

// fail counts an unexpected failure.
func (s *Sim) fail(kind string) {
	s.mu.Lock()
	s.errs[kind]++
	s.mu.Unlock()
}

// refuse counts an expected refusal (the daemon said no, as documented).
func (s *Sim) refuse(kind string) {
	s.mu.Lock()
	s.refused[kind]++
	s.mu.Unlock()
}

// anomaly counts something routerd did that it should not have, but
// which lost or duplicated nothing (the summary lists them apart).
func (s *Sim) anomaly(kind string) {
	s.mu.Lock()
	s.odd[kind]++
	s.mu.Unlock()
}

func (s *Sim) ackMessage(tag string) {
	s.mu.Lock()
	s.ackedMsg[tag] = true
	s.mu.Unlock()
}

// retry calls try until it reports done: httpAttempts times, or with
// Restarts for up to restartWait. It reports whether try succeeded.
func (s *Sim) retry(try func() bool) bool {
	deadline := time.Now().Add(restartWait)
	for attempt := 1; ; attempt++ {
		if try() {
			return true
		}
		if s.opts.Restarts && time.Now().After(deadline) || !s.opts.Restarts && attempt >= httpAttempts {
			return false
		}
		time.Sleep(retryPause) // a retry's back-off, not a synchronisation
	}
}

// cut counts a failure that a restart explains, with Restarts, as a
// refusal: what routerd did not acknowledge may be missing. Without
// Restarts it is an error.
func (s *Sim) cut(kind string) {
	if s.opts.Restarts {
		s.refuse(kind + " (cut by a restart)")
		return
	}
	s.fail(kind)
}

// contact returns the simulated contact of a contact tag, or nil.
func (s *Sim) contact(tag string) *simContact {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.contacts[tag]
}

func (c *simContact) markAcked(id string) {
	c.mu.Lock()
	c.acked = true
	if id != "" {
		c.id = id
	}
	c.mu.Unlock()
}

// sent notes that the customer's first message is being sent now.
func (c *simContact) sent() {
	c.mu.Lock()
	c.sentAt = time.Now()
	c.mu.Unlock()
}

func (c *simContact) end() { c.endOnce.Do(func() { close(c.ended) }) }

// Run plays the scenario until ctx ends or the duration is over, lets
// what is in flight finish, checks what routerd holds, and returns the
// summary.
func (s *Sim) Run(ctx context.Context) (*Summary, error) {
	if err := s.checkDaemon(ctx); err != nil {
		return nil, err
	}
	s.loadKnown(ctx)
	if s.opts.IMAPAddr != "" {
		mb, err := openMailbox(s.opts)
		if err != nil {
			return nil, err
		}
		s.mailbox = mb
		defer mb.close()
	}
	if s.opts.Viewers > 0 {
		// Before the agents, whose goroutines tell it their offers.
		v, err := s.openViewers(ctx, s.opts.Viewers)
		if err != nil {
			return nil, err
		}
		s.boards = v
	}
	if err := s.startAgents(ctx); err != nil {
		s.stopAgents()
		if s.boards != nil {
			s.boards.close()
		}
		return nil, err
	}
	s.optOut(ctx)
	startHour := float64(time.Now().UTC().Hour()) + float64(time.Now().UTC().Minute())/60
	if s.sc.StartHour != nil {
		startHour = *s.sc.StartHour
	}
	s.arr = NewArrivals(s.rng(), s.sc.Rate, s.sc.Profile, s.sc.Day.D(), startHour)
	s.start = time.Now()

	runCtx := ctx
	if s.opts.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, s.opts.Duration)
		defer cancel()
	}
	progressDone := make(chan struct{})
	progressStop := make(chan struct{})
	go s.progress(progressStop, progressDone)
	go s.shifts(runCtx)
	s.arrive(runCtx)
	arrivalsEnd := time.Now()

	// The arrivals stopped: customers still waiting leave, agents wrap
	// up what they hold, within the drain.
	close(s.draining)
	drained := make(chan struct{})
	go func() { s.customers.Wait(); s.handling.Wait(); close(drained) }()
	drainTimer := time.NewTimer(s.opts.Drain)
	select {
	case <-drained:
	case <-drainTimer.C:
		s.refuse("drain: contacts still in flight when the drain ended")
	}
	drainTimer.Stop()
	close(progressStop)
	<-progressDone
	s.optIn(context.WithoutCancel(ctx))
	s.stopAgents()
	if s.boards != nil {
		s.boards.close()
	}
	if s.opts.BeforeCheck != nil {
		if err := s.opts.BeforeCheck(context.WithoutCancel(ctx)); err != nil {
			s.fail("before the check: " + err.Error())
		}
	}
	check, err := s.verify(context.WithoutCancel(ctx))
	if err != nil {
		s.fail("verify: " + err.Error())
	}
	return s.summary(arrivalsEnd.Sub(s.start), check), nil
}

// checkDaemon makes sure routerd answers and the token is good.
func (s *Sim) checkDaemon(ctx context.Context) error {
	code, err := s.api(ctx, "GET", "/api/v1/queues", nil, nil, nil)
	if err != nil {
		return fmt.Errorf("contactsim: routerd at %s: %w", s.opts.URL, err)
	}
	if code == http.StatusUnauthorized || code == http.StatusForbidden {
		return fmt.Errorf("contactsim: routerd at %s refused the token (%d): give an admin or integration token", s.opts.URL, code)
	}
	if code != http.StatusOK {
		return fmt.Errorf("contactsim: routerd at %s: GET /api/v1/queues answered %d", s.opts.URL, code)
	}
	return nil
}

// arrive starts each arrival's customer at its time until ctx ends.
func (s *Sim) arrive(ctx context.Context) {
	rng := s.rng()
	n := 0
	for {
		at, ok := s.arr.Next()
		if !ok {
			<-ctx.Done()
			return
		}
		t := time.NewTimer(time.Until(s.start.Add(at)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		n++
		st := s.sc.Streams[pickStream(rng, s.sc.Streams)]
		if st.Channel == channelSMS && s.opts.TwilioAuthToken == "" || st.Channel == channelEmail && s.mailbox == nil {
			continue // said in the summary (startAgents notes it)
		}
		c := &simContact{
			tag: fmt.Sprintf("%s-%d", s.runID, n), channel: st.Channel, queue: st.Queue,
			complaining: rng.Float64() < s.sc.Customers.Complaints,
			assigned:    make(chan struct{}), ended: make(chan struct{}),
		}
		if st.Channel != channelChat && len(s.known) > 0 && rng.Float64() < s.sc.Customers.Known {
			c.customer = s.known[rng.IntN(len(s.known))]
		}
		s.mu.Lock()
		s.contacts[c.tag] = c
		s.mu.Unlock()
		s.n.arrivals.Add(1)
		s.customers.Add(1)
		// A customer who came finishes their business after the
		// arrivals end (the drain bounds it).
		ctx := context.WithoutCancel(ctx)
		go func() {
			defer s.customers.Done()
			switch st.Channel {
			case channelAPI:
				s.apiCustomer(ctx, c, st)
			case channelChat:
				s.chatCustomer(ctx, c, st)
			case channelSMS:
				s.smsCustomer(ctx, c, st)
			case channelEmail:
				s.emailCustomer(ctx, c, st)
			}
		}()
	}
}

// firstMessage is the customer's first message, tagged.
func (c *simContact) firstMessage(rng *mrand.Rand) string {
	if c.complaining {
		return fmt.Sprintf("[sim %s.0] I was charged twice for the same order, please fix it.", c.tag)
	}
	questions := []string{
		"Can I pay my invoice in instalments?",
		"How do I change the address on my account?",
		"Which plan is best for a family of four?",
		"My parcel has not arrived yet, where is it?",
		"Is there a student discount?",
	}
	return fmt.Sprintf("[sim %s.0] %s", c.tag, questions[rng.IntN(len(questions))])
}

// waitAssigned waits for an agent to take the contact, the customer's
// patience, the drain or ctx; it reports whether an agent took it.
func (s *Sim) waitAssigned(c *simContact, patience time.Duration) bool {
	t := time.NewTimer(patience)
	defer t.Stop()
	select {
	case <-c.assigned:
		return true
	case <-c.ended:
		return false
	case <-t.C:
	case <-s.draining:
	}
	select {
	case <-c.assigned:
		return true
	default:
		return false
	}
}

// pause waits d, or less if the run drains or the contact ends; it
// reports whether the whole time passed.
func (s *Sim) pause(c *simContact, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ended:
	case <-s.draining:
	}
	return false
}

// progress draws the progress line until stop is closed.
func (s *Sim) progress(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if s.opts.Progress == nil {
		return
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			if s.opts.TTY {
				fmt.Fprintln(s.opts.Progress)
			}
			return
		case <-tick.C:
		}
		if !s.opts.TTY && time.Since(last) < 5*progressEvery {
			continue
		}
		last = time.Now()
		p := s.popLat.Percentiles(50, 99)
		s.mu.Lock()
		errs := 0
		for _, n := range s.errs {
			errs += n
		}
		s.mu.Unlock()
		elapsed := time.Since(s.start).Truncate(time.Second)
		line := fmt.Sprintf("%s %5.1f/s (h%02d) arrived %d acked %d offered %d answered %d abandoned %d closed %d pop p50 %.1fms p99 %.1fms errors %d",
			elapsed, s.arr.RateAt(time.Since(s.start)), int(s.arr.HourAt(time.Since(s.start))),
			s.n.arrivals.Load(), s.n.acked.Load(), s.n.offered.Load(), s.n.answered.Load(), s.n.abandoned.Load(), s.n.closed.Load(),
			ms(p[0]), ms(p[1]), errs)
		if s.opts.TTY {
			fmt.Fprintf(s.opts.Progress, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(s.opts.Progress, line)
		}
	}
}

// demoAcceptance is the true acceptance of the demo's offers.
var demoAcceptance = nextbest.SyntheticAcceptance

// nextLoopback returns the next loopback source address for a chat
// socket (127.0.0.2 upward), so that many customers on one machine are
// many clients to routerd's per-address limits, as they are in life.
func (s *Sim) nextLoopback() net.IP {
	n := s.srcAddr.Add(1)
	// 127.0.0.2 … 127.255.255.254, skipping .0 and .255 endings.
	v := 2 + n%(1<<24-4)
	ip := net.IPv4(127, byte(v>>16), byte(v>>8), byte(v))
	if ip[15] == 0 || ip[15] == 255 {
		ip[15] = 1
	}
	return ip
}
