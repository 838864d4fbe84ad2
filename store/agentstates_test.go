package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// TestAgentStateTimes: a day worked out by hand. The state in force at
// the start counts from the start; each change ends the one before; the
// last runs to the end; a history older than the lookback is offline.
func TestAgentStateTimes(t *testing.T) { forEachDialect(t, testAgentStateTimes) }

func testAgentStateTimes(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(hm string) time.Time {
		p, err := time.Parse("15:04", hm)
		if err != nil {
			panic(err)
		}
		return day.Add(time.Duration(p.Hour())*time.Hour + time.Duration(p.Minute())*time.Minute)
	}
	ch := func(agent string, when time.Time, s router.AgentState, reason string) router.AgentStateChange {
		return router.AgentStateChange{AgentID: agent, At: when, State: s, Reason: reason, Why: "test", By: "sam (supervisor)"}
	}
	commit(t, db, &router.Batch{AgentStates: []router.AgentStateChange{
		ch("alice", day.Add(-2*time.Hour), router.AgentAway, "break"), // yesterday: in force at midnight
		ch("alice", at("09:00"), router.AgentAvailable, ""),
		ch("alice", at("10:00"), router.AgentWrapUp, ""),
		ch("alice", at("10:05"), router.AgentAvailable, ""),
		ch("alice", at("12:00"), router.AgentAway, "lunch"),
		ch("bob", day.Add(-8*24*time.Hour), router.AgentAvailable, ""), // too old: offline
		ch("bob", at("11:00"), router.AgentAvailable, ""),
		ch("carol", at("13:00"), router.AgentAvailable, ""), // after the period
	}})
	got, err := db.AgentStateTimes(ctx, day, at("12:30"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[router.AgentState]time.Duration{
		"alice": {router.AgentAway: 9*time.Hour + 30*time.Minute, router.AgentAvailable: time.Hour + 115*time.Minute, router.AgentWrapUp: 5 * time.Minute},
		"bob":   {router.AgentAvailable: 90 * time.Minute},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}

	hist, err := db.AgentStates(ctx, "alice", at("09:30"), at("23:00"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, s := range hist {
		seq = append(seq, s.At.Format("15:04")+" "+string(s.State)+" "+s.Reason)
	}
	if w := []string{"09:00 available ", "10:00 wrapup ", "10:05 available ", "12:00 away lunch"}; fmt.Sprint(seq) != fmt.Sprint(w) {
		t.Errorf("history %q, want %q", seq, w)
	}
	if hist[0].By != "sam (supervisor)" || hist[0].Why != "test" || hist[0].AgentID != "alice" {
		t.Errorf("entry %+v", hist[0])
	}
	if two, _ := db.AgentStates(ctx, "alice", at("09:30"), at("23:00"), 2); len(two) != 2 {
		t.Errorf("limit 2: %d entries", len(two))
	}
}
