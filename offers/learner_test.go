package offers

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/consent"
)

func TestRecord(t *testing.T) {
	l := NewLearner(Prior{})
	for _, o := range []Outcome{Presented, Accepted, Presented, Declined, NotRelevant, Outcome("bogus")} {
		l.Record("savings", "premium", o)
	}
	if got, want := l.Counts("savings", "premium"), (Counts{Accepted: 1, Rejected: 2}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := l.Counts("savings", "basic"); got != (Counts{}) {
		t.Errorf("got %+v for another segment, want none", got)
	}
	// Beta(1,1) + 1 success + 2 failures: mean 2/5.
	if got := l.Mean("savings", "premium"); math.Abs(got-0.4) > 1e-12 {
		t.Errorf("got mean %v, want 0.4", got)
	}
	if got := NewLearner(Prior{Alpha: 2, Beta: 8}).Mean("x", ""); math.Abs(got-0.2) > 1e-12 {
		t.Errorf("got prior mean %v, want 0.2", got)
	}
}

func TestRankReasonAndLimit(t *testing.T) {
	l := NewLearner(Prior{})
	l.Load("savings", "premium", Counts{Accepted: 37, Rejected: 61}) // mean 38/100
	cands := []Offer{
		{ID: "savings", Value: 100, Why: "no savings account"},
		{ID: "b", Value: 1}, {ID: "c", Value: 1}, {ID: "d", Value: 1},
	}
	env := Env{Customer: CustomerView{Segment: "premium"}}
	got := l.Rank(env, cands, rand.New(rand.NewPCG(1, 2)))
	if len(got) != MaxRanked {
		t.Fatalf("got %d offers, want %d", len(got), MaxRanked)
	}
	if got[0].Offer.ID != "savings" {
		t.Fatalf("got %q first, want savings (value 100 against 1)", got[0].Offer.ID)
	}
	if want := "premium, no savings account, 38 % accept"; got[0].Reason != want {
		t.Errorf("got reason %q, want %q", got[0].Reason, want)
	}
	if want := "50 % accept"; got[1].Reason != "premium, "+want {
		t.Errorf("got reason %q, want %q", got[1].Reason, "premium, "+want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Score > got[i-1].Score {
			t.Errorf("got score %v after %v, want descending", got[i].Score, got[i-1].Score)
		}
	}
	if got := reason("", "", 0.384); got != "38 % accept" {
		t.Errorf("got %q without segment, want %q", got, "38 % accept")
	}
}

// TestBetaSample checks the sampler's mean and variance against Beta(a, b).
func TestBetaSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range [][2]float64{{1, 1}, {0.5, 0.5}, {2, 8}, {61, 41}} {
		a, b := p[0], p[1]
		const n = 20000
		var sum, sq float64
		for range n {
			x := betaSample(rng, a, b)
			if x < 0 || x > 1 {
				t.Fatalf("Beta(%v,%v): got sample %v, want in [0,1]", a, b, x)
			}
			sum += x
			sq += x * x
		}
		mean, v := sum/n, sq/n-(sum/n)*(sum/n)
		wantMean := a / (a + b)
		wantVar := a * b / ((a + b) * (a + b) * (a + b + 1))
		if math.Abs(mean-wantMean) > 0.01 || math.Abs(v-wantVar) > 0.1*wantVar+1e-4 {
			t.Errorf("Beta(%v,%v): got mean %.4f var %.5f, want %.4f %.5f", a, b, mean, v, wantMean, wantVar)
		}
	}
}

// TestConvergence simulates three offers of equal value whose true
// acceptance rates are 0.1, 0.3 and 0.6. Each round the top-ranked offer
// is made and its outcome recorded. After trainOutcomes outcomes, the
// best offer must be ranked first in at least 90 % of 200 rankings.
func TestConvergence(t *testing.T) {
	const (
		trainOutcomes = 2000
		rankings      = 200
		wantFirst     = 0.9
	)
	rates := map[string]float64{"low": 0.1, "mid": 0.3, "best": 0.6}
	cands := []Offer{{ID: "low", Value: 10}, {ID: "mid", Value: 10}, {ID: "best", Value: 10}}
	env := Env{Customer: CustomerView{Segment: "premium"}}
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		world := rand.New(rand.NewPCG(seed, 7)) // the customers' answers
		l := NewLearner(Prior{})
		for range trainOutcomes {
			top := l.Rank(env, cands, rng)[0].Offer.ID
			outcome := Declined
			if world.Float64() < rates[top] {
				outcome = Accepted
			}
			l.Record(top, "premium", outcome)
		}
		first := 0
		for range rankings {
			if l.Rank(env, cands, rng)[0].Offer.ID == "best" {
				first++
			}
		}
		if share := float64(first) / rankings; share < wantFirst {
			t.Errorf("seed %d: best offer first in %.1f %% of rankings after %d outcomes, want ≥ %.0f %%",
				seed, 100*share, trainOutcomes, 100*wantFirst)
		}
		// The learned rates agree with the truth.
		for id, rate := range rates {
			c := l.Counts(id, "premium")
			if n := c.Accepted + c.Rejected; n >= 200 && math.Abs(l.Mean(id, "premium")-rate) > 0.1 {
				t.Errorf("seed %d: %s learned %.2f from %d outcomes, want about %.2f", seed, id, l.Mean(id, "premium"), n, rate)
			}
		}
	}
}

