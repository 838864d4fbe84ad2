package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/csat"
)

// RecordCSAT stores a customer's answer to the satisfaction survey; one
// per contact: a second fails with an error wrapping ErrConflict and
// changes nothing. The contact must be stored (ErrNotFound otherwise).
// The answer is checked by csat.Response.Validate. An answer about a
// contact whose customer was erased (EraseCustomer: the survey's window
// may outlive the customer's data) keeps its score, which the erasure
// keeps too, and loses its comment, which the erasure blanks.
func (db *DB) RecordCSAT(ctx context.Context, r csat.Response) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, fmt.Sprintf("csat of %q", r.ContactID), func(tx *sql.Tx) error {
		// Read in the write transaction: the one writer orders it with
		// an erasure (docs/ha.md), which either finds the answer and
		// blanks its comment or came first and is seen here. A contact
		// erased with its customer carries the customer's id
		// (eraseContactsTx), or that of a customer merged into it,
		// erased with it.
		var erasedAt int64
		err := tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT COALESCE(cu.erased_at, 0) FROM contacts c
LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?`), r.ContactID).Scan(&erasedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if erasedAt != 0 {
			r.Comment = ""
		}
		res, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO contact_csat (contact_id, queue, score, comment, at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (contact_id) DO NOTHING`), r.ContactID, r.Queue, r.Score, r.Comment, toNanos(r.At))
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			return fmt.Errorf("%w: already answered", ErrConflict)
		}
		return nil
	})
}

// CSATs returns the survey answers of the contacts ids that have one, by
// contact id.
func (db *DB) CSATs(ctx context.Context, ids []string) (map[string]csat.Response, error) {
	out := map[string]csat.Response{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q := `SELECT contact_id, queue, score, comment, at FROM contact_csat WHERE contact_id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rows, err := db.read.QueryContext(ctx, rebind(db.dialect, q), args...)
		if err != nil {
			return nil, fmt.Errorf("store: csats: %w", err)
		}
		for rows.Next() {
			var (
				r  csat.Response
				at int64
			)
			if err := rows.Scan(&r.ContactID, &r.Queue, &r.Score, &r.Comment, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: csats: %w", err)
			}
			r.At = fromNanos(at)
			out[r.ContactID] = r
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("store: csats: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: csats: %w", err)
		}
	}
	return out, nil
}
