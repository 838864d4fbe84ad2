// Package dashboards computes what supervisors watch: per-queue views of
// the live state (who waits, which agents could help) joined with the
// recent outcomes kept by the store (answered, abandoned, service level,
// speed of answer). It only reads: router snapshots and store queries,
// never a command.
//
// The HTTP API serves GET /api/v1/queues from a Source:
//
//	src := dashboards.Source{Router: r, Store: db, Window: time.Hour}
//	v, err := src.Queues(ctx) // []dashboards.QueueView, sorted by name
//
// Queues is the pure part, for tests and other callers that already hold
// a snapshot and statistics:
//
//	snap := r.Snapshot()
//	stats, err := db.QueueStats(ctx, snap.At.Add(-window))
//	views := dashboards.Queues(snap, stats, window)
//
// Every field is defined in docs/metrics.md. A number that cannot be
// computed honestly (an average of nothing, a wait nobody can answer) is
// null in JSON, never a made-up zero.
//
// Queues and Source are safe for concurrent use.
package dashboards
