package dashboards

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/staffing"
	"github.com/switchboard/switchboard/store"
)

// Board is what the supervisors' live page shows at one instant: every
// queue (QueueView) and every agent (AgentView).
type Board struct {
	// At is the snapshot's time: the page counts waits and times in
	// state from it.
	At     time.Time   `json:"at"`
	Queues []QueueView `json:"queues"`
	Agents []AgentView `json:"agents"`
	// Staffing is the advice for the next hour, by queue name; computed
	// once a minute (Advise), absent until then.
	Staffing map[string]Advice `json:"staffing,omitempty"`
	// Trends are the last hour per minute, by queue name (Trends).
	Trends map[string]Trend `json:"trends,omitempty"`
}

// Trend is one queue's last hour, one value per minute, oldest first;
// Minutes are the minutes' starts. A value is null where it cannot be
// told: the service level of a minute in which no wait ended, the
// waiting count of a minute before the page's server started.
type Trend struct {
	Minutes      []time.Time `json:"minutes"`
	Waiting      []*float64  `json:"waiting"`
	ServiceLevel []*float64  `json:"service_level"`
	Arrivals     []int       `json:"arrivals"`
	Abandoned    []int       `json:"abandoned"`
}

// TrendMinutes is how many minutes a trend shows.
const TrendMinutes = 60

// Trends builds the last TrendMinutes whole minutes before now of every
// queue from the contacts of that hour (store.DB.ContactTimes) and the
// waiting counts sampled at each minute (waiting[queue][minute start]),
// by the report's definitions (QueueReport).
func Trends(snap *router.Snapshot, contacts []store.ContactTimes, waiting map[string]map[time.Time]int, now time.Time) map[string]Trend {
	to := now.Truncate(time.Minute)
	from := to.Add(-TrendMinutes * time.Minute)
	levels := map[string]router.ServiceLevel{}
	for _, q := range snap.Queues() {
		levels[q.Name] = q.ServiceLevel
	}
	out := map[string]Trend{}
	for _, r := range QueueReport(contacts, levels, from, to, time.Minute) {
		t := out[r.Queue]
		t.Minutes = append(t.Minutes, r.Start)
		t.ServiceLevel = append(t.ServiceLevel, r.ServiceLevel)
		t.Arrivals = append(t.Arrivals, r.Offered)
		t.Abandoned = append(t.Abandoned, r.Abandoned)
		var w *float64
		if n, ok := waiting[r.Queue][r.Start]; ok {
			w = ptr(float64(n))
		}
		t.Waiting = append(t.Waiting, w)
		out[r.Queue] = t
	}
	return out
}

// AgentView is one agent as a supervisor sees it.
type AgentView struct {
	ID    string            `json:"id"`
	Name  string            `json:"name"`
	State router.AgentState `json:"state"`
	// Reason is the away reason, or why the agent is offline
	// (disconnected, signed_out).
	Reason     string    `json:"reason,omitempty"`
	StateSince time.Time `json:"state_since"`
	// Connected says whether a desktop of the agent is open.
	Connected bool `json:"connected"`
	// Load is the slots in use of each channel the agent may take, with
	// its capacity: "chat": {"used": 2, "capacity": 3}.
	Load map[string]Load `json:"load"`
	// Ringing is the contact being offered to the agent, if any.
	Ringing string `json:"ringing,omitempty"`
	// Contacts are the agent's offered, assigned and wrap-up contacts.
	Contacts []string `json:"contacts"`
	// Queues are the queues whose requirements the agent meets.
	Queues []string `json:"queues"`
	// Today is what the agent did since midnight (LiveOptions.Location):
	// computed once a minute, absent until then.
	Today *AgentToday `json:"today,omitempty"`
}

