package dashboards

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Estimated waits, measured (docs/metrics.md, "Estimated wait").
//
// A customer told "about 2 minutes" should wait about 2 minutes. Waits
// tracks, from the router's event stream, the wait every estimator
// predicted for each contact when it entered its queue, and the wait
// the contact then had until an agent accepted it; per queue it keeps
// the last estimateSamples errors of each estimator, and the estimate
// shown (the board, GET /api/v1/queues, the chat's queue frame, the
// metrics) is the one of the estimator with the smallest errors (better).
// A contact abandoned (or moved to another queue) before it was answered
// has no actual wait to compare with and counts for no estimator.
//
// The estimators are those of the delay-announcement literature (Ibrahim
// and Whitt, "Real-time delay estimation in overloaded multiserver
// queues with abandonments", 2009), each answering 0 when an eligible
// agent is free and nobody is ahead, and nothing when no eligible agent
// works:
//
//   - pace: (ahead+1) × window ÷ answered in the window: the new contact
//     is answered with the (ahead+1)-th answer at the window's pace.
//     The first method, and the one used until the others have samples.
//   - queue-length (QL): (ahead+1) × mean handle time ÷ staffed agents:
//     an agent frees up every handle time ÷ staffed.
//   - last-to-enter-service (LES): the wait of the queue's contact
//     answered last.
//   - head-of-line (HOL): how long the first contact waiting has waited.
type Waits struct {
	// Router's snapshot gives the agents, Store the answers of the
	// window before the start (a restart keeps the pace).
	r      *router.Router
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	queues map[string]*queueWaits
	// pendingIn is the queue each pending contact waits in.
	pendingIn map[string]string
	// counts are each queue's eligible agents by state, read at most
	// once a LiveEvery (countsAt) from agents, which keeps them from the
	// router's batches (NotifyBatch): a read costs what changed since
	// the last, not the number of agents.
	counts   map[string]AgentCounts
	countsAt time.Time
	agents   *tally
	// st is what Seed read, read again at a Resync; guarded by mu.
	st WaitsStore
}

// Estimator names.
const (
	EstimatorPace        = "pace"
	EstimatorQueueLength = "queue_length"
	EstimatorLastService = "last_to_enter_service"
	EstimatorHeadOfLine  = "head_of_line"
)

// estimators are every estimator, the default first.
var estimators = []string{EstimatorPace, EstimatorQueueLength, EstimatorLastService, EstimatorHeadOfLine}

const (
	// estimateSamples is how many errors of each estimator a queue keeps.
	estimateSamples = 500
	// minSamples is how many an estimator needs before it may be chosen.
	minSamples = 20
)

// queueWaits is what Waits keeps of one queue.
type queueWaits struct {
	// pending are the contacts waiting, with what each estimator
	// predicted when they entered the queue; order is their arrival.
	pending map[string]*pendingWait
	order   []arrival
	// answers are the answers of the window (the wait of each), oldest
	// first; abandons the abandons (the wait before each); handles the
	// handle times of the contacts closed in it.
	answers  []timed
	abandons []timed
	handles  []timed
	// The window's figures, kept as answers and abandons come and go:
	// the sums, the counts against sl's thresholds, and the answered
	// waits by waitBucket (for their 90th percentile).
	handleSum, waitSum time.Duration
	inTime, short      int
	sl                 router.ServiceLevel
	hist               fenwick
	// errors are each estimator's last errors (estimate − actual), in
	// seconds, oldest first.
	errors map[string][]float64
	// acc is accuracy's result while errors did not change (nil: stale).
	acc *WaitAccuracy
}

// arrival is a contact's entry in a queue, in the order of arrivals; it
// is stale once the contact left, or entered again (its pending wait has
// another queuedAt).
type arrival struct {
	id       string
	queuedAt time.Time
}

type pendingWait struct {
	queuedAt time.Time
	preds    map[string]float64
}

// timed is one answer, abandon or handle time of the window: when (in
// Unix nanoseconds) and how long. Kept small: the window holds one per
// contact of the hour (at 200 contacts a second, 720,000 of each).
type timed struct {
	at int64
	d  time.Duration
}

func timedAt(t time.Time, d time.Duration) timed { return timed{t.UnixNano(), d} }

