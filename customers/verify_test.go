package customers

import (
	"errors"
	"strings"
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

// A verified customer keeps, of what the contact gave, only what is
// theirs: an identity the profile holds, or the address the channel
// answers on. Another customer's phone typed into the chat form is
// dropped, not shown or searched as the verified customer's.
func TestVerifyKeepsOnlyTheCustomersIdentities(t *testing.T) {
	e := newIntakeEnv(t)
	e.put(t, store.Customer{ID: "ada"}, "ada@example.com")
	victim := store.Customer{ID: "vic", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if _, err := e.db.PutCustomer(e.ctx, victim, []store.Identity{{Kind: store.IdentityPhone, Value: "+447700900123", Verified: true}}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.SetAgentState(e.ctx, "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	verified := func(channel router.Channel, cu router.Customer) (router.Contact, string) {
		t.Helper()
		nc, err := Intake(e.ctx, e.db, router.NewContact{Channel: channel, Queue: "q", Customer: cu}, Routing{})
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := e.rt.Submit(e.ctx, nc)
		if err != nil {
			t.Fatal(err)
		}
		if c.Customer.ClaimedID != "ada" {
			t.Fatalf("the claim of %+v: claims %q, want ada", cu, c.Customer.ClaimedID)
		}
		if _, err := e.rt.Accept(e.ctx, c.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		v, err := Verify(e.ctx, e.db, e.rt, c.ID, "alice", "security questions", e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.CloseContact(e.ctx, c.ID, "alice", "", ""); err != nil {
			t.Fatal(err)
		}
		events, err := e.db.Timeline(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Event == router.EventVerified {
				return v, ev.Reason
			}
		}
		t.Fatalf("no verified event on %s", c.ID)
		return v, ""
	}

	chat, why := verified(router.ChannelChat, router.Customer{Name: "Ada", Email: "Ada@Example.com", Phone: "+447700900123"})
	if cu := chat.Customer; cu.Email != "Ada@Example.com" || cu.Phone != "" || cu.ID != "ada" || !cu.Verified {
		t.Errorf("chat: verified customer %+v, want ada's email kept and the phone she does not hold dropped", cu)
	}
	if !strings.Contains(why, "phone") || strings.Contains(why, "+447700900123") {
		t.Errorf("chat: the verified event says %q: want the phone's drop told, not its number", why)
	}
	// A text comes from its number: replies go there, so it stays.
	sms, why := verified(router.ChannelSMS, router.Customer{Email: "ada@example.com", Phone: "+447700900123"})
	if cu := sms.Customer; cu.Email != "ada@example.com" || cu.Phone != "+447700900123" {
		t.Errorf("sms: verified customer %+v, want the email and the channel's number kept", cu)
	}
	if strings.Contains(why, "dropped") {
		t.Errorf("sms: the verified event says %q, want nothing dropped", why)
	}
}
