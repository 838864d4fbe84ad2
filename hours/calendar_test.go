package hours

import (
	"errors"
	"testing"
	"time"
)

func mustSpans(t *testing.T, ss ...string) []Span {
	t.Helper()
	var out []Span
	for _, s := range ss {
		sp, err := ParseSpan(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sp)
	}
	return out
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data")
	}
	return loc
}

// office is open on weekdays 09:00-17:30 in Paris, closes at noon on
// 24 December 2026 and all day every 25 December.
func office(t *testing.T) *Calendar {
	c := &Calendar{Location: paris(t), Holidays: []Holiday{
		{Date: mustDate(t, "12-25"), Name: "Christmas"},
		{Date: mustDate(t, "2026-12-24"), Name: "Christmas Eve", Spans: mustSpans(t, "09:00-12:00")},
	}}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Week[d] = mustSpans(t, "09:00-17:30")
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// sundays is open on Sundays 02:30-04:00 and 09:00-12:00 in Paris, the
// hours that daylight saving time moves.
func sundays(t *testing.T) *Calendar {
	c := &Calendar{Location: paris(t)}
	c.Week[time.Sunday] = mustSpans(t, "02:30-04:00", "09:00-12:00")
	return c
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCalendar(t *testing.T) {
	nightShift := &Calendar{}
	nightShift.Week[time.Monday] = mustSpans(t, "22:00-24:00")
	nightShift.Week[time.Tuesday] = mustSpans(t, "00:00-06:00")
	farHoliday := &Calendar{Location: paris(t), Holidays: []Holiday{{Date: mustDate(t, "2035-06-01"), Spans: mustSpans(t, "10:00-11:00")}}}
	pastHoliday := &Calendar{Holidays: []Holiday{{Date: mustDate(t, "2020-06-01"), Spans: mustSpans(t, "10:00-11:00")}}}
	for _, tc := range []struct {
		name string
		cal  *Calendar
		at   string // UTC
		open bool
		next string // UTC; "" never
		say  string
	}{
		// An ordinary week: Paris is UTC+1 in December.
		{"weekday-open", office(t), "2026-12-21T08:00:00Z", true, "2026-12-21T08:00:00Z", "open"},
		{"weekday-before", office(t), "2026-12-21T06:00:00Z", false, "2026-12-21T08:00:00Z", "closed until 09:00"},
		{"weekday-end-excluded", office(t), "2026-12-21T16:30:00Z", false, "2026-12-22T08:00:00Z", "closed until Tuesday 09:00"},
		{"weekday-last-second", office(t), "2026-12-21T16:29:59Z", true, "2026-12-21T16:29:59Z", "open"},
		// Holidays: a date with its own hours, a yearly date closed.
		{"holiday-own-hours-open", office(t), "2026-12-24T10:59:00Z", true, "2026-12-24T10:59:00Z", "open"},
		{"holiday-own-hours-closed", office(t), "2026-12-24T11:00:00Z", false, "2026-12-28T08:00:00Z", "closed until Monday 09:00"},
		{"yearly-holiday-closed", office(t), "2026-12-25T09:00:00Z", false, "2026-12-28T08:00:00Z", "closed until Monday 09:00"},
		{"dated-holiday-other-year", office(t), "2027-12-24T13:00:00Z", true, "2027-12-24T13:00:00Z", "open"},
		// Spring forward, Sunday 29 March 2026: at 01:00 UTC the clock
		// jumps from 02:00 to 03:00, over 02:30.
		{"spring-before-jump", sundays(t), "2026-03-29T00:59:00Z", false, "2026-03-29T01:00:00Z", "closed until 03:00"},
		{"spring-at-jump", sundays(t), "2026-03-29T01:00:00Z", true, "2026-03-29T01:00:00Z", "open"},
		{"spring-after-span", sundays(t), "2026-03-29T02:00:00Z", false, "2026-03-29T07:00:00Z", "closed until 09:00"},
		{"spring-nine-local", sundays(t), "2026-03-29T07:00:00Z", true, "2026-03-29T07:00:00Z", "open"},
		{"spring-eight-local", sundays(t), "2026-03-29T06:59:00Z", false, "2026-03-29T07:00:00Z", "closed until 09:00"},
		// Fall back, Sunday 25 October 2026: at 01:00 UTC the clock goes
		// from 03:00 back to 02:00, so 02:30 comes twice.
		{"fall-first-0229", sundays(t), "2026-10-25T00:29:00Z", false, "2026-10-25T00:30:00Z", "closed until 02:30"},
		{"fall-first-0245", sundays(t), "2026-10-25T00:45:00Z", true, "2026-10-25T00:45:00Z", "open"},
		{"fall-second-0215", sundays(t), "2026-10-25T01:15:00Z", false, "2026-10-25T01:30:00Z", "closed until 02:30"},
		{"fall-second-0230", sundays(t), "2026-10-25T01:30:00Z", true, "2026-10-25T01:30:00Z", "open"},
		{"fall-eight-local", sundays(t), "2026-10-25T07:00:00Z", false, "2026-10-25T08:00:00Z", "closed until 09:00"},
		{"fall-nine-local", sundays(t), "2026-10-25T08:00:00Z", true, "2026-10-25T08:00:00Z", "open"},
		// Spans that join across midnight.
		{"night-shift-before-midnight", nightShift, "2026-12-21T23:59:59Z", true, "2026-12-21T23:59:59Z", "open"},
		{"night-shift-after-midnight", nightShift, "2026-12-22T00:00:00Z", true, "2026-12-22T00:00:00Z", "open"},
		{"night-shift-next-week", nightShift, "2026-12-22T06:00:00Z", false, "2026-12-28T22:00:00Z", "closed until Monday 22:00"},
		// Far away, and never.
		{"far-holiday", farHoliday, "2026-12-21T08:00:00Z", false, "2035-06-01T08:00:00Z", "closed until Friday 1 June 2035 10:00"},
		{"past-holiday-only", pastHoliday, "2026-12-21T08:00:00Z", false, "", "closed"},
		{"never-opens", &Calendar{}, "2026-12-21T08:00:00Z", false, "", "closed"},
		{"nil-always-open", nil, "2026-12-21T03:00:00Z", true, "2026-12-21T03:00:00Z", "open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := utc(tc.at)
			if got := tc.cal.Open(at); got != tc.open {
				t.Fatalf("Open(%s) = %v, want %v", tc.at, got, tc.open)
			}
			next, ok := tc.cal.NextOpen(at)
			if ok != (tc.next != "") || (ok && !next.Equal(utc(tc.next))) {
				t.Fatalf("NextOpen(%s) = %v, %v; want %q", tc.at, next.UTC(), ok, tc.next)
			}
			if ok && !tc.cal.Open(next) {
				t.Fatalf("NextOpen(%s) = %v, which is not open", tc.at, next)
			}
			if got := tc.cal.Status(at); got != tc.say {
				t.Fatalf("Status(%s) = %q, want %q", tc.at, got, tc.say)
			}
		})
	}
}

// TestNextOpenIsFirst checks, minute by minute over the DST weekends and
// Christmas, that NextOpen is open and nothing before it is.
func TestNextOpenIsFirst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cal   *Calendar
		from  string
		hours int
	}{
		{"spring", sundays(t), "2026-03-28T20:00:00Z", 16},
		{"fall", sundays(t), "2026-10-24T20:00:00Z", 16},
		{"christmas", office(t), "2026-12-24T06:00:00Z", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := utc(tc.from)
			for m := 0; m < tc.hours*60; m += 7 {
				at := from.Add(time.Duration(m) * time.Minute)
				next, ok := tc.cal.NextOpen(at)
				if !ok || !tc.cal.Open(next) || next.Before(at) {
					t.Fatalf("NextOpen(%v) = %v, %v", at, next, ok)
				}
				for u := at; u.Before(next); u = u.Add(time.Minute) {
					if tc.cal.Open(u) {
						t.Fatalf("NextOpen(%v) = %v, but %v is open", at, next, u)
					}
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(c *Calendar)
		field string // "" valid
	}{
		{"valid", func(c *Calendar) {}, ""},
		{"overlap", func(c *Calendar) { c.Week[time.Monday] = mustSpans(t, "09:00-12:00", "11:00-14:00") }, "monday[1]"},
		{"out-of-order", func(c *Calendar) { c.Week[time.Friday] = mustSpans(t, "14:00-18:00", "09:00-12:00") }, "friday[1]"},
		{"touching", func(c *Calendar) { c.Week[time.Monday] = mustSpans(t, "09:00-12:00", "12:00-14:00") }, ""},
		{"backwards", func(c *Calendar) { c.Week[time.Sunday] = []Span{{Start: 10 * time.Hour, End: 9 * time.Hour}} }, "sunday[0]"},
		{"past-midnight", func(c *Calendar) { c.Week[time.Sunday] = []Span{{Start: 10 * time.Hour, End: 25 * time.Hour}} }, "sunday[0]"},
		{"too-many-spans", func(c *Calendar) { c.Week[time.Monday] = make([]Span, MaxSpans+1) }, "monday"},
		{"date-twice", func(c *Calendar) { c.Holidays = append(c.Holidays, Holiday{Date: mustDate(t, "12-25")}) }, "holidays[2].date"},
		{"no-such-date", func(c *Calendar) { c.Holidays[0].Date.Day = 32 }, "holidays[0].date"},
		{"holiday-overlap", func(c *Calendar) { c.Holidays[1].Spans = mustSpans(t, "09:00-12:00", "10:00-11:00") }, "holidays[1].hours[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := office(t)
			tc.edit(c)
			err := c.Validate()
			if (tc.field == "") != (err == nil) {
				t.Fatalf("Validate() = %v, want field %q", err, tc.field)
			}
			var fe *Error
			if err != nil && (!errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != tc.field) {
				t.Fatalf("Validate() = %v, want an *Error naming %q", err, tc.field)
			}
		})
	}
}
