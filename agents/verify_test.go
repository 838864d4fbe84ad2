package agents

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/store"
)

// A customer who claims to be a known customer sees nothing of that
// customer reach the agent until the agent verifies them; the verify
// request records it and answers with the screen pop of the profile.
func TestVerifyClaim(t *testing.T) {
	var e *env
	src := &recordingOffers{}
	e = newEnvWith(t, func(o *Options) {
		o.ScreenPops = &screenpop.Builder{Router: o.Router, Store: o.Store, Profiles: o.Store.(*store.DB), Offers: src}
		o.VerificationMethods = []string{"security questions", "one-time code"}
		o.Verify = func(ctx context.Context, contactID, agentID, method string) error {
			_, err := customers.Verify(ctx, e.db, e.rt, contactID, agentID, method, e.clock.Now())
			return err
		}
	})
	yes := true
	ada := store.Customer{ID: "cu-ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, Consent: consent.Flags{Profiling: &yes},
		Products: []string{"mortgage"}, CreatedAt: epoch, UpdatedAt: epoch}
	if _, err := e.db.PutCustomer(e.ctx, ada, []store.Identity{{Kind: store.IdentityEmail, Value: "ada@example.com", Verified: true},
		{Kind: store.IdentityPhone, Value: "+15551234567", Verified: true}}, "test"); err != nil {
		t.Fatal(err)
	}
	// Her earlier contact, which a claim must not reveal.
	old := e.submit(router.NewContact{Customer: router.Customer{ID: "cu-ada", Verified: true, Email: "ada@example.com"}})
	if _, err := e.rt.CloseContact(e.ctx, old.ID, "", "resolved", ""); err != nil {
		t.Fatal(err)
	}
	e.agent("alice")
	e.agent("bob")
	alice, snap := e.connect("alice", "s1")
	if strings.Join(snap.VerificationMethods, ",") != "security questions,one-time code" {
		t.Errorf("snapshot: got methods %v", snap.VerificationMethods)
	}
	bob, _ := e.connect("bob", "s2")
	alice.ok(reqSetState, map[string]any{"state": "available"})
	claim := e.submit(router.NewContact{Customer: router.Customer{Name: "Ada?", Email: "ada@example.com", ClaimedID: "cu-ada"}})
	var offer offerView
	decode(t, alice.expectFor(msgOffer, claim.ID), &offer)
	cu := offer.ScreenPop.Customer
	if cu.Identified || !cu.ClaimsKnownCustomer || cu.ID != "" || cu.Name != "Ada?" || cu.Segment != nil || cu.Value != 0 ||
		len(cu.Products) != 0 || len(cu.Identities) != 1 || cu.Identities[0].Verified || !strings.Contains(cu.Notice, "verify") {
		t.Fatalf("claim's screen pop customer: got %+v, want the claim alone with a notice", cu)
	}
	if len(offer.ScreenPop.History) != 0 || len(offer.ScreenPop.Offers) != 0 || offer.ScreenPop.OffersWithheld != screenpop.WithheldNotVerified {
		t.Fatalf("claim's screen pop: got history %v offers %v withheld %q, want none and %q",
			offer.ScreenPop.History, offer.ScreenPop.Offers, offer.ScreenPop.OffersWithheld, screenpop.WithheldNotVerified)
	}
	if len(src.got) != 0 {
		t.Fatalf("the offer source was asked about a claim: %+v", src.got)
	}

	verify := map[string]any{"contact_id": claim.ID, "method": "security questions"}
	alice.fails(reqVerify, verify, codeConflict) // offered, not accepted yet
	alice.ok(reqAccept, map[string]any{"contact_id": claim.ID})
	var assigned activeView
	decode(t, alice.expectFor(msgAssigned, claim.ID), &assigned)
	if cu := assigned.Contact.Customer; cu.ClaimedID != "" || cu.Email != "ada@example.com" {
		t.Errorf("assigned contact's customer: got %+v, want the claim without the claimed customer's id", cu)
	}
	alice.fails(reqVerify, map[string]any{"contact_id": claim.ID, "method": "gut feeling"}, codeInvalid)
	bob.fails(reqVerify, verify, codeNotFound)
	var ack struct {
		Contact   router.Contact `json:"contact"`
		ScreenPop screenpop.Pop  `json:"screen_pop"`
	}
	decode(t, alice.ok(reqVerify, verify), &ack)
	cu = ack.ScreenPop.Customer
	if !cu.Identified || cu.ID != "cu-ada" || cu.Name != "Ada?" || cu.Segment == nil || *cu.Segment != "premium" || cu.Notice != "" ||
		len(ack.ScreenPop.History) != 1 || ack.ScreenPop.History[0].ID != old.ID {
		t.Fatalf("after verification: got %+v, want Ada's profile and history", ack.ScreenPop)
	}
	if c := ack.Contact; !c.Customer.Verified || c.Customer.ID != "cu-ada" {
		t.Errorf("after verification: contact customer %+v", c.Customer)
	}
	if audit, err := e.db.CustomerAudit(e.ctx, "cu-ada"); err != nil || len(audit) != 1 || audit[0].Actor != "alice" {
		t.Errorf("audit: got %+v %v, want alice's verification", audit, err)
	}
	alice.fails(reqVerify, verify, codeConflict) // once is enough
}

// The delivery of an agent's message reaches the agent's desktop: a
// failure with the provider's reason.
func TestDeliveryReachesTheDesktop(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	alice, _ := e.connect("alice", "s1")
	alice.ok(reqSetState, map[string]any{"state": "available"})
	c := e.submit(router.NewContact{Body: "hi"})
	alice.expectFor(msgOffer, c.ID)
	alice.ok(reqAccept, map[string]any{"contact_id": c.ID})
	m, _, err := e.rt.AddMessage(e.ctx, c.ID, router.Message{Direction: "out", Author: "alice", Body: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	entry := router.OutboxEntry{ID: router.OutboxID(c.ID, m.Seq), Channel: c.Channel, ContactID: c.ID, Seq: m.Seq, Attempts: 3, Done: true}
	if err := e.rt.RecordDelivery(e.ctx, entry, &router.Delivery{Status: router.DeliveryFailed, Reason: "number unreachable", Attempts: 3}); err != nil {
		t.Fatal(err)
	}
	var d deliveryData
	decode(t, alice.expectFor(msgDelivery, c.ID), &d)
	if d.Seq != m.Seq || d.Delivery.Status != router.DeliveryFailed || d.Delivery.Reason != "number unreachable" {
		t.Errorf("delivery: got %+v, want message %d failed: number unreachable", d, m.Seq)
	}
}
