package api

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard/switchboard/router"
)

// queueRequest is the body of PUT /api/v1/queues/{name}: a router.Queue
// whose durations are strings, so that a bad one is named by its field.
type queueRequest struct {
	// Name, if given, must equal the name in the path.
	Name         string               `json:"name"`
	Requirements []router.Requirement `json:"requirements"`
	Priority     int                  `json:"priority"`
	Strategy     string               `json:"strategy"`
	ServiceLevel struct {
		Target       float64 `json:"target"`
		Within       string  `json:"within"`
		ShortAbandon string  `json:"short_abandon"`
	} `json:"service_level"`
	Relaxation []relaxStepRequest `json:"relaxation"`
	MaxWait    string             `json:"max_wait"`
	Overflow   string             `json:"overflow"`
	WrapUp     string             `json:"wrapup"`
	ValueTiers []router.ValueTier `json:"value_tiers"`
	// SegmentBoosts raise the rank of customers of a segment.
	SegmentBoosts map[string]int `json:"segment_boosts"`
	// Hours names one of the configured calendars; empty: always open.
	Hours string `json:"hours"`
}

type relaxStepRequest struct {
	Name  string         `json:"name"`
	After string         `json:"after"`
	Drop  []string       `json:"drop"`
	Min   map[string]int `json:"min"`
}

// queue converts the request to the router's queue named name.
func (q *queueRequest) queue(name string) (router.Queue, error) {
	out := router.Queue{
		Name: name, Requirements: q.Requirements, Priority: q.Priority,
		Strategy: router.Strategy(q.Strategy), Overflow: q.Overflow, ValueTiers: q.ValueTiers,
		SegmentBoosts: q.SegmentBoosts, Hours: q.Hours,
	}
	out.ServiceLevel.Target = q.ServiceLevel.Target
	var err error
	durations := []struct {
		field string
		value string
		dst   *router.Duration
	}{
		{"service_level.within", q.ServiceLevel.Within, &out.ServiceLevel.Within},
		{"service_level.short_abandon", q.ServiceLevel.ShortAbandon, &out.ServiceLevel.ShortAbandon},
		{"max_wait", q.MaxWait, &out.MaxWait},
		{"wrapup", q.WrapUp, &out.WrapUp},
	}
	for _, d := range durations {
		var v time.Duration
		if v, err = parseDuration(d.field, d.value); err != nil {
			return router.Queue{}, err
		}
		*d.dst = router.Duration(v)
	}
	for i, st := range q.Relaxation {
		after, err := parseDuration(fmt.Sprintf("relaxation[%d].after", i), st.After)
		if err != nil {
			return router.Queue{}, err
		}
		out.Relaxation = append(out.Relaxation, router.RelaxStep{
			Name: st.Name, After: router.Duration(after), Drop: st.Drop, Min: st.Min,
		})
	}
	return out, nil
}

// queueView is the built-in view of a queue: its definition, whether it
// is within its business hours, how many contacts wait in it and for how
// long the oldest has waited.
type queueView struct {
	router.Queue
	// Open reports whether the queue is within its hours (always, for a
	// queue without hours).
	Open bool `json:"open"`
	// OpensAt is when a closed queue opens next, in its hours' time
	// zone; absent when open or when it never opens again.
	OpensAt           *time.Time `json:"opens_at,omitempty"`
	Waiting           int        `json:"waiting"`
	OldestWaitSeconds float64    `json:"oldest_wait_seconds"`
}

// queueList is the body of GET /api/v1/queues.
type queueList struct {
	Queues any `json:"queues"`
}

// queueViews builds the built-in view of the queues named (all if none)
// from one snapshot.
func queueViews(snap *router.Snapshot, qs []router.Queue) []queueView {
	views := make([]queueView, 0, len(qs))
	idx := make(map[string]int, len(qs))
	for _, q := range qs {
		idx[q.Name] = len(views)
		v := queueView{Queue: q}
		hours := snap.Hours(q.Name)
		if v.Open = hours.Open(snap.At); !v.Open {
			if next, ok := hours.NextOpen(snap.At); ok {
				v.OpensAt = &next
			}
		}
		views = append(views, v)
	}
	for _, c := range snap.Waiting("") {
		i, ok := idx[c.Queue]
		if !ok {
			continue
		}
		views[i].Waiting++
		if wait := snap.At.Sub(c.EnqueuedAt).Seconds(); wait > views[i].OldestWaitSeconds {
			views[i].OldestWaitSeconds = wait
		}
	}
	return views
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) error {
	if s.queues != nil {
		v, err := s.queues(r.Context())
		if err != nil {
			return internal("queues provider", err)
		}
		return writeJSON(w, http.StatusOK, queueList{Queues: v})
	}
	snap := s.router.Snapshot()
	return writeJSON(w, http.StatusOK, queueList{Queues: queueViews(snap, snap.Queues())})
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	snap := s.router.Snapshot()
	q, ok := snap.Queue(name)
	if !ok {
		return notFoundf("queue %q does not exist", name)
	}
	return writeJSON(w, http.StatusOK, queueViews(snap, []router.Queue{q})[0])
}

func (s *Server) putQueue(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var req queueRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Name != "" && req.Name != name {
		return invalidf("field \"name\" is %q but the path says %q; omit it or make them equal", req.Name, name)
	}
	q, err := req.queue(name)
	if err != nil {
		return err
	}
	_, existed := s.router.Snapshot().Queue(name)
	stored, err := s.router.PutQueue(r.Context(), q)
	if err != nil {
		return routerError(err)
	}
	status := http.StatusOK
	if !existed {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/queues/"+pathEscape(name))
	}
	return writeJSON(w, status, stored)
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request) error {
	if err := s.router.DeleteQueue(r.Context(), r.PathValue("name")); err != nil {
		return routerError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func pathEscape(s string) string { return url.PathEscape(s) }
