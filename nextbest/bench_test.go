package nextbest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

// benchCustomers is how many customers BenchmarkScreenPopAssembly puts in
// the store; the target is one million (make bench).
var benchCustomers = flag.Int("customers", 100_000, "customers in the store of BenchmarkScreenPopAssembly")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if popDir != "" {
		os.RemoveAll(popDir)
	}
	os.Exit(code)
}

// BenchmarkScreenPopAssembly measures what an agent waits for when a
// contact rings: screenpop.Builder.Build with the real store, profiles and
// offer source (profile, identities, history, first messages, routing
// reason, eligible offers with their cooldown history, ranking), over a
// store of -customers customers. 2,000 of them, picked at random, have
// 10 ended contacts each, with messages, and 5 recorded offer outcomes;
// each iteration builds the screen pop of the live, queued contact of one
// of them. It reports p50, p90 and p99.
//
//	go test -run=NONE -bench=ScreenPopAssembly -benchtime=20000x ./nextbest/ -customers=1000000
func BenchmarkScreenPopAssembly(b *testing.B) {
	popOnce.Do(func() { popPopper, popLive, popErr = newPopBench(b) })
	if popErr != nil {
		b.Fatal(popErr)
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	withOffers := 0
	b.ResetTimer()
	for i := range b.N {
		id := popLive[i%len(popLive)]
		t0 := time.Now()
		sp, err := popPopper.Build(ctx, id)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if sp.Customer.Name == "" || sp.Customer.Segment == nil {
			b.Fatalf("screen pop of %s has no profile: %+v", id, sp.Customer)
		}
		if len(sp.Offers) > 0 {
			withOffers++
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*90/100].Microseconds()), "p90-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(withOffers)/float64(b.N)*100, "%-with-offers")
}

// The store, router and screen pop source BenchmarkScreenPopAssembly
// builds once for all its runs (the testing package runs a benchmark with
// b.N = 1 before the measured run), in popDir, which TestMain removes.
var (
	popOnce   sync.Once
	popPopper *screenpop.Builder
	popLive   []string
	popErr    error
	popDir    string
)

func newPopBench(b *testing.B) (*screenpop.Builder, []string, error) {
	ctx := context.Background()
	var err error
	if popDir, err = os.MkdirTemp("", "screenpop-bench-"); err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(popDir, "pop.db"), Synchronous: "normal", WriteCacheMiB: 64})
	if err != nil {
		return nil, nil, err
	}

	start := time.Now()
	n := *benchCustomers
	const batch = 5000
	all := customers.Synthetic(n, 7)
	for i := 0; i < len(all); i += batch {
		ps := make([]store.CustomerImport, 0, batch)
		for _, p := range all[i:min(i+batch, len(all))] {
			ps = append(ps, store.CustomerImport{Customer: p.Customer, Identities: p.Identities})
		}
		if _, err := db.ImportCustomers(ctx, ps); err != nil {
			return nil, nil, err
		}
	}
	b.Logf("%d customers imported in %s", n, time.Since(start).Round(time.Millisecond))

	rt, err := router.New(db, &router.Options{})
	if err != nil {
		return nil, nil, err
	}
	if err := rt.Start(ctx); err != nil {
		return nil, nil, err
	}
	if _, err := rt.PutQueue(ctx, router.Queue{Name: "billing"}); err != nil {
		return nil, nil, err
	}
	const agentsN = 50
	for i := range agentsN {
		if _, _, err := rt.PutAgent(ctx, router.Agent{ID: "agent-" + strconv.Itoa(i), Name: "Agent", Capacity: map[string]int{"chat": 100}}); err != nil {
			return nil, nil, err
		}
	}

	// The measured customers: 2,000 picked at random, each with 10 ended
	// contacts (an answer each) and 5 offer outcomes, so that every
	// screen pop reads a full history and a cooldown history.
	rng := rand.New(rand.NewPCG(1, 2))
	measured := make([]store.Customer, 2000)
	for i := range measured {
		measured[i] = all[rng.IntN(len(all))].Customer
	}
	start = time.Now()
	var outs []store.OfferOutcome
	for i := range 10 * len(measured) {
		cu := measured[i%len(measured)]
		agent := "agent-" + strconv.Itoa(i%agentsN)
		c, _, err := rt.Submit(ctx, router.NewContact{Channel: "chat", Queue: "billing",
			Customer: router.Customer{ID: cu.ID, Name: cu.Name}, Body: "Hello, a question about my invoice",
			Preferred: []string{agent}})
		if err != nil {
			return nil, nil, err
		}
		steps := []func() error{
			func() error { _, err := rt.SetAgentState(ctx, agent, router.AgentAvailable, ""); return err },
			func() error { _, err := rt.Accept(ctx, c.ID, agent); return err },
			func() error {
				_, _, err := rt.AddMessage(ctx, c.ID, router.Message{Direction: "out", Author: agent, Body: "Here is the answer."})
				return err
			},
			func() error { _, err := rt.CloseContact(ctx, c.ID, agent, "solved", ""); return err },
			func() error { _, err := rt.SetAgentState(ctx, agent, router.AgentAway, ""); return err },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return nil, nil, fmt.Errorf("history contact %d: %w", i, err)
			}
		}
		if i < 10_000 {
			demo := offers.Demo()
			outs = append(outs, store.OfferOutcome{OfferID: demo[i%len(demo)].ID, ContactID: c.ID, CustomerID: cu.ID,
				Segment: cu.Segment, AgentID: agent, Outcome: []string{"accepted", "declined", "not_relevant"}[i%3], At: time.Now()})
		}
	}
	for i := 0; i < len(outs); i += 1000 {
		if _, _, err := db.RecordOfferOutcomes(ctx, outs[i:min(i+1000, len(outs))]); err != nil {
			return nil, nil, err
		}
	}
	b.Logf("history written in %s", time.Since(start).Round(time.Millisecond))

	// The measured contacts: live, queued (every agent is away).
	live := make([]string, 0, len(measured))
	for _, cu := range measured {
		c, _, err := rt.Submit(ctx, router.NewContact{Channel: "chat", Queue: "billing",
			Customer: router.Customer{ID: cu.ID, Name: cu.Name}, Body: "Can you help me with my card?"})
		if err != nil {
			return nil, nil, err
		}
		live = append(live, c.ID)
	}

	cat, err := offers.NewCatalog(offers.Demo())
	if err != nil {
		return nil, nil, err
	}
	learner := offers.NewLearner(offers.Prior{})
	if err := LoadLearner(ctx, db, learner); err != nil {
		return nil, nil, err
	}
	src := NewEngine(cat, learner, DefaultRules(), db, rt, nil)
	return &screenpop.Builder{Router: rt, Store: db, Profiles: db, Offers: src}, live, nil
}
