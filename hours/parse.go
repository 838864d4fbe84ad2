package hours

import (
	"fmt"
	"strings"
	"time"
)

// Span is a range of a day's wall-clock time, as offsets from midnight:
// open while Start ≤ clock < End, with 0 ≤ Start < End ≤ 24h.
type Span struct {
	Start, End time.Duration
}

// String formats s as ParseSpan reads it ("09:00-17:30").
func (s Span) String() string { return clock(s.Start) + "-" + clock(s.End) }

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ParseSpan reads a span "HH:MM-HH:MM" ("09:00-17:30"); the end may be
// "24:00" and must come after the start.
func ParseSpan(s string) (Span, error) {
	start, end, ok := strings.Cut(s, "-")
	if !ok {
		return Span{}, fmt.Errorf("%w: span %q: want HH:MM-HH:MM, e.g. \"09:00-17:30\"", ErrInvalid, s)
	}
	a, okA := parseClock(start)
	b, okB := parseClock(end)
	if !okA || !okB || a == 24*time.Hour {
		return Span{}, fmt.Errorf("%w: span %q: want HH:MM-HH:MM from 00:00 to 24:00, e.g. \"09:00-17:30\"", ErrInvalid, s)
	}
	if a >= b {
		return Span{}, fmt.Errorf("%w: span %q: the start must come before the end (a night shift is two spans, \"22:00-24:00\" and \"00:00-06:00\" the next day)", ErrInvalid, s)
	}
	return Span{Start: a, End: b}, nil
}

// parseClock reads "HH:MM", 00:00 to 24:00.
func parseClock(s string) (time.Duration, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, okH := digits(s[:2])
	m, okM := digits(s[3:])
	if !okH || !okM || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

// digits reads a fixed number of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Date is a calendar date; Year 0 means the date every year.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String formats d as ParseDate reads it ("2026-12-24", or "12-25" for
// every year).
func (d Date) String() string {
	if d.Year == 0 {
		return fmt.Sprintf("%02d-%02d", int(d.Month), d.Day)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// ParseDate reads "YYYY-MM-DD" (one date) or "MM-DD" (that date every
// year, such as "12-25"); the date must exist ("02-29" is a date of leap
// years only).
func ParseDate(s string) (Date, error) {
	bad := func(why string) (Date, error) {
		return Date{}, fmt.Errorf("%w: date %q: %s", ErrInvalid, s, why)
	}
	var d Date
	md := s
	if len(s) == 10 && s[4] == '-' {
		y, ok := digits(s[:4])
		if !ok || y < 1 {
			return bad("want YYYY-MM-DD, e.g. \"2026-12-24\", or MM-DD for every year, e.g. \"12-25\"")
		}
		d.Year, md = y, s[5:]
	}
	if len(md) != 5 || md[2] != '-' {
		return bad("want YYYY-MM-DD, e.g. \"2026-12-24\", or MM-DD for every year, e.g. \"12-25\"")
	}
	m, okM := digits(md[:2])
	day, okD := digits(md[3:])
	if !okM || !okD || m < 1 || m > 12 || day < 1 {
		return bad("want YYYY-MM-DD, e.g. \"2026-12-24\", or MM-DD for every year, e.g. \"12-25\"")
	}
	d.Month, d.Day = time.Month(m), day
	leap := 2000 // a leap year: "02-29" exists every fourth year
	if d.Year != 0 {
		leap = d.Year
	}
	if t := time.Date(leap, d.Month, d.Day, 0, 0, 0, 0, time.UTC); t.Day() != d.Day {
		return bad("no such day")
	}
	return d, nil
}
