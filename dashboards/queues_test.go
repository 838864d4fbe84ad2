package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const sec = time.Second

// channels are the routers' channels in these tests: one chat and two
// emails at a time unless an agent says otherwise.
var channels = map[router.Channel]int{router.ChannelChat: 1, router.ChannelEmail: 2}

// fixture is a started router over a real store, on a manual clock.
type fixture struct {
	t   *testing.T
	ctx context.Context
	r   *router.Router
	clk *router.ManualClock
	db  *store.DB
	// waits follows the router (its Notifier), as routerd's does.
	waits *Waits
	// live is told every batch once a test made a Live (follow).
	live liveSlot
}

// liveSlot passes the router's batches to a Live (or another reader)
// once a test made one, as routerd's follower of the event stream does,
// but before the command that made the batch returns: a test changes
// the router, then reads the board.
type liveSlot struct{ to atomic.Pointer[batchTo] }

// batchTo is where a liveSlot passes batches.
type batchTo struct{ f func(router.Published) }

func (s *liveSlot) Notify([]router.Notification) {} // a BatchNotifier: never called

func (s *liveSlot) NotifyBatch(p router.Published) {
	if to := s.to.Load(); to != nil {
		to.f(p)
	}
}

// follow makes l hear the router's batches from now on.
func (f *fixture) follow(l *Live) { f.live.to.Store(&batchTo{l.NotifyBatch}) }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "switchboard.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("db.Close: %v", err)
		}
	})
	clk := router.NewManualClock(t0)
	w := NewWaits(nil, time.Hour)
	w.now = clk.Now
	f := &fixture{t: t, ctx: ctx, clk: clk, db: db, waits: w}
	r, err := router.New(db, &router.Options{Clock: clk, Capacity: channels, Notifier: router.Notifiers(w, &f.live)})
	if err != nil {
		t.Fatalf("router.New: %v", err)
	}
	w.r, f.r = r, r
	if err := r.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(r.Close) // runs before db.Close
	return f
}

func (f *fixture) queue(q router.Queue) {
	f.t.Helper()
	if _, err := f.r.PutQueue(f.ctx, q); err != nil {
		f.t.Fatalf("PutQueue %s: %v", q.Name, err)
	}
}

// agent creates an agent with skills and capacity overrides (nil: the
// router's) and sets its state.
func (f *fixture) agent(id string, skills, capacity map[string]int, state router.AgentState) {
	f.t.Helper()
	if _, _, err := f.r.PutAgent(f.ctx, router.Agent{ID: id, Name: id, Skills: skills, Capacity: capacity}); err != nil {
		f.t.Fatalf("PutAgent %s: %v", id, err)
	}
	f.state(id, state)
}

func (f *fixture) state(id string, state router.AgentState) {
	f.t.Helper()
	if state == router.AgentOffline {
		return // agents start offline
	}
	if _, err := f.r.SetAgentState(f.ctx, id, state, ""); err != nil {
		f.t.Fatalf("SetAgentState %s %s: %v", id, state, err)
	}
}

// submit queues a chat contact in queue and returns it as routing left it.
func (f *fixture) submit(nc router.NewContact) router.Contact {
	f.t.Helper()
	if nc.Channel == "" {
		nc.Channel = router.ChannelChat
	}
	c, _, err := f.r.Submit(f.ctx, nc)
	if err != nil {
		f.t.Fatalf("Submit: %v", err)
	}
	return c
}

// offered submits a contact that must ring at agent and returns its id.
func (f *fixture) offered(queue, agent string) string {
	f.t.Helper()
	c := f.submit(router.NewContact{Queue: queue})
	if c.State != router.ContactOffered || c.AgentID != agent {
		f.t.Fatalf("contact %s: got %s to %q, want offered to %s", c.ID, c.State, c.AgentID, agent)
	}
	return c.ID
}

func (f *fixture) accept(contactID, agent string) {
	f.t.Helper()
	if _, err := f.r.Accept(f.ctx, contactID, agent); err != nil {
		f.t.Fatalf("Accept %s by %s: %v", contactID, agent, err)
	}
}

