package nextbest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/store"
)

// CatalogStore keeps the offers put and withdrawn over the API;
// *store.DB implements it.
type CatalogStore interface {
	CatalogOffers(ctx context.Context) ([]store.CatalogOffer, error)
	PutCatalogOffer(ctx context.Context, o store.CatalogOffer) error
}

var _ CatalogStore = (*store.DB)(nil)

// LiveCatalog is the offer catalog in force: the configuration's offers, overlaid
// with those put or withdrawn over the API, which the store keeps. An
// offer put over the API replaces a configured one of the same id; a
// withdrawal hides the id whatever its source, until it is put again.
// Each change is stored first, then the whole compiled catalog is
// swapped into the Engine at once (Engine.SetCatalog). It is safe for
// concurrent use; changes are serialised.
type LiveCatalog struct {
	store CatalogStore
	src   *Engine
	log   *slog.Logger

	mu     sync.Mutex
	config []offers.Offer          // never changed after NewCatalog
	api    map[string]storedOffer  // guarded by mu; by id
	live   []offers.Entry          // guarded by mu; what src's catalog holds, in order
	byID   map[string]offers.Entry // guarded by mu
}

// storedOffer is an offer put over the API, or a withdrawal.
type storedOffer struct {
	offer     offers.Offer
	withdrawn bool
	at        time.Time
}

// NewCatalog reads the API's offers from s, merges them over config (the
// configuration's offers, already valid) and sets the result as src's
// catalog. A stored offer that no longer compiles (the expression
// language changed under it) is logged and left out, so that the
// configured offer of its id, if any, applies.
func NewLiveCatalog(ctx context.Context, config []offers.Offer, s CatalogStore, src *Engine, log *slog.Logger) (*LiveCatalog, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &LiveCatalog{store: s, src: src, log: log, config: slices.Clone(config), api: map[string]storedOffer{}}
	rows, err := s.CatalogOffers(ctx)
	if err != nil {
		return nil, fmt.Errorf("nextbest: offer catalog: %w", err)
	}
	for _, r := range rows {
		so := storedOffer{withdrawn: r.Withdrawn, at: r.UpdatedAt}
		if !r.Withdrawn {
			if err := json.Unmarshal(r.Definition, &so.offer); err != nil {
				log.Error("nextbest: stored offer left out", "offer", r.ID, "err", err)
				continue
			}
			if _, err := offers.NewCatalog([]offers.Offer{so.offer}); err != nil {
				log.Error("nextbest: stored offer left out", "offer", r.ID, "err", err)
				continue
			}
		}
		c.api[r.ID] = so
	}
	entries, cat, err := c.merge(c.api)
	if err != nil {
		return nil, fmt.Errorf("nextbest: offer catalog: %w", err)
	}
	c.swap(entries, cat)
	return c, nil
}

// merge returns the live entries and their compiled catalog for the API
// offers api: configured offers first, in their order, then offers only
// the API has, by id.
func (c *LiveCatalog) merge(api map[string]storedOffer) ([]offers.Entry, *offers.Catalog, error) {
	var entries []offers.Entry
	seen := map[string]bool{}
	for _, o := range c.config {
		seen[o.ID] = true
		switch so, ok := api[o.ID]; {
		case !ok:
			entries = append(entries, offers.Entry{Offer: o, Source: offers.SourceConfig})
		case !so.withdrawn:
			entries = append(entries, offers.Entry{Offer: so.offer, Source: offers.SourceAPI, UpdatedAt: so.at})
		}
	}
	var ids []string
	for id, so := range api {
		if !seen[id] && !so.withdrawn {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, strings.Compare)
	for _, id := range ids {
		entries = append(entries, offers.Entry{Offer: api[id].offer, Source: offers.SourceAPI, UpdatedAt: api[id].at})
	}
	list := make([]offers.Offer, len(entries))
	for i, e := range entries {
		list[i] = e.Offer
	}
	cat, err := offers.NewCatalog(list)
	return entries, cat, err
}

// swap makes entries and cat live; c.mu is held or c is not shared yet.
func (c *LiveCatalog) swap(entries []offers.Entry, cat *offers.Catalog) {
	c.live = entries
	c.byID = make(map[string]offers.Entry, len(entries))
	for _, e := range entries {
		c.byID[e.Offer.ID] = e
	}
	c.src.SetCatalog(cat)
}

// Entries returns the live offers with their sources: configured ones
// first, in the configuration's order, then those only the API put, by
// id.
func (c *LiveCatalog) Entries() []offers.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]offers.Entry, len(c.live))
	for i, e := range c.live {
		out[i] = e
		out[i].Offer, _ = c.src.Catalog().Offer(e.Offer.ID) // a deep copy
	}
	return out
}

// Entry returns the live offer with the id.
func (c *LiveCatalog) Entry(id string) (offers.Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if ok {
		e.Offer, _ = c.src.Catalog().Offer(id)
	}
	return e, ok
}

// Learned returns what the learner believes of an offer, by segment.
func (c *LiveCatalog) Learned(id string) []offers.Learned {
	return c.src.Learner().Learned(id)
}

// Put stores o, replacing the offer of its id (configured or put
// before), and makes it live. An invalid offer is an *offers.OfferError
// naming the offer and the field. created reports whether no offer of
// that id was live before.
func (c *LiveCatalog) Put(ctx context.Context, o offers.Offer, at time.Time) (created bool, err error) {
	if _, err := offers.NewCatalog([]offers.Offer{o}); err != nil {
		return false, err
	}
	def, err := json.Marshal(o)
	if err != nil {
		return false, fmt.Errorf("nextbest: put offer %q: %w", o.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	api := maps.Clone(c.api)
	api[o.ID] = storedOffer{offer: o, at: at}
	entries, cat, err := c.merge(api)
	if err != nil {
		return false, err
	}
	if err := c.store.PutCatalogOffer(ctx, store.CatalogOffer{ID: o.ID, Definition: def, UpdatedAt: at}); err != nil {
		return false, fmt.Errorf("nextbest: put offer %q: %w", o.ID, err)
	}
	_, existed := c.byID[o.ID]
	c.api = api
	c.swap(entries, cat)
	return !existed, nil
}

// Delete withdraws the live offer id, whatever its source; an id that is
// not live wraps offers.ErrUnknownOffer.
func (c *LiveCatalog) Delete(ctx context.Context, id string, at time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[id]; !ok {
		return fmt.Errorf("nextbest: delete offer %q: %w", id, offers.ErrUnknownOffer)
	}
	api := maps.Clone(c.api)
	api[id] = storedOffer{withdrawn: true, at: at}
	entries, cat, err := c.merge(api)
	if err != nil {
		return err
	}
	if err := c.store.PutCatalogOffer(ctx, store.CatalogOffer{ID: id, Withdrawn: true, UpdatedAt: at}); err != nil {
		return fmt.Errorf("nextbest: delete offer %q: %w", id, err)
	}
	c.api = api
	c.swap(entries, cat)
	return nil
}
