package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVerifiedTakesOverClaim checks that a profile written with a
// verified identity takes it from a customer that only claimed it, with
// an audit entry on both sides, through PutCustomer and ImportCustomers
// alike; a verified holder still conflicts.
func TestVerifiedTakesOverClaim(t *testing.T) { forEachDialect(t, testVerifiedTakesOverClaim) }

func testVerifiedTakesOverClaim(t *testing.T) {
	for _, how := range []string{"put", "import"} {
		t.Run(how, func(t *testing.T) {
			db := openTest(t)
			ctx := context.Background()
			write := func(c Customer, ids ...Identity) error {
				c.CreatedAt, c.UpdatedAt = custEpoch, custEpoch.Add(time.Hour)
				if how == "put" {
					_, err := db.PutCustomer(ctx, c, ids, "crm-token")
					return err
				}
				res, err := db.ImportCustomers(ctx, []CustomerImport{{Customer: c, Identities: ids, By: "crm-token"}})
				if err != nil {
					return err
				}
				return res[0].Err
			}
			email := Identity{Kind: IdentityEmail, Value: "ada@example.com"}
			if err := write(Customer{ID: "claimer", Name: "Impostor"}, email); err != nil {
				t.Fatal(err)
			}
			// Claimed against a claim: still a conflict.
			var ice *IdentityConflictError
			if err := write(Customer{ID: "other"}, email); !errors.As(err, &ice) || ice.Owner != "claimer" {
				t.Fatalf("claim over a claim: got %v, want a conflict with claimer", err)
			}
			verified := email
			verified.Verified = true
			if err := write(Customer{ID: "ada", Name: "Ada"}, verified); err != nil {
				t.Fatalf("verified over a claim: %v", err)
			}
			owner, err := db.IdentityOwner(ctx, IdentityEmail, "ada@example.com")
			if err != nil || owner.CustomerID != "ada" || !owner.Verified {
				t.Fatalf("owner: got %+v %v, want ada, verified", owner, err)
			}
			for _, id := range []string{"ada", "claimer"} {
				audit, err := db.CustomerAudit(ctx, id)
				if err != nil || len(audit) != 1 || audit[0].Action != AuditIdentityTakenOver || audit[0].Actor != "crm-token" {
					t.Fatalf("audit of %s: got %+v %v, want one takeover by crm-token", id, audit, err)
				}
				if strings.Contains(audit[0].Detail, "ada@example.com") {
					t.Errorf("audit of %s names the identity's value: %q", id, audit[0].Detail)
				}
			}
			x, err := db.ExportCustomer(ctx, "ada")
			if err != nil || len(x.Audit) != 1 {
				t.Errorf("export: got audit %+v %v, want the takeover", x.Audit, err)
			}
			// Now verified: nobody else takes it.
			if err := write(Customer{ID: "third"}, verified); !errors.As(err, &ice) || ice.Owner != "ada" {
				t.Errorf("verified over verified: got %v, want a conflict with ada", err)
			}
		})
	}
}
