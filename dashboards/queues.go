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
	// priority arriving now; nil when it cannot be estimated. See
	// estimateWait for the method.
	EstimatedWaitSeconds *float64 `json:"estimated_wait_seconds"`
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
	return Queues(snap, stats, window), nil
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

	for i := range agents {
		a := &agents[i]
		if !a.Eligible(q.Requirements) {
			continue
		}
		switch a.State {
		case router.AgentAvailable:
			if snap.Free(*a) {
				v.Agents.Available++
			} else {
				v.Agents.Busy++
			}
		case router.AgentWrapUp:
			v.Agents.WrapUp++
		case router.AgentAway:
			v.Agents.Away++
		default:
			v.Agents.Offline++
		}
	}

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
	v.EstimatedWaitSeconds = estimateWait(ahead, v.Agents, st.Answered, window)
	return v
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

// estimateWait is the expected wait of a contact arriving now behind
// ahead contacts, or nil when it cannot be told:
//
//   - 0 when an eligible agent is free now and nobody is ahead: the router
//     offers a new contact at once.
//   - nil when no eligible agent is working (all away or offline): nobody
//     is there to answer, however fast the queue was.
//   - nil when no contact was answered in the window (or the window is
//     not positive): there is no pace to go by.
//   - otherwise (ahead+1) × window / answered: the new contact is answered
//     with the (ahead+1)-th answer from now, and answers are assumed to
//     keep the window's average pace.
func estimateWait(ahead int, agents AgentCounts, answered int, window time.Duration) *float64 {
	switch {
	case agents.Available > 0 && ahead == 0:
		return ptr(0)
	case agents.staffed() == 0, answered == 0, window <= 0:
		return nil
	}
	return ptr(seconds(time.Duration(float64(ahead+1) * float64(window) / float64(answered))))
}

// seconds is d in seconds, rounded to the millisecond.
func seconds(d time.Duration) float64 {
	return math.Round(d.Seconds()*1000) / 1000
}

func ptr(f float64) *float64 { return &f }
