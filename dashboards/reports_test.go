package dashboards

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// TestQueueReport: a morning worked out by hand, in 15-minute intervals.
// Each event counts where it happened; a contact spanning intervals
// counts in each for what happened there.
func TestQueueReport(t *testing.T) {
	at := func(hms string) time.Time {
		t, err := time.Parse("15:04:05", hms)
		if err != nil {
			panic(err)
		}
		return time.Date(2026, 3, 2, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	}
	c := func(id, queue string, state router.ContactState, created, assigned, ended string) store.ContactTimes {
		ct := store.ContactTimes{ID: id, Queue: queue, Channel: router.ChannelChat, State: state, CreatedAt: at(created), QueuedAt: at(created)}
		if assigned != "" {
			ct.AssignedAt = at(assigned)
		}
		if ended != "" {
			ct.EndedAt = at(ended)
		}
		return ct
	}
	contacts := []store.ContactTimes{
		c("c1", "billing", router.ContactClosed, "09:05:00", "09:05:10", "09:20:10"),    // answered in 10 s, handled 15 min
		c("c2", "billing", router.ContactAssigned, "09:14:50", "09:15:30", ""),          // offered before 09:15, answered after, in 40 s
		c("c3", "billing", router.ContactAbandoned, "09:10:00", "", "09:10:03"),         // a short abandon
		c("c4", "billing", router.ContactAbandoned, "09:12:00", "", "09:13:00"),         // abandoned after 60 s
		c("c5", "billing", router.ContactClosed, "08:50:00", "09:01:00", "10:30:00"),    // offered before the report, answered in 11 min
		c("c6", "x", router.ContactQueued, "09:40:00", "", ""),                          // another queue
		c("c7", "billing", router.ContactAssigned, "09:59:59", "10:00:10", ""),          // answered after the report
		c("c8", "billing", router.ContactAbandoned, "09:20:00", "09:21:00", "09:30:00"), // abandoned after an accept: answered, not abandoned
	}
	levels := map[string]router.ServiceLevel{
		"billing": {Target: 0.8, Within: router.Duration(20 * time.Second), ShortAbandon: router.Duration(5 * time.Second)},
		"sales":   {Target: 0.8, Within: router.Duration(20 * time.Second)},
	}
	rows := QueueReport(contacts, levels, at("09:00:00"), at("10:00:00"), 15*time.Minute)
	if len(rows) != 4*3 {
		t.Fatalf("%d rows, want 4 intervals × 3 queues (billing, sales, x)", len(rows))
	}
	str := func(f *float64) string {
		if f == nil {
			return "null"
		}
		return fmt.Sprintf("%.4g", *f)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Start.Format("15:04")+" "+r.Queue] = fmt.Sprintf("offered %d answered %d within %d abandoned %d short %d sl %s asa %s handled %d aht %s",
			r.Offered, r.Answered, r.AnsweredWithin, r.Abandoned, r.ShortAbandoned, str(r.ServiceLevel), str(r.ASASeconds), r.Handled, str(r.AHTSeconds))
	}
	for key, want := range map[string]string{
		// c1, c2, c3, c4 offered; c1 (10 s) and c5 (660 s) answered; c3
		// (short) and c4 abandoned: 1 ÷ (2 + 2 − 1).
		"09:00 billing": "offered 4 answered 2 within 1 abandoned 2 short 1 sl 0.3333 asa 335 handled 0 aht null",
		// c2 answered in 40 s, c8 in 60 s: none within 20 s; c1 handled
		// 15 min.
		"09:15 billing": "offered 1 answered 2 within 0 abandoned 0 short 0 sl 0 asa 50 handled 1 aht 900",
		"09:30 billing": "offered 0 answered 0 within 0 abandoned 0 short 0 sl null asa null handled 0 aht null",
		"09:45 billing": "offered 1 answered 0 within 0 abandoned 0 short 0 sl null asa null handled 0 aht null",
		"09:00 sales":   "offered 0 answered 0 within 0 abandoned 0 short 0 sl null asa null handled 0 aht null",
		"09:30 x":       "offered 1 answered 0 within 0 abandoned 0 short 0 sl null asa null handled 0 aht null",
	} {
		if got[key] != want {
			t.Errorf("%s:\n got %s\nwant %s", key, got[key], want)
		}
	}
	// The last interval ends at to even when it is shorter.
	short := QueueReport(nil, levels, at("09:00:00"), at("09:40:00"), 15*time.Minute)
	if last := short[len(short)-1]; !last.End.Equal(at("09:40:00")) || !last.Start.Equal(at("09:30:00")) {
		t.Errorf("last interval %s–%s, want 09:30–09:40", last.Start, last.End)
	}
}

