// Package profiles joins customer profiles to the offer engine for the
// agent desktop: Offers is the screen pop's agents.OfferSource, building
// the offers' view of the customer and the contact from the store, and
// it teaches the learner the outcomes agents report.
//
//	cat, err := offers.NewCatalog(offers.Demo())
//	src := profiles.NewOffers(cat, offers.NewLearner(offers.Prior{}), profiles.DefaultRules(), db, rt)
//	popper := &agents.Popper{Router: rt, Store: db, Profiles: db, Offers: src}
//	hub, err := agents.NewHub(&agents.Options{..., OnOfferOutcome: src.Outcome})
package profiles