// AgentToday is an agent's day so far: its row of the agents' report
// from midnight to now (readDays), the same figures by the same
// computation.
type AgentToday struct {
	// Handled counts the contacts the agent closed after accepting them;
	// AHTSeconds their mean handle time (nil when none).
	Handled    int      `json:"handled"`
	AHTSeconds *float64 `json:"aht_seconds"`
	// Missed counts the offers that rang at the agent unanswered.
	Missed int `json:"missed"`
	// StaffedSeconds is the time the agent was available or in wrap-up;
	// Occupancy is Occupancy(the time on contacts, the staffed time), as
	// AgentReportRow's.
	StaffedSeconds float64  `json:"staffed_seconds"`
	Occupancy      *float64 `json:"occupancy"`
}

// todayOf is an agent's day from its row of the agents' report (the
// zero row for an agent who did nothing today).
func todayOf(r AgentReportRow) *AgentToday {
	return &AgentToday{Handled: r.Handled, AHTSeconds: r.AHTSeconds, Missed: r.Missed,
		StaffedSeconds: r.StaffedSeconds, Occupancy: r.Occupancy}
}

// QueueToday is a queue's day so far, since midnight
// (LiveOptions.Location): its row of the queues' report from midnight to
// now (Report: the same figures by the same computation), with the
// abandonment rate and the transfers out of the queue.
type QueueToday struct {
	ReportRow
	// Abandonment is AbandonmentOf(answered, abandoned, short
	// abandoned); nil when no wait ended.
	Abandonment *float64 `json:"abandonment"`
	// Transferred counts the contacts transferred out of the queue
	// (store.DB.TransfersByQueue).
	Transferred int `json:"transferred"`
}

// AbandonmentOf is the one definition of a queue's abandonment rate:
// the abandoned after the short-abandon threshold ÷ (the answered + the
// abandoned after it), the contacts whose wait ended, counted as the
// service level counts them (short abandons apart); nil when none did.
func AbandonmentOf(answered, abandoned, short int) *float64 {
	n := answered + abandoned - short
	if n <= 0 {
		return nil
	}
	return ptr(float64(abandoned-short) / float64(n))
}

// DayStore is what the board's day reads (readDays): store.DB.
type DayStore interface {
	AgentReportStore
	TransfersByQueue(ctx context.Context, from, to time.Time) (map[string]int, error)
}

var _ DayStore = (*store.DB)(nil)

