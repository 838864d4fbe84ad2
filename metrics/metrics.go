// Package metrics exposes the daemon to Prometheus: the live queues and
// agents (read at each scrape from the router's snapshot and the
// dashboards' views, so that Prometheus, the API and the dashboards share
// one definition of each figure), counters and histograms of what the
// router decided (from its event stream), and how long its decisions and
// commits take (router.Observer). Names and labels are checked by
// `promtool check metrics` in the tests; no label carries a customer's
// data or an unbounded value (queues, channels and states are the
// operator's and the router's own).
//
//	m, err := metrics.New(metrics.Options{Thresholds: thresholds})
//	opts.Observer = m // in the router's options, for decision and commit times
//	rt, err := router.New(db, &opts)
//	m.Attach(metrics.Sources{Router: rt, Queues: src.Views, Backlog: dispatcher.Backlog})
//	// m follows the router's event stream (router.Follow), then:
//	mux.Handle("GET /metrics", m.Handler())
package metrics

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/dashboards"
	"github.com/switchboard/switchboard/router"
)

const namespace = "switchboard"

// DefaultWaitBuckets are the bounds (seconds) of the wait histogram;
// Options.Thresholds adds each queue's service-level threshold, so that
// "answered within the threshold" is read off a bucket exactly.
var DefaultWaitBuckets = []float64{5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600}

// DefaultHandleBuckets are the bounds (seconds) of the handle-time
// histogram.
var DefaultHandleBuckets = []float64{30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800, 2700, 3600, 7200}

// Options configure New.
type Options struct {
	// Thresholds are the service-level thresholds of the queues, added to
	// the wait histogram's bounds.
	Thresholds []time.Duration
}

// Sources are what the live gauges read at each scrape (Attach).
type Sources struct {
	Router *router.Router
	// Queues reads the live queue views (dashboards.Source.Views); nil:
	// no queue gauges.
	Queues func(ctx context.Context) ([]dashboards.QueueView, error)
	// Backlog counts the outbox's entries not yet delivered; nil: no
	// outbox gauge.
	Backlog func() int
}

// Metrics holds the registry. It implements router.Notifier and
// router.Observer and is safe for concurrent use.
type Metrics struct {
	o   Options
	reg *prometheus.Registry

	created, answered, abandoned, transferred *prometheus.CounterVec
	wait, handle                              *prometheus.HistogramVec
	decision, commit                          prometheus.Histogram
	commitErrors                              prometheus.Counter
	resyncs                                   prometheus.Counter

	// scrapeMu makes the live gauges read one snapshot at a time, and
	// guards src.
	scrapeMu sync.Mutex
	src      Sources
}

var _ router.Notifier = (*Metrics)(nil)
var _ router.Observer = (*Metrics)(nil)