// NewWaits makes the tracker; seed it with Seed, then subscribe it to
// the router (it is a router.Notifier).
func NewWaits(r *router.Router, window time.Duration) *Waits {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Waits{r: r, window: window, now: time.Now, queues: map[string]*queueWaits{}, pendingIn: map[string]string{}, agents: newAgentTally()}
}

// WaitsStore is what Seed reads: store.DB.
type WaitsStore interface {
	ContactTimes(ctx context.Context, from, to time.Time) ([]store.ContactTimes, error)
}

// Seed reads the answers and handle times of the window before now, so
// that the pace and the handle time survive a restart. (The errors do
// not: they start again.) Seed before following the router's event
// stream: an answer is counted once because it is notified once, and the
// store read must not overlap the notifications. After a lost stream
// (Resync) the window is read again from st.
func (w *Waits) Seed(ctx context.Context, st WaitsStore) error {
	w.mu.Lock()
	w.st = st
	w.mu.Unlock()
	return w.seed(ctx, st, w.now())
}

// seed adds what st holds of the window before now.
func (w *Waits) seed(ctx context.Context, st WaitsStore, now time.Time) error {
	cts, err := st.ContactTimes(ctx, now.Add(-w.window), now)
	if err != nil {
		return err
	}
	slices.SortFunc(cts, func(a, b store.ContactTimes) int { return a.AssignedAt.Compare(b.AssignedAt) })
	w.mu.Lock()
	defer w.mu.Unlock()
	since := now.Add(-w.window)
	for _, c := range cts {
		if c.AssignedAt.IsZero() || c.AssignedAt.Before(since) {
			continue
		}
		q := w.queue(c.Queue)
		q.answer(c.QueuedAt, c.AssignedAt, since)
		if !c.EndedAt.IsZero() && c.EndedAt.After(c.AssignedAt) {
			q.addHandle(timedAt(c.EndedAt, c.EndedAt.Sub(c.AssignedAt)))
		}
	}
	for _, c := range cts {
		if c.State == router.ContactAbandoned {
			w.queue(c.Queue).abandon(c.QueuedAt, c.EndedAt, since)
		}
	}
	for _, q := range w.queues {
		slices.SortFunc(q.handles, func(a, b timed) int { return cmp.Compare(a.at, b.at) })
	}
	return nil
}

func (w *Waits) queue(name string) *queueWaits {
	q := w.queues[name]
	if q == nil {
		q = &queueWaits{pending: map[string]*pendingWait{}, errors: map[string][]float64{},
			hist: make(fenwick, int(w.window/waitBucket)+2)}
		w.queues[name] = q
	}
	return q
}

// NotifyBatch follows each contact's way through its queue, and the
// agents the batch touched (router.BatchNotifier: the router's event
// stream calls it).
func (w *Waits) NotifyBatch(p router.Published) {
	w.agents.touch(p.Touched)
	w.follow(p.Notes)
}

// Notify follows each contact's way through its queue; the agents'
// counts are read whole again, as it does not say what changed
// (router.Notifier).
func (w *Waits) Notify(ns []router.Notification) {
	w.agents.touchAll()
	w.follow(ns)
}

