package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/csat"
)

// RecordCSAT stores a customer's answer to the satisfaction survey; one
// per contact: a second fails with an error wrapping ErrConflict and
// changes nothing. The contact must be stored (ErrNotFound otherwise).
// The answer is checked by csat.Response.Validate.
func (db *DB) RecordCSAT(ctx context.Context, r csat.Response) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var n int
	if err := db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT COUNT(*) FROM contacts WHERE id = ?`), r.ContactID).Scan(&n); err != nil {
		return fmt.Errorf("store: csat of %q: %w", r.ContactID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: csat of %q: %w", r.ContactID, ErrNotFound)
	}
	res, err := db.execWrite(ctx, rebind(db.dialect, `INSERT INTO contact_csat (contact_id, queue, score, comment, at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (contact_id) DO NOTHING`), r.ContactID, r.Queue, r.Score, r.Comment, toNanos(r.At))
	if err != nil {
		return fmt.Errorf("store: csat of %q: %w", r.ContactID, err)
	}
	if k, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: csat of %q: %w", r.ContactID, err)
	} else if k == 0 {
		return fmt.Errorf("store: csat of %q: %w: already answered", r.ContactID, ErrConflict)
	}
	return nil
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
