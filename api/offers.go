package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
)

// maxOfferID bounds an offer's id, as every name (router.MaxNameLen).
const maxOfferID = router.MaxNameLen

// OfferCatalog is the live offer catalog the offer routes read and
// change; *nextbest.LiveCatalog implements it. It must be safe for
// concurrent use.
type OfferCatalog interface {
	// Entries returns the live offers with their sources.
	Entries() []offers.Entry
	// Entry returns the live offer with the id.
	Entry(id string) (offers.Entry, bool)
	// Put stores o durably and makes it live; an invalid offer is an
	// *offers.OfferError. created reports whether the id was not live.
	Put(ctx context.Context, o offers.Offer, at time.Time) (created bool, err error)
	// Delete withdraws a live offer; one that is not live wraps
	// offers.ErrUnknownOffer.
	Delete(ctx context.Context, id string, at time.Time) error
	// Learned returns what the learner believes of an offer, by segment.
	Learned(id string) []offers.Learned
}

// offerRequest is the body of PUT /api/v1/offers/{id}.
type offerRequest struct {
	// ID, if given, must equal the id in the path.
	ID            string   `json:"id"`
	Title         string   `json:"title"`
	TalkingPoints []string `json:"talking_points"`
	// Value and Eligible are required; an empty Eligible means every
	// customer.
	Value         *float64        `json:"value"`
	Channels      []string        `json:"channels"`
	Eligible      *string         `json:"eligible"`
	Why           string          `json:"why"`
	Cooldown      router.Duration `json:"cooldown"`
	CapPerContact int             `json:"cap_per_contact"`
}

// offerView is one offer of GET /api/v1/offers.
type offerView struct {
	ID            string          `json:"id"`
	Title         string          `json:"title"`
	TalkingPoints []string        `json:"talking_points"`
	Value         float64         `json:"value"`
	Channels      []string        `json:"channels"`
	Eligible      string          `json:"eligible"`
	Why           string          `json:"why"`
	Cooldown      router.Duration `json:"cooldown"`
	CapPerContact int             `json:"cap_per_contact"`
	// Source is "config" or "api".
	Source    string     `json:"source"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	// Learned is what the ranking believes, per customer segment.
	Learned []learnedView `json:"learned"`
}

// learnedView is the learned acceptance of an offer in one segment.
type learnedView struct {
	Segment  string  `json:"segment"`
	Accepted int     `json:"accepted"`
	Rejected int     `json:"rejected"`
	Mean     float64 `json:"mean"`
}

// offerCatalog returns the catalog, or the 503 of a server without one.
func (s *Server) offerCatalog() (OfferCatalog, error) {
	if s.offers == nil {
		return nil, errorf(http.StatusServiceUnavailable, codeUnavailable, "this server has no offer catalog")
	}
	return s.offers, nil
}

func (s *Server) newOfferView(cat OfferCatalog, e offers.Entry) offerView {
	o := e.Offer
	v := offerView{
		ID: o.ID, Title: o.Title, TalkingPoints: nonNilStrings(o.TalkingPoints), Value: o.Value,
		Channels: nonNilStrings(o.Channels), Eligible: o.Eligible, Why: o.Why, Cooldown: router.Duration(o.Cooldown),
		CapPerContact: o.CapPerContact, Source: e.Source, Learned: []learnedView{},
	}
	if !e.UpdatedAt.IsZero() {
		at := e.UpdatedAt.UTC()
		v.UpdatedAt = &at
	}
	for _, l := range cat.Learned(o.ID) {
		v.Learned = append(v.Learned, learnedView{Segment: l.Segment, Accepted: l.Counts.Accepted, Rejected: l.Counts.Rejected,
			Mean: math.Round(l.Mean*1e4) / 1e4})
	}
	return v
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) listOffers(w http.ResponseWriter, r *http.Request) error {
	cat, err := s.offerCatalog()
	if err != nil {
		return err
	}
	out := []offerView{}
	for _, e := range cat.Entries() {
		out = append(out, s.newOfferView(cat, e))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"offers": out})
}

func (s *Server) getOffer(w http.ResponseWriter, r *http.Request) error {
	cat, err := s.offerCatalog()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	e, ok := cat.Entry(id)
	if !ok {
		return notFoundf("offer %q does not exist", id)
	}
	return writeJSON(w, http.StatusOK, s.newOfferView(cat, e))
}

func (s *Server) putOffer(w http.ResponseWriter, r *http.Request) error {
	cat, err := s.offerCatalog()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var req offerRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	o, err := s.checkOffer(id, req)
	if err != nil {
		return err
	}
	created, err := cat.Put(r.Context(), o, time.Now().UTC())
	var oe *offers.OfferError
	switch {
	case errors.As(err, &oe):
		return invalidf("offer %q: field %q: %s", oe.ID, oe.Field, oe.Msg)
	case err != nil:
		return internal("put offer", err)
	}
	e, ok := cat.Entry(id)
	if !ok {
		return internal("put offer", errors.New("the offer is not live after its put"))
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/offers/"+pathEscape(id))
	}
	return writeJSON(w, status, s.newOfferView(cat, e))
}

// checkOffer checks what the offer catalog does not: the id, the
// lengths, the required fields and the channels.
func (s *Server) checkOffer(id string, req offerRequest) (offers.Offer, error) {
	switch {
	case router.ValidateName("id", "offer id", id) != nil: // the one rule of a name
		return offers.Offer{}, invalidf("offer id %q: want up to %d letters, digits and \"._@+-\", starting with a letter or digit", id, maxOfferID)
	case req.ID != "" && req.ID != id:
		return offers.Offer{}, invalidf("offer %q: field \"id\" is %q but the path says %q; omit it or make them equal", id, req.ID, id)
	case req.Value == nil:
		return offers.Offer{}, invalidf("offer %q: field \"value\" is missing; want what an acceptance is worth, 0 or more", id)
	case req.Eligible == nil:
		return offers.Offer{}, invalidf("offer %q: field \"eligible\" is missing; want an expression such as %q, or \"\" for every customer", id,
			`customer.segment == "premium"`)
	}
	known := s.router.Channels()
	for i, ch := range req.Channels {
		if _, ok := known[router.Channel(ch)]; !ok {
			var names []string
			for c := range known {
				names = append(names, string(c))
			}
			sort.Strings(names)
			return offers.Offer{}, invalidf("offer %q: field \"channels[%d]\": unknown channel %q; want one of %s", id, i, ch, strings.Join(names, ", "))
		}
	}
	return offers.Offer{
		ID: id, Title: req.Title, TalkingPoints: slices.Clone(req.TalkingPoints), Value: *req.Value,
		Channels: slices.Clone(req.Channels), Eligible: *req.Eligible, Why: req.Why,
		Cooldown: req.Cooldown.D(), CapPerContact: req.CapPerContact,
	}, nil
}

func (s *Server) deleteOffer(w http.ResponseWriter, r *http.Request) error {
	cat, err := s.offerCatalog()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	err = cat.Delete(r.Context(), id, time.Now().UTC())
	switch {
	case errors.Is(err, offers.ErrUnknownOffer):
		return notFoundf("offer %q does not exist", id)
	case err != nil:
		return internal("delete offer", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
