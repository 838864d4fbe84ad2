package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// intakeEnv is an env whose contacts are resolved by customers.Intake,
// with queue vip (a 1000+ customer gets +50) and two profiles: Ada
// (premium, 12000, profiling consent) and Bob (12000, profiling refused).
func intakeEnv(t *testing.T) *env {
	t.Helper()
	var e *env
	e = newEnvWith(t, envOptions{intake: func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
		return customers.Intake(ctx, e.db, nc, customers.Routing{})
	}})
	e.must(http.StatusCreated, "PUT", "/api/v1/queues/vip", `{"value_tiers":[{"min":1000,"boost":50}]}`)
	yes, no := true, false
	for _, p := range []struct {
		c     store.Customer
		email string
	}{
		{store.Customer{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, Consent: consent.Flags{Marketing: &yes, Profiling: &yes}}, "ada@example.com"},
		{store.Customer{ID: "bob", Name: "Bob", Segment: "premium", Value: 12000, Consent: consent.Flags{Marketing: &yes, Profiling: &no}}, "bob@example.com"},
	} {
		p.c.CreatedAt, p.c.UpdatedAt = epoch, epoch
		ids := []store.Identity{{Kind: store.IdentityEmail, Value: p.email, Verified: true}}
		if _, err := e.db.PutCustomer(context.Background(), p.c, ids, "test"); err != nil {
			t.Fatalf("PutCustomer %s: %v", p.c.ID, err)
		}
	}
	return e
}

func TestCreateContactResolvesCustomer(t *testing.T) {
	e := intakeEnv(t)
	tests := []struct {
		name      string
		customer  string // JSON
		wantID    string // "new" means a new customer
		wantClaim string
		wantVal   float64
		wantRank  int
	}{
		{"verified-premium-value-raises-rank", `{"email":"Ada@Example.com","verified":true}`, "ada", "", 12000, 50},
		{"value-as-sent-is-ignored", `{"email":"ada@example.com","value":5,"verified":true}`, "ada", "", 12000, 50},
		{"no-profiling-consent-no-boost", `{"email":"bob@example.com","value":99999,"verified":true}`, "bob", "", 0, 0},
		{"unknown-verified-email-creates-customer", `{"name":"Zoe","email":"zoe@example.com","value":5000,"verified":true}`, "new", "", 0, 0},
		{"phone-of-another-keeps-email", `{"email":"ada@example.com","phone":"+15550001111","verified":true}`, "ada", "", 12000, 50},
		// Without "verified", what the integration sends is a claim: no
		// profile, no value, no priority; the claimed customer is noted.
		{"claimed-email-selects-nothing", `{"email":"ada@example.com","value":99999,"segment":"premium"}`, "", "ada", 0, 0},
		{"claimed-id-selects-nothing", `{"id":"ada"}`, "", "ada", 0, 0},
		{"claimed-unknown-email-creates-nobody", `{"email":"yan@example.com"}`, "", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.create(`{"channel":"api","queue":"vip","customer":` + tt.customer + `}`)
			switch {
			case tt.wantID == "new" && c.Customer.ID == "":
				t.Errorf("got no customer id, want a new customer's")
			case tt.wantID != "new" && c.Customer.ID != tt.wantID:
				t.Errorf("got customer %q, want %q", c.Customer.ID, tt.wantID)
			}
			if c.Customer.ClaimedID != tt.wantClaim {
				t.Errorf("got claimed id %q, want %q", c.Customer.ClaimedID, tt.wantClaim)
			}
			if c.Customer.Value != tt.wantVal || c.Rank != tt.wantRank {
				t.Errorf("got value %v rank %d, want %v %d", c.Customer.Value, c.Rank, tt.wantVal, tt.wantRank)
			}
			if stored := e.contact(c.ID); stored.Customer.ID != c.Customer.ID {
				t.Errorf("got stored customer %q, want %q", stored.Customer.ID, c.Customer.ID)
			}
		})
	}
	// A new customer was created for zoe, holding the email verified; a
	// claim made nobody for yan.
	owner, err := e.db.IdentityOwner(context.Background(), store.IdentityEmail, "zoe@example.com")
	if err != nil || !owner.Verified {
		t.Errorf("got zoe's owner %+v, %v; want a verified identity", owner, err)
	}
	if _, err := e.db.IdentityOwner(context.Background(), store.IdentityEmail, "yan@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a claimed email made an identity: %v", err)
	}
	// The phone given with Ada's email went to Ada; a second contact
	// proving it with another email keeps that email's customer (the
	// phone is Ada's, verified: nobody takes it).
	c := e.create(`{"channel":"api","queue":"vip","customer":{"email":"bob@example.com","phone":"+15550001111","verified":true}}`)
	if c.Customer.ID != "bob" {
		t.Errorf("got customer %q for bob's email with ada's phone, want bob", c.Customer.ID)
	}
	if owner, err := e.db.IdentityOwner(context.Background(), store.IdentityPhone, "+15550001111"); err != nil || owner.CustomerID != "ada" {
		t.Errorf("got phone owner %+v, %v; want ada", owner, err)
	}
	// claimed_id is the router's to set.
	if res := e.do("POST", "/api/v1/contacts", adminToken, `{"channel":"api","queue":"vip","customer":{"claimed_id":"ada"}}`); res.status != http.StatusBadRequest {
		t.Errorf("claimed_id in a create: got %d, want 400", res.status)
	}
}

