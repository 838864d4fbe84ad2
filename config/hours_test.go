package config

import (
	"strings"
	"testing"
	"time"
)

const officeYAML = `calendars:
  office:
    time_zone: Europe/Paris
    monday: ["09:00-12:00", "13:00-17:30"]
    friday: ["09:00-17:00"]
    holidays:
      - {date: "12-25", name: Christmas}
      - {date: 2026-12-24, name: Christmas Eve, hours: ["09:00-12:00"]}
queues:
  - name: billing
    hours: office
  - name: backoffice
`

func TestCalendarValidation(t *testing.T) {
	cal := func(body string) string { return "calendars:\n  office:\n    time_zone: UTC\n" + body }
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"bad-zone", "calendars:\n  office: {time_zone: Mars/Olympus}\n", `x.yaml:2:23: calendars.office.time_zone: unknown time zone "Mars/Olympus"`},
		{"no-zone", "calendars:\n  office: {monday: [\"09:00-17:00\"]}\n", `calendars.office.time_zone: unknown time zone ""`},
		{"bad-span", cal("    monday: [\"17:00-09:00\"]\n"), `x.yaml:4:14: calendars.office.monday[0]: "17:00-09:00" is not a span`},
		{"overlap", cal("    tuesday: [\"09:00-12:00\", \"11:00-14:00\"]\n"), `x.yaml:4:30: calendars.office.tuesday[1]: 11:00-14:00 starts before the previous span 09:00-12:00 ends`},
		{"bad-date", cal("    holidays:\n      - {date: 2026-02-30}\n"), `x.yaml:5:16: calendars.office.holidays[0].date: "2026-02-30" is not a date`},
		{"date-twice", cal("    holidays:\n      - {date: 12-25}\n      - {date: 12-25}\n"), `calendars.office.holidays[1].date: 12-25 is also holidays[0]`},
		{"bad-holiday-hours", cal("    holidays:\n      - {date: 12-24, hours: [\"9-12\"]}\n"), `calendars.office.holidays[0].hours[0]: "9-12" is not a span`},
		{"bad-name", "calendars:\n  \"front office\": {time_zone: UTC}\n", `calendars["front office"]: invalid calendar name`},
		{"unknown-calendar", officeYAML + "  - name: sales\n    hours: weekend\n", `x.yaml:14:12: queues[2].hours: unknown calendar "weekend" (want one of office, or no hours`},
		{"no-calendars", "queues:\n  - {name: sales, hours: office}\n", `queues[0].hours: unknown calendar "office" (no calendar is declared`},
		{"chat-hours-and-queue-hours", officeYAML + "chat:\n  topics: [{id: b, label: B, queue: billing}]\n  opening_hours: {time_zone: UTC, monday: [\"09:00-17:00\"]}\n",
			`chat.opening_hours: queue "billing" of topic "b" has hours "office"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRouterCalendars(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		queue string // its hours
		hours string
		at    string // UTC
		open  bool
	}{
		{"monday-morning", officeYAML, "billing", "office", "2026-12-21T08:00:00Z", true},
		{"monday-lunch", officeYAML, "billing", "office", "2026-12-21T11:30:00Z", false},
		{"christmas-eve-morning", officeYAML, "billing", "office", "2026-12-24T10:00:00Z", true},
		{"christmas-friday", officeYAML, "billing", "office", "2026-12-25T10:00:00Z", false},
		{"no-hours", officeYAML, "backoffice", "", "2026-12-25T03:00:00Z", true},
		{"chat-opening-hours", officeYAML + "  - name: sales\nchat:\n  topics: [{id: s, label: S, queue: sales, offline_queue: backoffice}]\n  opening_hours: {time_zone: Europe/Paris, monday: [\"14:00-18:00\"]}\n",
			"sales", ChatCalendar, "2026-12-21T13:00:00Z", true},
		{"chat-opening-hours-closed", officeYAML + "  - name: sales\nchat:\n  topics: [{id: s, label: S, queue: sales, offline_queue: backoffice}]\n  opening_hours: {time_zone: Europe/Paris, monday: [\"14:00-18:00\"]}\n",
			"sales", ChatCalendar, "2026-12-21T12:59:00Z", false},
		{"chat-offline-queue-untouched", officeYAML + "  - name: sales\nchat:\n  topics: [{id: s, label: S, queue: sales, offline_queue: backoffice}]\n  opening_hours: {time_zone: Europe/Paris, monday: [\"14:00-18:00\"]}\n",
			"backoffice", "", "2026-12-21T03:00:00Z", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("x.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var hours string
			found := false
			for _, q := range c.RouterQueues() {
				if q.Name == tc.queue {
					hours, found = q.Hours, true
				}
			}
			if !found || hours != tc.hours {
				t.Fatalf("queue %s: hours %q (found %v), want %q", tc.queue, hours, found, tc.hours)
			}
			cal := c.RouterOptions().Calendars[hours]
			if (hours != "") != (cal != nil) {
				t.Fatalf("calendar %q: %v", hours, cal)
			}
			at, _ := time.Parse(time.RFC3339, tc.at)
			if got := cal.Open(at); got != tc.open {
				t.Fatalf("open at %s: got %v, want %v", tc.at, got, tc.open)
			}
		})
	}
}
