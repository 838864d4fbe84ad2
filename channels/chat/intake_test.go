package chat

import (
	"context"
	"testing"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// TestStartResolvesCustomer checks that a conversation carries the
// customer the form's email resolves to, and that the customer's value
// raises its rank only with profiling consent.
func TestStartResolvesCustomer(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		db := o.Store
		o.Intake = func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
			return customers.Intake(ctx, db, nc, customers.Routing{})
		}
	})
	ctx := context.Background()
	if _, err := e.router.PutQueue(ctx, router.Queue{Name: "backoffice", ValueTiers: []router.ValueTier{{Min: 1000, Boost: 50}}}); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, c := range []store.Customer{
		{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, ConsentProfiling: &yes},
		{ID: "bob", Name: "Bob", Segment: "premium", Value: 12000, ConsentProfiling: &no},
	} {
		c.CreatedAt, c.UpdatedAt = epoch, epoch
		ids := []store.Identity{{Kind: store.IdentityEmail, Value: c.ID + "@example.com", Verified: true}}
		if _, err := e.db.PutCustomer(ctx, c, ids); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		email    string
		wantID   string // "" means a new customer
		wantRank int
	}{
		{"known-premium-value-raises-rank", "ada@example.com", "ada", 50},
		{"no-profiling-consent-no-boost", "bob@example.com", "bob", 0},
		{"unknown-email-creates-customer", "zoe@example.com", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := e.dial(nil)
			// Nobody is working: the customer leaves a message, which
			// waits in backoffice.
			cd := cl.start(startData{Name: "Someone", Email: tt.email, Topic: "billing", Message: "My bill", LeaveMessage: true})
			c, err := e.db.Contact(ctx, cd.ConversationID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantID == "" && (c.Customer.ID == "" || c.Customer.ID == "ada" || c.Customer.ID == "bob"):
				t.Errorf("got customer %q, want a new customer", c.Customer.ID)
			case tt.wantID != "" && c.Customer.ID != tt.wantID:
				t.Errorf("got customer %q, want %q", c.Customer.ID, tt.wantID)
			}
			if c.Rank != tt.wantRank {
				t.Errorf("got rank %d, want %d", c.Rank, tt.wantRank)
			}
		})
	}
}
