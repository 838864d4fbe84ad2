package dashboards

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// DefaultWindow is the statistics window of a Source whose Window is not
// positive.
const DefaultWindow = time.Hour

// p90 is the percentile reported as wait_p90_seconds.
const p90 = 90

// QueueView is one queue as a supervisor sees it: its definition, the
// contacts in it now, the agents who could serve it now, and its outcomes
// over the statistics window. Pointer fields are nil (JSON null) when
// there is nothing to compute them from. docs/metrics.md defines every
// field.
type QueueView struct {
	Name       string       `json:"name"`
	Definition router.Queue `json:"definition"`

	// Waiting counts the queue's contacts in state queued.
	Waiting int `json:"waiting"`
	// Offered counts the queue's contacts ringing at an agent.
	Offered int `json:"offered"`
	// OldestWaitSeconds is the longest current wait among the queued and
	// offered contacts, from EnqueuedAt to the snapshot; nil when there
	// are none.
	OldestWaitSeconds *float64 `json:"oldest_wait_seconds"`

	// Agents counts the agents eligible for the queue's requirements, by
	// what they are doing now.
	Agents AgentCounts `json:"agents"`

	ServiceLevel ServiceLevel `json:"service_level"`
	// Answered and Abandoned count the contacts whose wait ended in the
	// window.
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	// ShortAbandoned counts those of Abandoned within the queue's
	// short-abandon threshold, which no service level counts.
	ShortAbandoned int `json:"short_abandoned"`
	// ASASeconds is the mean wait of the contacts answered in the window;
	// nil when none was.
	ASASeconds *float64 `json:"asa_seconds"`
	// WaitP90Seconds is the 90th percentile of those waits (nearest rank,
	// rounding down); nil when none was answered.
	WaitP90Seconds *float64 `json:"wait_p90_seconds"`
	// EstimatedWaitSeconds is the expected wait of a contact of default
	// priority arriving now, by the queue's most accurate estimator
	// (Waits); nil when it cannot be estimated.
	EstimatedWaitSeconds *float64 `json:"estimated_wait_seconds"`
	// WaitEstimate is how accurate each estimator was (Waits.Apply); nil
	// without a Waits.
	WaitEstimate *WaitAccuracy `json:"wait_estimate,omitempty"`
	// Today is the queue's day so far, on the supervisors' board only
	// (computed once a minute, absent until then, and from the API).
	Today *QueueToday `json:"today,omitempty"`

	// ahead counts the contacts a new contact of default priority would
	// wait behind.
	ahead int
}

// AgentCounts splits the agents eligible for a queue by state. Each
// eligible agent is counted exactly once, so the fields add up to the
// number of eligible agents.
type AgentCounts struct {
	// Available agents could be offered a contact now: state available,
	// no offer ringing, and room on at least one channel.
	Available int `json:"available"`
	// Busy agents are in state available but have an offer ringing or
	// are at capacity on every channel.
	Busy    int `json:"busy"`
	WrapUp  int `json:"wrapup"`
	Away    int `json:"away"`
	Offline int `json:"offline"`
	// AwayReasons splits Away by the reason the agents gave ("" for
	// none); absent when nobody is away.
	AwayReasons map[string]int `json:"away_reasons,omitempty"`
}

// staffed counts the agents who are working: available, busy or in
// wrap-up (which ends by itself).
func (a AgentCounts) staffed() int { return a.Available + a.Busy + a.WrapUp }

// ServiceLevel is a queue's target and what it achieved in the window.
type ServiceLevel struct {
	// Target is the queue's target fraction (0.8 for 80 %).
	Target float64 `json:"target"`
	// WithinSeconds is the queue's answer-time threshold.
	WithinSeconds float64 `json:"within_seconds"`
	// Achieved is the fraction of the contacts whose wait ended in the
	// window (answered + abandoned) that were answered within
	// WithinSeconds; nil when no wait ended in the window.
	Achieved *float64 `json:"achieved"`
	// WindowSeconds is the statistics window.
	WindowSeconds float64 `json:"window_seconds"`
}

