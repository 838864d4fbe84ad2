package dashboards

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// TestAgentReport: two hours of alice worked out by hand in hourly
// intervals. A contact across the hour counts its busy time in each hour
// and is handled where it closed; an open one is busy until now; states
// count where they were; a missed offer where it rang.
func TestAgentReport(t *testing.T) {
	from := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return from.Add(time.Duration(m) * time.Minute) }
	r := NewAgentReport(from, at(120), at(110), time.Hour)
	r.AddState("alice", router.AgentAway, at(-30), at(0)) // before the report: nothing
	r.AddState("alice", router.AgentAvailable, at(0), at(50))
	r.AddState("alice", router.AgentWrapUp, at(50), at(55))
	r.AddState("alice", router.AgentAvailable, at(55), at(100))
	r.AddState("alice", router.AgentAway, at(100), at(120))
	ct := func(id string, state router.ContactState, assigned, ended int) store.ContactTimes {
		c := store.ContactTimes{ID: id, AgentID: "alice", Queue: "billing", State: state, CreatedAt: at(assigned - 1), AssignedAt: at(assigned)}
		if ended >= 0 {
			c.EndedAt = at(ended)
		}
		return c
	}
	r.AddContact(ct("a", router.ContactClosed, 10, 20))   // 10 min in the first hour
	r.AddContact(ct("b", router.ContactClosed, 40, 70))   // 20 + 10 min, handled in the second
	r.AddContact(ct("c", router.ContactAssigned, 90, -1)) // open: busy until now (110)
	r.AddContact(store.ContactTimes{ID: "q", Queue: "billing", State: router.ContactQueued, CreatedAt: at(5)})
	r.AddMissed("alice", at(30))
	r.AddMissed("bob", at(130)) // after the report

	var got []string
	for _, row := range r.Rows() {
		got = append(got, fmt.Sprintf("%s %s handled %d aht %s missed %d staffed %g away %g busy %g occ %s",
			row.Start.Format("15:04"), row.Agent, row.Handled, str(row.AHTSeconds), row.Missed,
			row.StaffedSeconds/60, row.AwaySeconds/60, row.BusySeconds/60, str(row.Occupancy)))
	}
	want := []string{
		"09:00 alice handled 1 aht 600 missed 1 staffed 60 away 0 busy 30 occ 0.5",
		"10:00 alice handled 1 aht 1800 missed 0 staffed 40 away 20 busy 30 occ 0.75",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A report of a day read during it counts an agent's state up to now,
// not to the day's end: alice, available since 09:00, read at 09:10, was
// staffed ten minutes.
func TestAgentReportStatesUntilNow(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "s.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	nine := day.Add(9 * time.Hour)
	if err := db.Commit(ctx, &router.Batch{AgentStates: []router.AgentStateChange{
		{AgentID: "alice", At: nine, State: router.AgentAvailable, Why: "set"},
	}}); err != nil {
		t.Fatal(err)
	}
	r := NewAgentReport(day, day.Add(24*time.Hour), nine.Add(10*time.Minute), 24*time.Hour)
	if err := r.Read(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	rows := r.Rows()
	if len(rows) != 1 || rows[0].StaffedSeconds != 600 {
		t.Fatalf("rows %+v, want alice staffed 600 s", rows)
	}
	// Read before the day began, nothing of it has happened.
	r = NewAgentReport(day, day.Add(24*time.Hour), day.Add(-time.Hour), 24*time.Hour)
	if err := r.Read(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Rows() {
		if row.StaffedSeconds != 0 {
			t.Errorf("a day to come: %+v, want nobody staffed", row)
		}
	}
}