// TestRefusedCreateMakesNoCustomer: bad input changes nothing, also not
// the customer profiles.
func TestRefusedCreateMakesNoCustomer(t *testing.T) {
	e := intakeEnv(t)
	for _, body := range []string{
		`{"channel":"api","queue":"nope","customer":{"email":"eve@example.com"}}`,
		`{"channel":"fax","queue":"vip","customer":{"email":"eve@example.com"}}`,
		`{"channel":"api","queue":"vip","priority":5000,"customer":{"email":"eve@example.com"}}`,
	} {
		if res := e.do("POST", "/api/v1/contacts", adminToken, body); res.status < 400 || res.status >= 500 {
			t.Fatalf("%s: got status %d, want 4xx", body, res.status)
		}
	}
	if _, err := e.db.IdentityOwner(context.Background(), store.IdentityEmail, "eve@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused create made a customer for eve: %v", err)
	}
}

// A live contact that merely claims to be a customer does not hold up
// the customer's erasure, and loses what it claimed; one that is the
// customer does.
func TestEraseWithLiveClaim(t *testing.T) {
	e := intakeEnv(t)
	claim := e.create(`{"channel":"api","queue":"vip","customer":{"name":"Ada?","email":"ada@example.com"}}`)
	if claim.Customer.ClaimedID != "ada" {
		t.Fatalf("claim: got %+v, want claimed ada", claim.Customer)
	}
	// Claims of Ada by her phone: beside an unknown email, and beside
	// Bob's email, which the claim matched first.
	e.must(http.StatusOK, "PUT", "/api/v1/customers/ada", `{"name":"Ada Lovelace","emails":["ada@example.com"],"phones":["+15557654321"],"verified":true}`)
	byPhone := e.create(`{"channel":"api","queue":"vip","customer":{"email":"who@example.com","phone":"+1 555 765 4321"}}`)
	if byPhone.Customer.ClaimedID != "ada" {
		t.Fatalf("claim by phone: got %+v, want claimed ada", byPhone.Customer)
	}
	bobsPhone := e.create(`{"channel":"api","queue":"vip","customer":{"email":"bob@example.com","phone":"+15557654321"}}`)
	if bobsPhone.Customer.ClaimedID != "bob" {
		t.Fatalf("claim of bob's email with ada's phone: got %+v, want claimed bob", bobsPhone.Customer)
	}
	// The export's audit tells who took an identity from a claim.
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/newbob", `{"name":"Bob","emails":["bob2@example.com"]}`)
	e.must(http.StatusOK, "PUT", "/api/v1/customers/bob", `{"name":"Bob","emails":["bob2@example.com"],"verified":true}`)
	x := decodeAs[customerExport](t, e.must(http.StatusOK, "GET", "/api/v1/customers/bob/export", ""))
	if len(x.Audit) != 1 || x.Audit[0].Action != "identity_taken_over" || x.Audit[0].Actor != "ops-admin" {
		t.Errorf("bob's audit: got %+v, want the takeover by the admin token ops-admin", x.Audit)
	}
	proven := e.create(`{"channel":"api","queue":"vip","customer":{"email":"bob@example.com","verified":true}}`)
	bobClaim := e.create(`{"channel":"api","queue":"vip","customer":{"name":"Bob?","email":"bob2@example.com"}}`)
	if bobClaim.Customer.ClaimedID != "bob" {
		t.Fatalf("claim of bob: got %+v", bobClaim.Customer)
	}
	e.must(http.StatusNoContent, "DELETE", "/api/v1/customers/ada", "")
	for _, id := range []string{claim.ID, byPhone.ID, bobsPhone.ID} {
		if c := e.contact(id); c.Customer != (router.Customer{}) || c.State != router.ContactQueued {
			t.Errorf("a live claim after the erase: got %+v in %s, want its claim blank, still queued", c.Customer, c.State)
		}
	}
	if res := e.do("DELETE", "/api/v1/customers/bob", adminToken, ""); res.status != http.StatusConflict || !strings.Contains(string(res.body), proven.ID) {
		t.Errorf("erase with the customer's own live contact: got %d %s, want 409 naming %s", res.status, res.body, proven.ID)
	}
	// The refusal changed nothing: the claim of bob is as it was.
	if c := e.contact(bobClaim.ID); c.Customer != bobClaim.Customer {
		t.Errorf("a claim of bob after the refused erase: %+v, want %+v", c.Customer, bobClaim.Customer)
	}
}
