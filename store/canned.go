package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// CannedResponse is a canned response as the store keeps it: what the
// API put (package canned validates it).
type CannedResponse struct {
	ID     string
	Title  string
	Text   string
	Queues []string
}

// cannedRecordVersion is the version of cannedRecord this release writes.
const cannedRecordVersion = 1

// cannedRecord is the def column of a canned response.
type cannedRecord struct {
	Version int      `json:"v"`
	Title   string   `json:"title"`
	Text    string   `json:"text"`
	Queues  []string `json:"queues,omitempty"`
}

// PutCannedResponse creates or replaces a canned response and reports
// whether it created it.
func (db *DB) PutCannedResponse(ctx context.Context, r CannedResponse, at time.Time) (created bool, err error) {
	def, err := marshalJSON(cannedRecord{Version: cannedRecordVersion, Title: r.Title, Text: r.Text, Queues: r.Queues})
	if err != nil {
		return false, fmt.Errorf("store: canned response %q: %w", r.ID, err)
	}
	err = db.inTx(ctx, "put canned response", func(tx *sql.Tx) error {
		// Insert, else update: atomic statements, not a count and then
		// a write.
		res, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO canned_responses (id, def, updated_at) VALUES (?, ?, ?)
ON CONFLICT (id) DO NOTHING`), r.ID, def, toNanos(at))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if created = n == 1; err != nil || created {
			return err
		}
		_, err = tx.ExecContext(ctx, rebind(db.dialect, `UPDATE canned_responses SET def = ?, updated_at = ? WHERE id = ?`), def, toNanos(at), r.ID)
		return err
	})
	return created, err
}

// DeleteCannedResponse deletes a canned response; false if none had id.
func (db *DB) DeleteCannedResponse(ctx context.Context, id string) (bool, error) {
	var deleted bool
	err := db.inTx(ctx, "delete canned response", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM canned_responses WHERE id = ?`), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		deleted = n > 0
		return err
	})
	return deleted, err
}

// CannedResponses returns the stored canned responses, by id.
func (db *DB) CannedResponses(ctx context.Context) ([]CannedResponse, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, def FROM canned_responses ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: canned responses: %w", err)
	}
	defer rows.Close()
	var out []CannedResponse
	for rows.Next() {
		var (
			id, def string
			rec     cannedRecord
		)
		if err := rows.Scan(&id, &def); err != nil {
			return nil, fmt.Errorf("store: canned responses: %w", err)
		}
		if err := json.Unmarshal([]byte(def), &rec); err != nil {
			return nil, fmt.Errorf("store: canned response %q: %w", id, err)
		}
		if rec.Version > cannedRecordVersion {
			return nil, fmt.Errorf("store: canned response %q: record version %d is newer than this release reads (%d): upgrade switchboard", id, rec.Version, cannedRecordVersion)
		}
		out = append(out, CannedResponse{ID: id, Title: rec.Title, Text: rec.Text, Queues: rec.Queues})
	}
	return out, rows.Err()
}
