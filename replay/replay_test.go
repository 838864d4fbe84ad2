package replay

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/nextbest"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

// The recorded period of the tests: three hours of a morning.
var (
	start  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	period = 3 * time.Hour
)

// Tolerances of a replay under the configuration that was recorded
// (docs/replay.md, "How close"): what the replay must reproduce.
const (
	tolServiceLevel = 0.05 // 5 points, every queue and all
	tolASA          = 0.20 // 20 % of the recorded ASA of all queues
	tolQueueASA     = 0.30 // 30 % of a queue's, fewer contacts
	tolASAFloor     = 2.0  // seconds: a difference of less always passes
	tolAbandonRate  = 0.03 // 3 points, every queue and all
	tolOccupancy    = 0.05 // 5 points
	tolOffers       = 0.10 // 10 % of the recorded count, or 2
)

// agentsYAML are the recorded period's agents: billing people, tech
// people, and two who do both.
const agentsYAML = `  - {id: b1, skills: {billing: 3}}
  - {id: b2, skills: {billing: 2}}
  - {id: b3, skills: {billing: 3}}
  - {id: t1, skills: {tech: 3}}
  - {id: t2, skills: {tech: 2}}
  - {id: t3, skills: {tech: 1}}
  - {id: x1, skills: {billing: 2, tech: 2}}
  - {id: x2, skills: {billing: 1, tech: 3}}
`

// configYAML is the recorded period's configuration with extra agents
// added.
func configYAML(extraAgents string) string {
	return `routing:
  wrapup: 20s
  offer_timeout: {api: 30s}
agents:
` + agentsYAML + extraAgents + `queues:
  - name: billing
    requirements: [{skill: billing, min: 2}]
    strategy: best_skill
    service_level: {target: 0.8, within: 30s}
    relaxation:
      - {name: any-billing, after: 60s, min: {billing: 1}}
  - name: tech
    requirements: [{skill: tech, min: 2}]
    service_level: {target: 0.8, within: 60s}
    relaxation:
      - {name: any-tech, after: 90s, min: {tech: 1}}
offers:
  catalog:
    - {id: savings, title: Savings account, value: 120, eligible: 'customer.segment == "premium"'}
    - {id: card, title: Card upgrade, value: 200, eligible: 'customer.value >= 1000'}
    - {id: insurance, title: Home insurance, value: 90}
`
}

func parseConfig(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("replay-test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("parse config: %v", err)
	}
	return cfg
}

// timed is one step of the recorder's simulation.
type timed struct {
	at  time.Time
	seq int
	do  func() error
}

type agenda []*timed