// TestExploration checks that a new offer with no data is still ranked
// first sometimes against an established one of equal value, and that
// the established one is too (neither is starved).
func TestExploration(t *testing.T) {
	l := NewLearner(Prior{})
	l.Load("old", "premium", Counts{Accepted: 300, Rejected: 700}) // 0.3, well known
	cands := []Offer{{ID: "old", Value: 10}, {ID: "new", Value: 10}}
	env := Env{Customer: CustomerView{Segment: "premium"}}
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 1000
	newFirst := 0
	for range n {
		if l.Rank(env, cands, rng)[0].Offer.ID == "new" {
			newFirst++
		}
	}
	// Under Beta(1,1), P(p > 0.3) = 0.7.
	if newFirst < n/2 || newFirst > 9*n/10 {
		t.Errorf("got new offer first %d times of %d, want about 70 %%", newFirst, n)
	}
}

func TestLearnerConcurrent(t *testing.T) {
	l := NewLearner(Prior{})
	cands := []Offer{{ID: "a", Value: 1}, {ID: "b", Value: 1}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for range 500 {
				l.Record("a", "s", Accepted)
				l.Rank(Env{Customer: CustomerView{Segment: "s"}}, cands, rng)
			}
		}()
	}
	wg.Wait()
	if got := l.Counts("a", "s").Accepted; got != 8*500 {
		t.Errorf("got %d accepted, want %d", got, 8*500)
	}
}

func TestRecommend(t *testing.T) {
	cat, err := NewCatalog(Demo())
	if err != nil {
		t.Fatal(err)
	}
	l := NewLearner(Prior{})
	req := Request{
		Env: Env{
			Customer: CustomerView{Segment: "premium", Value: 2500, Products: []string{"credit_card", "mortgage"}, Consent: consent.Flags{Marketing: ptr(true)}},
			Contact:  ContactView{Channel: "chat", Queue: "sales"},
		},
		ContactID: "c1",
	}
	got, err := Recommend(cat, l, Rules{}, req, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []Offer
	for _, r := range got {
		names = append(names, r.Offer)
	}
	// Eligible: savings, card-upgrade, home-insurance.
	if len(got) != 3 {
		t.Errorf("got %q, want the three eligible offers", ids(names))
	}
	req.Env.Contact.Disposition = "complaint"
	if got, _ := Recommend(cat, l, Rules{}, req, rand.New(rand.NewPCG(1, 1))); got != nil {
		t.Errorf("got %d offers for a complaint, want none", len(got))
	}
}

func TestLearned(t *testing.T) {
	l := NewLearner(Prior{Alpha: 2, Beta: 8})
	l.Load("savings", "premium", Counts{Accepted: 8, Rejected: 2})
	l.Load("savings", "basic", Counts{Rejected: 10})
	l.Load("fiber", "premium", Counts{Accepted: 1})
	got := l.Learned("savings")
	want := []Learned{
		{Segment: "basic", Counts: Counts{Rejected: 10}, Mean: 2.0 / 20},
		{Segment: "premium", Counts: Counts{Accepted: 8, Rejected: 2}, Mean: 10.0 / 20},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Segment != want[i].Segment || got[i].Counts != want[i].Counts || math.Abs(got[i].Mean-want[i].Mean) > 1e-12 {
			t.Errorf("got %+v, want %+v", got[i], want[i])
		}
	}
	if got := l.Learned("nothing"); got != nil {
		t.Errorf("got %+v for an offer never learned, want nil", got)
	}
}

// TestOutcomes: the one vocabulary of an offer's outcomes (the agents'
// socket, the engine, the store and the learner ask it): what is an
// outcome, and which are decisions.
func TestOutcomes(t *testing.T) {
	for _, tt := range []struct {
		o               Outcome
		valid, decision bool
	}{
		{Presented, true, false},
		{Accepted, true, true},
		{Declined, true, true},
		{NotRelevant, true, true},
		{"ignored", false, false},
		{"", false, false},
	} {
		if got := tt.o.Valid(); got != tt.valid {
			t.Errorf("%q: Valid %v, want %v", tt.o, got, tt.valid)
		}
		if got := tt.o.Decision(); got != tt.decision {
			t.Errorf("%q: Decision %v, want %v", tt.o, got, tt.decision)
		}
	}
}