// readDays is each agent's and each queue's day from since (midnight) to
// now, read from st. Agents by id: their one row of the agents' report
// over [since, now), so that the board's figures, occupancy included, are
// the report's (AgentView.Today). Queues by name: their one row of the
// queues' report (levels are the queues' service levels), with the
// abandonment rate and the transfers; every queue of levels has one, zero
// when nothing happened. One pass over the day's contacts feeds both
// reports: its cost grows with the day's traffic (BenchmarkBoardDay).
// When the rest of one half's reads fails, the other half is returned
// with the error (a nil map for the failed half).
func readDays(ctx context.Context, st DayStore, levels map[string]router.ServiceLevel, since, now time.Time) (map[string]AgentReportRow, map[string]QueueToday, error) {
	agents := map[string]AgentReportRow{}
	queues := map[string]QueueToday{}
	qsince, qnow := since.UTC(), now.UTC() // as every time the board shows
	for q := range levels {
		queues[q] = QueueToday{ReportRow: ReportRow{Start: qsince, End: qnow, Queue: q}}
	}
	if !now.After(since) {
		return agents, queues, nil
	}
	ar := NewAgentReport(since, now, now, now.Sub(since))
	qr := NewReport(levels, qsince, qnow, qnow.Sub(qsince))
	if err := st.EachContactTimes(ctx, since, now, func(c store.ContactTimes) error {
		ar.AddContact(c)
		qr.Add(c)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	// The contacts read, a failure of what else one half reads leaves
	// the other half.
	var errs []error
	if err := ar.readStates(ctx, st, func(string) bool { return true }); err != nil {
		agents, errs = nil, append(errs, fmt.Errorf("the agents' states: %w", err))
	} else {
		for _, row := range ar.Rows() {
			agents[row.Agent] = row
		}
	}
	transfers, err := st.TransfersByQueue(ctx, since, now)
	if err != nil {
		return agents, nil, errors.Join(append(errs, fmt.Errorf("the transfers: %w", err))...)
	}
	for _, row := range qr.Rows() {
		queues[row.Queue] = QueueToday{ReportRow: row, Abandonment: AbandonmentOf(row.Answered, row.Abandoned, row.ShortAbandoned)}
	}
	for q, n := range transfers {
		t, ok := queues[q]
		if !ok {
			t.ReportRow = ReportRow{Start: qsince, End: qnow, Queue: q}
		}
		t.Transferred = n
		queues[q] = t
	}
	return agents, queues, errors.Join(errs...)
}

// Load is the use of one channel's slots.
type Load struct {
	Used     int `json:"used"`
	Capacity int `json:"capacity"`
}

// NewBoard builds the board of snap with the window's statistics, as
// Queues does for the queues. It reads only its arguments.
func NewBoard(snap *router.Snapshot, stats map[string]store.QueueStats, window time.Duration) Board {
	return newBoard(snap, Queues(snap, stats, window))
}

// NewBoardOf is NewBoard with the window's figures of each queue
// (Waits.Figures).
func NewBoardOf(snap *router.Snapshot, figures map[string]WindowFigures, window time.Duration) Board {
	return newBoard(snap, QueuesOf(snap, figures, window))
}

func newBoard(snap *router.Snapshot, views []QueueView) Board {
	b := Board{At: snap.At, Queues: views, Agents: []AgentView{}}
	if b.Queues == nil {
		b.Queues = []QueueView{}
	}
	queues, channels := sortedQueues(snap), sortedChannels(snap)
	for _, a := range snap.Agents() {
		b.Agents = append(b.Agents, agentView(snap, &a, channels, queues))
	}
	slices.SortFunc(b.Agents, func(x, y AgentView) int { return boardOrder(x.Name, x.ID, y.Name, y.ID) })
	return b
}

// sortedQueues are snap's queues by name.
func sortedQueues(snap *router.Snapshot) []router.Queue {
	queues := snap.Queues()
	slices.SortFunc(queues, func(x, y router.Queue) int { return strings.Compare(x.Name, y.Name) })
	return queues
}

// sortedChannels are snap's channels by name.
func sortedChannels(snap *router.Snapshot) []router.Channel {
	return slices.Sorted(maps.Keys(snap.Channels()))
}

// agentView is a's row of the board (without Today): its load on each
// of channels it may take, and the queues it is eligible for.
func agentView(snap *router.Snapshot, a *router.Agent, channels []router.Channel, queues []router.Queue) AgentView {
	v := AgentView{
		ID: a.ID, Name: a.Name, State: a.State, Reason: a.Reason, StateSince: a.StateSince,
		Connected: a.Connected, Ringing: a.Offer, Contacts: slices.Clone(a.Contacts),
		Load: map[string]Load{}, Queues: []string{},
	}
	if v.Contacts == nil {
		v.Contacts = []string{}
	}
	for _, ch := range channels {
		if c := snap.Capacity(*a, ch); c > 0 || a.Active[ch] > 0 {
			v.Load[ch] = Load{Used: a.Active[ch], Capacity: c}
		}
	}
	for _, q := range queues {
		if a.Eligible(q.Requirements) {
			v.Queues = append(v.Queues, q.Name)
		}
	}
	return v
}

// boardOrder orders the board's agents: by name regardless of case,
// then by id.
func boardOrder(name1, id1, name2, id2 string) int {
	return cmp.Or(strings.Compare(strings.ToLower(name1), strings.ToLower(name2)), strings.Compare(id1, id2))
}

// Advice is how many agents a queue needs next hour to meet its service
// level, if the last hour's load goes on (staffing.Advise).
type Advice struct {
	// ArrivalsLastHour and AHTSeconds are the load it is computed from.
	ArrivalsLastHour int     `json:"arrivals_last_hour"`
	AHTSeconds       float64 `json:"aht_seconds"`
	// PatienceSeconds is the customers' mean patience estimated from the
	// last hour's abandons (abandons ÷ the time all waited); 0 when none
	// abandoned, and the model is then Erlang C, else Erlang A.
	PatienceSeconds float64 `json:"patience_seconds"`
	Model           string  `json:"model"`
	// Slots is how many contacts an agent takes at once on the queue's
	// busiest channel (its default capacity).
	Slots int `json:"slots"`
	// Needed is the fewest agents that meet the target; Met is false
	// when no staffing up to staffing.MaxAgents does.
	Needed int  `json:"needed"`
	Met    bool `json:"met"`
	// ServiceLevel, PAbandon and Occupancy are what Needed agents give.
	ServiceLevel float64 `json:"service_level"`
	PAbandon     float64 `json:"p_abandon"`
	Occupancy    float64 `json:"occupancy"`
}

// Advise computes the staffing advice of every queue with a service
// level from the last hour's contacts (store.DB.ContactTimes over
// [now−1h, now)): arrivals, handle time and patience, with the queue's
// target and threshold. A queue with no arrival or no handled contact
// in the hour has no advice: there is no load to go by.
func Advise(snap *router.Snapshot, contacts []store.ContactTimes, now time.Time) map[string]Advice {
	from := now.Add(-time.Hour)
	levels := map[string]router.ServiceLevel{}
	for _, q := range snap.Queues() {
		if q.ServiceLevel.Target > 0 && q.ServiceLevel.Within > 0 {
			levels[q.Name] = q.ServiceLevel
		}
	}
	type load struct {
		arrivals, handled, abandons int
		handle, waited              time.Duration
		perChannel                  map[router.Channel]int
	}
	loads := map[string]*load{}
	for _, c := range contacts {
		if _, ok := levels[c.Queue]; !ok {
			continue
		}
		l := loads[c.Queue]
		if l == nil {
			l = &load{perChannel: map[router.Channel]int{}}
			loads[c.Queue] = l
		}
		in := func(t time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(now) }
		if in(c.CreatedAt) {
			l.arrivals++
			l.perChannel[c.Channel]++
		}
		if in(c.EndedAt) && c.State == router.ContactClosed && !c.AssignedAt.IsZero() {
			l.handled++
			l.handle += c.EndedAt.Sub(c.AssignedAt)
		}
		// The time waited in the hour, by everyone who waited, for the
		// patience estimate: abandons over waiting time.
		end := c.AssignedAt
		if end.IsZero() {
			end = c.EndedAt
		}
		if end.IsZero() {
			end = now
		}
		start := c.QueuedAt
		if start.Before(from) {
			start = from
		}
		if end.After(now) {
			end = now
		}
		if !start.IsZero() && end.After(start) {
			l.waited += end.Sub(start)
		}
		if in(c.EndedAt) && c.State == router.ContactAbandoned && c.AssignedAt.IsZero() {
			l.abandons++
		}
	}
	channels := snap.Channels()
	out := map[string]Advice{}
	for q, l := range loads {
		if l.arrivals == 0 || l.handled == 0 {
			continue
		}
		busiest, most := router.Channel(""), -1
		for ch, n := range l.perChannel {
			if n > most || (n == most && ch < busiest) {
				busiest, most = ch, n
			}
		}
		a := Advice{ArrivalsLastHour: l.arrivals, AHTSeconds: seconds(l.handle / time.Duration(l.handled)),
			Slots: max(channels[busiest], 1), Model: "erlang_c"}
		ld := staffing.Load{Arrivals: float64(l.arrivals), Period: time.Hour, HandleTime: l.handle / time.Duration(l.handled), Slots: a.Slots}
		if l.abandons > 0 && l.waited > 0 {
			ld.Patience = l.waited / time.Duration(l.abandons)
			a.PatienceSeconds, a.Model = seconds(ld.Patience), "erlang_a"
		}
		sl := levels[q]
		adv, err := staffing.Advise(ld, sl.Target, sl.Within.D())
		if err != nil {
			continue
		}
		a.Needed, a.Met = adv.Agents, adv.Met
		a.ServiceLevel, a.PAbandon, a.Occupancy = adv.ServiceLevel, adv.PAbandon, adv.Occupancy
		out[q] = a
	}
	return out
}
