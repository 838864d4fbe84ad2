package metrics

import (
	"context"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard/switchboard/dashboards"
	"github.com/switchboard/switchboard/metrics/metricstest"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type env struct {
	ctx   context.Context
	rt    *router.Router
	clock *router.ManualClock
	m     *Metrics
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{ctx: ctx, clock: router.NewManualClock(epoch)}
	m, err := New(Options{Thresholds: []time.Duration{25 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	e.rt, err = router.New(db, &router.Options{Clock: e.clock, Notifier: m, Observer: m})
	if err != nil {
		t.Fatal(err)
	}
	src := dashboards.Source{Router: e.rt, Store: db}
	m.Attach(Sources{Router: e.rt, Queues: src.Views, Backlog: func() int { return 3 }})
	e.m = m
	if err := e.rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.rt.Close)
	if _, err := e.rt.PutQueue(ctx, router.Queue{Name: "billing", ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(25 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.PutQueue(ctx, router.Queue{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// scrape returns the text a scrape gets.
func (e *env) scrape(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestCountsAndGauges drives a small day by hand and reads each figure.
func TestCountsAndGauges(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	_, _, err := e.rt.PutAgent(ctx, router.Agent{ID: "alice", Name: "Alice", Capacity: map[string]int{"chat": 1}})
	e.must(t, err)
	_, err = e.rt.AgentConnected(ctx, "alice")
	e.must(t, err)
	_, err = e.rt.SetAgentState(ctx, "alice", router.AgentAvailable, "")
	e.must(t, err)

	// Answered after 12 s, handled for 5 min.
	answered, _, err := e.rt.Submit(ctx, router.NewContact{Channel: router.ChannelChat, Queue: "billing"})
	e.must(t, err)
	e.clock.Advance(12 * time.Second)
	_, err = e.rt.Accept(ctx, answered.ID, "alice")
	e.must(t, err)
	// Two more wait; one is abandoned.
	left, _, err := e.rt.Submit(ctx, router.NewContact{Channel: router.ChannelChat, Queue: "billing"})
	e.must(t, err)
	_, _, err = e.rt.Submit(ctx, router.NewContact{Channel: router.ChannelEmail, Queue: "billing"})
	e.must(t, err)
	e.clock.Advance(40 * time.Second)
	_, err = e.rt.Abandon(ctx, left.ID, "")
	e.must(t, err)
	e.clock.Advance(260 * time.Second)
	_, err = e.rt.CloseContact(ctx, answered.ID, "alice", "solved", "")
	e.must(t, err)
	e.must(t, e.rt.Sync(ctx))

	for _, tt := range []struct {
		name      string
		got, want float64
	}{
		{"created chat", testutil.ToFloat64(e.m.created.WithLabelValues("billing", "chat")), 2},
		{"created email", testutil.ToFloat64(e.m.created.WithLabelValues("billing", "email")), 1},
		{"answered", testutil.ToFloat64(e.m.answered.WithLabelValues("billing", "chat")), 1},
		{"abandoned", testutil.ToFloat64(e.m.abandoned.WithLabelValues("billing", "chat")), 1},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	text := e.scrape(t)
	for _, want := range []string{
		`switchboard_contact_wait_seconds_sum{channel="chat",queue="billing"} 12`,
		`switchboard_contact_wait_seconds_bucket{channel="chat",queue="billing",le="10"} 0`,
		`switchboard_contact_wait_seconds_bucket{channel="chat",queue="billing",le="25"} 1`, // the queue's threshold is a bound
		`switchboard_contact_handle_seconds_sum{channel="chat",queue="billing"} 300`,
		`switchboard_queue_waiting{queue="billing"} 1`,
		`switchboard_queue_oldest_wait_seconds{queue="billing"} 300`,
		`switchboard_queue_waiting{queue="sales"} 0`,
		`switchboard_queue_service_level_target_ratio{queue="billing"} 0.8`,
		`switchboard_queue_service_level_ratio{queue="billing"} 0.5`, // 1 answered in time ÷ (1 + 1 abandoned)
		`switchboard_agents{connected="true",state="away"} 1`,        // the email rang at her unanswered: away
		`switchboard_agents{connected="false",state="offline"} 0`,
		`switchboard_outbox_backlog 3`,
		`switchboard_router_recheck_failures_total 0`,
		`switchboard_store_commit_errors_total 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if testutil.CollectAndCount(e.m.decision) != 1 || !strings.Contains(text, "switchboard_router_decision_seconds_count ") ||
		strings.Contains(text, "switchboard_router_decision_seconds_count 0\n") {
		t.Error("no decision time observed")
	}
	if strings.Contains(text, "switchboard_store_commit_seconds_count 0\n") {
		t.Error("no commit time observed")
	}
	metricstest.Promtool(t, text)
}

// TestPromtoolCatchesBadNames holds the promtool check to failing: a
// counter without _total is a lint error.
func TestPromtoolCatchesBadNames(t *testing.T) {
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader("# HELP bad_counter A counter.\n# TYPE bad_counter counter\nbad_counter 1\n")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "_total") {
		t.Fatalf("promtool passed a counter without _total: %s", out)
	}
}
