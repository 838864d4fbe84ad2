package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Webhook is an outbound webhook put over the API.
type Webhook struct {
	ID     string
	URL    string
	Events []string
	// Secret signs every delivery; it is stored as given (the signature
	// needs it), in the database file that only the daemon's user reads.
	Secret    string
	UpdatedAt time.Time
}

// WebhookState is where a webhook's deliveries stand. It is kept for
// configured webhooks too.
//
// The log is delivered in order per contact, not globally: an event the
// receiver refuses holds back only the later events of its contact (a
// HeldContact), while the others' go on. Every entry up to Cursor is
// done with; of the entries after Cursor up to Scanned, those of a held
// contact from its Next on are owed, the rest are done with; nothing
// after Scanned has been read yet.
type WebhookState struct {
	// Cursor is the id of the last event log entry up to which every
	// entry is done with: delivered, not subscribed to, or given up on.
	// It is below every held contact's Next; the log is never pruned
	// above it.
	Cursor int64
	// Scanned is the id of the last entry read, at least Cursor.
	Scanned int64
	// Delivered counts the events delivered; Failures the events given up
	// on after their retries.
	Delivered int64
	Failures  int64
	// Attempts counts the failed attempts in a row for want of the
	// receiver (no answer, or a status that refuses every event, such as
	// 503): while it is above 0 the whole webhook waits for
	// NextAttemptAt. A refusal of one event holds its contact instead.
	Attempts      int
	LastAttemptAt time.Time
	// LastStatus is the HTTP status of the last attempt, 0 when none came.
	LastStatus int
	LastError  string
	// LastFailedEvent is the id of the last entry given up on, 0 if none,
	// and LastFailure the error of its last attempt.
	LastFailedEvent int64
	LastFailure     string
	NextAttemptAt   time.Time
	// Disabled is set when the receiver answered 410 Gone: it
	// unsubscribed. DisabledURL is the URL that answered.
	Disabled    bool
	DisabledAt  time.Time
	DisabledURL string
	// Held are the contacts whose events wait for the retry of one the
	// receiver refused, by Next; nil when none. The dispatcher bounds
	// how many.
	Held []HeldContact
}

// HeldContact is a contact whose events a webhook holds back: the
// receiver refused the entry Next, which is retried at NextAttemptAt;
// the contact's later entries up to WebhookState.Scanned wait behind it.
type HeldContact struct {
	// ContactID is the contact's id; "" holds the entries that have no
	// contact (customer.changed), which are in order among themselves.
	ContactID string
	// Next is the id of the contact's first entry not done with: the one
	// retried. Every entry of the contact from Next up to Scanned is
	// owed.
	Next int64
	// Attempts counts the failed attempts at Next.
	Attempts      int
	NextAttemptAt time.Time
	LastStatus    int
	LastError     string
}

// webhookStateRecord is WebhookState as stored: times in unix ns. A
// record written before per-contact holding has no scanned (0: read as
// its cursor) and no held.
type webhookStateRecord struct {
	Cursor          int64        `json:"cursor"`
	Scanned         int64        `json:"scanned"`
	Delivered       int64        `json:"delivered"`
	Failures        int64        `json:"failures"`
	Attempts        int          `json:"attempts"`
	LastAttemptAt   int64        `json:"last_attempt_at"`
	LastStatus      int          `json:"last_status"`
	LastError       string       `json:"last_error"`
	LastFailedEvent int64        `json:"last_failed_event"`
	LastFailure     string       `json:"last_failure"`
	NextAttemptAt   int64        `json:"next_attempt_at"`
	Disabled        bool         `json:"disabled"`
	DisabledAt      int64        `json:"disabled_at"`
	DisabledURL     string       `json:"disabled_url"`
	Held            []heldRecord `json:"held,omitempty"`
}

// heldRecord is HeldContact as stored.
type heldRecord struct {
	ContactID     string `json:"contact_id"`
	Next          int64  `json:"next"`
	Attempts      int    `json:"attempts"`
	NextAttemptAt int64  `json:"next_attempt_at"`
	LastStatus    int    `json:"last_status,omitempty"`
	LastError     string `json:"last_error,omitempty"`
}

// Webhooks returns the webhooks put over the API, by id; none is nil.
func (db *DB) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, url, events, secret, updated_at FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		var (
			w      Webhook
			events string
			at     int64
		)
		if err := rows.Scan(&w.ID, &w.URL, &events, &w.Secret, &at); err != nil {
			return nil, fmt.Errorf("store: webhooks: %w", err)
		}
		if err := unmarshalJSON(events, &w.Events); err != nil {
			return nil, fmt.Errorf("store: webhook %q: events: %w", w.ID, err)
		}
		w.UpdatedAt = fromNanos(at)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: webhooks: %w", err)
	}
	return out, nil
}

