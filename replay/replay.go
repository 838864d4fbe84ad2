// Package replay answers "what if": it re-runs a recorded period of the
// contact center (its arrivals, handle times, customers' patience and
// agents' availability) under another configuration (strategies,
// relaxation steps, agents and their skills, wrap-up, offer policy) in
// simulated time, on the real router, and sets the figures of the replay
// beside those of what really happened, both counted by the reports' own
// code (package dashboards).
//
//	db, _ := store.Open(ctx, &store.Options{Path: "data/routerd.db"})
//	cfg, _ := config.Load("other.yaml")
//	rep, err := replay.Compare(ctx, db, from, to, cfg, "other.yaml", nil)
//	rep.WriteText(os.Stdout) // recorded | replayed | change
//
// The steps are apart for tests and other callers: Read reads a period's
// History from a store, Run replays it under a configuration into a
// store of its own (a router.ManualClock jumps from one event to the
// next), and Measure counts the figures of either store. What is
// replayed and what is assumed is in docs/replay.md.
package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Levels returns the service level goals a replay counts by: those of
// cfg's queues, then, for a queue cfg does not have, the store's (h). The
// recorded and the replayed figures are both counted against them, so
// that a changed threshold does not pass for a changed service.
func Levels(h *History, cfg *config.Config) map[string]router.ServiceLevel {
	levels := map[string]router.ServiceLevel{}
	for name, q := range h.Queues {
		levels[name] = q.ServiceLevel
	}
	for _, q := range cfg.RouterQueues() {
		levels[q.Name] = q.ServiceLevel
	}
	return levels
}

// Compare reads [from, to) from real, replays it under cfg (named name in
// the report) and returns both sides' figures.
func Compare(ctx context.Context, real *store.DB, from, to time.Time, cfg *config.Config, name string, o *Options) (*Report, error) {
	h, err := Read(ctx, real, from, to)
	if err != nil {
		return nil, err
	}
	res, err := Run(ctx, h, cfg, o)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	levels := Levels(h, cfg)
	rec, err := Measure(ctx, real, levels, from, to)
	if err != nil {
		return nil, fmt.Errorf("replay: recorded figures: %w", err)
	}
	rec.Offers = RecordedOffers(h)
	rep, err := Measure(ctx, res.Store, levels, from, to)
	if err != nil {
		return nil, fmt.Errorf("replay: replayed figures: %w", err)
	}
	if rep.Offers, err = ReplayedOffers(ctx, h, res, cfg, real); err != nil {
		return nil, err
	}
	r := &Report{From: from, To: to, Config: name, Recorded: rec, Replayed: rep,
		Contacts: len(h.Contacts), ReplayedContacts: res.Replayed}
	if s := res.SkippedText(); s != "" {
		r.Notes = append(r.Notes, s)
	}
	r.Notes = append(r.Notes,
		"customers who were answered wait in the replay for as long as it takes (their patience was never seen); those who abandoned leave after the wait they had",
		"a contact answered in the replay only is talked for its queue's mean talk time, after the median ring")
	if rep.Offers.EstimatedShown > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("offers accepted is an estimate for the %d offer(s) shown in the replay only: each counts the recorded acceptance rate of that offer in the customer's segment", rep.Offers.EstimatedShown))
	}
	return r, nil
}