func (f *fixture) advance(d time.Duration) {
	f.t.Helper()
	f.clk.Advance(d)
	if err := f.r.Sync(f.ctx); err != nil {
		f.t.Fatalf("Sync: %v", err)
	}
}

// view returns the view of queue name computed from a fresh snapshot.
func (f *fixture) view(name string, stats map[string]store.QueueStats, window time.Duration) QueueView {
	f.t.Helper()
	for _, v := range Queues(f.r.Snapshot(), stats, window) {
		if v.Name == name {
			return v
		}
	}
	f.t.Fatalf("no view of queue %s", name)
	return QueueView{}
}

// str renders an optional number for messages and comparisons.
func str(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%g", *p)
}

func TestQueuesAgentCounts(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "billing", Requirements: []router.Requirement{{Skill: "billing", Min: 3}}})
	f.queue(router.Queue{Name: "french", Requirements: []router.Requirement{{Skill: "billing", Min: 1}, {Skill: "french", Min: 1}}})
	f.queue(router.Queue{Name: "general"})

	// In wrap-up after a billing contact.
	f.agent("a5", map[string]int{"billing": 4}, nil, router.AgentAvailable)
	id := f.offered("billing", "a5")
	f.accept(id, "a5")
	if _, err := f.r.WrapUp(f.ctx, id, "a5", "done", ""); err != nil {
		t.Fatalf("WrapUp: %v", err)
	}
	// Available but full: one chat, and no email capacity of its own.
	f.agent("a6", map[string]int{"billing": 4}, map[string]int{router.ChannelEmail: 0}, router.AgentAvailable)
	f.accept(f.offered("billing", "a6"), "a6")
	// Available with an offer ringing.
	f.agent("a7", map[string]int{"billing": 3}, nil, router.AgentAvailable)
	f.offered("billing", "a7")
	// Chat full but room for email: still free.
	f.agent("a8", map[string]int{"billing": 3}, nil, router.AgentAvailable)
	f.accept(f.offered("billing", "a8"), "a8")

	f.agent("a1", map[string]int{"billing": 5, "french": 2}, nil, router.AgentAvailable)
	f.agent("a2", map[string]int{"billing": 2, "french": 0}, nil, router.AgentAvailable) // below billing≥3, french≥1
	f.agent("a3", map[string]int{"billing": 3}, nil, router.AgentOffline)
	if _, err := f.r.SetAgentState(f.ctx, "a3", router.AgentAway, "meeting"); err != nil {
		t.Fatal(err)
	}
	f.agent("a4", nil, nil, router.AgentOffline) // no skills at all
	f.agent("a9", map[string]int{"billing": 9}, nil, router.AgentOffline)

	tests := []struct {
		queue string
		want  AgentCounts
	}{
		// a1, a8 free; a6 full, a7 ringing; a5; a3; a9. Not a2 (2<3) nor a4.
		{"billing", AgentCounts{Available: 2, Busy: 2, WrapUp: 1, Away: 1, Offline: 1, AwayReasons: map[string]int{"meeting": 1}}},
		// Only a1 has both skills; a2's french 0 is below the minimum.
		{"french", AgentCounts{Available: 1}},
		// No requirements: every agent counts.
		{"general", AgentCounts{Available: 3, Busy: 2, WrapUp: 1, Away: 1, Offline: 2, AwayReasons: map[string]int{"meeting": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.queue, func(t *testing.T) {
			if got := f.view(tt.queue, nil, time.Hour).Agents; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestQueuesContacts(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "sales"})
	f.queue(router.Queue{Name: "other"})
	f.agent("x", nil, nil, router.AgentOffline)

	type want struct {
		waiting, offered int
		oldest           string
	}
	check := func(t *testing.T, name string, w want) {
		t.Helper()
		v := f.view(name, nil, time.Hour)
		if got := (want{v.Waiting, v.Offered, str(v.OldestWaitSeconds)}); got != w {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}

	check(t, "sales", want{0, 0, "null"})
	f.submit(router.NewContact{Queue: "sales"})
	f.advance(10 * sec)
	f.submit(router.NewContact{Queue: "sales"})
	f.submit(router.NewContact{Queue: "other"})
	f.advance(5 * sec)
	f.submit(router.NewContact{Queue: "sales", Priority: -1})
	check(t, "sales", want{3, 0, "15"})
	check(t, "other", want{1, 0, "5"})

	// x takes the oldest; it still waits while it rings.
	f.state("x", router.AgentAvailable)
	f.advance(2 * sec)
	check(t, "sales", want{2, 1, "17"})
	check(t, "other", want{1, 0, "7"})
}

// TestShortAbandons: an abandon within the queue's short-abandon
// threshold counts in no service level (docs/metrics.md): 8 within 20 s
// of 10 answered, 6 abandoned of which 2 within 5 s: 8 ÷ (10 + 6 − 2).
func TestShortAbandons(t *testing.T) {
	sl := router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * sec), ShortAbandon: router.Duration(5 * sec)}
	ds := func(ss ...int) []time.Duration {
		out := make([]time.Duration, len(ss))
		for i, s := range ss {
			out[i] = time.Duration(s) * sec
		}
		return out
	}
	got, short, ok := ServiceLevelOf(ds(1, 2, 3, 4, 5, 6, 7, 8, 25, 40), ds(1, 5, 6, 30, 60, 90), sl)
	if !ok || short != 2 || got != 8.0/14 {
		t.Errorf("got %v, %d short, ok %v; want 8/14, 2 short", got, short, ok)
	}
	// Without the threshold every abandon counts.
	sl.ShortAbandon = 0
	if got, short, _ := ServiceLevelOf(ds(1, 2, 3, 4, 5, 6, 7, 8, 25, 40), ds(1, 5, 6, 30, 60, 90), sl); short != 0 || got != 0.5 {
		t.Errorf("no threshold: got %v, %d short; want 0.5, 0", got, short)
	}
	// Only short abandons: nothing counts.
	sl.ShortAbandon = router.Duration(5 * sec)
	if _, short, ok := ServiceLevelOf(nil, ds(1, 2), sl); ok || short != 2 {
		t.Errorf("only short abandons: ok %v, %d short; want not ok, 2", ok, short)
	}
}

func TestQueuesServiceLevel(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "sales", ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * sec)}})

	// waits builds sorted waits from seconds.
	waits := func(ss ...int) []time.Duration {
		out := make([]time.Duration, len(ss))
		for i, s := range ss {
			out[i] = time.Duration(s) * sec
		}
		return out
	}
	tests := []struct {
		name               string
		stats              store.QueueStats
		achieved, asa, p90 string
	}{
		{name: "8-of-10-within-20s", stats: store.QueueStats{Answered: 10, Waits: waits(1, 2, 3, 4, 5, 6, 7, 8, 25, 40)},
			achieved: "0.8", asa: "10.1", p90: "25"},
		{name: "abandoned-count-against", stats: store.QueueStats{Answered: 10, Abandoned: 6, Waits: waits(1, 2, 3, 4, 5, 6, 7, 8, 25, 40),
			AbandonWaits: waits(1, 2, 30, 30, 60, 90)},
			achieved: "0.5", asa: "10.1", p90: "25"},
		{name: "at-the-threshold-counts", stats: store.QueueStats{Answered: 4, Waits: waits(0, 20, 20, 21)},
			achieved: "0.75", asa: "15.25", p90: "20"},
		{name: "only-abandoned", stats: store.QueueStats{Abandoned: 3, AbandonWaits: waits(10, 20, 30)},
			achieved: "0", asa: "null", p90: "null"},
		{name: "nothing-in-window", achieved: "null", asa: "null", p90: "null"},
		{name: "one-answer", stats: store.QueueStats{Answered: 1, Waits: waits(30)},
			achieved: "0", asa: "30", p90: "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := f.view("sales", map[string]store.QueueStats{"sales": tt.stats}, 30*time.Minute)
			sl := v.ServiceLevel
			if sl.Target != 0.8 || sl.WithinSeconds != 20 || sl.WindowSeconds != 1800 {
				t.Errorf("target, within, window: got %v, %v, %v, want 0.8, 20, 1800", sl.Target, sl.WithinSeconds, sl.WindowSeconds)
			}
			if got := str(sl.Achieved); got != tt.achieved {
				t.Errorf("achieved: got %s, want %s", got, tt.achieved)
			}
			if got := str(v.ASASeconds); got != tt.asa {
				t.Errorf("asa: got %s, want %s", got, tt.asa)
			}
			if got := str(v.WaitP90Seconds); got != tt.p90 {
				t.Errorf("p90: got %s, want %s", got, tt.p90)
			}
			if v.Answered != tt.stats.Answered || v.Abandoned != tt.stats.Abandoned {
				t.Errorf("answered, abandoned: got %d, %d, want %d, %d", v.Answered, v.Abandoned, tt.stats.Answered, tt.stats.Abandoned)
			}
		})
	}
}

