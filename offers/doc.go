// Package offers chooses what is worth offering a customer during a
// contact: a catalog of offers whose eligibility is an expression over the
// customer and the contact, suppression rules (consent, complaints, SMS
// opt-out, recent declines, a cap per contact) and a ranking by expected
// value whose acceptance rates are learned from outcomes (Thompson
// sampling over a Beta-Bernoulli model per offer and segment).
//
// The package is pure: it holds no store and serves no HTTP. Typical use:
//
//	cat, err := offers.NewCatalog(cfg.Offers) // compiles every expression
//	if err != nil {
//		return err // names the offer and the expression's problem
//	}
//	learner := offers.NewLearner(offers.Prior{}) // Beta(1,1)
//	rng := rand.New(rand.NewPCG(seed1, seed2))
//
//	// For each screen pop:
//	picks, err := offers.Recommend(cat, learner, rules, offers.Request{
//		Env: env, ContactID: id, Now: now, History: recent,
//	}, rng)
//
//	// For each outcome reported by an agent:
//	learner.Record(offerID, segment, offers.Accepted)
package offers
