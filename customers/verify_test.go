package customers

import (
	"errors"
	"testing"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

func TestVerify(t *testing.T) {
	e := newIntakeEnv(t)
	yes := true
	e.put(t, store.Customer{ID: "ada", Segment: "premium", Value: 12000, Consent: consent.Flags{Profiling: &yes}}, "ada@example.com")
	if _, err := e.rt.SetAgentState(e.ctx, "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	submit := func(email string) router.Contact {
		t.Helper()
		nc, err := Intake(e.ctx, e.db, router.NewContact{Channel: "chat", Queue: "q", Customer: router.Customer{Name: "Ada?", Email: email}}, Routing{})
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := e.rt.Submit(e.ctx, nc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.Accept(e.ctx, c.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	claim := submit("ada@example.com")
	if claim.Customer.ID != "" || claim.Customer.ClaimedID != "ada" || claim.Rank != 0 {
		t.Fatalf("the claim: got %+v rank %d, want no id, claimed ada, rank 0", claim.Customer, claim.Rank)
	}
	if _, err := Verify(e.ctx, e.db, e.rt, claim.ID, "bob", "security questions", e.clock.Now()); !errors.Is(err, router.ErrNotYours) {
		t.Fatalf("bob verifies alice's contact: got %v, want ErrNotYours", err)
	}
	if audit, _ := e.db.CustomerAudit(e.ctx, "ada"); len(audit) != 0 {
		t.Fatalf("a refused verification was audited: %+v", audit)
	}
	c, err := Verify(e.ctx, e.db, e.rt, claim.ID, "alice", "security questions", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cu := c.Customer; cu.ID != "ada" || !cu.Verified || cu.Value != 12000 || cu.Segment != "premium" || cu.ClaimedID != "" {
		t.Errorf("verified customer: got %+v, want ada's, identified", cu)
	}
	audit, err := e.db.CustomerAudit(e.ctx, "ada")
	if err != nil || len(audit) != 1 || audit[0].Action != store.AuditVerified || audit[0].Actor != "alice" ||
		audit[0].ContactID != claim.ID || audit[0].Detail != "security questions" || !audit[0].At.Equal(e.clock.Now()) {
		t.Errorf("audit: got %+v %v, want alice's verification by security questions", audit, err)
	}
	if _, err := Verify(e.ctx, e.db, e.rt, claim.ID, "alice", "security questions", e.clock.Now()); !errors.Is(err, router.ErrConflict) {
		t.Errorf("verify twice: got %v, want ErrConflict", err)
	}

	// A claim of nobody, and of a customer erased since, verify nothing.
	if _, err := e.rt.CloseContact(e.ctx, claim.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	stranger := submit("stranger@example.com")
	if _, err := Verify(e.ctx, e.db, e.rt, stranger.ID, "alice", "security questions", e.clock.Now()); !errors.Is(err, router.ErrConflict) {
		t.Errorf("verify a claim of nobody: got %v, want ErrConflict", err)
	}
	if _, err := e.rt.CloseContact(e.ctx, stranger.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	again := submit("ada@example.com")
	if err := e.db.EraseCustomer(e.ctx, "ada", e.clock.Now()); err != nil {
		t.Fatalf("erase while a claim of her is live: %v", err)
	}
	if _, err := Verify(e.ctx, e.db, e.rt, again.ID, "alice", "security questions", e.clock.Now()); !errors.Is(err, router.ErrConflict) {
		t.Errorf("verify a claim of an erased customer: got %v, want ErrConflict", err)
	}
}