func TestQueuesEstimatedWait(t *testing.T) {
	spanish := []router.Requirement{{Skill: "spanish", Min: 1}}
	answered := func(n int) map[string]store.QueueStats {
		return map[string]store.QueueStats{"sales": {Answered: n, Waits: make([]time.Duration, n)}}
	}
	tests := []struct {
		name  string
		setup func(f *fixture)
		stats map[string]store.QueueStats
		want  string
	}{
		{"free-agent-nobody-ahead", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
		}, nil, "0"},
		{"free-agent-only-lower-rank-waiting", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
			// x lacks spanish; a new contact of priority 0 goes first.
			f.submit(router.NewContact{Queue: "sales", Priority: -1, Requirements: spanish})
		}, nil, "0"},
		{"free-agent-someone-ahead", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
			f.submit(router.NewContact{Queue: "sales", Requirements: spanish})
		}, answered(6), "1200"}, // (1+1) × 3600 / 6
		{"free-agent-someone-ahead-no-answers", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
			f.submit(router.NewContact{Queue: "sales", Requirements: spanish})
		}, nil, "null"},
		{"nobody-staffed", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAway)
			f.agent("y", nil, nil, router.AgentOffline)
		}, answered(100), "null"},
		{"no-agents", func(f *fixture) {}, answered(100), "null"},
		{"none-free-no-answers", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
			f.offered("sales", "x")
		}, map[string]store.QueueStats{"sales": {Abandoned: 5}}, "null"},
		{"all-busy-nobody-waiting", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
			f.offered("sales", "x")
		}, answered(12), "300"}, // 1 × 3600 / 12
		{"all-busy-three-waiting", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
			f.offered("sales", "x")
			for range 3 {
				f.submit(router.NewContact{Queue: "sales"})
			}
		}, answered(12), "1200"}, // 4 × 3600 / 12
		{"only-wrapup-staffed", func(f *fixture) {
			f.agent("x", nil, nil, router.AgentAvailable)
			id := f.offered("sales", "x")
			f.accept(id, "x")
			if _, err := f.r.WrapUp(f.ctx, id, "x", "", ""); err != nil {
				f.t.Fatalf("WrapUp: %v", err)
			}
			f.submit(router.NewContact{Queue: "sales"})
		}, answered(36), "200"}, // 2 × 3600 / 36
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.queue(router.Queue{Name: "sales"})
			tt.setup(f)
			if got := str(f.view("sales", tt.stats, time.Hour).EstimatedWaitSeconds); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// sourceFixture runs contacts through the router into the store:
