package dashboards

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// AgentReportRow is one agent's interval of GET /api/v1/reports/agents.
type AgentReportRow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Agent string    `json:"agent"`
	// Handled counts the contacts the agent closed in the interval after
	// accepting them; AHTSeconds their mean handle time (talk plus
	// wrap-up, from the accept to the close; nil when none).
	Handled    int      `json:"handled"`
	AHTSeconds *float64 `json:"aht_seconds"`
	// Missed counts the offers that rang at the agent unanswered.
	Missed int `json:"missed"`
	// StaffedSeconds is the time available or in wrap-up, AwaySeconds
	// the time away, from the agent's state history.
	StaffedSeconds float64 `json:"staffed_seconds"`
	AwaySeconds    float64 `json:"away_seconds"`
	// BusySeconds is the time spent on contacts in the interval: each
	// contact's span from its accept to its close (or to now), the part
	// inside the interval; several at once add up.
	BusySeconds float64 `json:"busy_seconds"`
	// Occupancy is Occupancy(busy, staffed).
	Occupancy *float64 `json:"occupancy"`
}

// Occupancy is the one definition of an agent's occupancy: the time
// spent on contacts over the time staffed (available or in wrap-up); nil
// when the agent was never staffed. Chat slots count as they are used:
// an agent on two chats at once spends twice the time, and may pass 1.
func Occupancy(busy, staffed time.Duration) *float64 {
	if staffed <= 0 {
		return nil
	}
	return ptr(float64(busy) / float64(staffed))
}

// AgentReport builds the agents' report from contacts, state spans and
// missed offers added one at a time (Read, or AddContact, AddState and
// AddMissed): it holds only its bins. It serves GET
// /api/v1/reports/agents and the supervisors' board (each agent's day so
// far: readDays), one computation for both.
type AgentReport struct {
	from, to, now time.Time
	interval      time.Duration
	bins          []map[string]*agentBin
	agents        map[string]bool
}

type agentBin struct {
	row           AgentReportRow
	handle, busy  time.Duration
	staffed, away time.Duration
}

// NewAgentReport starts a report over [from, to) in intervals of
// interval (CheckReport first); now ends the spans of contacts still
// open.
func NewAgentReport(from, to, now time.Time, interval time.Duration) *AgentReport {
	return &AgentReport{from: from, to: to, now: now, interval: interval,
		bins: make([]map[string]*agentBin, int((to.Sub(from)+interval-1)/interval)), agents: map[string]bool{}}
}

func (r *AgentReport) bin(i int, agent string) *agentBin {
	if r.bins[i] == nil {
		r.bins[i] = map[string]*agentBin{}
	}
	b := r.bins[i][agent]
	if b == nil {
		b = &agentBin{}
		r.bins[i][agent] = b
		r.agents[agent] = true
	}
	return b
}

func (r *AgentReport) index(t time.Time) int {
	if t.IsZero() || t.Before(r.from) || !t.Before(r.to) {
		return -1
	}
	return int(t.Sub(r.from) / r.interval)
}

// spread calls add with the part of [start, end) inside each interval.
func (r *AgentReport) spread(start, end time.Time, add func(i int, d time.Duration)) {
	start, end = maxTime(start, r.from), minTime(end, r.to)
	for start.Before(end) {
		i := int(start.Sub(r.from) / r.interval)
		stop := minTime(r.from.Add(time.Duration(i+1)*r.interval), end)
		add(i, stop.Sub(start))
		start = stop
	}
}

// AgentReportStore is what Read reads: store.DB.
type AgentReportStore interface {
	EachContactTimes(ctx context.Context, from, to time.Time, fn func(store.ContactTimes) error) error
	EachAgentStateSpan(ctx context.Context, from, to time.Time, fn func(agentID string, state router.AgentState, start, end time.Time) error) error
	EachOfferTimeout(ctx context.Context, from, to time.Time, fn func(agentID string, at time.Time) error) error
}

var _ AgentReportStore = (*store.DB)(nil)

