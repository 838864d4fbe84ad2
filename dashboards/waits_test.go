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

// TestEstimators: each estimator's wait, by hand.
func TestEstimators(t *testing.T) {
	d := func(s float64) *time.Duration { v := time.Duration(s * float64(time.Second)); return &v }
	busy := AgentCounts{Busy: 2}
	in := waitInputs{queued: true, ahead: 3, agents: busy, answered: 12, window: time.Hour, aht: 90 * time.Second, lastWait: d(40), head: d(75)}
	for _, tt := range []struct {
		est  string
		in   waitInputs
		want string
	}{
		{EstimatorPace, in, "1200"},       // 4 × 3600 / 12
		{EstimatorQueueLength, in, "180"}, // 4 × 90 / 2
		{EstimatorLastService, in, "40"},
		{EstimatorHeadOfLine, in, "75"},
		// An agent free, nobody ahead, the contact not yet queued: 0 by every estimator.
		{EstimatorPace, waitInputs{agents: AgentCounts{Available: 1}}, "0"},
		{EstimatorHeadOfLine, waitInputs{agents: AgentCounts{Available: 1}}, "0"},
		// Already queued: an agent "available" has no room for it.
		{EstimatorPace, waitInputs{queued: true, agents: AgentCounts{Available: 1}}, "null"},
		// Nobody works: nothing to tell.
		{EstimatorQueueLength, waitInputs{queued: true, agents: AgentCounts{Away: 3}, aht: time.Minute}, "null"},
		// What an estimator goes by is unknown: nothing.
		{EstimatorQueueLength, waitInputs{queued: true, agents: busy}, "null"},
		{EstimatorLastService, waitInputs{queued: true, agents: busy}, "null"},
		{EstimatorHeadOfLine, waitInputs{queued: true, agents: busy}, "null"},
	} {
		if got := str(estimateBy(tt.est, tt.in)); got != tt.want {
			t.Errorf("%s %+v: got %s, want %s", tt.est, tt.in, got, tt.want)
		}
	}
}

// TestWaitsMeasured runs contacts through a router whose one agent takes
// 30 s over each: every contact after the first waits 30 s for the one
// before. The queue-length and last-to-enter-service estimators say so
// once they have a handle time and a last wait; the pace of answers over
// the hour says far more. Every answered contact is a sample of each
// estimator that told; the shown estimate is the most accurate one's.
func TestWaitsMeasured(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "s.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := router.NewManualClock(t0)
	w := NewWaits(nil, time.Hour)
	w.now = clk.Now
	r, err := router.New(db, &router.Options{Clock: clk, Capacity: channels, Notifier: w})
	if err != nil {
		t.Fatal(err)
	}
	w.r = r
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	f := &fixture{t: t, ctx: ctx, r: r, clk: clk, db: db}
	f.queue(router.Queue{Name: "sales"})
	f.agent("x", nil, nil, router.AgentAvailable)

	const rounds = 30
	held := f.offered("sales", "x") // x is free: offered at once, no wait
	f.accept(held, "x")
	for range rounds {
		next := f.submit(router.NewContact{Queue: "sales"})
		if next.State != router.ContactQueued {
			t.Fatalf("the next contact is %s, want queued behind x's", next.State)
		}
		f.advance(30 * time.Second)
		if _, err := r.CloseContact(ctx, held, "x", "", ""); err != nil {
			t.Fatal(err)
		}
		f.accept(next.ID, "x") // offered to x when x closed: 30 s after it queued
		held = next.ID
	}

	views := Queues(r.Snapshot(), nil, time.Hour)
	w.Apply(views)
	acc := views[0].WaitEstimate
	if acc == nil {
		t.Fatal("no accuracy after Apply")
	}
	by := map[string]EstimatorAccuracy{}
	for _, e := range acc.Estimators {
		by[e.Name] = e
	}
	// The first contact (told 0, waited 0) and every later one.
	if n := by[EstimatorPace].Samples; n != rounds+1 {
		t.Errorf("pace: %d samples, want %d", n, rounds+1)
	}
	// Head-of-line had nobody at the head when each arrived: the first
	// contact only (0, an agent free).
	if n := by[EstimatorHeadOfLine].Samples; n != 1 {
		t.Errorf("head of line: %d samples, want 1", n)
	}
	for _, e := range []string{EstimatorQueueLength, EstimatorLastService} {
		a := by[e]
		if a.MedianErrorSeconds == nil || *a.MedianErrorSeconds != 0 || a.Samples < rounds-1 {
			t.Errorf("%s: %d samples, median error %s; want 0 over at least %d", e, a.Samples, str(a.MedianErrorSeconds), rounds-1)
		}
	}
	if a := by[EstimatorPace]; a.MedianErrorSeconds == nil || *a.MedianErrorSeconds < 60 || a.BiasSeconds == nil || *a.BiasSeconds <= 0 {
		t.Errorf("pace: median error %s, bias %s; want minutes too high", str(a.MedianErrorSeconds), str(a.BiasSeconds))
	}
	if acc.Estimator != EstimatorQueueLength && acc.Estimator != EstimatorLastService {
		t.Errorf("chosen %s, want one of the two exact ones", acc.Estimator)
	}
	// What is shown is the chosen one's: a contact now queued behind x's
	// would wait the 30 s of a handle time.
	f.submit(router.NewContact{Queue: "sales"})
	if got := str(w.EstimateFor(&views[0], 0)); got != "30" {
		t.Errorf("a waiting contact's estimate: %s, want 30", got)
	}
}

