// Package nextbest chooses the next best offers for a customer during a
// contact, the few worth making with the reason for each, and learns from
// what agents report. Engine is the screen pop's screenpop.OfferSource:
// it builds the offers' view of the customer and the contact from the
// store, reads the customer's recent outcomes for cooldowns and caps,
// and records the agents' outcomes durably before it teaches them to the
// learner. LiveCatalog is the catalog in force: the configuration's
// offers overlaid with those put over the API, swapped whole into the
// Engine. (Package offers holds what an offer is, the compiled Catalog,
// the suppression rules and the learner; this package joins them to the
// store, the router and the screen pop.)
//
//	learner := offers.NewLearner(cfg.OfferPrior())
//	err := nextbest.LoadLearner(ctx, db, learner) // the counts stored so far
//	cat, err := offers.NewCatalog(cfg.OfferCatalog())
//	src := nextbest.NewEngine(cat, learner, cfg.OfferRules(), db, rt, log)
//	defer src.Close() // writes the presentations still queued
//	live, err := nextbest.NewLiveCatalog(ctx, cfg.OfferCatalog(), db, src, log) // api.Options.Offers
//	popper := &screenpop.Builder{Router: rt, Store: db, Profiles: db, Offers: src}
//	hub, err := agents.NewHub(&agents.Options{..., OnOfferOutcome: src.Outcome})
package nextbest