// Read adds what st holds of the report's range, for the agents keep
// accepts (nil: every agent): the contacts (AddContact), the state spans
// (AddState) and the missed offers (AddMissed). It streams them: the
// report holds only its bins.
func (r *AgentReport) Read(ctx context.Context, st AgentReportStore, keep func(agent string) bool) error {
	if keep == nil {
		keep = func(string) bool { return true }
	}
	if err := st.EachContactTimes(ctx, r.from, r.to, func(c store.ContactTimes) error {
		if keep(c.AgentID) {
			r.AddContact(c)
		}
		return nil
	}); err != nil {
		return err
	}
	return r.readStates(ctx, st, keep)
}

// readStates adds what st holds of the report's range but the contacts,
// for the agents keep accepts: the state spans (AddState) and the
// missed offers (AddMissed).
func (r *AgentReport) readStates(ctx context.Context, st AgentReportStore, keep func(agent string) bool) error {
	// An agent's last state lasts until now, not to the range's end: a
	// report of today read at ten has no staffed time after ten.
	until := r.to
	if !r.now.IsZero() && r.now.Before(until) {
		until = r.now
	}
	if !until.After(r.from) {
		return nil // all of it to come
	}
	if err := st.EachAgentStateSpan(ctx, r.from, until, func(agent string, state router.AgentState, start, end time.Time) error {
		if keep(agent) {
			r.AddState(agent, state, start, end)
		}
		return nil
	}); err != nil {
		return err
	}
	return st.EachOfferTimeout(ctx, r.from, r.to, func(agent string, at time.Time) error {
		if keep(agent) {
			r.AddMissed(agent, at)
		}
		return nil
	})
}

// AddContact counts a contact of its agent: handled where it closed,
// busy over the span from its accept to its close (or now). The contact
// holds only its last agent and that agent's accept: a transferred or
// returned contact counts for the last agent, from their accept; the
// time earlier agents spent on it counts for nobody.
func (r *AgentReport) AddContact(c store.ContactTimes) {
	if c.AgentID == "" || c.AssignedAt.IsZero() {
		return
	}
	end := c.EndedAt
	if end.IsZero() {
		end = r.now
	}
	r.spread(c.AssignedAt, end, func(i int, d time.Duration) { r.bin(i, c.AgentID).busy += d })
	if i := r.index(c.EndedAt); i >= 0 && c.State == router.ContactClosed {
		b := r.bin(i, c.AgentID)
		b.row.Handled++
		b.handle += c.EndedAt.Sub(c.AssignedAt)
	}
}

// AddState counts a span an agent spent in a state.
func (r *AgentReport) AddState(agent string, state router.AgentState, start, end time.Time) {
	r.spread(start, end, func(i int, d time.Duration) {
		b := r.bin(i, agent)
		switch {
		case state.Working():
			b.staffed += d
		case state == router.AgentAway:
			b.away += d
		}
	})
}

// AddMissed counts an offer that rang at agent unanswered.
func (r *AgentReport) AddMissed(agent string, at time.Time) {
	if i := r.index(at); i >= 0 {
		r.bin(i, agent).row.Missed++
	}
}

// Rows returns the report: a row per interval and agent that did
// anything in it, by start, then agent.
func (r *AgentReport) Rows() []AgentReportRow {
	agents := slices.Sorted(maps.Keys(r.agents))
	var rows []AgentReportRow
	for i := range r.bins {
		start := r.from.Add(time.Duration(i) * r.interval)
		end := minTime(start.Add(r.interval), r.to)
		for _, a := range agents {
			b := r.bins[i][a]
			if b == nil {
				continue
			}
			row := b.row
			row.Start, row.End, row.Agent = start, end, a
			row.StaffedSeconds, row.AwaySeconds, row.BusySeconds = seconds(b.staffed), seconds(b.away), seconds(b.busy)
			if row.Handled > 0 {
				row.AHTSeconds = ptr(seconds(b.handle / time.Duration(row.Handled)))
			}
			row.Occupancy = Occupancy(b.busy, b.staffed)
			rows = append(rows, row)
		}
	}
	if rows == nil {
		rows = []AgentReportRow{}
	}
	return rows
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
