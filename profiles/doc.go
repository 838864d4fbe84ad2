// Package profiles joins customer profiles to the offer engine for the
// agent desktop: Offers is the screen pop's screenpop.OfferSource, building
// the offers' view of the customer and the contact from the store,
// reading the customer's recent outcomes for cooldowns and caps, and
// recording the agents' outcomes durably before it teaches them to the
// learner. Catalog is the live catalog: the configuration's offers
// overlaid with those put over the API, swapped whole into Offers.
//
//	learner := offers.NewLearner(cfg.OfferPrior())
//	err := profiles.LoadLearner(ctx, db, learner) // the counts stored so far
//	cat, err := offers.NewCatalog(cfg.OfferCatalog())
//	src := profiles.NewOffers(cat, learner, cfg.OfferRules(), db, rt, log)
//	defer src.Close() // writes the presentations still queued
//	live, err := profiles.NewCatalog(ctx, cfg.OfferCatalog(), db, src, log) // api.Options.Offers
//	popper := &screenpop.Builder{Router: rt, Store: db, Profiles: db, Offers: src}
//	hub, err := agents.NewHub(&agents.Options{..., OnOfferOutcome: src.Outcome})
package profiles