// Source serves the queue views of a running router. Its fields are set
// once; it is safe for concurrent use.
type Source struct {
	// Router gives the live state; never nil.
	Router *router.Router
	// Store gives the outcomes of the window; never nil.
	Store *store.DB
	// Window is how far back the statistics reach; DefaultWindow when
	// not positive.
	Window time.Duration
	// Waits chooses the estimated waits (Waits.Apply); nil estimates by
	// pace.
	Waits *Waits
}

// Queues returns a []QueueView for every queue, sorted by name: a
// snapshot of the router joined with the store's statistics since the
// snapshot's time minus the window.
func (s Source) Queues(ctx context.Context) (any, error) {
	return s.Views(ctx)
}

// Views is Queues, typed (the metrics read it).
func (s Source) Views(ctx context.Context) ([]QueueView, error) {
	window := s.Window
	if window <= 0 {
		window = DefaultWindow
	}
	snap := s.Router.Snapshot()
	var views []QueueView
	if s.Waits != nil {
		views = QueuesOf(snap, s.Waits.Figures(snap), s.Waits.Window())
	} else {
		stats, err := s.Store.QueueStats(ctx, snap.At.Add(-window))
		if err != nil {
			return nil, fmt.Errorf("dashboards: queues: %w", err)
		}
		views = Queues(snap, stats, window)
	}
	s.Waits.Apply(views)
	return views, nil
}

// Queues builds the view of every queue of snap, sorted by name. stats
// are the outcomes of the window ending at snap.At, as
// store.DB.QueueStats returns them; queues absent from stats had none.
// Queues reads only its arguments, and asks snap for the router's rules
// (who is eligible, free, working; what rank a new contact gets).
func Queues(snap *router.Snapshot, stats map[string]store.QueueStats, window time.Duration) []QueueView {
	return QueuesOf(snap, figuresFrom(snap, stats, window), window)
}

// figuresFrom are the window's figures of every queue of snap from the
// store's statistics.
func figuresFrom(snap *router.Snapshot, stats map[string]store.QueueStats, window time.Duration) map[string]WindowFigures {
	figures := map[string]WindowFigures{}
	for _, q := range snap.Queues() {
		figures[q.Name] = FiguresOf(stats[q.Name], q.ServiceLevel, window)
	}
	return figures
}

// QueuesOf is Queues with the window's figures of each queue (absent:
// none).
func QueuesOf(snap *router.Snapshot, figures map[string]WindowFigures, window time.Duration) []QueueView {
	queues := snap.Queues()
	sort.Slice(queues, func(i, j int) bool { return queues[i].Name < queues[j].Name })
	if len(queues) == 0 {
		return nil
	}
	agents := snap.Agents()
	contacts := snap.Contacts()
	views := make([]QueueView, 0, len(queues))
	for _, q := range queues {
		views = append(views, queueView(snap, q, agents, contacts, figures[q.Name], window))
	}
	return views
}

// queueView builds one queue's view at snap.At, counting its contacts
// and agents.
func queueView(snap *router.Snapshot, q router.Queue, agents []router.Agent, contacts []router.Contact,
	f WindowFigures, window time.Duration) QueueView {
	// A new contact of priority 0 from a customer of no known value.
	l := lineNow{newRank: snap.Rank(0, q, router.Customer{})}
	for i := range contacts {
		if c := &contacts[i]; c.Queue == q.Name {
			l.add(c, 1)
		}
	}
	return assembleQueue(q, l.figures(snap.At), agentCounts(snap, q, agents), f, window)
}

// line is what waits in a queue now: the contacts queued and offered,
// how many a new contact would wait behind, and how long the oldest has
// waited.
type line struct {
	waiting, offered, ahead int
	// oldest is the longest wait of the queued and offered; waits says
	// whether there is one.
	oldest time.Duration
	waits  bool
}

// lineNow counts a queue's contacts into its line: those kept by the
// board (tally) and those counted whole from a snapshot (queueView),
// by one rule.
type lineNow struct {
	newRank                 int // the rank of a new contact (Snapshot.Rank)
	waiting, offered, ahead int
	// earliest is the earliest EnqueuedAt of the counted contacts (with
	// one, for queueView; the tally keeps its own order of them).
	earliest time.Time
}