func (a agenda) Len() int { return len(a) }
func (a agenda) Less(i, j int) bool {
	if !a[i].at.Equal(a[j].at) {
		return a[i].at.Before(a[j].at)
	}
	return a[i].seq < a[j].seq
}
func (a agenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)   { *a = append(*a, x.(*timed)) }
func (a *agenda) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// record makes a real history: the router and the store, driven through
// the period by simulated customers and agents of their own, which know
// nothing of package replay's rules: every customer has a patience
// (exponential, mean 2 min) and leaves when it runs out unanswered;
// agents answer after 1 to 4 s, talk for an exponential time (mean
// 150 s, at least 20 s), wrap up, take a 15-minute break at a random
// time, and one agent only logs in an hour late; the screen pop's
// offers are shown to every answered customer of a profile, and 30 % of
// them accepted. About 290 contacts arrive, 60 % for billing.
func record(t *testing.T, cfg *config.Config, seed uint64) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "recorded.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rng := rand.New(rand.NewPCG(seed, 1))
	yes := true
	var customers []store.Customer
	for i := range 40 {
		c := store.Customer{ID: fmt.Sprintf("cust%02d", i), Name: fmt.Sprintf("Customer %d", i), Segment: "standard",
			Value: float64(rng.IntN(2000)), Consent: consent.Flags{Marketing: &yes}}
		if i%3 == 0 {
			c.Segment = "premium"
		}
		if _, err := db.PutCustomer(ctx, c, nil, "test"); err != nil {
			t.Fatal(err)
		}
		customers = append(customers, c)
	}

	clk := router.NewManualClock(start)
	var (
		mu    sync.Mutex
		notes []router.Notification
	)
	opts := cfg.RouterOptions()
	opts.RequirePresence = false
	opts.Clock = clk
	opts.Notifier = router.NotifierFunc(func(ns []router.Notification) {
		mu.Lock()
		defer mu.Unlock()
		notes = append(notes, ns...)
	})
	r, err := router.New(db, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, q := range cfg.RouterQueues() {
		if _, err := r.PutQueue(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := offers.NewCatalog(cfg.OfferCatalog())
	if err != nil {
		t.Fatal(err)
	}
	engine := nextbest.NewEngine(cat, offers.NewLearner(cfg.OfferPrior()), cfg.OfferRules(), db, nil, nil)
	defer engine.Close()
	engine.Simulate(clk.Now, seed)

	var (
		todo agenda
		seq  int
	)
	at := func(when time.Time, do func() error) {
		seq++
		heap.Push(&todo, &timed{at: when, seq: seq, do: do})
	}
	end := start.Add(period)
	for i, a := range cfg.RouterAgents() {
		if _, _, err := r.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		id := a.ID
		login := start
		if i == 0 {
			login = start.Add(time.Hour)
		}
		at(login, func() error { _, err := r.SetAgentState(ctx, id, router.AgentAvailable, ""); return err })
		brk := start.Add(30*time.Minute + time.Duration(rng.Int64N(int64(2*time.Hour))))
		at(brk, func() error { _, err := r.SetAgentState(ctx, id, router.AgentAway, "break"); return err })
		at(brk.Add(15*time.Minute), func() error { _, err := r.SetAgentState(ctx, id, router.AgentAvailable, ""); return err })
	}
	// Arrivals: a Poisson process of 1.6 a minute.
	for t := start; ; {
		t = t.Add(time.Duration(rng.ExpFloat64() / 1.6 * float64(time.Minute)))
		if !t.Before(end) {
			break
		}
		queue := "billing"
		if rng.Float64() < 0.4 {
			queue = "tech"
		}
		var cu router.Customer
		if rng.Float64() < 0.7 {
			p := customers[rng.IntN(len(customers))]
			cu = router.Customer{ID: p.ID, Verified: true, Segment: p.Segment, Value: p.Value}
		}
		patience := time.Duration(rng.ExpFloat64() * float64(2*time.Minute))
		at(t, func() error {
			c, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelAPI, Queue: queue, Customer: cu})
			if err != nil {
				return err
			}
			at(clk.Now().Add(patience), func() error {
				if live, ok := r.Snapshot().Contact(c.ID); ok && (live.State == router.ContactQueued || live.State == router.ContactOffered) {
					_, err := r.Abandon(ctx, c.ID, "hung up")
					return err
				}
				return nil
			})
			return nil
		})
	}
	// react makes the agents answer offers and handle what they took.
	react := func() error {
		mu.Lock()
		ns := notes
		notes = nil
		mu.Unlock()
		for _, n := range ns {
			switch n.Kind {
			case router.NoteOffer:
				id, agent, offered := n.Contact.ID, n.AgentID, n.Contact.OfferedAt
				at(clk.Now().Add(time.Second+time.Duration(rng.Int64N(int64(3*time.Second)))), func() error {
					live, ok := r.Snapshot().Contact(id)
					if !ok || live.State != router.ContactOffered || live.AgentID != agent || !live.OfferedAt.Equal(offered) {
						return nil
					}
					_, err := r.Accept(ctx, id, agent)
					return err
				})
			case router.NoteAssigned:
				c := *n.Contact
				if err := present(ctx, db, engine, c, rng); err != nil {
					return err
				}
				talk := max(20*time.Second, time.Duration(rng.ExpFloat64()*float64(150*time.Second)))
				at(clk.Now().Add(talk), func() error {
					live, ok := r.Snapshot().Contact(c.ID)
					if !ok || live.State != router.ContactAssigned || live.AgentID != c.AgentID {
						return nil
					}
					_, err := r.WrapUp(ctx, c.ID, c.AgentID, "done", "")
					return err
				})
			}
		}
		return nil
	}
	for {
		next, ok := time.Time{}, false
		if todo.Len() > 0 {
			next, ok = todo[0].at, true
		}
		if t, armed := clk.Next(); armed && (!ok || t.Before(next)) {
			next, ok = t, true
		}
		if !ok || !next.Before(end) {
			break
		}
		clk.Advance(max(next.Sub(clk.Now()), 0))
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := react(); err != nil {
			t.Fatal(err)
		}
		for todo.Len() > 0 && !todo[0].at.After(clk.Now()) {
			step := heap.Pop(&todo).(*timed)
			if err := step.do(); err != nil && !errors.Is(err, router.ErrConflict) {
				t.Fatalf("at %s: %v", clk.Now().Format(time.TimeOnly), err)
			}
			if err := react(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

// present shows contact c's offers (the screen pop's engine) and records
// them presented, then accepted 30 % of the time, declined otherwise.
func present(ctx context.Context, db *store.DB, engine *nextbest.Engine, c router.Contact, rng *rand.Rand) error {
	if c.Customer.ID == "" {
		return nil
	}
	p, err := db.Customer(ctx, c.Customer.ID)
	if err != nil {
		return err
	}
	shown, _, err := engine.PopOffers(ctx, screenpop.OfferRequest{Contact: c, Profile: &p})
	if err != nil {
		return err
	}
	var outs []store.OfferOutcome
	for _, o := range shown {
		decision := store.OutcomeDeclined
		if rng.Float64() < 0.3 {
			decision = store.OutcomeAccepted
		}
		for _, outcome := range []string{store.OutcomePresented, decision} {
			outs = append(outs, store.OfferOutcome{OfferID: o.ID, ContactID: c.ID, CustomerID: p.ID, Segment: p.Segment,
				AgentID: c.AgentID, Outcome: outcome, At: c.AssignedAt})
		}
	}
	if len(outs) == 0 {
		return nil
	}
	_, _, err = db.RecordOfferOutcomes(ctx, outs)
	return err
}

// compare replays the recorded db under cfg.
func compare(t *testing.T, db *store.DB, cfg *config.Config) *Report {
	t.Helper()
	rep, err := Compare(context.Background(), db, start, start.Add(period), cfg, "replay-test.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func within(t *testing.T, what string, rec, rep *float64, tol float64) {
	t.Helper()
	if rec == nil || rep == nil {
		t.Errorf("%s: recorded %v, replayed %v; want both", what, rec, rep)
		return
	}
	if math.Abs(*rec-*rep) > tol {
		t.Errorf("%s: recorded %.3f, replayed %.3f; want within %.3f", what, *rec, *rep, tol)
	}
}

// TestReplayUnderItsOwnConfig replays recorded periods under the
// configuration they were recorded with: the figures must match within
// the tolerances of docs/replay.md.
func TestReplayUnderItsOwnConfig(t *testing.T) {
	for _, seed := range []uint64{3, 7, 10} {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) { testOwnConfig(t, seed) })
	}
}

func testOwnConfig(t *testing.T, seed uint64) {
	cfg := parseConfig(t, configYAML(""))
	db := record(t, cfg, seed)
	rep := compare(t, db, cfg)
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())

	rec, got := rep.Recorded, rep.Replayed
	if rec.Total.Offered < 250 || rec.Total.Abandoned < 5 || rec.Total.Answered < 200 {
		t.Fatalf("recorded %d offered, %d answered, %d abandoned: want a realistic period (≥ 250, ≥ 200, ≥ 5)",
			rec.Total.Offered, rec.Total.Answered, rec.Total.Abandoned)
	}
	if rep.ReplayedContacts != rep.Contacts || len(rep.Notes) == 0 {
		t.Errorf("replayed %d of %d contacts, notes %q; want all, with the assumptions noted", rep.ReplayedContacts, rep.Contacts, rep.Notes)
	}
	if got.Total.Offered != rec.Total.Offered {
		t.Errorf("offered: recorded %d, replayed %d; want the same arrivals", rec.Total.Offered, got.Total.Offered)
	}
	for _, q := range append([]QueueFigures{rec.Total}, rec.Queues...) {
		name := q.Queue
		if name == "" {
			name = "all"
		}
		r := got.queue(q.Queue)
		if q.Queue == "" {
			r = &got.Total
		}
		if r == nil {
			t.Errorf("queue %s: not replayed", name)
			continue
		}
		within(t, name+" service level", q.ServiceLevel, r.ServiceLevel, tolServiceLevel)
		within(t, name+" abandonment", q.AbandonRate, r.AbandonRate, tolAbandonRate)
		tol := tolQueueASA
		if q.Queue == "" {
			tol = tolASA
		}
		if q.ASASeconds != nil {
			within(t, name+" ASA", q.ASASeconds, r.ASASeconds, max(tol**q.ASASeconds, tolASAFloor))
		}
	}
	within(t, "occupancy", rec.Occupancy, got.Occupancy, tolOccupancy)
	if rec.Offers.Shown < 20 {
		t.Fatalf("recorded %d offers shown; want a period with offers (≥ 20)", rec.Offers.Shown)
	}
	shown, accepted := float64(rec.Offers.Shown), rec.Offers.Accepted
	within(t, "offers shown", &shown, ptr(float64(got.Offers.Shown)), max(tolOffers*shown, 2))
	within(t, "offers accepted", &accepted, &got.Offers.Accepted, max(tolOffers*accepted, 2))
}

// TestReplayIsDeterministic replays one history twice: the same figures.
func TestReplayIsDeterministic(t *testing.T) {
	cfg := parseConfig(t, configYAML(""))
	db := record(t, cfg, 11)
	a, b := compare(t, db, cfg), compare(t, db, cfg)
	var ja, jb bytes.Buffer
	if err := a.WriteJSON(&ja); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	if ja.String() != jb.String() {
		t.Errorf("two replays differ:\n%s\n%s", ja.String(), jb.String())
	}
}

// TestReplayWithMoreAgents replays a recorded period with three more
// agents who do both: the service level must rise and the ASA and the
// abandonment fall, measurably.
func TestReplayWithMoreAgents(t *testing.T) {
	cfg := parseConfig(t, configYAML(""))
	db := record(t, cfg, 7)
	more := parseConfig(t, configYAML(`  - {id: n1, skills: {billing: 2, tech: 2}}
  - {id: n2, skills: {billing: 2, tech: 2}}
  - {id: n3, skills: {billing: 3, tech: 3}}
`))
	rep := compare(t, db, more)
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	rec, got := rep.Recorded.Total, rep.Replayed.Total
	if rec.ServiceLevel == nil || got.ServiceLevel == nil || *got.ServiceLevel < *rec.ServiceLevel+0.02 {
		t.Errorf("service level: recorded %v, with more agents %v; want at least 2 points higher", show(rec.ServiceLevel, percent), show(got.ServiceLevel, percent))
	}
	if rec.ASASeconds == nil || got.ASASeconds == nil || *got.ASASeconds >= *rec.ASASeconds*0.9 {
		t.Errorf("ASA: recorded %v, with more agents %v; want at least 10 %% lower", show(rec.ASASeconds, secs), show(got.ASASeconds, secs))
	}
	if rec.AbandonRate == nil || got.AbandonRate == nil || *got.AbandonRate > *rec.AbandonRate {
		t.Errorf("abandonment: recorded %v, with more agents %v; want no higher", show(rec.AbandonRate, percent), show(got.AbandonRate, percent))
	}
	if rep.Replayed.Occupancy == nil || rep.Recorded.Occupancy == nil || *rep.Replayed.Occupancy >= *rep.Recorded.Occupancy {
		t.Errorf("occupancy: recorded %v, with more agents %v; want lower", show(rep.Recorded.Occupancy, percent), show(rep.Replayed.Occupancy, percent))
	}
}

// TestReportHTMLEscapes writes the HTML report of a period whose names
// hold markup: it is escaped, and the page needs nothing from outside.
func TestReportHTMLEscapes(t *testing.T) {
	rec := &Figures{Queues: []QueueFigures{{Queue: `<script>alert(1)</script>`, Offered: 1}}, Waiting: []int{0, 1, 2}}
	rep := &Report{From: start, To: start.Add(time.Hour), Config: `"><img src=x onerror=alert(1)>.yaml`,
		Recorded: rec, Replayed: &Figures{Waiting: []int{0, 0, 1}}, Notes: []string{"<b>note</b>"}}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<img", "<b>note", "src=\"http", "href=\"http"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q; want it escaped or absent", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "<svg", "<polyline"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js.Bytes()) {
		t.Errorf("WriteJSON wrote invalid JSON: %s", js.String())
	}
}

// A contact recorded before today's rule of a new contact, or beyond
// what it bounds, is replayed fitted to it, never refused: a window for
// its preferred agent longer than the rule's (a transfer's runs from
// the transfer), a verified customer id longer than the rule's.
func TestReplayFitsWhatWasRecorded(t *testing.T) {
	cfg := parseConfig(t, configYAML(""))
	from := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := &History{From: from, To: from.Add(time.Hour),
		Agents: map[string]router.Agent{}, Queues: map[string]router.Queue{},
		States: []StateChange{{Agent: "b1", At: from, State: router.AgentAvailable}},
		Contacts: []Contact{{
			ID: "c1", Arrival: from.Add(time.Minute), Queue: "billing", Channel: router.ChannelAPI,
			Customer:  router.Customer{ID: strings.Repeat("x", 300), Verified: true},
			Preferred: []string{"b1"}, PreferredFor: router.MaxPreferredTimeout + 20*time.Minute,
			Answered: true, AnsweredAt: from.Add(time.Minute + 5*time.Second), AnsweredBy: "b1", Talk: time.Minute,
		}}}
	res, err := Run(context.Background(), h, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if n := res.Skipped[SkipRefused]; n != 0 {
		t.Errorf("%d contacts refused by the router (%v), want none: fitted to the rule", n, res.Refused)
	}
}