func TestCheckReport(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		from, to time.Time
		interval time.Duration
		ok       bool
	}{
		{t0, t0.Add(24 * time.Hour), 15 * time.Minute, true},
		{t0, t0.Add(24 * time.Hour), 24 * time.Hour, true},
		{t0, t0, 15 * time.Minute, false},
		{t0.Add(time.Hour), t0, 15 * time.Minute, false},
		{time.Time{}, t0, 15 * time.Minute, false},
		{t0, t0.Add(time.Hour), time.Minute, false},
		{t0, t0.Add(time.Hour), 48 * time.Hour, false},
		{t0, t0.Add(100 * 24 * time.Hour), 24 * time.Hour, false},
		{t0, t0.Add(90 * 24 * time.Hour), 5 * time.Minute, false}, // too many intervals
	} {
		err := CheckReport(tt.from, tt.to, tt.interval)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrReport)) {
			t.Errorf("CheckReport(%s, %s, %s) = %v, want ok %v", tt.from, tt.to, tt.interval, err, tt.ok)
		}
	}
}

// TestAdvise: the last hour's 200 chats of 180 s are 10 Erlangs; at
// 80 % within 20 s Erlang C needs 14 agents with one chat each (the
// staffing package's golden case). Abandons turn the model to Erlang A,
// which needs no more.
func TestAdvise(t *testing.T) {
	f := newFixture(t) // channels: one chat at a time
	f.queue(router.Queue{Name: "billing", ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second)}})
	f.queue(router.Queue{Name: "quiet", ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second)}})
	now := t0.Add(2 * time.Hour)
	from := now.Add(-time.Hour)
	var contacts []store.ContactTimes
	for i := 0; i < 200; i++ {
		created := from.Add(time.Duration(i) * 15 * time.Second)
		contacts = append(contacts, store.ContactTimes{ID: fmt.Sprint("c", i), Queue: "billing", Channel: router.ChannelChat,
			State: router.ContactClosed, CreatedAt: created, QueuedAt: created, AssignedAt: created.Add(5 * time.Second),
			EndedAt: created.Add(185 * time.Second)})
	}
	adv := Advise(f.r.Snapshot(), contacts, now)
	a, ok := adv["billing"]
	if !ok || a.ArrivalsLastHour != 200 || a.AHTSeconds != 180 || a.Slots != 1 || a.Model != "erlang_c" || a.Needed != 14 || !a.Met {
		t.Fatalf("billing: %+v (ok %v), want 200 arrivals of 180 s, Erlang C, 14 agents", a, ok)
	}
	if _, ok := adv["quiet"]; ok {
		t.Errorf("a queue with no load has advice: %+v", adv["quiet"])
	}
	for i := 0; i < 4; i++ {
		created := from.Add(time.Duration(i) * time.Minute)
		contacts = append(contacts, store.ContactTimes{ID: fmt.Sprint("a", i), Queue: "billing", Channel: router.ChannelChat,
			State: router.ContactAbandoned, CreatedAt: created, QueuedAt: created, EndedAt: created.Add(30 * time.Second)})
	}
	a = Advise(f.r.Snapshot(), contacts, now)["billing"]
	// Waited: 200 × 5 s + 4 × 30 s = 1,120 s over 4 abandons.
	if a.Model != "erlang_a" || a.PatienceSeconds != 280 || a.Needed > 14 || !a.Met || a.PAbandon <= 0 {
		t.Errorf("with abandons: %+v, want Erlang A with a patience of 280 s, at most 14 agents", a)
	}
}