// PutWebhook creates or replaces w, with st as its delivery state, in
// one transaction.
func (db *DB) PutWebhook(ctx context.Context, w Webhook, st WebhookState) error {
	return db.inTx(ctx, "put webhook "+w.ID, func(tx *sql.Tx) error {
		events, err := marshalJSON(nonNil(w.Events))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO webhooks (id, url, events, secret, updated_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events,
	secret = excluded.secret, updated_at = excluded.updated_at`), w.ID, w.URL, events, w.Secret, toNanos(w.UpdatedAt)); err != nil {
			return err
		}
		return putWebhookStateTx(ctx, tx, db.dialect, w.ID, st)
	})
}

// DeleteWebhook deletes a webhook put over the API and its delivery
// state; one that is not stored wraps ErrNotFound.
func (db *DB) DeleteWebhook(ctx context.Context, id string) error {
	return db.inTx(ctx, "delete webhook "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM webhooks WHERE id = ?`), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: webhook %q", ErrNotFound, id)
		}
		_, err = tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM webhook_state WHERE id = ?`), id)
		return err
	})
}

// WebhookState returns the delivery state of webhook id; found is false
// when none is stored.
func (db *DB) WebhookState(ctx context.Context, id string) (st WebhookState, found bool, err error) {
	var data string
	err = db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT state FROM webhook_state WHERE id = ?`), id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return WebhookState{}, false, nil
	}
	if err != nil {
		return WebhookState{}, false, fmt.Errorf("store: webhook state %q: %w", id, err)
	}
	var r webhookStateRecord
	if err := unmarshalJSON(data, &r); err != nil {
		return WebhookState{}, false, fmt.Errorf("store: webhook state %q: %w", id, err)
	}
	st = WebhookState{
		Cursor: r.Cursor, Scanned: max(r.Scanned, r.Cursor), Delivered: r.Delivered, Failures: r.Failures, Attempts: r.Attempts,
		LastAttemptAt: fromNanos(r.LastAttemptAt), LastStatus: r.LastStatus, LastError: r.LastError,
		LastFailedEvent: r.LastFailedEvent, LastFailure: r.LastFailure, NextAttemptAt: fromNanos(r.NextAttemptAt),
		Disabled: r.Disabled, DisabledAt: fromNanos(r.DisabledAt), DisabledURL: r.DisabledURL,
	}
	for _, h := range r.Held {
		st.Held = append(st.Held, HeldContact{ContactID: h.ContactID, Next: h.Next, Attempts: h.Attempts,
			NextAttemptAt: fromNanos(h.NextAttemptAt), LastStatus: h.LastStatus, LastError: h.LastError})
	}
	return st, true, nil
}

// PutWebhookState stores the delivery state of webhook id.
func (db *DB) PutWebhookState(ctx context.Context, id string, st WebhookState) error {
	return db.inTx(ctx, "put webhook state "+id, func(tx *sql.Tx) error {
		return putWebhookStateTx(ctx, tx, db.dialect, id, st)
	})
}

func putWebhookStateTx(ctx context.Context, tx *sql.Tx, d dialect, id string, st WebhookState) error {
	data, err := marshalJSON(webhookStateRecord{
		Cursor: st.Cursor, Scanned: st.Scanned, Delivered: st.Delivered, Failures: st.Failures, Attempts: st.Attempts,
		LastAttemptAt: toNanos(st.LastAttemptAt), LastStatus: st.LastStatus, LastError: st.LastError,
		LastFailedEvent: st.LastFailedEvent, LastFailure: st.LastFailure, NextAttemptAt: toNanos(st.NextAttemptAt),
		Disabled: st.Disabled, DisabledAt: toNanos(st.DisabledAt), DisabledURL: st.DisabledURL,
		Held: heldRecords(st.Held),
	})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, rebind(d, `INSERT INTO webhook_state (id, state, updated_at) VALUES (?, ?, ?)
ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`), id, data, time.Now().UnixNano())
	return err
}

func heldRecords(held []HeldContact) []heldRecord {
	var out []heldRecord
	for _, h := range held {
		out = append(out, heldRecord{ContactID: h.ContactID, Next: h.Next, Attempts: h.Attempts,
			NextAttemptAt: toNanos(h.NextAttemptAt), LastStatus: h.LastStatus, LastError: h.LastError})
	}
	return out
}