// follow follows each contact's way through its queue. A batch may take
// a contact through several states (created and offered at once,
// accepted and closed): only where each contact ended up counts, so that
// a contact offered as it was created is seen as such.
func (w *Waits) follow(ns []router.Notification) {
	type last struct {
		c     *router.Contact
		ended bool
	}
	var answered []*router.Contact // each NoteAssigned's own copy
	var order []string
	byID := map[string]*last{}
	for _, n := range ns {
		if n.Contact == nil {
			continue
		}
		l := byID[n.Contact.ID]
		if l == nil {
			l = &last{}
			byID[n.Contact.ID] = l
			order = append(order, n.Contact.ID)
		}
		l.c = n.Contact
		l.ended = l.ended || n.Kind == router.NoteContactEnded
		if n.Kind == router.NoteAssigned {
			answered = append(answered, n.Contact)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// Each answer as it was notified, whatever the contact did next in
	// the batch (transferred, closed): counted once, as it is notified
	// once.
	since := w.now().Add(-w.window)
	for _, c := range answered {
		w.queue(c.Queue).answer(c.QueuedAt, c.AssignedAt, since)
	}
	for _, id := range order {
		w.observe(byID[id].c, byID[id].ended)
	}
}

// Resync starts again after the event stream was lost: it forgets the
// waiting contacts, whose entries may have been missed, and reads the
// window's answers, abandons and handle times again from the store
// (Seed's), up to snap, so that those of the gap count; the estimators'
// errors stay. (A batch committed as the snapshot was taken may count
// twice: it is in the store and notified after it.)
func (w *Waits) Resync(snap *router.Snapshot) {
	w.agents.touchAll()
	w.mu.Lock()
	for _, q := range w.queues {
		clear(q.pending)
		q.order = q.order[:0]
	}
	clear(w.pendingIn)
	st := w.st
	if st != nil {
		for _, q := range w.queues {
			q.resetWindow()
		}
	}
	w.mu.Unlock()
	if st == nil || snap == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// On failure the window starts empty and fills as contacts come.
	_ = w.seed(ctx, st, snap.At)
}

// resetWindow forgets the window's answers, abandons and handle times.
func (q *queueWaits) resetWindow() {
	q.answers, q.abandons, q.handles = nil, nil, nil
	q.handleSum, q.waitSum, q.inTime, q.short = 0, 0, 0, 0
	clear(q.hist)
}

// forget ends contact id's pending wait, in whichever queue it is.
func (w *Waits) forget(id string) {
	if name, ok := w.pendingIn[id]; ok {
		delete(w.queues[name].pending, id)
		delete(w.pendingIn, id)
	}
}

// observe takes one notified state of c (ended when it ended).
func (w *Waits) observe(c *router.Contact, ended bool) {
	now := w.now()
	q := w.queue(c.Queue)
	p := q.pending[c.ID]
	if p == nil || !p.queuedAt.Equal(c.QueuedAt) {
		// Moved to another queue, or queued again (returned,
		// transferred): the wait it had ends without an answer.
		w.forget(c.ID)
		p = nil
	}
	switch c.State {
	case router.ContactQueued, router.ContactOffered:
		if p == nil && !c.QueuedAt.IsZero() {
			// Ahead: those waiting before it (first come, first served;
			// priorities are not looked at).
			in := q.inputs(len(q.pending), w.countsOf(c.Queue, now), w.window, now)
			if c.State == router.ContactOffered {
				// Offered as it arrived: an agent was free for it and
				// nobody went first (the counts, taken after, show the
				// agent busy with it).
				in.ahead, in.agents.Available = 0, max(in.agents.Available, 1)
			} else {
				in.queued = true
			}
			p = &pendingWait{queuedAt: c.QueuedAt, preds: map[string]float64{}}
			for _, e := range estimators {
				if v := estimateBy(e, in); v != nil {
					p.preds[e] = *v
				}
			}
			q.pending[c.ID] = p
			w.pendingIn[c.ID] = c.Queue
			q.order = append(q.order, arrival{c.ID, c.QueuedAt})
		}
	case router.ContactAssigned, router.ContactWrapUp, router.ContactClosed:
		if p != nil && !c.AssignedAt.IsZero() && !c.AssignedAt.Before(p.queuedAt) {
			actual := c.AssignedAt.Sub(p.queuedAt)
			for e, pred := range p.preds {
				errs := append(q.errors[e], pred-actual.Seconds())
				if len(errs) > estimateSamples {
					errs = errs[len(errs)-estimateSamples:]
				}
				q.errors[e] = errs
			}
			q.acc = nil
		}
		w.forget(c.ID)
		if ended && c.State == router.ContactClosed && !c.AssignedAt.IsZero() && c.EndedAt.After(c.AssignedAt) {
			q.addHandle(timedAt(c.EndedAt, c.EndedAt.Sub(c.AssignedAt)))
		}
	case router.ContactAbandoned: // no actual wait to compare with
		w.forget(c.ID)
		if ended {
			q.abandon(c.QueuedAt, c.EndedAt, now.Add(-w.window))
		}
	default:
		w.forget(c.ID)
	}
	q.trim(now.Add(-w.window))
}

// answer counts the answer of a contact which waited from queuedAt until
// assignedAt, if it is in the window (from since): the window's answers
// are every contact assigned in it, each time it is (a contact
// transferred and answered again counts again). Each answer is counted
// once because it is notified once (router.NoteAssigned), and Seed
// reads the store before the notifications start.
func (q *queueWaits) answer(queuedAt, assignedAt, since time.Time) {
	if assignedAt.IsZero() || assignedAt.Before(since) {
		return
	}
	t := timedAt(assignedAt, waitBetween(queuedAt, assignedAt))
	q.answers = insertTimed(q.answers, t)
	q.waitSum += t.d
	if answeredInTime(t.d, q.sl) {
		q.inTime++
	}
	q.hist.add(q.bucket(t.d), 1)
}

// abandon counts the abandon of a contact which waited from queuedAt
// until endedAt, if it is in the window: once, as it ends once.
func (q *queueWaits) abandon(queuedAt, endedAt, since time.Time) {
	if endedAt.IsZero() || endedAt.Before(since) {
		return
	}
	t := timedAt(endedAt, waitBetween(queuedAt, endedAt))
	q.abandons = insertTimed(q.abandons, t)
	if shortAbandon(t.d, q.sl) {
		q.short++
	}
}

// waitBetween is the wait from queuedAt (zero: none known) to end, as
// the store's QueueStats counts it.
func waitBetween(queuedAt, end time.Time) time.Duration {
	if queuedAt.IsZero() || end.Before(queuedAt) {
		return 0
	}
	return end.Sub(queuedAt)
}

// insertTimed adds t to ts, kept in the order of their times (nearly
// always at the end).
func insertTimed(ts []timed, t timed) []timed {
	i := len(ts)
	for i > 0 && ts[i-1].at > t.at {
		i--
	}
	return slices.Insert(ts, i, t)
}

// bucket is the histogram's bucket of a wait.
func (q *queueWaits) bucket(d time.Duration) int {
	return min(int(d/waitBucket), len(q.hist)-2)
}

// setServiceLevel counts the window's answers and abandons against sl's
// thresholds, again if they changed.
func (q *queueWaits) setServiceLevel(sl router.ServiceLevel) {
	if sl == q.sl {
		return
	}
	q.sl, q.inTime, q.short = sl, 0, 0
	for _, a := range q.answers {
		if answeredInTime(a.d, sl) {
			q.inTime++
		}
	}
	for _, a := range q.abandons {
		if shortAbandon(a.d, sl) {
			q.short++
		}
	}
}

// figures are q's window figures (after trim).
func (q *queueWaits) figures() WindowFigures {
	f := WindowFigures{Answered: len(q.answers), AnsweredInTime: q.inTime,
		Abandoned: len(q.abandons), ShortAbandoned: q.short, WaitSum: q.waitSum}
	if n := len(q.answers); n > 0 {
		f.WaitP90 = time.Duration(q.hist.kth(p90*(n-1)/100)) * waitBucket
	}
	return f
}

// Figures are every queue's figures over the window ending at snap.At,
// kept as contacts were answered and abandoned: what Queues computes
// from the store, at a cost that does not grow with the window's
// contacts (QueuesOf, NewBoardOf).
func (w *Waits) Figures(snap *router.Snapshot) map[string]WindowFigures {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]WindowFigures{}
	since := snap.At.Add(-w.window)
	for _, qu := range snap.Queues() {
		q := w.queue(qu.Name)
		q.trim(since)
		q.setServiceLevel(qu.ServiceLevel)
		out[qu.Name] = q.figures()
	}
	return out
}

// Window is the window Waits keeps.
func (w *Waits) Window() time.Duration { return w.window }

// fenwick counts items by bucket (a Fenwick tree, 1-based inside): add
// and kth in O(log buckets). Written here: the standard library has no
// order-statistic structure, and this one is twenty lines.
type fenwick []int32

func (f fenwick) add(bucket int, d int32) {
	for i := bucket + 1; i < len(f); i += i & -i {
		f[i] += d
	}
}

// kth is the bucket of the k-th smallest item (0-based); there must be
// more than k items.
func (f fenwick) kth(k int) int {
	pos, rem := 0, int32(k+1)
	step := 1
	for step*2 < len(f) {
		step *= 2
	}
	for ; step > 0; step /= 2 {
		if next := pos + step; next < len(f) && f[next] < rem {
			pos, rem = next, rem-f[next]
		}
	}
	return pos // 1-based index pos+1 holds it: bucket pos
}

// addHandle adds a handle time; handles stay in the order of their end
// (a contact closes after those closed before it).
func (q *queueWaits) addHandle(h timed) {
	q.handles = append(q.handles, h)
	q.handleSum += h.d
}

// trim drops what is older than since, and the order's ids no longer
// pending at its head.
func (q *queueWaits) trim(sinceT time.Time) {
	since := sinceT.UnixNano()
	i := 0
	for i < len(q.answers) && q.answers[i].at < since {
		a := q.answers[i]
		q.waitSum -= a.d
		if answeredInTime(a.d, q.sl) {
			q.inTime--
		}
		q.hist.add(q.bucket(a.d), -1)
		i++
	}
	q.answers = q.answers[i:]
	i = 0
	for i < len(q.abandons) && q.abandons[i].at < since {
		if shortAbandon(q.abandons[i].d, q.sl) {
			q.short--
		}
		i++
	}
	q.abandons = q.abandons[i:]
	i = 0
	for i < len(q.handles) && q.handles[i].at < since {
		q.handleSum -= q.handles[i].d
		i++
	}
	q.handles = q.handles[i:]
	q.head()
}

// head drops the stale arrivals at the front of order and returns the
// first contact waiting, nil when none.
func (q *queueWaits) head() *pendingWait {
	for len(q.order) > 0 {
		a := q.order[0]
		if p := q.pending[a.id]; p != nil && p.queuedAt.Equal(a.queuedAt) {
			return p
		}
		q.order = q.order[1:]
	}
	return nil
}

// waitInputs are what the estimators go by.
type waitInputs struct {
	// queued says the contact already waits: no eligible agent is free
	// for it (the router would have offered it), whatever the counts
	// say of agents free on other channels.
	queued   bool
	ahead    int
	agents   AgentCounts
	answered int
	window   time.Duration
	aht      time.Duration // 0: unknown
	lastWait *time.Duration
	head     *time.Duration // the first waiting contact's wait so far
}

// inputs are q's inputs now, with ahead contacts before a new one and
// agents its eligible agents by state.
func (q *queueWaits) inputs(ahead int, agents AgentCounts, window time.Duration, now time.Time) waitInputs {
	in := waitInputs{ahead: ahead, agents: agents, answered: len(q.answers), window: window}
	if n := len(q.handles); n > 0 {
		in.aht = q.handleSum / time.Duration(n)
	}
	if n := len(q.answers); n > 0 {
		in.lastWait = &q.answers[n-1].d
	}
	if p := q.head(); p != nil {
		d := now.Sub(p.queuedAt)
		in.head = &d
	}
	return in
}

// countsOf is queue name's agents by state, from a snapshot at
// most LiveEvery old.
func (w *Waits) countsOf(name string, now time.Time) AgentCounts {
	if w.counts == nil || now.Sub(w.countsAt) >= LiveEvery || now.Before(w.countsAt) {
		tc := w.agents.take() // before the snapshot: it holds what was taken
		w.agents.apply(w.r.Snapshot(), tc)
		w.counts = make(map[string]AgentCounts, len(w.agents.lines))
		for name, l := range w.agents.lines {
			n := l.agents
			n.AwayReasons = maps.Clone(n.AwayReasons) // its own: the tally changes its
			w.counts[name] = n
		}
		w.countsAt = now
	}
	return w.counts[name]
}

// estimateBy is estimator e's wait for in, nil when it cannot tell.
func estimateBy(e string, in waitInputs) *float64 {
	switch {
	case in.agents.Available > 0 && in.ahead == 0 && !in.queued:
		return ptr(0)
	case in.agents.staffed() == 0:
		return nil
	}
	switch e {
	case EstimatorPace:
		if in.answered == 0 || in.window <= 0 {
			return nil
		}
		return ptr(seconds(time.Duration(float64(in.ahead+1) * float64(in.window) / float64(in.answered))))
	case EstimatorQueueLength:
		if in.aht <= 0 {
			return nil
		}
		return ptr(seconds(time.Duration(float64(in.ahead+1) * float64(in.aht) / float64(in.agents.staffed()))))
	case EstimatorLastService:
		if in.lastWait == nil {
			return nil
		}
		return ptr(seconds(*in.lastWait))
	case EstimatorHeadOfLine:
		if in.head == nil {
			return nil
		}
		return ptr(seconds(*in.head))
	}
	return nil
}

// WaitAccuracy is how well a queue's estimated waits matched the actual
// ones: each estimator's errors, and the one chosen.
type WaitAccuracy struct {
	// Estimator is the one whose estimate is shown: the smallest 90th
	// percentile of the absolute error (then median) among those with
	// enough samples (20), else pace.
	Estimator  string              `json:"estimator"`
	Estimators []EstimatorAccuracy `json:"estimators"`
}

// EstimatorAccuracy is one estimator's errors over its last samples
// (up to 500 answered contacts): the median and 90th percentile of the
// absolute error, and the median signed error (positive: it says more
// than the customers waited).
type EstimatorAccuracy struct {
	Name               string   `json:"name"`
	Samples            int      `json:"samples"`
	MedianErrorSeconds *float64 `json:"median_error_seconds"`
	P90ErrorSeconds    *float64 `json:"p90_error_seconds"`
	BiasSeconds        *float64 `json:"bias_seconds"`
}

// accuracy is q's accuracy now.
func (q *queueWaits) accuracy() WaitAccuracy {
	if q.acc == nil {
		a := q.measure()
		q.acc = &a
	}
	return *q.acc
}

// measure computes accuracy's figures from the errors.
func (q *queueWaits) measure() WaitAccuracy {
	a := WaitAccuracy{Estimator: EstimatorPace}
	var best *EstimatorAccuracy
	for _, e := range estimators {
		errs := q.errors[e]
		ea := EstimatorAccuracy{Name: e, Samples: len(errs)}
		if len(errs) > 0 {
			abs := make([]float64, len(errs))
			signed := slices.Clone(errs)
			for i, v := range errs {
				abs[i] = max(v, -v)
			}
			slices.Sort(abs)
			slices.Sort(signed)
			ea.MedianErrorSeconds = ptr(round3(abs[(len(abs)-1)/2]))
			ea.P90ErrorSeconds = ptr(round3(abs[p90*(len(abs)-1)/100]))
			ea.BiasSeconds = ptr(round3(signed[(len(signed)-1)/2]))
			if len(errs) >= minSamples && (best == nil || better(ea, *best)) {
				best, a.Estimator = &ea, e
			}
		}
		a.Estimators = append(a.Estimators, ea)
	}
	return a
}

// Apply sets each view's estimated wait by the queue's chosen estimator
// and its WaitEstimate (the accuracy).
func (w *Waits) Apply(views []QueueView) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	for i := range views {
		v := &views[i]
		q := w.queue(v.Name)
		acc := q.accuracy()
		v.WaitEstimate = &acc
		v.EstimatedWaitSeconds = estimateBy(acc.Estimator, q.inputs(v.ahead, v.Agents, w.window, now))
	}
}

