package hours

import (
	"fmt"
	"slices"
	"time"
)

// Limits of a calendar, checked by Validate.
const (
	// MaxSpans bounds the spans of one day.
	MaxSpans = 8
	// MaxHolidays bounds a calendar's holidays.
	MaxHolidays = 500
)

// searchDays is how far NextOpen looks past the last dated holiday: four
// years and a week, so that every weekday and every yearly holiday (29
// February too) comes round.
const searchDays = 4*366 + 7

// dayNames are the weekdays as the configuration names them, by
// time.Weekday.
var dayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// Holiday is a date when the weekly spans do not apply: closed all day,
// or open only during its own Spans.
type Holiday struct {
	// Date is the holiday; Year 0 means every year. A dated holiday wins
	// over a yearly one of the same day.
	Date Date
	// Name says what it is ("Christmas"); optional.
	Name string
	// Spans are the day's opening; nil means closed all day.
	Spans []Span
}

// Calendar is a queue's business hours. The zero value is closed for
// ever; a nil *Calendar is always open.
type Calendar struct {
	// Location is the time zone of the spans and dates; nil means UTC.
	Location *time.Location
	// Week holds each weekday's spans, indexed by time.Weekday (Sunday
	// first), in order and not overlapping; a day without spans is
	// closed.
	Week [7][]Span
	// Holidays replace the weekly spans of their dates; no date twice.
	Holidays []Holiday
}

// Validate reports the first problem of c as an *Error naming its field
// ("monday[1]", "holidays[2].hours[0]").
func (c *Calendar) Validate() error {
	if c == nil {
		return nil
	}
	for d, spans := range c.Week {
		if err := checkSpans(dayNames[d], spans); err != nil {
			return err
		}
	}
	if len(c.Holidays) > MaxHolidays {
		return &Error{Field: "holidays", Msg: fmt.Sprintf("%d holidays, want at most %d", len(c.Holidays), MaxHolidays)}
	}
	seen := make(map[Date]int, len(c.Holidays))
	for i, h := range c.Holidays {
		field := fmt.Sprintf("holidays[%d]", i)
		if _, err := ParseDate(h.Date.String()); err != nil {
			return &Error{Field: field + ".date", Msg: fmt.Sprintf("%s is not a date (want YYYY-MM-DD, or MM-DD for every year)", h.Date)}
		}
		if j, dup := seen[h.Date]; dup {
			return &Error{Field: field + ".date", Msg: fmt.Sprintf("%s is also holidays[%d]; give a date once", h.Date, j)}
		}
		seen[h.Date] = i
		if err := checkSpans(field+".hours", h.Spans); err != nil {
			return err
		}
	}
	return nil
}

// checkSpans checks one day's spans: each well formed, in order, not
// overlapping.
func checkSpans(field string, spans []Span) error {
	if len(spans) > MaxSpans {
		return &Error{Field: field, Msg: fmt.Sprintf("%d spans, want at most %d", len(spans), MaxSpans)}
	}
	for i, s := range spans {
		if s.Start < 0 || s.Start >= s.End || s.End > 24*time.Hour {
			return &Error{Field: fmt.Sprintf("%s[%d]", field, i), Msg: fmt.Sprintf("%s: want the start before the end, from 00:00 to 24:00", s)}
		}
		if i > 0 && s.Start < spans[i-1].End {
			return &Error{Field: fmt.Sprintf("%s[%d]", field, i), Msg: fmt.Sprintf("%s starts before the previous span %s ends; list a day's spans in order, apart", s, spans[i-1])}
		}
	}
	return nil
}

