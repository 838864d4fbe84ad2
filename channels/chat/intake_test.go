package chat

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// TestStartResolvesCustomer checks that a conversation carries the form's
// email as a claim: the known customer it matches is noted, nothing of
// theirs raises the rank, and an unknown email creates nobody.
func TestStartResolvesCustomer(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		db := o.Store
		o.Intake = &intake.Intake{Router: o.Router, Store: db, Resolve: func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
			return customers.Intake(ctx, db, nc, customers.Routing{})
		}}
	})
	ctx := context.Background()
	if _, err := e.router.PutQueue(ctx, router.Queue{Name: "backoffice", ValueTiers: []router.ValueTier{{Min: 1000, Boost: 50}}}); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, c := range []store.Customer{
		{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, Consent: consent.Flags{Profiling: &yes}},
		{ID: "bob", Name: "Bob", Segment: "premium", Value: 12000, Consent: consent.Flags{Profiling: &no}},
	} {
		c.CreatedAt, c.UpdatedAt = epoch, epoch
		ids := []store.Identity{{Kind: store.IdentityEmail, Value: c.ID + "@example.com", Verified: true}}
		if _, err := e.db.PutCustomer(ctx, c, ids, "test"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		email     string
		wantClaim string
	}{
		{"known-premium-claims-only", "ada@example.com", "ada"},
		{"no-profiling-consent", "bob@example.com", "bob"},
		{"unknown-email-creates-nobody", "zoe@example.com", ""},
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
			// The form's email is a claim: no profile, no value, no rank.
			if cu := c.Customer; cu.ID != "" || cu.Verified || cu.ClaimedID != tt.wantClaim || cu.Value != 0 || c.Rank != 0 {
				t.Errorf("got customer %+v rank %d, want only a claim of %q, rank 0", cu, c.Rank, tt.wantClaim)
			}
		})
	}
	if _, err := e.db.IdentityOwner(ctx, store.IdentityEmail, "zoe@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a chat's claim made a customer: %v", err)
	}
}
