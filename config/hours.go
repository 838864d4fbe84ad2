package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/hours"
)

// ChatCalendar is the name of the calendar that chat.opening_hours
// becomes: the hours of the chat topics' queues that name none. It is not
// a name a calendar under calendars can take ("_" is not allowed).
const ChatCalendar = "chat.opening_hours"

// Calendar is one named set of business hours under calendars: weekly
// spans ("09:00-17:30") in a time zone, and holidays. Queues name it in
// their hours.
type Calendar struct {
	// TimeZone is an IANA name ("Europe/Paris"); required.
	TimeZone  string   `yaml:"time_zone" json:"time_zone"`
	Monday    []string `yaml:"monday,omitempty" json:"monday,omitempty"`
	Tuesday   []string `yaml:"tuesday,omitempty" json:"tuesday,omitempty"`
	Wednesday []string `yaml:"wednesday,omitempty" json:"wednesday,omitempty"`
	Thursday  []string `yaml:"thursday,omitempty" json:"thursday,omitempty"`
	Friday    []string `yaml:"friday,omitempty" json:"friday,omitempty"`
	Saturday  []string `yaml:"saturday,omitempty" json:"saturday,omitempty"`
	Sunday    []string `yaml:"sunday,omitempty" json:"sunday,omitempty"`
	// Holidays replace the weekly spans of their dates.
	Holidays []Holiday `yaml:"holidays,omitempty" json:"holidays,omitempty"`
}

// Holiday is a date closed all day, or open only during its own hours.
type Holiday struct {
	// Date is "YYYY-MM-DD", or "MM-DD" for every year ("12-25").
	Date string `yaml:"date" json:"date"`
	// Name says what it is ("Christmas"); optional.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Hours are the date's spans; empty means closed all day.
	Hours []string `yaml:"hours,omitempty" json:"hours,omitempty"`
}

// Days returns the spans by time.Weekday, Sunday first.
func (c Calendar) Days() [7][]string {
	return [7][]string{c.Sunday, c.Monday, c.Tuesday, c.Wednesday, c.Thursday, c.Friday, c.Saturday}
}

// calendar returns chat.opening_hours as a calendar without holidays.
func (h OpeningHours) calendar() Calendar {
	return Calendar{TimeZone: h.TimeZone, Monday: h.Monday, Tuesday: h.Tuesday, Wednesday: h.Wednesday,
		Thursday: h.Thursday, Friday: h.Friday, Saturday: h.Saturday, Sunday: h.Sunday}
}

// dayNames are the weekday keys, by time.Weekday.
var dayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// calendarError is a problem with the field at a path relative to a
// calendar ("monday[0]", "holidays[1].date").
type calendarError struct{ field, msg string }

// build returns the calendar as hours.Calendar, or every problem found.
func (c Calendar) build() (*hours.Calendar, []calendarError) {
	var errs []calendarError
	out := &hours.Calendar{}
	if loc, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		errs = append(errs, calendarError{"time_zone", fmt.Sprintf("unknown time zone %q (want an IANA name such as \"Europe/Paris\" or \"UTC\")", c.TimeZone)})
	} else {
		out.Location = loc
	}
	spans := func(field string, ss []string) []hours.Span {
		var out []hours.Span
		for i, s := range ss {
			sp, err := hours.ParseSpan(s)
			if err != nil {
				errs = append(errs, calendarError{indexPath(field, i), fmt.Sprintf("%q is not a span (want \"HH:MM-HH:MM\" with the start before the end, at most 24:00, e.g. \"09:00-17:30\"; a night shift is \"22:00-24:00\" and \"00:00-06:00\" the next day)", s)})
				continue
			}
			out = append(out, sp)
		}
		return out
	}
	for d, ss := range c.Days() {
		out.Week[d] = spans(dayNames[d], ss)
	}
	for i, h := range c.Holidays {
		p := indexPath("holidays", i)
		d, err := hours.ParseDate(h.Date)
		if err != nil {
			errs = append(errs, calendarError{p + ".date", fmt.Sprintf("%q is not a date (want \"YYYY-MM-DD\" such as \"2026-12-24\", or \"MM-DD\" for every year such as \"12-25\")", h.Date)})
		}
		out.Holidays = append(out.Holidays, hours.Holiday{Date: d, Name: h.Name, Spans: spans(p+".hours", h.Hours)})
	}
	if errs != nil {
		return nil, errs
	}
	if err := out.Validate(); err != nil {
		var fe *hours.Error
		if !errors.As(err, &fe) {
			return nil, []calendarError{{"", err.Error()}}
		}
		return nil, []calendarError{{fe.Field, fe.Msg}}
	}
	return out, nil
}

// calendars checks calendars and chat.opening_hours.
func (v *validator) calendars() {
	for _, name := range slices.Sorted(maps.Keys(v.c.Calendars)) {
		p := fieldPath("calendars", name)
		v.name(p, name, "calendar name")
		if _, errs := v.c.Calendars[name].build(); errs != nil {
			for _, e := range errs {
				v.errf(strings.TrimSuffix(p+"."+e.field, "."), "%s", e.msg)
			}
		}
	}
	h := v.c.Chat.OpeningHours
	if !h.Set() {
		return
	}
	if _, errs := h.calendar().build(); errs != nil {
		for _, e := range errs {
			v.errf(strings.TrimSuffix("chat.opening_hours."+e.field, "."), "%s", e.msg)
		}
	}
	for _, t := range v.c.Chat.Topics {
		for _, q := range v.c.Queues {
			if q.Name == t.Queue && q.Hours != "" {
				v.errf("chat.opening_hours", "queue %q of topic %q has hours %q: the chat follows its queue's hours (want chat.opening_hours removed, its spans in a calendar under calendars that the queue names)", q.Name, t.ID, q.Hours)
			}
		}
	}
}

// queueHours checks a queue's hours: empty or a calendar's name.
func (v *validator) queueHours(p, name string) {
	if name == "" {
		return
	}
	if _, ok := v.c.Calendars[name]; !ok {
		want := "no calendar is declared; add one under calendars"
		if len(v.c.Calendars) > 0 {
			want = "want one of " + strings.Join(slices.Sorted(maps.Keys(v.c.Calendars)), ", ")
		}
		v.errf(p+".hours", "unknown calendar %q (%s, or no hours for always open)", name, want)
	}
}

// RouterCalendars returns the calendars as the router's Options.Calendars
// take them, with chat.opening_hours, when set, as ChatCalendar. Call it
// on a Config that Validate accepted: a calendar with a problem is left
// out, and the router then refuses the queues that name it.
func (c *Config) RouterCalendars() map[string]*hours.Calendar {
	out := make(map[string]*hours.Calendar, len(c.Calendars)+1)
	for name, cal := range c.Calendars {
		if h, errs := cal.build(); errs == nil {
			out[name] = h
		}
	}
	if c.Chat.OpeningHours.Set() {
		if h, errs := c.Chat.OpeningHours.calendar().build(); errs == nil {
			out[ChatCalendar] = h
		}
	}
	return out
}
