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
	stats, err := s.Store.QueueStats(ctx, snap.At.Add(-window))
	if err != nil {
		return nil, fmt.Errorf("dashboards: queues: %w", err)
	}
	views := Queues(snap, stats, window)
	s.Waits.Apply(views)
	return views, nil
}

// Queues builds the view of every queue of snap, sorted by name. stats
// are the outcomes of the window ending at snap.At, as
// store.DB.QueueStats returns them; queues absent from stats had none.
// Queues reads only its arguments, and asks snap for the router's rules
// (who is eligible, free, working; what rank a new contact gets).
func Queues(snap *router.Snapshot, stats map[string]store.QueueStats, window time.Duration) []QueueView {
	queues := snap.Queues()
	sort.Slice(queues, func(i, j int) bool { return queues[i].Name < queues[j].Name })
	if len(queues) == 0 {
		return nil
	}
	agents := snap.Agents()
	contacts := snap.Contacts()
	views := make([]QueueView, 0, len(queues))
	for _, q := range queues {
		views = append(views, queueView(snap, q, agents, contacts, stats[q.Name], window))
	}
	return views
}

// queueView builds one queue's view at now.
func queueView(snap *router.Snapshot, q router.Queue, agents []router.Agent, contacts []router.Contact,
	st store.QueueStats, window time.Duration) QueueView {
	now := snap.At
	v := QueueView{
		Name:       q.Name,
		Definition: q,
		Answered:   st.Answered,
		Abandoned:  st.Abandoned,
		ServiceLevel: ServiceLevel{
			Target:        q.ServiceLevel.Target,
			WithinSeconds: seconds(q.ServiceLevel.Within.D()),
			WindowSeconds: seconds(window),
		},
	}

	// A new contact of priority 0 from a customer of no known value.
	newRank := snap.Rank(0, q, router.Customer{})
	ahead := 0
	var oldest time.Duration
	waits := false
	for i := range contacts {
		c := &contacts[i]
		if c.Queue != q.Name {
			continue
		}
		switch c.State {
		case router.ContactQueued:
			v.Waiting++
			if c.Rank >= newRank {
				ahead++
			}
		case router.ContactOffered:
			v.Offered++
		default:
			continue
		}
		waits = true
		if !c.EnqueuedAt.IsZero() {
			oldest = max(oldest, now.Sub(c.EnqueuedAt))
		}
	}
	if waits {
		v.OldestWaitSeconds = ptr(seconds(oldest))
	}

	v.Agents = agentCounts(snap, q, agents)

	achieved, short, ok := ServiceLevelOf(st.Waits, st.AbandonWaits, q.ServiceLevel)
	v.ShortAbandoned = short
	if ok {
		v.ServiceLevel.Achieved = ptr(achieved)
	}
	if n := len(st.Waits); n > 0 {
		var sum time.Duration
		for _, w := range st.Waits {
			sum += w
		}
		v.ASASeconds = ptr(seconds(sum / time.Duration(n)))
		v.WaitP90Seconds = ptr(seconds(st.Waits[p90*(n-1)/100]))
	}
	v.ahead = ahead
	v.EstimatedWaitSeconds = estimateBy(EstimatorPace, waitInputs{ahead: ahead, agents: v.Agents, answered: st.Answered, window: window})
	return v
}

// agentCounts splits the agents eligible for q by state.
func agentCounts(snap *router.Snapshot, q router.Queue, agents []router.Agent) AgentCounts {
	var n AgentCounts
	for i := range agents {
		a := &agents[i]
		if !a.Eligible(q.Requirements) {
			continue
		}
		switch a.State {
		case router.AgentAvailable:
			if snap.Free(*a) {
				n.Available++
			} else {
				n.Busy++
			}
		case router.AgentWrapUp:
			n.WrapUp++
		case router.AgentAway:
			n.Away++
		default:
			n.Offline++
		}
	}
	return n
}

// ServiceLevelOf is the service level of a queue's waits, the one
// definition the live page, the API, the reports and Prometheus share
// (docs/metrics.md): the answered within sl.Within ÷ (the answered + the
// abandoned after sl.ShortAbandon). waits are the answered contacts'
// waits, abandoned the abandoned contacts' (both in any order). short
// counts the abandons within sl.ShortAbandon; ok is false when nothing
// counts (no answer, no abandon past the threshold).
func ServiceLevelOf(waits, abandoned []time.Duration, sl router.ServiceLevel) (achieved float64, short int, ok bool) {
	within := 0
	for _, w := range waits {
		if w <= sl.Within.D() {
			within++
		}
	}
	for _, w := range abandoned {
		if sl.ShortAbandon > 0 && w <= sl.ShortAbandon.D() {
			short++
		}
	}
	n := len(waits) + len(abandoned) - short
	if n == 0 {
		return 0, short, false
	}
	return float64(within) / float64(n), short, true
}

// seconds is d in seconds, rounded to the millisecond.
func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

func ptr(f float64) *float64 { return &f }