// TestTrends: the last hour per minute, by the report's definitions, with
// the waiting counts where they were sampled and null where not.
func TestTrends(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "billing", ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second)}})
	now := t0.Add(2*time.Hour + 30*time.Second) // within the minute 11:00
	last := now.Truncate(time.Minute).Add(-time.Minute)
	contacts := []store.ContactTimes{
		{ID: "a", Queue: "billing", State: router.ContactAssigned, CreatedAt: last.Add(time.Second), QueuedAt: last.Add(time.Second), AssignedAt: last.Add(6 * time.Second)},
		{ID: "b", Queue: "billing", State: router.ContactAbandoned, CreatedAt: last.Add(2 * time.Second), QueuedAt: last.Add(2 * time.Second), EndedAt: last.Add(40 * time.Second)},
	}
	waiting := map[string]map[time.Time]int{"billing": {last: 3}}
	tr, ok := Trends(f.r.Snapshot(), contacts, waiting, now)["billing"]
	if !ok || len(tr.Minutes) != TrendMinutes || len(tr.Waiting) != TrendMinutes {
		t.Fatalf("trend: %+v", tr)
	}
	i := TrendMinutes - 1
	if !tr.Minutes[i].Equal(last) || tr.Arrivals[i] != 2 || tr.Abandoned[i] != 1 || tr.ServiceLevel[i] == nil || *tr.ServiceLevel[i] != 0.5 ||
		tr.Waiting[i] == nil || *tr.Waiting[i] != 3 {
		t.Errorf("the last minute: %v arrivals %d abandoned %d sl %v waiting %v", tr.Minutes[i], tr.Arrivals[i], tr.Abandoned[i], tr.ServiceLevel[i], tr.Waiting[i])
	}
	if tr.Waiting[0] != nil || tr.ServiceLevel[0] != nil || tr.Arrivals[0] != 0 {
		t.Errorf("the first minute: want nothing, got waiting %v sl %v arrivals %d", tr.Waiting[0], tr.ServiceLevel[0], tr.Arrivals[0])
	}
}

// TestMidnight: "today" starts at midnight where the firm is: 23:30 UTC
// on March 1 is already March 2 in Paris.
func TestMidnight(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	if got, want := Midnight(at, paris), time.Date(2026, 3, 2, 0, 0, 0, 0, paris); !got.Equal(want) {
		t.Errorf("Paris: got %v, want %v", got, want)
	}
	if got, want := Midnight(at, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("UTC: got %v, want %v", got, want)
	}
}

// TestQueueReportCSAT: the survey answers count with the contacts
// handled in the interval, and their mean is the interval's.
func TestQueueReportCSAT(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	closed := func(id string, ended time.Duration, score int) store.ContactTimes {
		return store.ContactTimes{ID: id, Queue: "billing", Channel: router.ChannelChat, State: router.ContactClosed,
			CreatedAt: t0, QueuedAt: t0, AssignedAt: t0.Add(time.Second), EndedAt: t0.Add(ended), CSAT: score}
	}
	rows := QueueReport([]store.ContactTimes{
		closed("a", 5*time.Minute, 5), closed("b", 10*time.Minute, 2), closed("c", 12*time.Minute, 0), // no answer
		closed("d", 20*time.Minute, 4),
	}, map[string]router.ServiceLevel{"billing": {Target: 0.8, Within: router.Duration(20 * time.Second)}}, t0, t0.Add(30*time.Minute), 15*time.Minute)
	if len(rows) != 2 {
		t.Fatalf("%d rows", len(rows))
	}
	if r := rows[0]; r.CSATResponses != 2 || r.CSATAverage == nil || *r.CSATAverage != 3.5 || r.Handled != 3 {
		t.Errorf("first interval: %d answers, mean %v, %d handled; want 2, 3.5, 3", r.CSATResponses, r.CSATAverage, r.Handled)
	}
	if r := rows[1]; r.CSATResponses != 1 || r.CSATAverage == nil || *r.CSATAverage != 4 {
		t.Errorf("second interval: %d answers, mean %v; want 1, 4", r.CSATResponses, r.CSATAverage)
	}
}
