package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboard/switchboard/store"
)

// retentionEvery is how often the agents' state history is pruned.
const retentionEvery = time.Hour

// pruneStates deletes, every tick, the agents' state history older than
// keep (dashboards.agent_state_retention), until ctx ends. Only the
// leading node runs it (it is started with the daemon's components).
func pruneStates(ctx context.Context, db *store.DB, keep time.Duration, ticks <-chan time.Time, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticks:
			n, err := db.PruneAgentStates(ctx, now.Add(-keep))
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("agent state history: prune failed; the next one goes on", "err", err)
			case n > 0:
				log.Info("agent state history: pruned", "entries", n, "older_than", now.Add(-keep).Format(time.RFC3339))
			}
		}
	}
}

// startPruningStates runs pruneStates every retentionEvery; stop ends
// it and waits for a prune in progress.
func startPruningStates(db *store.DB, keep time.Duration, log *slog.Logger) (stop func()) {
	return runEvery(retentionEvery, func(ctx context.Context, ticks <-chan time.Time) {
		pruneStates(ctx, db, keep, ticks, log)
	})
}

// runEvery runs loop, which works at each tick until its context ends,
// on a ticker of period; stop ends it and waits for the work of a tick
// in progress.
func runEvery(period time.Duration, loop func(ctx context.Context, ticks <-chan time.Time)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	t := time.NewTicker(period)
	done := make(chan struct{})
	go func() {
		defer close(done)
		loop(ctx, t.C)
	}()
	return func() {
		cancel()
		t.Stop()
		<-done
	}
}