// c1 answered after 10s, c2 abandoned after 30s, c3 answered after 5s;
// the clock ends at t0+50s with c4 waiting 4s. Queue idle has nothing.
func sourceFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.queue(router.Queue{Name: "sales", ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * sec)}})
	f.queue(router.Queue{Name: "idle", Requirements: []router.Requirement{{Skill: "latin", Min: 5}}})
	f.agent("x", map[string]int{"sales": 1}, map[string]int{router.ChannelEmail: 0}, router.AgentOffline)

	c1 := f.submit(router.NewContact{Queue: "sales"})
	f.advance(10 * sec)
	f.state("x", router.AgentAvailable)
	f.accept(c1.ID, "x") // waited 10s; x is now full
	c2 := f.submit(router.NewContact{Queue: "sales"})
	f.advance(30 * sec)
	if _, err := f.r.Abandon(f.ctx, c2.ID, ""); err != nil {
		t.Fatalf("Abandon: %v", err)
	}
	c3 := f.submit(router.NewContact{Queue: "sales"})
	if _, err := f.r.CloseContact(f.ctx, c1.ID, "x", "done", ""); err != nil {
		t.Fatalf("CloseContact: %v", err)
	}
	f.advance(5 * sec)
	f.accept(c3.ID, "x") // waited 5s
	f.advance(time.Second)
	f.submit(router.NewContact{Queue: "sales"})
	f.advance(4 * sec)
	return f
}

