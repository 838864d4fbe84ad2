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

// ErrReport is wrapped by CheckReport's errors: the request is invalid.
var ErrReport = errors.New("dashboards: invalid report")

// CheckReport checks a report's range and interval.
func CheckReport(from, to time.Time, interval time.Duration) error {
	switch {
	case from.IsZero() || to.IsZero():
		return fmt.Errorf("%w: from and to are required", ErrReport)
	case !to.After(from):
		return fmt.Errorf("%w: to (%s) is not after from (%s)", ErrReport, to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > MaxReportRange:
		return fmt.Errorf("%w: %s from from to to; at most %s", ErrReport, to.Sub(from), MaxReportRange)
	case interval < MinReportInterval || interval > MaxReportInterval:
		return fmt.Errorf("%w: interval %s; want %s to %s, such as 15m, 1h or 24h", ErrReport, interval, MinReportInterval, MaxReportInterval)
	case (to.Sub(from)+interval-1)/interval > MaxReportIntervals:
		return fmt.Errorf("%w: %d intervals of %s; at most %d", ErrReport, (to.Sub(from)+interval-1)/interval, interval, MaxReportIntervals)
	}
	return nil
}

// QueueReport bins contacts (store.DB.ContactTimes over [from, to)) into
// intervals of interval from from (the last one shorter if it must be),
// one row per interval and queue: the queues of levels, by name, and any
// other queue a contact is in. levels are the queues' service levels
// (their thresholds now). Rows are by start, then queue. It reads only
// its arguments; CheckReport first.
func QueueReport(contacts []store.ContactTimes, levels map[string]router.ServiceLevel, from, to time.Time, interval time.Duration) []ReportRow {
	queues := make([]string, 0, len(levels))
	for q := range levels {
		queues = append(queues, q)
	}
	for _, c := range contacts {
		if !slices.Contains(queues, c.Queue) {
			queues = append(queues, c.Queue)
		}
	}
	sort.Strings(queues)
	n := int((to.Sub(from) + interval - 1) / interval)
	type acc struct {
		row           ReportRow
		waits, aband  []time.Duration
		waitSum, hSum time.Duration
	}
	accs := make([]map[string]*acc, n)
	bin := func(t time.Time) int {
		if t.IsZero() || t.Before(from) || !t.Before(to) {
			return -1
		}
		return int(t.Sub(from) / interval)
	}
	get := func(i int, q string) *acc {
		if accs[i] == nil {
			accs[i] = map[string]*acc{}
		}
		a := accs[i][q]
		if a == nil {
			a = &acc{}
			accs[i][q] = a
		}
		return a
	}
	waitOf := func(c store.ContactTimes, end time.Time) time.Duration {
		if c.EnqueuedAt.IsZero() || !end.After(c.EnqueuedAt) {
			return 0
		}
		return end.Sub(c.EnqueuedAt)
	}
	for _, c := range contacts {
		if i := bin(c.CreatedAt); i >= 0 {
			get(i, c.Queue).row.Offered++
		}
		if i := bin(c.AssignedAt); i >= 0 {
			a := get(i, c.Queue)
			w := waitOf(c, c.AssignedAt)
			a.waits = append(a.waits, w)
			a.waitSum += w
		}
		i := bin(c.EndedAt)
		switch {
		case i < 0:
		case c.State == router.ContactAbandoned && c.AssignedAt.IsZero():
			a := get(i, c.Queue)
			a.aband = append(a.aband, waitOf(c, c.EndedAt))
		case c.State == router.ContactClosed && !c.AssignedAt.IsZero():
			a := get(i, c.Queue)
			a.row.Handled++
			a.hSum += c.EndedAt.Sub(c.AssignedAt)
		}
	}
	rows := make([]ReportRow, 0, n*len(queues))
	for i := 0; i < n; i++ {
		start := from.Add(time.Duration(i) * interval)
		end := start.Add(interval)
		if end.After(to) {
			end = to
		}
		for _, q := range queues {
			a := &acc{}
			if accs[i] != nil && accs[i][q] != nil {
				a = accs[i][q]
			}
			r := a.row
			r.Start, r.End, r.Queue = start, end, q
			sl := levels[q]
			r.Answered, r.Abandoned = len(a.waits), len(a.aband)
			for _, w := range a.waits {
				if w <= sl.Within.D() {
					r.AnsweredWithin++
				}
			}
			if got, short, ok := ServiceLevelOf(a.waits, a.aband, sl); ok {
				r.ServiceLevel, r.ShortAbandoned = ptr(got), short
			} else {
				r.ShortAbandoned = short
			}
			if r.Answered > 0 {
				r.ASASeconds = ptr(seconds(a.waitSum / time.Duration(r.Answered)))
			}
			if r.Handled > 0 {
				r.AHTSeconds = ptr(seconds(a.hSum / time.Duration(r.Handled)))
			}
			rows = append(rows, r)
		}
	}
	return rows
}