// waits says whether c is in its queue's line: queued or ringing.
func waits(c *router.Contact) bool {
	return c.State == router.ContactQueued || c.State == router.ContactOffered
}

// add counts c in (d = 1) or out (d = −1) of the line, if it waits.
func (l *lineNow) add(c *router.Contact, d int) {
	if !waits(c) {
		return
	}
	if c.State == router.ContactQueued {
		l.waiting += d
		if c.Rank >= l.newRank {
			l.ahead += d
		}
	} else {
		l.offered += d
	}
	if d > 0 && !c.EnqueuedAt.IsZero() && (l.earliest.IsZero() || c.EnqueuedAt.Before(l.earliest)) {
		l.earliest = c.EnqueuedAt
	}
}

// figures is the line at now, its oldest wait from earliest.
func (l *lineNow) figures(now time.Time) line {
	out := line{waiting: l.waiting, offered: l.offered, ahead: l.ahead, waits: l.waiting+l.offered > 0}
	if out.waits && !l.earliest.IsZero() {
		out.oldest = max(now.Sub(l.earliest), 0)
	}
	return out
}

// assembleQueue is the view of q from its line, its agents and its
// window's figures: one assembly for the board kept (tally) and the
// views built whole (QueuesOf).
func assembleQueue(q router.Queue, l line, agents AgentCounts, f WindowFigures, window time.Duration) QueueView {
	v := QueueView{
		Name:       q.Name,
		Definition: q,
		ServiceLevel: ServiceLevel{
			Target:        q.ServiceLevel.Target,
			WithinSeconds: seconds(q.ServiceLevel.Within.D()),
			WindowSeconds: seconds(window),
		},
		Waiting: l.waiting,
		Offered: l.offered,
		Agents:  agents,
	}
	if l.waits {
		v.OldestWaitSeconds = ptr(seconds(l.oldest))
	}
	v.Answered, v.Abandoned, v.ShortAbandoned = f.Answered, f.Abandoned, f.ShortAbandoned
	if achieved, ok := f.serviceLevel(); ok {
		v.ServiceLevel.Achieved = ptr(achieved)
	}
	if f.Answered > 0 {
		v.ASASeconds = ptr(seconds(f.WaitSum / time.Duration(f.Answered)))
		v.WaitP90Seconds = ptr(seconds(f.WaitP90))
	}
	v.ahead = l.ahead
	v.EstimatedWaitSeconds = estimateBy(EstimatorPace, waitInputs{ahead: l.ahead, agents: v.Agents, answered: f.Answered, window: window})
	return v
}

// WindowFigures are what a queue's view needs of its outcomes in the
// window: computed from the store's QueueStats (FiguresOf), or kept as
// they happen (Waits.Figures). Either way by the rules below, one
// definition.
type WindowFigures struct {
	// Answered counts the contacts answered; AnsweredInTime those of
	// them within the service level's threshold (answeredInTime).
	Answered, AnsweredInTime int
	// Abandoned counts the contacts abandoned; ShortAbandoned those of
	// them within the short-abandon threshold (shortAbandon).
	Abandoned, ShortAbandoned int
	// WaitSum is the sum of the answered contacts' waits; WaitP90 their
	// 90th percentile (nearest rank, rounding down), truncated to
	// waitBucket and at most the window.
	WaitSum, WaitP90 time.Duration
}

// waitBucket is the resolution of the 90th percentile of waits.
const waitBucket = 100 * time.Millisecond

// answeredInTime says whether a wait counts as answered in time.
func answeredInTime(wait time.Duration, sl router.ServiceLevel) bool { return wait <= sl.Within.D() }

// shortAbandon says whether an abandon after wait is a short one, which
// no service level counts.
func shortAbandon(wait time.Duration, sl router.ServiceLevel) bool {
	return sl.ShortAbandon > 0 && wait <= sl.ShortAbandon.D()
}

