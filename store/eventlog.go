package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/router"
)

// CustomerChange is the payload of a customer.changed entry of the event
// log: which customer, and what happened to it. The profile itself is
// read over the API (GET /api/v1/customers/{id}), never copied here.
type CustomerChange struct {
	ID string `json:"id"`
	// Change is ChangePut, ChangeImported, ChangeVerified, ChangeMerged or
	// ChangeErased.
	Change string `json:"change"`
	// MergedInto is the customer it was merged into (ChangeMerged).
	MergedInto string `json:"merged_into,omitempty"`
}

// Changes of a customer (CustomerChange.Change).
const (
	ChangePut      = "put"
	ChangeImported = "imported"
	ChangeVerified = "verified"
	ChangeMerged   = "merged"
	ChangeErased   = "erased"
)

// OfferOutcomeData is the payload of an offer.outcome entry of the event
// log.
type OfferOutcomeData struct {
	OfferID    string `json:"offer_id"`
	ContactID  string `json:"contact_id"`
	CustomerID string `json:"customer_id,omitempty"`
	AgentID    string `json:"agent_id,omitempty"`
	Outcome    string `json:"outcome"`
	Segment    string `json:"segment,omitempty"`
}

// appendLogTx appends an entry of type typ to the event log in tx.
func appendLogTx(ctx context.Context, tx *sql.Tx, d dialect, typ, contactID string, at time.Time, payload any) error {
	data, err := marshalJSON(payload)
	if err != nil {
		return fmt.Errorf("encode %s entry: %w", typ, err)
	}
	if _, err := tx.ExecContext(ctx, rebind(d, insertLogSQL), typ, contactID, toNanos(at), data); err != nil {
		return fmt.Errorf("append %s entry: %w", typ, err)
	}
	return nil
}

// customerChangedTx appends customer.changed for ch.
func customerChangedTx(ctx context.Context, tx *sql.Tx, d dialect, ch CustomerChange, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	return appendLogTx(ctx, tx, d, router.LogCustomerChanged, "", at.UTC(), map[string]CustomerChange{"customer": ch})
}

// EventLog returns up to limit entries of the event log after the id
// after, in id order; none is nil.
func (db *DB) EventLog(ctx context.Context, after int64, limit int) ([]router.LogEntry, error) {
	out, err := db.eventLog(ctx, `SELECT id, type, contact_id, at, data FROM event_log WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: event log after %d: %w", after, err)
	}
	return out, nil
}

// EventLogOf returns up to limit entries of the event log of contact
// contactID ("": the entries without a contact) with ids from from to
// upTo, in id order; none is nil.
func (db *DB) EventLogOf(ctx context.Context, contactID string, from, upTo int64, limit int) ([]router.LogEntry, error) {
	out, err := db.eventLog(ctx, `SELECT id, type, contact_id, at, data FROM event_log
WHERE contact_id = ? AND id >= ? AND id <= ? ORDER BY id LIMIT ?`, contactID, from, upTo, limit)
	if err != nil {
		return nil, fmt.Errorf("store: event log of contact %q from %d: %w", contactID, from, err)
	}
	return out, nil
}

// eventLog reads the entries query selects.
func (db *DB) eventLog(ctx context.Context, query string, args ...any) ([]router.LogEntry, error) {
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []router.LogEntry
	for rows.Next() {
		var (
			e    router.LogEntry
			at   int64
			data string
		)
		if err := rows.Scan(&e.ID, &e.Type, &e.ContactID, &at, &data); err != nil {
			return nil, err
		}
		e.At, e.Data = fromNanos(at), []byte(data)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// LastLogID returns the id of the newest entry the event log ever had
// (pruned or not), 0 when it never had one: where a new webhook starts.
func (db *DB) LastLogID(ctx context.Context) (int64, error) {
	return lastLogID(ctx, db.read, db.dialect)
}

func lastLogID(ctx context.Context, q queryer, d dialect) (int64, error) {
	var id sql.NullInt64
	err := q.QueryRowContext(ctx, rebind(d, d.lastLogID)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: last event log id: %w", err)
	}
	return id.Int64, nil
}

// PruneEventLog deletes the entries of the event log up to the id upTo
// that are older than before, a batch at a time (deleteBatched), and
// returns how many it deleted.
func (db *DB) PruneEventLog(ctx context.Context, upTo int64, before time.Time) (int64, error) {
	n, err := db.deleteBatched(ctx, "event_log", "id <= ? AND at < ?", upTo, toNanos(before))
	if err != nil {
		return n, fmt.Errorf("store: prune event log: %w", err)
	}
	return n, nil
}