func TestSourceQueues(t *testing.T) {
	f := sourceFixture(t)
	tests := []struct {
		name                string
		window              time.Duration
		wantWindow          float64
		answered, abandoned int
		achieved, asa, est  string
	}{
		// c1 (10s), c3 (5s) answered, c2 abandoned: 2 of 3 within 20s;
		// one contact ahead at 2 answers an hour.
		{"default-window", 0, 3600, 2, 1, "0.6666666666666666", "7.5", "3600"},
		// Since t0+30s: c1's answer at t0+10s is out.
		{"short-window", 20 * sec, 20, 1, 1, "0.5", "5", "40"},
		// Since t0+48s: nothing ended, so nothing to go by.
		{"window-after-everything", 2 * sec, 2, 0, 0, "null", "null", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Source{Router: f.r, Store: f.db, Window: tt.window}.Queues(f.ctx)
			if err != nil {
				t.Fatalf("Queues: %v", err)
			}
			views, ok := v.([]QueueView)
			if !ok || len(views) != 2 || views[0].Name != "idle" || views[1].Name != "sales" {
				t.Fatalf("got %#v, want views of idle and sales", v)
			}
			s := views[1]
			if s.ServiceLevel.WindowSeconds != tt.wantWindow {
				t.Errorf("window: got %v, want %v", s.ServiceLevel.WindowSeconds, tt.wantWindow)
			}
			if s.Answered != tt.answered || s.Abandoned != tt.abandoned {
				t.Errorf("answered, abandoned: got %d, %d, want %d, %d", s.Answered, s.Abandoned, tt.answered, tt.abandoned)
			}
			if got := str(s.ServiceLevel.Achieved); got != tt.achieved {
				t.Errorf("achieved: got %s, want %s", got, tt.achieved)
			}
			if got := str(s.ASASeconds); got != tt.asa {
				t.Errorf("asa: got %s, want %s", got, tt.asa)
			}
			if got := str(s.EstimatedWaitSeconds); got != tt.est {
				t.Errorf("estimated wait: got %s, want %s", got, tt.est)
			}
		})
	}
}

// TestQueuesJSON renders the views of sourceFixture to
// testdata/queues.golden (go test -update rewrites it): the field names,
// and null where there is nothing to compute from.
func TestQueuesJSON(t *testing.T) {
	f := sourceFixture(t)
	v, err := Source{Router: f.r, Store: f.db}.Queues(f.ctx)
	if err != nil {
		t.Fatalf("Queues: %v", err)
	}
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "queues.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update writes it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestQueuesNoQueues(t *testing.T) {
	f := newFixture(t)
	if got := Queues(f.r.Snapshot(), nil, time.Hour); got != nil {
		t.Errorf("got %v, want nil", got)
	}
}
