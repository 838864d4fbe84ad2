package nextbest

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Bounds of SyntheticOutcomes.
const (
	// Each customer had 3 to 8 past contacts; on each, an eligible offer
	// was made with a chance of syntheticPresentRate.
	syntheticMinContacts, syntheticMaxContacts = 3, 8
	syntheticPresentRate                       = 0.5
	// syntheticMinAge and syntheticMaxAge bound the age of the synthetic
	// outcomes; the minimum moves past the catalog's longest cooldown (90
	// days in the demo's) so that no synthetic decline holds an offer
	// back today.
	syntheticMinAge = 100 * 24 * time.Hour
	syntheticMaxAge = 400 * 24 * time.Hour
)

// SyntheticAcceptance is the acceptance rate SyntheticOutcomes gives an
// offer in a segment: between 10 % and 60 %, fixed by the two names, so
// that the demo's offers are learned apart ("premium, no savings account,
// 38 % accept") and differently in each segment.
func SyntheticAcceptance(offerID, segment string) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s", offerID, segment)
	return 0.10 + 0.50*float64(h.Sum64()%1000)/1000
}

// SyntheticOutcomes makes up a past of offer outcomes for the demo (make
// run): each offer of cat that rules and eligibility allow for a customer
// (with their consent, on a chat contact of queue) was made to them, by
// one of agents, with a chance of 50 % on each of 3 to 8 past contacts
// 100 to 400 days before now (for a catalog whose longest cooldown is
// longer, from a day past it, over the same 300 days), and accepted at
// SyntheticAcceptance, else declined or, one time in three, not
// relevant. Each made offer gives a
// presentation and its decision. The contacts are named "demo-past-N":
// they exist only in these outcomes. It is deterministic in seed.
func SyntheticOutcomes(cat *offers.Catalog, rules offers.Rules, custs []store.Customer, queue string, agents []string, seed uint64, now time.Time) ([]store.OfferOutcome, error) {
	if len(agents) == 0 {
		return nil, fmt.Errorf("nextbest: synthetic outcomes: no agents")
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	minAge := max(syntheticMinAge, cat.MaxCooldown()+24*time.Hour)
	span := syntheticMaxAge - syntheticMinAge
	var outs []store.OfferOutcome
	contacts := 0
	for _, cu := range custs {
		env := envOf(router.Contact{Channel: router.ChannelChat, Queue: queue}, cu, nil)
		cands, err := cat.Candidates(rules, offers.Request{Env: env, Now: now})
		if err != nil {
			return nil, fmt.Errorf("nextbest: synthetic outcomes of %q: %w", cu.ID, err)
		}
		past := syntheticMinContacts + rng.IntN(syntheticMaxContacts-syntheticMinContacts+1)
		for range past {
			contacts++
			at := now.Add(-minAge - time.Duration(rng.Int64N(int64(span))))
			for _, o := range cands {
				if rng.Float64() >= syntheticPresentRate {
					continue
				}
				decision := store.OutcomeAccepted
				if rng.Float64() >= SyntheticAcceptance(o.ID, cu.Segment) {
					decision = store.OutcomeDeclined
					if rng.IntN(3) == 0 {
						decision = store.OutcomeNotRelevant
					}
				}
				base := store.OfferOutcome{OfferID: o.ID, ContactID: fmt.Sprintf("demo-past-%d", contacts), CustomerID: cu.ID,
					Segment: cu.Segment, AgentID: agents[rng.IntN(len(agents))]}
				presented, decided := base, base
				presented.Outcome, presented.At = store.OutcomePresented, at
				decided.Outcome, decided.At = decision, at.Add(time.Minute)
				outs = append(outs, presented, decided)
			}
		}
	}
	return outs, nil
}
