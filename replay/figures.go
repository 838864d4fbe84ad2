package replay

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/switchboard/switchboard/dashboards"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// QueueFigures are one queue's figures over a period, or every queue's
// (Queue empty), counted by the reports' rules (dashboards.QueueReport):
// each event counts in the period when it happened in it.
type QueueFigures struct {
	Queue string `json:"queue,omitempty"`
	// Target and WithinSeconds are the queue's service level goal;
	// zero for the total.
	Target        float64 `json:"target,omitempty"`
	WithinSeconds float64 `json:"within_seconds,omitempty"`
	// Offered counts the contacts created; Answered those an agent
	// accepted, AnsweredWithin within the threshold; Abandoned those
	// abandoned before an accept, ShortAbandoned within the queue's
	// short-abandon threshold; Handled those closed after an accept.
	Offered        int `json:"offered"`
	Answered       int `json:"answered"`
	AnsweredWithin int `json:"answered_within"`
	Abandoned      int `json:"abandoned"`
	ShortAbandoned int `json:"short_abandoned"`
	Handled        int `json:"handled"`
	// ServiceLevel is dashboards.ServiceLevelOf's; nil when nothing
	// counts.
	ServiceLevel *float64 `json:"service_level"`
	// ASASeconds is the mean wait of the answered; nil when none was.
	ASASeconds *float64 `json:"asa_seconds"`
	// AbandonRate is Abandoned ÷ (Answered + Abandoned): of the contacts
	// whose wait ended, the share that ended it by leaving.
	AbandonRate *float64 `json:"abandon_rate"`
	// AHTSeconds is the mean handle time (accept to close).
	AHTSeconds *float64 `json:"aht_seconds"`

	waitSum, handleSum float64 // seconds, for the total's means
}

// Figures are what Measure counts of a period.
type Figures struct {
	// Queues are by name.
	Queues []QueueFigures `json:"queues"`
	Total  QueueFigures   `json:"total"`
	// Occupancy is dashboards.Occupancy of every agent's busy and
	// staffed time together.
	Occupancy      *float64 `json:"occupancy"`
	BusySeconds    float64  `json:"busy_seconds"`
	StaffedSeconds float64  `json:"staffed_seconds"`
	// Waiting is how many contacts were waiting (created, neither
	// accepted nor ended yet) at the start of each minute of the period.
	Waiting []int `json:"waiting_per_minute"`
	// Intervals are the period cut in ChartInterval slices, each with
	// every queue's service level (nil when nothing counts).
	Intervals []IntervalFigures `json:"intervals"`
	// Offers are the offers shown and accepted (see OfferFigures).
	Offers OfferFigures `json:"offers"`
}

// IntervalFigures are every queue's figures over one slice of a period.
type IntervalFigures struct {
	Start        time.Time `json:"start"`
	ServiceLevel *float64  `json:"service_level"`
	Answered     int       `json:"answered"`
	Abandoned    int       `json:"abandoned"`
}

// MeasureStore is what Measure reads: store.DB.
type MeasureStore interface {
	dashboards.AgentReportStore
}

var _ MeasureStore = (*store.DB)(nil)

// ChartInterval is the slice of the period the charts' service level is
// counted over: a 96th of it, at least 5 minutes (the reports' least),
// rounded to the minute.
func ChartInterval(from, to time.Time) time.Duration {
	d := (to.Sub(from) / 96).Round(time.Minute)
	return max(d, dashboards.MinReportInterval)
}