// serviceLevel is the answered in time ÷ (the answered + the abandoned
// after the short-abandon threshold); ok is false when nothing counts.
func (f WindowFigures) serviceLevel() (achieved float64, ok bool) {
	n := f.Answered + f.Abandoned - f.ShortAbandoned
	if n == 0 {
		return 0, false
	}
	return float64(f.AnsweredInTime) / float64(n), true
}

// ServiceLevel is f's service level by the rule of ServiceLevelOf, for
// figures that may be summed over queues (each contact counted against
// its own queue's thresholds); ok is false when nothing counts.
func (f WindowFigures) ServiceLevel() (achieved float64, ok bool) { return f.serviceLevel() }

// FiguresOf computes a queue's figures from the store's statistics of
// the window (st.Waits sorted ascending, as QueueStats returns them).
func FiguresOf(st store.QueueStats, sl router.ServiceLevel, window time.Duration) WindowFigures {
	f := figuresOf(st.Waits, st.AbandonWaits, sl)
	if n := len(st.Waits); n > 0 {
		f.WaitP90 = min(st.Waits[p90*(n-1)/100], window).Truncate(waitBucket)
	}
	return f
}

// figuresOf counts answered waits and abandoned waits (any order) by
// the service level's rules; WaitP90 is left to the caller.
func figuresOf(waits, abandoned []time.Duration, sl router.ServiceLevel) WindowFigures {
	f := WindowFigures{Answered: len(waits), Abandoned: len(abandoned)}
	for _, w := range waits {
		f.WaitSum += w
		if answeredInTime(w, sl) {
			f.AnsweredInTime++
		}
	}
	for _, w := range abandoned {
		if shortAbandon(w, sl) {
			f.ShortAbandoned++
		}
	}
	return f
}

// agentCounts splits the agents eligible for q by state.
func agentCounts(snap *router.Snapshot, q router.Queue, agents []router.Agent) AgentCounts {
	var n AgentCounts
	for i := range agents {
		if a := &agents[i]; a.Eligible(q.Requirements) {
			n.add(classOf(snap, a), a.Reason, 1)
		}
	}
	return n
}

// agentClass is what an agent counts as in its queues' AgentCounts.
type agentClass uint8

const (
	classAvailable agentClass = iota
	classBusy
	classWrapUp
	classAway
	classOffline
)

// classOf is how a counts in the queues it is eligible for.
func classOf(snap *router.Snapshot, a *router.Agent) agentClass {
	switch a.State {
	case router.AgentAvailable:
		if snap.Free(*a) {
			return classAvailable
		}
		return classBusy
	case router.AgentWrapUp:
		return classWrapUp
	case router.AgentAway:
		return classAway
	}
	return classOffline
}

// add counts d agents of class c (away for reason).
func (n *AgentCounts) add(c agentClass, reason string, d int) {
	switch c {
	case classAvailable:
		n.Available += d
	case classBusy:
		n.Busy += d
	case classWrapUp:
		n.WrapUp += d
	case classAway:
		n.Away += d
		if n.AwayReasons == nil {
			n.AwayReasons = map[string]int{}
		}
		if n.AwayReasons[reason] += d; n.AwayReasons[reason] == 0 {
			delete(n.AwayReasons, reason)
		}
		if len(n.AwayReasons) == 0 {
			n.AwayReasons = nil
		}
	default:
		n.Offline += d
	}
}

// ServiceLevelOf is the service level of a queue's waits, the one
// definition the live page, the API, the reports and Prometheus share
// (docs/metrics.md): the answered within sl.Within ÷ (the answered + the
// abandoned after sl.ShortAbandon). waits are the answered contacts'
// waits, abandoned the abandoned contacts' (both in any order). short
// counts the abandons within sl.ShortAbandon; ok is false when nothing
// counts (no answer, no abandon past the threshold).
func ServiceLevelOf(waits, abandoned []time.Duration, sl router.ServiceLevel) (achieved float64, short int, ok bool) {
	f := figuresOf(waits, abandoned, sl)
	achieved, ok = f.serviceLevel()
	return achieved, f.ShortAbandoned, ok
}

// seconds is d in seconds, rounded to the millisecond.
func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

func ptr(f float64) *float64 { return &f }
