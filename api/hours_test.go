package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/hours"
)

func TestQueueHours(t *testing.T) {
	sp, err := hours.ParseSpan("13:00-17:00")
	if err != nil {
		t.Fatal(err)
	}
	afternoons := &hours.Calendar{} // UTC; epoch is a Monday 09:00
	afternoons.Week[time.Monday] = []hours.Span{sp}
	e := newEnvWith(t, envOptions{calendars: map[string]*hours.Calendar{"afternoons": afternoons}})
	q := decodeAs[queueView](t, e.must(http.StatusCreated, "PUT", "/api/v1/queues/billing", `{"hours":"afternoons"}`))
	if q.Hours != "afternoons" {
		t.Fatalf("PUT: hours %q, want afternoons", q.Hours)
	}
	e.must(http.StatusCreated, "PUT", "/api/v1/queues/sales", `{}`)
	res := e.do("PUT", "/api/v1/queues/tech", adminToken, `{"hours":"weekends"}`)
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `hours: no calendar \"weekends\"`) {
		t.Fatalf("PUT with an unknown calendar: %d %s, want 400 naming it", res.status, res.body)
	}

	opens := epoch.Add(4 * time.Hour)
	for _, tc := range []struct {
		name    string
		at      time.Duration // since epoch; rows in order
		queue   string
		open    bool
		opensAt *time.Time
	}{
		{"closed-before-its-hours", 0, "billing", false, &opens},
		{"no-hours-always-open", 0, "sales", true, nil},
		{"open-in-its-hours", 4 * time.Hour, "billing", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(epoch.Add(tc.at).Sub(e.clock.Now()))
			got := decodeAs[queueView](t, e.must(http.StatusOK, "GET", "/api/v1/queues/"+tc.queue, ""))
			list := decodeAs[struct{ Queues []queueView }](t, e.must(http.StatusOK, "GET", "/api/v1/queues", ""))
			for _, v := range append(list.Queues, got) {
				if v.Name != tc.queue {
					continue
				}
				if v.Open != tc.open || (v.OpensAt == nil) != (tc.opensAt == nil) || (v.OpensAt != nil && !v.OpensAt.Equal(*tc.opensAt)) {
					t.Fatalf("%s: open %v opens_at %v, want %v %v", tc.queue, v.Open, v.OpensAt, tc.open, tc.opensAt)
				}
			}
		})
	}
}