func (c *Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// spans returns the spans of the local date y-m-d: a dated holiday's,
// else a yearly holiday's, else the weekday's.
func (c *Calendar) spans(y int, m time.Month, d int, wd time.Weekday) []Span {
	yearly := -1
	for i, h := range c.Holidays {
		if h.Date.Month != m || h.Date.Day != d {
			continue
		}
		if h.Date.Year == y {
			return h.Spans
		}
		if h.Date.Year == 0 {
			yearly = i
		}
	}
	if yearly >= 0 {
		return c.Holidays[yearly].Spans
	}
	return c.Week[wd]
}

// wall returns t's local date and the wall-clock time of its day.
func wall(t time.Time) (y int, m time.Month, d int, since time.Duration) {
	y, m, d = t.Date()
	h, mi, s := t.Clock()
	return y, m, d, time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}

// Open reports whether t falls within the calendar's hours.
func (c *Calendar) Open(t time.Time) bool {
	if c == nil {
		return true
	}
	t = t.In(c.loc())
	y, m, d, since := wall(t)
	for _, s := range c.spans(y, m, d, t.Weekday()) {
		if since >= s.Start && since < s.End {
			return true
		}
	}
	return false
}

// NextOpen returns the earliest instant at or after t when the calendar
// is open (t itself if it is open), in the calendar's time zone; false if
// it never opens again.
func (c *Calendar) NextOpen(t time.Time) (time.Time, bool) {
	if c == nil || c.Open(t) {
		return t, true
	}
	if !c.opensEver() {
		return time.Time{}, false
	}
	loc := c.loc()
	t = t.In(loc)
	y, m, d, _ := wall(t)
	last := c.lastDated()
	for i := 0; ; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc) // noon: never in a DST gap
		dy, dm, dd := day.Date()
		if i > searchDays && dy > last {
			return time.Time{}, false
		}
		for _, s := range c.spans(dy, dm, dd, day.Weekday()) {
			for _, u := range instants(dy, dm, dd, s.Start, loc) {
				if !u.Before(t) && c.Open(u) {
					return u, true
				}
			}
		}
	}
}

// opensEver reports whether any day of c has a span.
func (c *Calendar) opensEver() bool {
	for _, spans := range c.Week {
		if len(spans) > 0 {
			return true
		}
	}
	for _, h := range c.Holidays {
		if len(h.Spans) > 0 {
			return true
		}
	}
	return false
}

// lastDated returns the year of the latest dated holiday (0 if none).
func (c *Calendar) lastDated() int {
	last := 0
	for _, h := range c.Holidays {
		last = max(last, h.Date.Year)
	}
	return last
}

// instants returns, in order, the instants when the wall clock of loc
// first reaches the time at on the date y-m-d: one on most days, two
// when the clock is set back across it, and the moment the clock jumps
// when it is set forward over it.
func instants(y int, m time.Month, d int, at time.Duration, loc *time.Location) []time.Time {
	naive := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(at) // the wall clock read as UTC
	var offsets []int
	for _, probe := range []time.Duration{-36 * time.Hour, 0, 36 * time.Hour} {
		_, off := naive.Add(probe).In(loc).Zone()
		if !slices.Contains(offsets, off) {
			offsets = append(offsets, off)
		}
	}
	var out []time.Time
	for _, off := range offsets {
		u := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if uy, um, ud, since := wall(u); uy == y && um == m && ud == d && since == at {
			out = append(out, u)
		}
	}
	if len(out) > 0 {
		slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
		return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
	}
	// The clock jumps over at: open from the jump, the first instant
	// whose offset is the later one.
	before, after := offsets[0], offsets[len(offsets)-1]
	lo := naive.Add(-time.Duration(max(before, after)) * time.Second)
	hi := naive.Add(-time.Duration(min(before, after)) * time.Second)
	_, loOff := lo.In(loc).Zone()
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if _, off := mid.In(loc).Zone(); off == loOff {
			lo = mid
		} else {
			hi = mid
		}
	}
	return []time.Time{hi.In(loc)}
}

// Status says in English whether the calendar is open at t and, if not,
// until when it is closed, in its own time zone: "open", "closed until
// 14:00" (later that day), "closed until Monday 09:00" (within a week),
// "closed until Monday 5 January 2027 09:00", or "closed" if it never
// opens again. Channels that speak other languages format NextOpen
// themselves.
func (c *Calendar) Status(t time.Time) string {
	next, ok := c.NextOpen(t)
	switch {
	case !ok:
		return "closed"
	case next.Equal(t):
		return "open"
	}
	t = t.In(c.loc())
	ty, tm, td := t.Date()
	ny, nm, nd := next.Date()
	switch {
	case ty == ny && tm == nm && td == nd:
		return "closed until " + next.Format("15:04")
	case next.Before(time.Date(ty, tm, td+7, 0, 0, 0, 0, c.loc())):
		return "closed until " + next.Format("Monday 15:04")
	}
	return "closed until " + next.Format("Monday 2 January 2006 15:04")
}
