package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// TestPruneStates: at each tick the history older than the retention
// goes; what is younger stays.
func TestPruneStates(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "s.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	if err := db.Commit(ctx, &router.Batch{AgentStates: []router.AgentStateChange{
		{AgentID: "alice", At: now.Add(-401 * 24 * time.Hour), State: router.AgentAvailable},
		{AgentID: "alice", At: now.Add(-399 * 24 * time.Hour), State: router.AgentAway},
	}}); err != nil {
		t.Fatal(err)
	}
	ticks := make(chan time.Time)
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pruneStates(pctx, db, 400*24*time.Hour, ticks, slog.New(slog.DiscardHandler))
	}()
	ticks <- now
	ticks <- now // the first prune has finished when the loop takes the second tick
	cancel()
	<-done
	page, err := db.AgentStates(ctx, store.AgentStateFilter{AgentID: "alice", From: now.Add(-500 * 24 * time.Hour), To: now})
	if err != nil || len(page.States) != 1 || page.States[0].State != router.AgentAway {
		t.Errorf("after the prune: %+v, %v; want the younger entry only", page.States, err)
	}
}