// New builds the registry: the daemon's metrics, Go's and the process's.
func New(o Options) (*Metrics, error) {
	buckets := slices.Clone(DefaultWaitBuckets)
	for _, t := range o.Thresholds {
		if s := t.Seconds(); s > 0 && !slices.Contains(buckets, s) {
			buckets = append(buckets, s)
		}
	}
	slices.Sort(buckets)
	contact := []string{"queue", "channel"}
	m := &Metrics{
		o:   o,
		reg: prometheus.NewRegistry(),
		created: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "contacts_created_total",
			Help: "Contacts created, by queue and channel."}, contact),
		answered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "contacts_answered_total",
			Help: "Contacts accepted by an agent, by queue and channel."}, contact),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "contacts_abandoned_total",
			Help: "Contacts abandoned by the customer before an agent accepted them, by queue and channel."}, contact),
		transferred: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "contacts_transferred_total",
			Help: "Contacts transferred by their agent, by the queue they left and channel."}, contact),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "contact_wait_seconds",
			Help:    "Wait of answered contacts, from entering the queue to the agent's accept, by queue and channel.",
			Buckets: buckets}, contact),
		handle: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "contact_handle_seconds",
			Help:    "Handle time (talk plus wrap-up) of closed contacts, from the accept to the close, by queue and channel.",
			Buckets: DefaultHandleBuckets}, contact),
		decision: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "router", Name: "decision_seconds",
			Help:    "Time to apply and route one batch of commands in memory.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10)}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "store", Name: "commit_seconds",
			Help:    "Time to commit one batch to the store (group commit).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 3, 10)}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "store", Name: "commit_errors_total",
			Help: "Failed commits (the router stops at the first: fail-stop)."}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "metrics", Name: "resyncs_total",
			Help: "Times the metrics fell behind the router's event stream; counters miss what happened meanwhile."}),
	}
	for _, c := range []prometheus.Collector{
		m.created, m.answered, m.abandoned, m.transferred, m.wait, m.handle, m.decision, m.commit, m.commitErrors, m.resyncs,
		live{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Attach gives the live gauges their sources; until then a scrape has
// only the counters and histograms.
func (m *Metrics) Attach(src Sources) {
	m.scrapeMu.Lock()
	defer m.scrapeMu.Unlock()
	m.src = src
}

// Handler serves the metrics in Prometheus' text format. Whoever mounts
// it authorizes the scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is the registry, for tests and for more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Routed records one batch's decision time (router.Observer).
func (m *Metrics) Routed(_ int, took time.Duration) { m.decision.Observe(took.Seconds()) }

// Committed records one batch's commit time (router.Observer).
func (m *Metrics) Committed(_ int, took time.Duration, err error) {
	m.commit.Observe(took.Seconds())
	if err != nil {
		m.commitErrors.Inc()
	}
}

// Notify counts what the router decided (router.Notifier).
func (m *Metrics) Notify(ns []router.Notification) {
	for _, n := range ns {
		c := n.Contact
		if c == nil {
			continue
		}
		switch {
		case n.Kind == router.NoteContact && n.Reason == router.ReasonCreated:
			m.created.WithLabelValues(c.Queue, c.Channel).Inc()
		case n.Kind == router.NoteAssigned:
			m.answered.WithLabelValues(c.Queue, c.Channel).Inc()
			// The wait in the queue that answered: from entering it (a
			// transferred or returned contact entered it again), not from
			// the contact's first arrival.
			if from := cmp.Or(c.QueuedAt, c.EnqueuedAt); !c.AssignedAt.IsZero() && !from.IsZero() {
				m.wait.WithLabelValues(c.Queue, c.Channel).Observe(c.AssignedAt.Sub(from).Seconds())
			}
		case n.Kind == router.NoteContactEnded && n.Reason == router.ReasonTransferred:
			m.transferred.WithLabelValues(c.Queue, c.Channel).Inc()
		case n.Kind == router.NoteContactEnded && c.State == router.ContactAbandoned && c.AssignedAt.IsZero():
			m.abandoned.WithLabelValues(c.Queue, c.Channel).Inc()
		case n.Kind == router.NoteContactEnded && c.State == router.ContactClosed && !c.AssignedAt.IsZero():
			m.handle.WithLabelValues(c.Queue, c.Channel).Observe(c.EndedAt.Sub(c.AssignedAt).Seconds())
		}
	}
}

// Resync notes that the metrics fell behind the event stream: what
// happened meanwhile is not counted.
func (m *Metrics) Resync(*router.Snapshot) { m.resyncs.Inc() }

// live collects the gauges of the router's state at each scrape.
type live struct{ m *Metrics }

var (
	queueLabels     = []string{"queue"}
	descWaiting     = prometheus.NewDesc(namespace+"_queue_waiting", "Contacts waiting in the queue, not yet offered.", queueLabels, nil)
	descRinging     = prometheus.NewDesc(namespace+"_queue_ringing", "Contacts of the queue ringing at an agent.", queueLabels, nil)
	descOldest      = prometheus.NewDesc(namespace+"_queue_oldest_wait_seconds", "Longest current wait in the queue (0 when none waits).", queueLabels, nil)
	descQueueAgents = prometheus.NewDesc(namespace+"_queue_agents", "Agents eligible for the queue, by what they do now.", []string{"queue", "state"}, nil)
	descSL          = prometheus.NewDesc(namespace+"_queue_service_level_ratio", "Share of the waits ended in the dashboards' window that were answered within the queue's threshold (answered in time ÷ (answered + abandoned)); absent when none ended.", queueLabels, nil)
	descSLTarget    = prometheus.NewDesc(namespace+"_queue_service_level_target_ratio", "The queue's service-level target.", queueLabels, nil)
	descEstimate    = prometheus.NewDesc(namespace+"_queue_estimated_wait_seconds", "Expected wait of a contact arriving now; absent when it cannot be told.", queueLabels, nil)
	descEstMedian   = prometheus.NewDesc(namespace+"_queue_wait_estimate_median_error_seconds", "Median absolute error of an estimator's wait estimates against the actual waits of the queue's last answered contacts (up to 500); absent before its first sample.", []string{"queue", "estimator"}, nil)
	descEstP90      = prometheus.NewDesc(namespace+"_queue_wait_estimate_p90_error_seconds", "90th percentile of the absolute error of an estimator's wait estimates, over the same samples.", []string{"queue", "estimator"}, nil)
	descEstChosen   = prometheus.NewDesc(namespace+"_queue_wait_estimator", "1 for the estimator whose estimate the queue shows (the smallest 90th percentile of the error), 0 for the others.", []string{"queue", "estimator"}, nil)
	descAgents      = prometheus.NewDesc(namespace+"_agents", "Agents by state, and whether a desktop of theirs is connected.", []string{"state", "connected"}, nil)
	descBacklog     = prometheus.NewDesc(namespace+"_outbox_backlog", "Outbound messages committed and not yet delivered or given up.", nil, nil)
	descRecheck     = prometheus.NewDesc(namespace+"_router_recheck_failures_total", "Proposals of the matcher that failed the write's re-check (a matcher bug if it grows).", nil, nil)
)

func (l live) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWaiting, descRinging, descOldest, descQueueAgents, descSL, descSLTarget, descEstimate, descEstMedian, descEstP90, descEstChosen, descAgents, descBacklog, descRecheck} {
		ch <- d
	}
}

