package offers

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
)

// MaxRanked is the most offers Rank and Recommend return.
const MaxRanked = 3

// Prior is the Beta prior of every offer's acceptance probability. A
// zero Alpha or Beta means 1 (the uniform prior Beta(1,1)).
type Prior struct {
	Alpha, Beta float64
}

// Counts are the outcomes learned for one offer in one segment.
type Counts struct {
	Accepted int // successes
	Rejected int // declined or not relevant
}

type learnKey struct{ offer, segment string }

// Learner learns each offer's acceptance probability per customer
// segment from outcomes, and ranks offers by expected value. It is safe
// for concurrent use.
type Learner struct {
	alpha, beta float64 // the prior; both > 0
	mu          sync.Mutex
	counts      map[learnKey]Counts // guarded by mu
}

// NewLearner returns a Learner with no outcomes and the given prior.
// It panics if the prior is negative or not finite (a programming error
// at start-up).
func NewLearner(p Prior) *Learner {
	if p.Alpha == 0 {
		p.Alpha = 1
	}
	if p.Beta == 0 {
		p.Beta = 1
	}
	if !(p.Alpha > 0 && p.Beta > 0) || math.IsInf(p.Alpha, 0) || math.IsInf(p.Beta, 0) {
		panic(fmt.Sprintf("offers: invalid prior Beta(%v, %v)", p.Alpha, p.Beta))
	}
	return &Learner{alpha: p.Alpha, beta: p.Beta, counts: map[learnKey]Counts{}}
}

// Record learns one outcome of an offer made to a customer of a segment.
// Presented and unknown outcomes change nothing.
func (l *Learner) Record(offerID, segment string, o Outcome) {
	k := learnKey{offerID, segment}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counts[k]
	switch {
	case o == Accepted:
		c.Accepted++
	case o.Decision():
		c.Rejected++
	default:
		return
	}
	l.counts[k] = c
}

// Load sets the counts of an offer in a segment, e.g. from the store at
// start-up.
func (l *Learner) Load(offerID, segment string, c Counts) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[learnKey{offerID, segment}] = c
}

// Counts returns what was learned about an offer in a segment.
func (l *Learner) Counts(offerID, segment string) Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[learnKey{offerID, segment}]
}

// Learned is what a Learner believes of one offer in one segment.
type Learned struct {
	Segment string
	Counts  Counts
	// Mean is the posterior mean acceptance probability.
	Mean float64
}

// Learned returns what was learned of an offer, by segment; none is nil.
func (l *Learner) Learned(offerID string) []Learned {
	l.mu.Lock()
	var out []Learned
	for k, c := range l.counts {
		if k.offer == offerID {
			out = append(out, Learned{Segment: k.segment, Counts: c})
		}
	}
	l.mu.Unlock()
	for i := range out {
		a, b := l.posterior(out[i].Counts)
		out[i].Mean = a / (a + b)
	}
	slices.SortFunc(out, func(x, y Learned) int { return strings.Compare(x.Segment, y.Segment) })
	return out
}

// Mean is the posterior mean acceptance probability of an offer in a
// segment.
func (l *Learner) Mean(offerID, segment string) float64 {
	a, b := l.posterior(l.Counts(offerID, segment))
	return a / (a + b)
}

func (l *Learner) posterior(c Counts) (alpha, beta float64) {
	return l.alpha + float64(c.Accepted), l.beta + float64(c.Rejected)
}

// Ranked is an offer chosen by Rank.
type Ranked struct {
	Offer Offer
	// Mean is the posterior mean acceptance probability; Sample the
	// probability drawn for this ranking; Score is Sample × Offer.Value.
	Mean, Sample, Score float64
	// Reason is one line for the agent: the segment, the offer's Why and
	// the rounded mean acceptance ("premium, no savings account, 38 % accept").
	Reason string
}

// Rank orders candidates by expected value, each offer's acceptance
// probability drawn from its posterior for env's segment (Thompson
// sampling, so offers with little data are still shown sometimes), and
// returns at most MaxRanked. rng is used only during the call; a
// *rand.Rand is not safe for concurrent use, so callers share one only
// under a lock.
func (l *Learner) Rank(env Env, candidates []Offer, rng *rand.Rand) []Ranked {
	seg := env.Customer.Segment
	counts := make([]Counts, len(candidates))
	l.mu.Lock()
	for i, o := range candidates {
		counts[i] = l.counts[learnKey{o.ID, seg}]
	}
	l.mu.Unlock()

	out := make([]Ranked, 0, len(candidates))
	for i, o := range candidates {
		a, b := l.posterior(counts[i])
		mean := a / (a + b)
		s := betaSample(rng, a, b)
		out = append(out, Ranked{Offer: o, Mean: mean, Sample: s, Score: s * o.Value, Reason: reason(seg, o.Why, mean)})
	}
	slices.SortStableFunc(out, func(x, y Ranked) int {
		if n := cmp.Compare(y.Score, x.Score); n != 0 {
			return n
		}
		return strings.Compare(x.Offer.ID, y.Offer.ID)
	})
	if len(out) > MaxRanked {
		out = out[:MaxRanked]
	}
	return out
}

// reason is the one-line reason of an offer.
func reason(segment, why string, mean float64) string {
	var parts []string
	if segment != "" {
		parts = append(parts, segment)
	}
	if why != "" {
		parts = append(parts, why)
	}
	parts = append(parts, fmt.Sprintf("%d %% accept", int(math.Round(mean*100))))
	return strings.Join(parts, ", ")
}

// Recommend returns the offers worth making during a contact, best first,
// at most MaxRanked: the candidates of the catalog under the rules,
// ranked by the learner.
func Recommend(c *Catalog, l *Learner, rules Rules, req Request, rng *rand.Rand) ([]Ranked, error) {
	cands, err := c.Candidates(rules, req)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	return l.Rank(req.Env, cands, rng), nil
}

// betaSample draws from Beta(a, b), a, b > 0.
func betaSample(rng *rand.Rand, a, b float64) float64 {
	x := gammaSample(rng, a)
	y := gammaSample(rng, b)
	if x+y == 0 {
		return a / (a + b)
	}
	return x / (x + y)
}

// gammaSample draws from Gamma(shape, 1) by Marsaglia and Tsang's method
// (ACM TOMS 26(3), 2000), boosting shapes below 1.
func gammaSample(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := rng.Float64()
		return gammaSample(rng, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
