package api

import (
	"context"
	"errors"
	"net/http"
	"testing"

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
		{store.Customer{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, ConsentMarketing: &yes, ConsentProfiling: &yes}, "ada@example.com"},
		{store.Customer{ID: "bob", Name: "Bob", Segment: "premium", Value: 12000, ConsentMarketing: &yes, ConsentProfiling: &no}, "bob@example.com"},
	} {
		p.c.CreatedAt, p.c.UpdatedAt = epoch, epoch
		ids := []store.Identity{{Kind: store.IdentityEmail, Value: p.email, Verified: true}}
		if _, err := e.db.PutCustomer(context.Background(), p.c, ids); err != nil {
			t.Fatalf("PutCustomer %s: %v", p.c.ID, err)
		}
	}
	return e
}

func TestCreateContactResolvesCustomer(t *testing.T) {
	e := intakeEnv(t)
	tests := []struct {
		name     string
		customer string // JSON
		wantID   string // "" means a new customer
		wantVal  float64
		wantRank int
	}{
		{"known-premium-value-raises-rank", `{"email":"Ada@Example.com"}`, "ada", 12000, 50},
		{"value-as-sent-is-ignored", `{"email":"ada@example.com","value":5}`, "ada", 12000, 50},
		{"no-profiling-consent-no-boost", `{"email":"bob@example.com","value":99999}`, "bob", 0, 0},
		{"unknown-email-creates-customer", `{"name":"Zoe","email":"zoe@example.com","value":5000}`, "", 0, 0},
		{"phone-of-another-keeps-email", `{"email":"ada@example.com","phone":"+15550001111"}`, "ada", 12000, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.create(`{"channel":"api","queue":"vip","customer":` + tt.customer + `}`)
			switch {
			case tt.wantID == "" && c.Customer.ID == "":
				t.Errorf("got no customer id, want a new customer's")
			case tt.wantID != "" && c.Customer.ID != tt.wantID:
				t.Errorf("got customer %q, want %q", c.Customer.ID, tt.wantID)
			}
			if c.Customer.Value != tt.wantVal || c.Rank != tt.wantRank {
				t.Errorf("got value %v rank %d, want %v %d", c.Customer.Value, c.Rank, tt.wantVal, tt.wantRank)
			}
			if stored := e.contact(c.ID); stored.Customer.ID != c.Customer.ID {
				t.Errorf("got stored customer %q, want %q", stored.Customer.ID, c.Customer.ID)
			}
		})
	}
	// A new customer was created for zoe, holding the email as a claim.
	owner, err := e.db.IdentityOwner(context.Background(), store.IdentityEmail, "zoe@example.com")
	if err != nil || owner.Verified {
		t.Errorf("got zoe's owner %+v, %v; want a claim", owner, err)
	}
	// The phone claimed with Ada's email went to Ada; a second contact
	// claiming it with another email keeps that email's customer.
	c := e.create(`{"channel":"api","queue":"vip","customer":{"email":"bob@example.com","phone":"+15550001111"}}`)
	if c.Customer.ID != "bob" {
		t.Errorf("got customer %q for bob's email with ada's phone, want bob (a claim never merges)", c.Customer.ID)
	}
	if owner, err := e.db.IdentityOwner(context.Background(), store.IdentityPhone, "+15550001111"); err != nil || owner.CustomerID != "ada" {
		t.Errorf("got phone owner %+v, %v; want ada", owner, err)
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