// scrapeTimeout bounds the store read of a scrape.
const scrapeTimeout = 5 * time.Second

func (l live) Collect(ch chan<- prometheus.Metric) {
	m := l.m
	m.scrapeMu.Lock()
	defer m.scrapeMu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	src := m.src
	if src.Router == nil {
		return
	}
	snap := src.Router.Snapshot()
	type key struct {
		state     router.AgentState
		connected bool
	}
	agents := map[key]int{}
	for _, st := range []router.AgentState{router.AgentAvailable, router.AgentAway, router.AgentWrapUp, router.AgentOffline} {
		agents[key{st, false}], agents[key{st, true}] = 0, 0
	}
	for _, a := range snap.Agents() {
		agents[key{a.State, a.Connected}]++
	}
	for k, n := range agents {
		connected := "false"
		if k.connected {
			connected = "true"
		}
		gauge(descAgents, float64(n), string(k.state), connected)
	}
	ch <- prometheus.MustNewConstMetric(descRecheck, prometheus.CounterValue, float64(src.Router.RecheckFailures()))
	if src.Backlog != nil {
		gauge(descBacklog, float64(src.Backlog()))
	}
	if src.Queues == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	views, err := src.Queues(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descWaiting, err)
		return
	}
	for _, v := range views {
		gauge(descWaiting, float64(v.Waiting), v.Name)
		gauge(descRinging, float64(v.Offered), v.Name)
		oldest := 0.0
		if v.OldestWaitSeconds != nil {
			oldest = *v.OldestWaitSeconds
		}
		gauge(descOldest, oldest, v.Name)
		for state, n := range map[string]int{
			"available": v.Agents.Available, "busy": v.Agents.Busy, "wrapup": v.Agents.WrapUp,
			"away": v.Agents.Away, "offline": v.Agents.Offline,
		} {
			gauge(descQueueAgents, float64(n), v.Name, state)
		}
		gauge(descSLTarget, v.ServiceLevel.Target, v.Name)
		if v.ServiceLevel.Achieved != nil {
			gauge(descSL, *v.ServiceLevel.Achieved, v.Name)
		}
		if v.EstimatedWaitSeconds != nil {
			gauge(descEstimate, *v.EstimatedWaitSeconds, v.Name)
		}
		if a := v.WaitEstimate; a != nil {
			for _, e := range a.Estimators {
				chosen := 0.0
				if e.Name == a.Estimator {
					chosen = 1
				}
				gauge(descEstChosen, chosen, v.Name, e.Name)
				if e.MedianErrorSeconds != nil {
					gauge(descEstMedian, *e.MedianErrorSeconds, v.Name, e.Name)
					gauge(descEstP90, *e.P90ErrorSeconds, v.Name, e.Name)
				}
			}
		}
	}
}
