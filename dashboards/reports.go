package dashboards

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// ReportRow is one queue over one interval of a report. Each event of a
// contact counts in the interval it happened in: offered when created,
// answered when an agent accepted it, abandoned and handled when it
// ended; a contact that spans intervals counts in each for what
// happened there. A contact counts in the queue it is in now.
type ReportRow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Queue string    `json:"queue"`
	// Offered counts the contacts created.
	Offered int `json:"offered"`
	// Answered counts the contacts an agent accepted; AnsweredWithin
	// those whose wait was within the queue's threshold.
	Answered       int `json:"answered"`
	AnsweredWithin int `json:"answered_within"`
	// Abandoned counts the contacts abandoned before an agent accepted
	// them; ShortAbandoned those within the queue's short-abandon
	// threshold, which count in no service level.
	Abandoned      int `json:"abandoned"`
	ShortAbandoned int `json:"short_abandoned"`
	// ServiceLevel is ServiceLevelOf the interval's waits; nil when
	// nothing counts.
	ServiceLevel *float64 `json:"service_level"`
	// ASASeconds is the mean wait of the answered; nil when none was.
	ASASeconds *float64 `json:"asa_seconds"`
	// Handled counts the contacts closed after an agent accepted them;
	// AHTSeconds their mean handle time (talk plus wrap-up, from the
	// accept to the close); nil when none was.
	Handled    int      `json:"handled"`
	AHTSeconds *float64 `json:"aht_seconds"`
	// CSATResponses counts the satisfaction surveys answered about the
	// contacts that ended in the interval (package csat); CSATAverage is
	// their mean score, nil when none was.
	CSATResponses int      `json:"csat_responses"`
	CSATAverage   *float64 `json:"csat_average"`
}

// Report limits.
const (
	// MinReportInterval and MaxReportInterval bound an interval.
	MinReportInterval = 5 * time.Minute
	MaxReportInterval = 24 * time.Hour
	// MaxReportIntervals bounds the intervals of one report.
	MaxReportIntervals = 5000
	// MaxReportRange bounds from..to.
	MaxReportRange = 93 * 24 * time.Hour
)

// ErrReport is matched by CheckReport's errors: the request is invalid.
var ErrReport = errors.New("dashboards: invalid report")

// ReportError is a report's request that CheckReport refuses: Message
// says what is wrong and what would be valid, without the package's
// prefix, for a transport to show as it is. It matches ErrReport.
type ReportError struct{ Message string }

// Error returns the message with the package's prefix.
func (e *ReportError) Error() string { return ErrReport.Error() + ": " + e.Message }

// Is makes the error match ErrReport.
func (e *ReportError) Is(target error) bool { return target == ErrReport }