// TestFiguresAgree: the window's figures kept as contacts are answered
// and abandoned (Waits.Figures), and those of a Waits seeded from the
// store after the fact, are what the store's statistics give
// (FiguresOf): one definition, whichever way it is computed. Also after
// the service level's thresholds change, and as the window moves past
// the first answers.
func TestFiguresAgree(t *testing.T) {
	f := sourceFixture(t)
	check := func(when string) {
		t.Helper()
		snap := f.r.Snapshot()
		stats, err := f.db.QueueStats(f.ctx, snap.At.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		seeded := NewWaits(f.r, time.Hour)
		seeded.now = f.clk.Now
		if err := seeded.Seed(f.ctx, f.db); err != nil {
			t.Fatal(err)
		}
		live, fromSeed := f.waits.Figures(snap), seeded.Figures(snap)
		for _, q := range snap.Queues() {
			want := FiguresOf(stats[q.Name], q.ServiceLevel, time.Hour)
			if live[q.Name] != want {
				t.Errorf("%s, %s: kept live %+v, from the store %+v", when, q.Name, live[q.Name], want)
			}
			if fromSeed[q.Name] != want {
				t.Errorf("%s, %s: seeded %+v, from the store %+v", when, q.Name, fromSeed[q.Name], want)
			}
		}
		if want := FiguresOf(stats["sales"], router.ServiceLevel{}, time.Hour); want.Answered == 0 && when == "at first" {
			t.Errorf("the fixture answered nothing: the test would prove nothing")
		}
	}
	check("at first")
	// The answered contact is notified again and again (messages both
	// ways, a note): its answer still counts once.
	for _, c := range f.r.Snapshot().Contacts() {
		if c.State != router.ContactAssigned {
			continue
		}
		for i, dir := range []string{"in", "out", "note", "in"} {
			m := router.Message{Direction: dir, AuthorKind: router.AuthorAgent, Author: c.AgentID, Body: fmt.Sprint("message ", i)}
			if dir == "in" {
				m.AuthorKind, m.Author = router.AuthorCustomer, ""
			}
			if _, _, err := f.r.AddMessage(f.ctx, c.ID, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	check("after messages")
	// A lost event stream: the window is read again from the store,
	// nothing twice.
	resynced := NewWaits(f.r, time.Hour)
	resynced.now = f.clk.Now
	if err := resynced.Seed(f.ctx, f.db); err != nil {
		t.Fatal(err)
	}
	snap := f.r.Snapshot()
	resynced.Resync(snap)
	stats, err := f.db.QueueStats(f.ctx, snap.At.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resynced.Figures(snap)["sales"], FiguresOf(stats["sales"], router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * sec)}, time.Hour); got != want {
		t.Errorf("after a resync: %+v, from the store %+v", got, want)
	}
	// Thresholds that count differently: 5 s to answer, abandons within
	// 40 s are short.
	f.queue(router.Queue{Name: "sales", ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(5 * sec), ShortAbandon: router.Duration(40 * sec)}})
	check("new thresholds")
	// The window moves past c1's answer (t0+10s) but not c3's.
	f.advance(time.Hour - 20*sec)
	check("an hour later")
}
