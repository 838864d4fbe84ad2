package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/nextbest"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

// configOffers are the test's configured offers: the demo's savings.
func configOffers() []offers.Offer { return offers.Demo()[:1] }

// offersEnv is an env whose API serves a profiles catalog over its store,
// configured with configOffers.
type offersEnv struct {
	*env
	src *nextbest.Engine
}

func newOffersEnv(t *testing.T) *offersEnv {
	t.Helper()
	oe := &offersEnv{}
	oe.env = newEnvWith(t, envOptions{offers: func(db *store.DB) OfferCatalog {
		oe.src = newOfferSource(t, db)
		cat, err := nextbest.NewLiveCatalog(context.Background(), configOffers(), db, oe.src, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cat
	}})
	oe.seed()
	return oe
}

func newOfferSource(t *testing.T, db *store.DB) *nextbest.Engine {
	t.Helper()
	cat, err := offers.NewCatalog(configOffers())
	if err != nil {
		t.Fatal(err)
	}
	l := offers.NewLearner(offers.Prior{})
	if err := nextbest.LoadLearner(context.Background(), db, l); err != nil {
		t.Fatal(err)
	}
	src := nextbest.NewEngine(cat, l, nextbest.DefaultRules(), db, nil, nil)
	t.Cleanup(src.Close)
	return src
}

const fiberBody = `{"title":"Fiber broadband upgrade","talking_points":["1 Gbit/s"],"value":90,"channels":["chat","sms"],` +
	`"eligible":"\"broadband\" in customer.products","why":"still on copper","cooldown":"720h","cap_per_contact":1}`

func TestOffersRoundTrip(t *testing.T) {
	e := newOffersEnv(t)
	list := decodeAs[struct{ Offers []offerView }](t, e.must(http.StatusOK, "GET", "/api/v1/offers", ""))
	if len(list.Offers) != 1 || list.Offers[0].ID != "savings" || list.Offers[0].Source != "config" || list.Offers[0].UpdatedAt != nil {
		t.Fatalf("got %+v, want the configured savings", list.Offers)
	}

	res := e.must(http.StatusCreated, "PUT", "/api/v1/offers/fiber", fiberBody)
	if loc := res.header.Get("Location"); loc != "/api/v1/offers/fiber" {
		t.Errorf("got Location %q, want /api/v1/offers/fiber", loc)
	}
	got := decodeAs[offerView](t, res)
	if got.ID != "fiber" || got.Title != "Fiber broadband upgrade" || got.Value != 90 || got.Cooldown.D() != 720*time.Hour ||
		got.CapPerContact != 1 || strings.Join(got.Channels, ",") != "chat,sms" || got.Source != "api" || got.UpdatedAt == nil ||
		got.Eligible != `"broadband" in customer.products` || len(got.Learned) != 0 {
		t.Errorf("got %+v, want the fiber offer as put, source api", got)
	}
	if !strings.Contains(string(res.body), `"cooldown":"720h0m0s"`) {
		t.Errorf("got %s, want the cooldown as a duration string", res.body)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/offers/fiber", strings.Replace(fiberBody, `"value":90`, `"value":95`, 1))

	// An API offer replaces the configured one of its id.
	over := decodeAs[offerView](t, e.must(http.StatusOK, "PUT", "/api/v1/offers/savings", `{"title":"Savings 2","value":1,"eligible":""}`))
	if over.Source != "api" || over.Title != "Savings 2" {
		t.Errorf("got %+v, want savings replaced by the API's", over)
	}
	// The live catalog is the screen pop's at once.
	if o, ok := e.src.Catalog().Offer("fiber"); !ok || o.Value != 95 {
		t.Errorf("got %+v, %v in the live catalog, want fiber at value 95", o, ok)
	}

	// Reads are for every token role.
	for _, tok := range []string{adminToken, supervisorToken, integrationToken} {
		if res := e.do("GET", "/api/v1/offers/fiber", tok, ""); res.status != http.StatusOK {
			t.Errorf("GET with %s: got %d, want 200", tok, res.status)
		}
	}

	// What the learner believes shows per segment.
	c, _, err := e.router.Submit(context.Background(), router.NewContact{Channel: "chat", Queue: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	present(t, e, c.ID, "", "fiber")
	if err := e.src.Outcome(context.Background(), screenpop.OfferOutcome{ContactID: c.ID, OfferID: "fiber", Outcome: "accepted", AgentID: "alice"}); err != nil {
		t.Fatal(err)
	}
	learned := decodeAs[offerView](t, e.must(http.StatusOK, "GET", "/api/v1/offers/fiber", "")).Learned
	if len(learned) != 1 || learned[0] != (learnedView{Segment: "", Accepted: 1, Rejected: 0, Mean: 0.6667}) {
		t.Errorf("got learned %+v, want one acceptance with no segment, mean 2/3", learned)
	}

	e.must(http.StatusNoContent, "DELETE", "/api/v1/offers/savings", "")
	e.must(http.StatusNotFound, "GET", "/api/v1/offers/savings", "")
	e.must(http.StatusNotFound, "DELETE", "/api/v1/offers/savings", "")
	if _, ok := e.src.Catalog().Offer("savings"); ok {
		t.Error("savings is still in the live catalog after DELETE")
	}

	// A restart: a new catalog over the same store and configuration.
	src := newOfferSource(t, e.db)
	cat, err := nextbest.NewLiveCatalog(context.Background(), configOffers(), e.db, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(Options{Router: e.router, Store: e.db, Tokens: testTokens, Offers: cat})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/offers", nil)
	req.Header.Set("Authorization", "Bearer "+supervisorToken)
	rec := httptest.NewRecorder()
	s2.ServeHTTP(rec, req)
	after := decodeAs[struct{ Offers []offerView }](t, response{status: rec.Code, body: rec.Body.Bytes()})
	if len(after.Offers) != 1 || after.Offers[0].ID != "fiber" || after.Offers[0].Value != 95 || after.Offers[0].Source != "api" ||
		len(after.Offers[0].Learned) != 1 || after.Offers[0].Learned[0].Accepted != 1 {
		t.Errorf("got %+v after a restart, want fiber (api, value 95, its acceptance learned) and savings still withdrawn", after.Offers)
	}
	if _, ok := src.Catalog().Offer("savings"); ok {
		t.Error("savings is back in the live catalog after a restart, want it withdrawn")
	}
}

func TestOfferBadInput(t *testing.T) {
	e := newOffersEnv(t)
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		body   string
		status int
		want   string // in the error message
	}{
		{"bad-expression-names-offer-and-field", "PUT", "/api/v1/offers/gold", adminToken,
			`{"title":"Gold","value":10,"eligible":"custmer.segment == \"gold\""}`, http.StatusBadRequest,
			`offer "gold": field "eligible": unknown name custmer (1:1)`},
		{"expression-not-bool", "PUT", "/api/v1/offers/gold", adminToken,
			`{"title":"Gold","value":10,"eligible":"customer.value"}`, http.StatusBadRequest,
			`offer "gold": field "eligible": expected bool, but got float64`},
		{"negative-value", "PUT", "/api/v1/offers/gold", adminToken, `{"title":"Gold","value":-1,"eligible":""}`,
			http.StatusBadRequest, `offer "gold": field "value": -1 is negative`},
		{"missing-value", "PUT", "/api/v1/offers/gold", adminToken, `{"title":"Gold","eligible":""}`,
			http.StatusBadRequest, `offer "gold": field "value" is missing`},
		{"missing-eligible", "PUT", "/api/v1/offers/gold", adminToken, `{"title":"Gold","value":1}`,
			http.StatusBadRequest, `offer "gold": field "eligible" is missing`},
		{"missing-title", "PUT", "/api/v1/offers/gold", adminToken, `{"value":1,"eligible":""}`,
			http.StatusBadRequest, `offer "gold": field "title"`},
		{"unknown-field", "PUT", "/api/v1/offers/gold", adminToken, `{"title":"Gold","value":1,"eligible":"","colour":"gold"}`,
			http.StatusBadRequest, `colour`},
		{"bad-cooldown", "PUT", "/api/v1/offers/gold", adminToken, `{"title":"Gold","value":1,"eligible":"","cooldown":"30 days"}`,
			http.StatusBadRequest, `field "cooldown": invalid duration "30 days"`},
		{"unknown-channel", "PUT", "/api/v1/offers/gold", adminToken, `{"title":"Gold","value":1,"eligible":"","channels":["fax"]}`,
			http.StatusBadRequest, `field "channels[0]": unknown channel "fax"`},
		{"negative-cap", "PUT", "/api/v1/offers/gold", adminToken, `{"title":"Gold","value":1,"eligible":"","cap_per_contact":-1}`,
			http.StatusBadRequest, `field "cap_per_contact"`},
		{"id-mismatch", "PUT", "/api/v1/offers/gold", adminToken, `{"id":"silver","title":"Gold","value":1,"eligible":""}`,
			http.StatusBadRequest, `field "id" is "silver"`},
		{"bad-id", "PUT", "/api/v1/offers/a%20b", adminToken, `{"title":"Gold","value":1,"eligible":""}`,
			http.StatusBadRequest, `offer id "a b"`},
		{"supervisor-may-not-put", "PUT", "/api/v1/offers/gold", supervisorToken, `{"title":"Gold","value":1,"eligible":""}`,
			http.StatusForbidden, "role supervisor"},
		{"integration-may-not-delete", "DELETE", "/api/v1/offers/savings", integrationToken, "",
			http.StatusForbidden, "role integration"},
		{"unknown-offer", "GET", "/api/v1/offers/nope", supervisorToken, "", http.StatusNotFound, `offer "nope" does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(tt.method, tt.path, tt.token, tt.body)
			if res.status != tt.status {
				t.Fatalf("got %d, want %d; %s", res.status, tt.status, res.body)
			}
			if msg := decodeAs[apiError](t, res).Error.Message; !strings.Contains(msg, tt.want) {
				t.Errorf("got message %q, want it to contain %q", msg, tt.want)
			}
		})
	}
	// Nothing of the refused requests reached the catalog.
	if _, ok := e.src.Catalog().Offer("gold"); ok {
		t.Error("got gold in the live catalog, want the refused puts to change nothing")
	}
	if _, ok := e.src.Catalog().Offer("savings"); !ok {
		t.Error("savings left the live catalog, want the refused delete to change nothing")
	}
}

func TestOffersWithoutCatalog(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusServiceUnavailable, "GET", "/api/v1/offers", "")
}

func TestExportHasOfferOutcomes(t *testing.T) {
	e := newOffersEnv(t)
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada", adaBody)
	c, _, err := e.router.Submit(context.Background(), router.NewContact{Channel: "chat", Queue: "billing", Customer: router.Customer{ID: "ada"}})
	if err != nil {
		t.Fatal(err)
	}
	present(t, e, c.ID, "ada", "savings")
	if err := e.src.Outcome(context.Background(), screenpop.OfferOutcome{ContactID: c.ID, OfferID: "savings", Outcome: "declined", AgentID: "alice"}); err != nil {
		t.Fatal(err)
	}
	x := decodeAs[customerExport](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada/export", ""))
	if len(x.OfferOutcomes) != 2 || x.OfferOutcomes[0].Outcome != "presented" {
		t.Fatalf("got offer outcomes %+v, want the presentation and the decline", x.OfferOutcomes)
	}
	if o := x.OfferOutcomes[1]; o.OfferID != "savings" || o.ContactID != c.ID || o.CustomerID != "ada" || o.Segment != "premium" ||
		o.AgentID != "alice" || o.Outcome != "declined" || o.At.IsZero() {
		t.Errorf("got %+v, want savings declined by alice for ada (premium)", o)
	}
	if _, err := e.router.CloseContact(context.Background(), c.ID, "", "", ""); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusNoContent, "DELETE", "/api/v1/customers/ada", "")
	x = decodeAs[customerExport](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada/export", ""))
	if len(x.OfferOutcomes) != 0 {
		t.Errorf("got %+v after erase, want no outcome linked to ada", x.OfferOutcomes)
	}
	// Still counted: the statistics stay.
	learned := decodeAs[offerView](t, e.must(http.StatusOK, "GET", "/api/v1/offers/savings", "")).Learned
	if len(learned) != 1 || learned[0].Segment != "premium" || learned[0].Rejected != 1 {
		t.Errorf("got learned %+v after erase, want the decline still counted in premium", learned)
	}
}

// present records offerID as presented to alice during contactID, as her
// desktop's screen pop would: an outcome is recorded only for an offer
// presented.
func present(t *testing.T, e *offersEnv, contactID, customerID, offerID string) {
	t.Helper()
	_, _, err := e.db.RecordOfferOutcomes(context.Background(), []store.OfferOutcome{{OfferID: offerID, ContactID: contactID,
		CustomerID: customerID, Segment: "premium", AgentID: "alice", Outcome: store.OutcomePresented, At: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
}