// CheckReport checks a report's range and interval; its error is a
// *ReportError.
func CheckReport(from, to time.Time, interval time.Duration) error {
	bad := func(format string, args ...any) error { return &ReportError{Message: fmt.Sprintf(format, args...)} }
	switch {
	case from.IsZero() || to.IsZero():
		return bad("from and to are required")
	case !to.After(from):
		return bad("to (%s) is not after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > MaxReportRange:
		return bad("%s from from to to; at most %s", to.Sub(from), MaxReportRange)
	case interval < MinReportInterval || interval > MaxReportInterval:
		return bad("interval %s; want %s to %s, such as 15m, 1h or 24h", interval, MinReportInterval, MaxReportInterval)
	case (to.Sub(from)+interval-1)/interval > MaxReportIntervals:
		return bad("%d intervals of %s; at most %d", (to.Sub(from)+interval-1)/interval, interval, MaxReportIntervals)
	}
	return nil
}

// QueueReport bins contacts (store.DB.ContactTimes over [from, to)) into
// intervals of interval from from (the last one shorter if it must be),
// one row per interval and queue: the queues of levels, by name, and any
// other queue a contact is in. levels are the queues' service levels
// (their thresholds now). Rows are by start, then queue. It reads only
// its arguments; CheckReport first. A Report does the same for contacts
// streamed one at a time.
func QueueReport(contacts []store.ContactTimes, levels map[string]router.ServiceLevel, from, to time.Time, interval time.Duration) []ReportRow {
	r := NewReport(levels, from, to, interval)
	for _, c := range contacts {
		r.Add(c)
	}
	return r.Rows()
}

// Report builds a queue report from contacts added one at a time
// (store.DB.EachContactTimes): it holds only its bins, whatever the range.
type Report struct {
	levels   map[string]router.ServiceLevel
	from, to time.Time
	interval time.Duration
	queues   []string
	bins     []map[string]*bin
}

// bin is one queue over one interval, as contacts are added.
type bin struct {
	row           ReportRow
	waits, aband  []time.Duration
	waitSum, hSum time.Duration
	csatSum       int
}

// NewReport starts a report over [from, to) in intervals of interval.
func NewReport(levels map[string]router.ServiceLevel, from, to time.Time, interval time.Duration) *Report {
	r := &Report{levels: levels, from: from, to: to, interval: interval,
		bins: make([]map[string]*bin, int((to.Sub(from)+interval-1)/interval))}
	for q := range levels {
		r.queues = append(r.queues, q)
	}
	return r
}

func (r *Report) index(t time.Time) int {
	if t.IsZero() || t.Before(r.from) || !t.Before(r.to) {
		return -1
	}
	return int(t.Sub(r.from) / r.interval)
}

func (r *Report) bin(i int, q string) *bin {
	if r.bins[i] == nil {
		r.bins[i] = map[string]*bin{}
	}
	b := r.bins[i][q]
	if b == nil {
		b = &bin{}
		r.bins[i][q] = b
	}
	return b
}

// Add counts contact c's events in their intervals.
func (r *Report) Add(c store.ContactTimes) {
	if !slices.Contains(r.queues, c.Queue) {
		r.queues = append(r.queues, c.Queue)
	}
	if i := r.index(c.CreatedAt); i >= 0 {
		r.bin(i, c.Queue).row.Offered++
	}
	if i := r.index(c.AssignedAt); i >= 0 {
		b := r.bin(i, c.Queue)
		w := waitBetween(c.QueuedAt, c.AssignedAt)
		b.waits = append(b.waits, w)
		b.waitSum += w
	}
	i := r.index(c.EndedAt)
	switch {
	case i < 0:
	case c.State == router.ContactAbandoned && c.AssignedAt.IsZero():
		b := r.bin(i, c.Queue)
		b.aband = append(b.aband, waitBetween(c.QueuedAt, c.EndedAt))
	case c.State == router.ContactClosed && !c.AssignedAt.IsZero():
		b := r.bin(i, c.Queue)
		b.row.Handled++
		b.hSum += c.EndedAt.Sub(c.AssignedAt)
		if c.CSAT > 0 {
			b.row.CSATResponses++
			b.csatSum += c.CSAT
		}
	}
}

// Rows returns the report: a row per interval and queue, by start, then
// queue.
func (r *Report) Rows() []ReportRow {
	queues := slices.Clone(r.queues)
	sort.Strings(queues)
	rows := make([]ReportRow, 0, len(r.bins)*len(queues))
	for i := range r.bins {
		start := r.from.Add(time.Duration(i) * r.interval)
		end := start.Add(r.interval)
		if end.After(r.to) {
			end = r.to
		}
		for _, q := range queues {
			b := &bin{}
			if r.bins[i] != nil && r.bins[i][q] != nil {
				b = r.bins[i][q]
			}
			row := b.row
			row.Start, row.End, row.Queue = start, end, q
			sl := r.levels[q]
			row.Answered, row.Abandoned = len(b.waits), len(b.aband)
			for _, w := range b.waits {
				if w <= sl.Within.D() {
					row.AnsweredWithin++
				}
			}
			got, short, ok := ServiceLevelOf(b.waits, b.aband, sl)
			row.ShortAbandoned = short
			if ok {
				row.ServiceLevel = ptr(got)
			}
			if row.Answered > 0 {
				row.ASASeconds = ptr(seconds(b.waitSum / time.Duration(row.Answered)))
			}
			if row.Handled > 0 {
				row.AHTSeconds = ptr(seconds(b.hSum / time.Duration(row.Handled)))
			}
			if row.CSATResponses > 0 {
				row.CSATAverage = ptr(float64(b.csatSum) / float64(row.CSATResponses))
			}
			rows = append(rows, row)
		}
	}
	return rows
}
