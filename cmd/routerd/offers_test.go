package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"syscall"
	"testing"

	"github.com/switchboard/switchboard/customers"
)

// offerLearned is the part of GET /api/v1/offers/{id} the test reads.
type offerLearned struct {
	ID      string    `json:"id"`
	Source  string    `json:"source"`
	Learned []learned `json:"learned"`
}

type learned struct {
	Segment  string `json:"segment"`
	Accepted int    `json:"accepted"`
	Rejected int    `json:"rejected"`
}

// TestOfferOutcomesThroughTheDaemon runs routerd on its demo
// configuration: alice's desktop gets a contact claiming Ada's email,
// which shows no profile until she verifies it; then its screen pop has
// offers, and she records an outcome, and once acked the outcome is in Ada's
// export. After a restart the learner still counts it, and an offer put
// over the API is still there.
func TestOfferOutcomesThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, data, admin := startDemo(t)
	ws := d.desktop(t, "alice")
	if err := ws.WriteJSON(frame{Type: "set_state", ID: "1", Data: mustJSON(map[string]string{"state": "available"})}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ack")
	d.must(t, admin, "POST", "/api/v1/contacts", map[string]any{"channel": "chat", "queue": "billing",
		"customer": map[string]string{"email": "ada@example.com"}, "body": "A question about my statement"}, nil)
	// The email is only claimed: the screen pop shows the claim, no
	// profile and no offers, until alice verifies.
	type screenPop struct {
		Customer struct {
			ID                  string `json:"id"`
			Identified          bool   `json:"identified"`
			ClaimsKnownCustomer bool   `json:"claims_known_customer"`
		} `json:"customer"`
		Offers []struct{ ID string } `json:"offers"`
	}
	var offer struct {
		ContactID string    `json:"contact_id"`
		ScreenPop screenPop `json:"screen_pop"`
	}
	if err := json.Unmarshal(readUntil(t, ws, "offer").Data, &offer); err != nil {
		t.Fatal(err)
	}
	if cu := offer.ScreenPop.Customer; cu.Identified || !cu.ClaimsKnownCustomer || cu.ID != "" || len(offer.ScreenPop.Offers) != 0 {
		t.Fatalf("a claim of Ada's email: got %+v, want the claim of a known customer, no offers", offer.ScreenPop)
	}
	if err := ws.WriteJSON(frame{Type: "accept", ID: "a", Data: mustJSON(map[string]string{"contact_id": offer.ContactID})}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "ack")
	if err := ws.WriteJSON(frame{Type: "verify", ID: "v", Data: mustJSON(map[string]string{"contact_id": offer.ContactID, "method": "security questions"})}); err != nil {
		t.Fatal(err)
	}
	var verified struct {
		ScreenPop screenPop `json:"screen_pop"`
	}
	if ack := readUntil(t, ws, "ack"); ack.ID != "v" || json.Unmarshal(ack.Data, &verified) != nil {
		t.Fatalf("verify: got %+v, want its ack", ack)
	}
	if cu := verified.ScreenPop.Customer; !cu.Identified || cu.ID != customers.AdaID || len(verified.ScreenPop.Offers) == 0 {
		t.Fatalf("after verification: got %+v, want Ada's profile with offers", verified.ScreenPop)
	}
	offer.ScreenPop = verified.ScreenPop
	made := offer.ScreenPop.Offers[0].ID
	// The demo's synthetic past taught the learner already.
	var before offerLearned
	d.must(t, admin, "GET", "/api/v1/offers/"+made, nil, &before)
	outcome := frame{Type: "offer_outcome", ID: "2", Data: mustJSON(map[string]string{"contact_id": offer.ContactID, "offer_id": made, "outcome": "accepted"})}
	if err := ws.WriteJSON(outcome); err != nil {
		t.Fatal(err)
	}
	if ack := readUntil(t, ws, "ack"); ack.ID != "2" {
		t.Fatalf("got ack %+v, want the outcome's", ack)
	}
	// Acked means stored.
	var x struct {
		OfferOutcomes []struct {
			OfferID   string `json:"offer_id"`
			ContactID string `json:"contact_id"`
			Outcome   string `json:"outcome"`
			AgentID   string `json:"agent_id"`
			Segment   string `json:"segment"`
		} `json:"offer_outcomes"`
	}
	d.must(t, admin, "GET", "/api/v1/customers/"+customers.AdaID+"/export", nil, &x)
	found := false
	for _, o := range x.OfferOutcomes {
		if o.OfferID == made && o.ContactID == offer.ContactID && o.Outcome == "accepted" && o.AgentID == "alice" && o.Segment == "premium" {
			found = true
		}
	}
	if !found {
		t.Fatalf("got Ada's outcomes %+v after the ack, want %s accepted by alice", x.OfferOutcomes, made)
	}
	d.must(t, admin, "PUT", "/api/v1/offers/gift-card", map[string]any{"title": "Gift card", "value": 10, "eligible": `customer.segment == "premium"`}, nil)
	ws.Close()

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d.wait(); err != nil {
		t.Fatalf("routerd after SIGTERM: %v", err)
	}
	d2 := startDaemon(t, "-listen", "127.0.0.1:0", "-data", data)
	var got offerLearned
	d2.must(t, admin, "GET", "/api/v1/offers/"+made, nil, &got)
	want := before
	want.Learned = slices.Clone(before.Learned)
	for i := range want.Learned {
		if want.Learned[i].Segment == "premium" {
			want.Learned[i].Accepted++
		}
	}
	if !reflect.DeepEqual(got.Learned, want.Learned) || !slices.ContainsFunc(got.Learned, func(l learned) bool { return l.Segment == "premium" }) {
		t.Errorf("got %+v after a restart, want %+v: the acceptance still learned in premium, on top of the demo's", got.Learned, want.Learned)
	}
	var gift offerLearned
	d2.must(t, admin, "GET", "/api/v1/offers/gift-card", nil, &gift)
	if gift.Source != "api" {
		t.Errorf("got %+v after a restart, want the API's gift card", gift)
	}
}
