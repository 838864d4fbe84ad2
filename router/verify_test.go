package router

import (
	"strings"
	"testing"
)

func TestVerifyCustomer(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q", ValueTiers: []ValueTier{{Min: 1000, Boost: 10}}})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.agent("bob", sk(), nil, AgentAway)
	claim := h.submit(NewContact{Queue: "q", Customer: Customer{Name: "Ada", Email: "ada@example.com", Phone: "+447700900123", ClaimedID: "ada"}})
	nobody := h.submit(NewContact{Queue: "q", Customer: Customer{Email: "who@example.com"}})
	v := Verification{ContactID: claim.ID, AgentID: "alice", CustomerID: "ada", Value: 5000, Segment: "premium", Method: "security questions", Email: "ada@example.com"}

	// Offered, not yet assigned: an agent verifies whom they talk to.
	if _, err := h.r.VerifyCustomer(h.ctx, v); !isErr(err, ErrConflict) {
		t.Fatalf("verify an offered contact: got %v, want ErrConflict", err)
	}
	if _, err := h.r.Accept(h.ctx, claim.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	bad := v
	bad.AgentID = "bob"
	if _, err := h.r.VerifyCustomer(h.ctx, bad); !isErr(err, ErrNotYours) {
		t.Fatalf("verify another agent's contact: got %v, want ErrNotYours", err)
	}
	bad = v
	bad.Method = ""
	if _, err := h.r.VerifyCustomer(h.ctx, bad); !isErr(err, ErrInvalid) {
		t.Fatalf("verify without a method: got %v, want ErrInvalid", err)
	}
	bad = v
	bad.Email = "eve@example.com" // not what the contact gave
	if _, err := h.r.VerifyCustomer(h.ctx, bad); !isErr(err, ErrInvalid) {
		t.Fatalf("verify keeping an email the contact did not give: got %v, want ErrInvalid", err)
	}
	if c := h.live(claim.ID); c.Customer.Verified || c.Customer.ID != "" || c.Customer.Value != 0 {
		t.Fatalf("refused verifications changed the customer: %+v", c.Customer)
	}

	c, err := h.r.VerifyCustomer(h.ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	want := Customer{ID: "ada", Name: "Ada", Email: "ada@example.com", Verified: true, Value: 5000, Segment: "premium"}
	if c.Customer != want || h.live(claim.ID).Customer != want || !c.Customer.Identified() {
		t.Errorf("customer: got %+v, want %+v", c.Customer, want)
	}
	if why := h.lastReason(claim.ID, "verified"); !strings.Contains(why, "alice") || !strings.Contains(why, "security questions") ||
		!strings.Contains(why, "the phone given, not the customer's, dropped") {
		t.Errorf("verified event %q names not the agent, the method and the phone dropped", why)
	}
	if ns := h.notesOf(NoteContact, "alice"); len(ns) == 0 || ns[len(ns)-1].Reason != "verified" {
		t.Errorf("alice heard of no contact notification with reason verified")
	}
	if _, err := h.r.VerifyCustomer(h.ctx, v); !isErr(err, ErrConflict) {
		t.Errorf("verify twice: got %v, want ErrConflict", err)
	}

	// A claim that matched no known customer has nothing to verify.
	if _, err := h.r.CloseContact(h.ctx, claim.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	h.wantState(nobody.ID, ContactOffered, "alice")
	if _, err := h.r.Accept(h.ctx, nobody.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	v.ContactID = nobody.ID
	if _, err := h.r.VerifyCustomer(h.ctx, v); !isErr(err, ErrConflict) {
		t.Errorf("verify a claim of nobody: got %v, want ErrConflict", err)
	}
}

func TestForgetClaims(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	claim := h.submit(NewContact{Queue: "q", Customer: Customer{Name: "Ada", Email: "ada@example.com", ClaimedID: "ada"}})
	other := h.submit(NewContact{Queue: "q", Customer: Customer{Name: "Bob", Email: "bob@example.com", ClaimedID: "bob"}})
	proven := h.submit(NewContact{Queue: "q", Customer: Customer{ID: "ada", Verified: true, Email: "ada@example.com"}})
	// Ada's claims: by the claimed id, or by her phone on a claim that
	// matched someone else first.
	byPhone := h.submit(NewContact{Queue: "q", Customer: Customer{Email: "cy@example.com", Phone: "+15551234567", ClaimedID: "cy"}})
	n, err := h.r.ForgetClaims(h.ctx, func(cu Customer) bool { return cu.ClaimedID == "ada" || cu.Phone == "+15551234567" })
	if err != nil || n != 2 {
		t.Fatalf("ForgetClaims: got %d, %v; want 2 contacts", n, err)
	}
	if got := h.live(byPhone.ID).Customer; got != (Customer{}) {
		t.Errorf("the claim by phone: got %+v, want it blank", got)
	}
	if got := h.live(claim.ID).Customer; got != (Customer{}) {
		t.Errorf("the claim: got %+v, want it blank", got)
	}
	if h.lastReason(claim.ID, "claim_forgotten") == "" {
		t.Errorf("no claim_forgotten event")
	}
	if got := h.live(other.ID).Customer; got.ClaimedID != "bob" || got.Email == "" {
		t.Errorf("another customer's claim changed: %+v", got)
	}
	if got := h.live(proven.ID).Customer; got.ID != "ada" || got.Email == "" {
		t.Errorf("the verified contact changed: %+v", got)
	}
}
