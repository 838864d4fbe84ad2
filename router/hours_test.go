package router

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/hours"
)

// mornings is open 08:00-12:00 UTC on Mondays; epoch is a Monday 09:00.
func mornings(t *testing.T) *hours.Calendar {
	t.Helper()
	sp, err := hours.ParseSpan("08:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	c := &hours.Calendar{}
	c.Week[time.Monday] = []hours.Span{sp}
	return c
}

func TestQueueHours(t *testing.T) {
	cal := mornings(t)
	h := newHarness(t, &Options{Calendars: map[string]*hours.Calendar{"office": cal}})
	h.queue(Queue{Name: "billing", Hours: "office"})
	h.queue(Queue{Name: "always"})
	if _, err := h.r.PutQueue(h.ctx, Queue{Name: "z", Hours: "weekend"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("PutQueue with an unknown calendar: got %v, want ErrInvalid", err)
	}
	if _, ok := h.r.Snapshot().Queue("z"); ok {
		t.Fatal("the queue with an unknown calendar was stored")
	}
	snap := h.r.Snapshot()
	for _, tc := range []struct {
		name, queue string
		want        *hours.Calendar
	}{
		{"named-calendar", "billing", cal},
		{"no-hours", "always", nil},
		{"no-such-queue", "nope", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := snap.Hours(tc.queue); got != tc.want {
				t.Fatalf("Hours(%s) = %p, want %p", tc.queue, got, tc.want)
			}
		})
	}
	if !snap.Hours("billing").Open(snap.At) || snap.Hours("billing").Open(snap.At.Add(3*time.Hour)) {
		t.Fatal("billing: want open at 09:00 and closed at 12:00")
	}
	if q, _ := snap.Queue("billing"); q.Hours != "office" {
		t.Fatalf("queue %+v, want hours office", q)
	}
}

// A stored queue whose calendar is no longer configured still loads,
// and is always open.
func TestQueueHoursCalendarGone(t *testing.T) {
	st, clk := newMemStore(), NewManualClock(epoch)
	h := startHarness(t, st, clk, &Options{Calendars: map[string]*hours.Calendar{"office": mornings(t)}})
	h.queue(Queue{Name: "billing", Hours: "office"})
	h.r.Close()

	h = startHarness(t, st, clk, nil)
	snap := h.r.Snapshot()
	if q, ok := snap.Queue("billing"); !ok || q.Hours != "office" {
		t.Fatalf("restored %+v, %v; want billing with hours office", q, ok)
	}
	if c := snap.Hours("billing"); c != nil {
		t.Fatalf("Hours(billing) = %p, want nil (always open)", c)
	}
}
