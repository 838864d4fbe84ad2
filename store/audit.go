package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Actions of a customer's audit.
const (
	// AuditVerified: an agent verified that the customer of a contact is
	// the customer their claim named.
	AuditVerified = "verified"
	// AuditIdentityTakenOver: a verified identity was taken from a
	// customer that only claimed it.
	AuditIdentityTakenOver = "identity_taken_over"
)

// AuditEntry is one entry of a customer's audit: who did what to the
// customer's identity. Merges have their own records (Merge).
type AuditEntry struct {
	ID         string
	CustomerID string
	At         time.Time
	// Action is AuditVerified or AuditIdentityTakenOver.
	Action string
	// Actor is the agent, login or API token that acted.
	Actor string
	// ContactID is the contact it happened in, or empty.
	ContactID string
	// Detail says how (the verification method) or what was taken from
	// whom.
	Detail string
}

// AddAudit records e (with a new ID when empty); a verification also
// appends customer.changed to the event log.
func (db *DB) AddAudit(ctx context.Context, e AuditEntry) error {
	return db.inTx(ctx, "audit customer "+e.CustomerID, func(tx *sql.Tx) error {
		if err := addAuditTx(ctx, tx, db.dialect, e); err != nil {
			return err
		}
		if e.Action != AuditVerified {
			return nil
		}
		return customerChangedTx(ctx, tx, db.dialect, CustomerChange{ID: e.CustomerID, Change: ChangeVerified}, e.At)
	})
}

func addAuditTx(ctx context.Context, tx *sql.Tx, d dialect, e AuditEntry) error {
	if e.ID == "" {
		e.ID = newID()
	}
	_, err := tx.ExecContext(ctx, rebind(d, `INSERT INTO customer_audit (id, customer_id, at, action, actor, contact_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?)`), e.ID, e.CustomerID, toNanos(e.At), e.Action, e.Actor, e.ContactID, e.Detail)
	return err
}

// CustomerAudit returns a customer's audit entries, oldest first; none
// is nil.
func (db *DB) CustomerAudit(ctx context.Context, customerID string) ([]AuditEntry, error) {
	return customerAudit(ctx, db.read, db.dialect, customerID)
}

func customerAudit(ctx context.Context, q queryer, d dialect, customerID string) ([]AuditEntry, error) {
	rows, err := q.QueryContext(ctx, rebind(d, `SELECT id, customer_id, at, action, actor, contact_id, detail
FROM customer_audit WHERE customer_id = ? ORDER BY at, id`), customerID)
	if err != nil {
		return nil, fmt.Errorf("store: audit of %q: %w", customerID, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var (
			e  AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &e.CustomerID, &at, &e.Action, &e.Actor, &e.ContactID, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit of %q: %w", customerID, err)
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit of %q: %w", customerID, err)
	}
	return out, nil
}