// Measure counts the figures of [from, to) that st holds, with the
// reports' own code (dashboards.QueueReport, dashboards.AgentReport),
// each queue's service level against levels (a queue not in it counts
// with a zero threshold). The recorded period and its replay are
// measured alike.
func Measure(ctx context.Context, st MeasureStore, levels map[string]router.ServiceLevel, from, to time.Time) (*Figures, error) {
	whole := dashboards.NewReport(levels, from, to, to.Sub(from))
	sliced := dashboards.NewReport(levels, from, to, ChartInterval(from, to))
	minutes := int((to.Sub(from) + time.Minute - 1) / time.Minute)
	f := &Figures{Waiting: make([]int, minutes)}
	err := st.EachContactTimes(ctx, from, to, func(c store.ContactTimes) error {
		whole.Add(c)
		sliced.Add(c)
		waitingAt(f.Waiting, c, from, to)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay: measure contacts: %w", err)
	}
	var total dashboards.WindowFigures
	for _, row := range whole.Rows() {
		q := QueueFigures{Queue: row.Queue, Target: levels[row.Queue].Target, WithinSeconds: levels[row.Queue].Within.D().Seconds(),
			Offered: row.Offered, Answered: row.Answered, AnsweredWithin: row.AnsweredWithin, Abandoned: row.Abandoned,
			ShortAbandoned: row.ShortAbandoned, Handled: row.Handled, ServiceLevel: row.ServiceLevel, ASASeconds: row.ASASeconds,
			AHTSeconds: row.AHTSeconds}
		if row.ASASeconds != nil {
			q.waitSum = *row.ASASeconds * float64(row.Answered)
		}
		if row.AHTSeconds != nil {
			q.handleSum = *row.AHTSeconds * float64(row.Handled)
		}
		q.AbandonRate = ratio(q.Abandoned, q.Answered+q.Abandoned)
		f.Queues = append(f.Queues, q)
		f.Total.Offered += q.Offered
		f.Total.Answered += q.Answered
		f.Total.AnsweredWithin += q.AnsweredWithin
		f.Total.Abandoned += q.Abandoned
		f.Total.ShortAbandoned += q.ShortAbandoned
		f.Total.Handled += q.Handled
		f.Total.waitSum += q.waitSum
		f.Total.handleSum += q.handleSum
	}
	total = dashboards.WindowFigures{Answered: f.Total.Answered, AnsweredInTime: f.Total.AnsweredWithin,
		Abandoned: f.Total.Abandoned, ShortAbandoned: f.Total.ShortAbandoned}
	if sl, ok := total.ServiceLevel(); ok {
		f.Total.ServiceLevel = &sl
	}
	if f.Total.Answered > 0 {
		f.Total.ASASeconds = ptr(round3(f.Total.waitSum / float64(f.Total.Answered)))
	}
	if f.Total.Handled > 0 {
		f.Total.AHTSeconds = ptr(round3(f.Total.handleSum / float64(f.Total.Handled)))
	}
	f.Total.AbandonRate = ratio(f.Total.Abandoned, f.Total.Answered+f.Total.Abandoned)
	f.Intervals = intervalsOf(sliced.Rows())

	agents := dashboards.NewAgentReport(from, to, to, to.Sub(from))
	if err := agents.Read(ctx, st, nil); err != nil {
		return nil, fmt.Errorf("replay: measure agents: %w", err)
	}
	for _, row := range agents.Rows() {
		f.BusySeconds += row.BusySeconds
		f.StaffedSeconds += row.StaffedSeconds
	}
	f.Occupancy = dashboards.Occupancy(seconds(f.BusySeconds), seconds(f.StaffedSeconds))
	return f, nil
}

// intervalsOf sums the rows of each interval over the queues, the
// service level by WindowFigures.ServiceLevel.
func intervalsOf(rows []dashboards.ReportRow) []IntervalFigures {
	var out []IntervalFigures
	var sum dashboards.WindowFigures
	flush := func() {
		if len(out) == 0 {
			return
		}
		last := &out[len(out)-1]
		last.Answered, last.Abandoned = sum.Answered, sum.Abandoned
		if sl, ok := sum.ServiceLevel(); ok {
			last.ServiceLevel = &sl
		}
		sum = dashboards.WindowFigures{}
	}
	for _, row := range rows {
		if len(out) == 0 || !out[len(out)-1].Start.Equal(row.Start) {
			flush()
			out = append(out, IntervalFigures{Start: row.Start})
		}
		sum.Answered += row.Answered
		sum.AnsweredInTime += row.AnsweredWithin
		sum.Abandoned += row.Abandoned
		sum.ShortAbandoned += row.ShortAbandoned
	}
	flush()
	return out
}

// waitingAt counts c in each minute of [from, to) at whose start it was
// waiting: created, and neither accepted nor ended yet.
func waitingAt(waiting []int, c store.ContactTimes, from, to time.Time) {
	end := to
	for _, t := range []time.Time{c.AssignedAt, c.EndedAt} {
		if !t.IsZero() && t.Before(end) {
			end = t
		}
	}
	start := c.CreatedAt
	if start.IsZero() || !start.Before(end) {
		return
	}
	// The first minute mark at or after start.
	i := int((start.Sub(from) + time.Minute - 1) / time.Minute)
	for i = max(i, 0); i < len(waiting); i++ {
		at := from.Add(time.Duration(i) * time.Minute)
		if !at.Before(end) {
			break
		}
		waiting[i]++
	}
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	return ptr(float64(n) / float64(d))
}

func ptr(f float64) *float64 { return &f }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
