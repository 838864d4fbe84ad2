package store

import (
	"context"
	"errors"
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

	page, err := db.AgentStates(ctx, AgentStateFilter{AgentID: "alice", From: at("09:30"), To: at("23:00")})
	if err != nil {
		t.Fatal(err)
	}
	hist := page.States
	var seq []string
	for _, s := range hist {
		seq = append(seq, s.At.Format("15:04")+" "+string(s.State)+" "+s.Reason)
	}
	if w := []string{"09:00 available ", "10:00 wrapup ", "10:05 available ", "12:00 away lunch"}; fmt.Sprint(seq) != fmt.Sprint(w) || page.Next != "" {
		t.Errorf("history %q (next %q), want %q and no next page", seq, page.Next, w)
	}
	if hist[0].By != "sam (supervisor)" || hist[0].Why != "test" || hist[0].AgentID != "alice" {
		t.Errorf("entry %+v", hist[0])
	}
	if two, _ := db.AgentStates(ctx, AgentStateFilter{AgentID: "alice", From: at("09:30"), To: at("23:00"), Limit: 2}); len(two.States) != 2 || two.Next == "" {
		t.Errorf("limit 2: %d entries, next %q; want 2 and a next page", len(two.States), two.Next)
	}
}

// TestAgentStatesPages: a walk through an agent's state history with
// the cursor, at every page size, sees the history whole, each change
// once, in order: the change in force at from on the first page only.
// A cursor of another agent's history, or none of ours, is refused.
func TestAgentStatesPages(t *testing.T) { forEachDialect(t, testAgentStatesPages) }

func testAgentStatesPages(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	from := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var changes []router.AgentStateChange
	states := []router.AgentState{router.AgentAvailable, router.AgentWrapUp, router.AgentAway}
	for i := range 7 {
		// One before from (in force at it), then changes a minute apart,
		// the last two a nanosecond apart (the router's two changes in
		// one batch).
		at := from.Add(time.Duration(i-1) * time.Minute)
		if i == 6 {
			at = changes[5].At.Add(time.Nanosecond)
		}
		changes = append(changes, router.AgentStateChange{AgentID: "alice", At: at, State: states[i%3], Why: fmt.Sprint("change ", i)})
	}
	commit(t, db, &router.Batch{AgentStates: append(changes, router.AgentStateChange{AgentID: "bob", At: from, State: router.AgentAway, Why: "bob"})})
	var want []string
	for _, c := range changes {
		want = append(want, c.Why)
	}
	to := from.Add(time.Hour)
	for limit := 1; limit <= len(changes)+1; limit++ {
		var (
			got    []string
			cursor string
			pages  int
		)
		for {
			page, err := db.AgentStates(ctx, AgentStateFilter{AgentID: "alice", From: from, To: to, Limit: limit, Cursor: cursor})
			if err != nil {
				t.Fatalf("limit %d, page %d: %v", limit, pages, err)
			}
			pages++
			if len(page.States) > limit || (page.Next != "" && len(page.States) != limit) {
				t.Fatalf("limit %d, page %d: %d entries, next %q", limit, pages, len(page.States), page.Next)
			}
			for _, s := range page.States {
				got = append(got, s.Why)
			}
			if page.Next == "" || pages > len(changes) {
				break
			}
			cursor = page.Next
		}
		if wantPages := (len(changes) + limit - 1) / limit; fmt.Sprint(got) != fmt.Sprint(want) || pages != wantPages {
			t.Errorf("limit %d: got %q in %d pages, want %q in %d", limit, got, pages, want, wantPages)
		}
	}

	first, err := db.AgentStates(ctx, AgentStateFilter{AgentID: "alice", From: from, To: to, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, cursor := range []string{first.Next, "nonsense", encodeRaw("12:")} {
		if _, err := db.AgentStates(ctx, AgentStateFilter{AgentID: "bob", From: from, To: to, Cursor: cursor}); !errors.Is(err, ErrBadCursor) {
			t.Errorf("bob's history with cursor %q: got %v, want ErrBadCursor", cursor, err)
		}
	}
}

// TestPruneAgentStates: entries older than the cutoff go, the rest stay.
func TestPruneAgentStates(t *testing.T) { forEachDialect(t, testPruneAgentStates) }

func testPruneAgentStates(t *testing.T) {
	db := openTest(t)
	db.pruneBatch = 1 // a statement per row: the batches add up
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	commit(t, db, &router.Batch{AgentStates: []router.AgentStateChange{
		{AgentID: "alice", At: at.Add(-48 * time.Hour), State: router.AgentAvailable, Why: "old"},
		{AgentID: "bob", At: at.Add(-time.Nanosecond), State: router.AgentAway, Why: "old too"},
		{AgentID: "alice", At: at, State: router.AgentOffline, Why: "kept"},
	}})
	n, err := db.PruneAgentStates(ctx, at)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want 2", n, err)
	}
	page, err := db.AgentStates(ctx, AgentStateFilter{AgentID: "alice", From: at.Add(-72 * time.Hour), To: at.Add(time.Hour)})
	if err != nil || len(page.States) != 1 || page.States[0].Why != "kept" {
		t.Errorf("alice after the prune: %+v, %v", page.States, err)
	}
}