// EstimateFor is the wait of a contact waiting in queue v with ahead
// contacts before it, by the queue's chosen estimator (the chat's queue
// frame); without a Waits (nil), by pace over the view's window.
func (w *Waits) EstimateFor(v *QueueView, ahead int) *float64 {
	if v == nil || ahead < 0 {
		return nil
	}
	if w == nil {
		window := time.Duration(v.ServiceLevel.WindowSeconds * float64(time.Second))
		return estimateBy(EstimatorPace, waitInputs{queued: true, ahead: ahead, agents: v.Agents, answered: v.Answered, window: window})
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue(v.Name)
	in := q.inputs(ahead, v.Agents, w.window, w.now())
	in.queued = true
	return estimateBy(q.accuracy().Estimator, in)
}

// better says whether a was more accurate than b: a smaller 90th
// percentile of the absolute error, then a smaller median. The 90th
// percentile, because most answered contacts were told 0 and waited
// about nothing (an agent was free), whatever the estimator: the medians
// are alike, and the customers who wait are where the estimators differ.
func better(a, b EstimatorAccuracy) bool {
	if *a.P90ErrorSeconds != *b.P90ErrorSeconds {
		return *a.P90ErrorSeconds < *b.P90ErrorSeconds
	}
	return *a.MedianErrorSeconds < *b.MedianErrorSeconds
}

func round3(f float64) float64 { return seconds(time.Duration(f * float64(time.Second))) }
