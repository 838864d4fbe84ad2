package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/switchboard/switchboard/router"
)

// Limits of Messages.
const (
	// DefaultMessageLimit is the page size of Messages when limit <= 0.
	DefaultMessageLimit = 100
	// MaxMessageLimit caps the page size of Messages.
	MaxMessageLimit = 1000
)

// Contact returns the contact with the given id, or an error wrapping
// ErrNotFound.
func (db *DB) Contact(ctx context.Context, id string) (router.Contact, error) {
	row, err := db.readRow(ctx, rebind(db.dialect,
		`SELECT data, idempotency_key, idempotency_hash FROM contacts WHERE id = ?`), id)
	if err != nil {
		return router.Contact{}, fmt.Errorf("store: contact %q: %w", id, err)
	}
	c, err := scanContact(row)
	if errors.Is(err, sql.ErrNoRows) {
		return router.Contact{}, fmt.Errorf("store: contact %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return router.Contact{}, fmt.Errorf("store: contact %q: %w", id, err)
	}
	return c, nil
}

// ContactByIdempotencyKey returns the contact created with the given
// idempotency key, or an error wrapping ErrNotFound. The empty key matches
// nothing.
// ContactByKey implements router.Store: the contact created with an
// idempotency key, and whether there is one.
func (db *DB) ContactByKey(ctx context.Context, key string) (router.Contact, bool, error) {
	c, err := db.ContactByIdempotencyKey(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return router.Contact{}, false, nil
	case err != nil:
		return router.Contact{}, false, err
	}
	return c, true, nil
}

func (db *DB) ContactByIdempotencyKey(ctx context.Context, key string) (router.Contact, error) {
	if key == "" {
		return router.Contact{}, fmt.Errorf("store: contact by idempotency key: empty key: %w", ErrNotFound)
	}
	row := db.read.QueryRowContext(ctx, rebind(db.dialect,
		`SELECT data, idempotency_key, idempotency_hash FROM contacts WHERE idempotency_key = ?`), key)
	c, err := scanContact(row)
	if errors.Is(err, sql.ErrNoRows) {
		return router.Contact{}, fmt.Errorf("store: contact by idempotency key %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return router.Contact{}, fmt.Errorf("store: contact by idempotency key %q: %w", key, err)
	}
	return c, nil
}

// Timeline returns the events of contact id in sequence order. It returns
// an error wrapping ErrNotFound when the contact does not exist.
func (db *DB) Timeline(ctx context.Context, id string) ([]router.Event, error) {
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect,
		`SELECT seq, at, event, agent_id, queue, reason, actor FROM contact_events WHERE contact_id = ? ORDER BY seq`), id)
	if err != nil {
		return nil, fmt.Errorf("store: timeline of %q: %w", id, err)
	}
	defer rows.Close()
	var events []router.Event
	for rows.Next() {
		e := router.Event{ContactID: id}
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.Event, &e.AgentID, &e.Queue, &e.Reason, &e.By); err != nil {
			return nil, fmt.Errorf("store: timeline of %q: %w", id, err)
		}
		e.At = fromNanos(at)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: timeline of %q: %w", id, err)
	}
	if len(events) == 0 {
		if err := db.contactExists(ctx, id); err != nil {
			return nil, fmt.Errorf("store: timeline of %q: %w", id, err)
		}
	}
	return events, nil
}

// Messages returns up to limit messages of contact id with a sequence
// number above afterSeq, in sequence order; pass the last Seq seen to read
// the next page. limit <= 0 means DefaultMessageLimit; it is capped at
// MaxMessageLimit. It returns an error wrapping ErrNotFound when the
// contact does not exist.
func (db *DB) Messages(ctx context.Context, id string, afterSeq int, limit int) ([]router.Message, error) {
	if limit <= 0 {
		limit = DefaultMessageLimit
	}
	limit = min(limit, MaxMessageLimit)
	rows, err := db.readQuery(ctx, rebind(db.dialect,
		`SELECT `+messageColumns+` FROM contact_messages
WHERE contact_id = ? AND seq > ? ORDER BY seq`+limitSQL(limit)), id, afterSeq)
	if err != nil {
		return nil, fmt.Errorf("store: messages of %q: %w", id, err)
	}
	msgs, err := db.scanMessages(ctx, rows, id, limit)
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// MessagesBefore returns the last limit messages of contact id with a
// sequence number below beforeSeq (any, when beforeSeq <= 0), in sequence
// order: the latest page of a conversation, then, passing the first Seq
// returned, the page before it. limit is as in Messages. It returns an
// error wrapping ErrNotFound when the contact does not exist.
func (db *DB) MessagesBefore(ctx context.Context, id string, beforeSeq int, limit int) ([]router.Message, error) {
	if limit <= 0 {
		limit = DefaultMessageLimit
	}
	limit = min(limit, MaxMessageLimit)
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt32
	}
	rows, err := db.readQuery(ctx, rebind(db.dialect,
		`SELECT `+messageColumns+` FROM contact_messages
WHERE contact_id = ? AND seq < ? ORDER BY seq DESC`+limitSQL(limit)), id, beforeSeq)
	if err != nil {
		return nil, fmt.Errorf("store: messages of %q: %w", id, err)
	}
	msgs, err := db.scanMessages(ctx, rows, id, limit)
	if err != nil {
		return nil, err
	}
	slices.Reverse(msgs)
	return msgs, nil
}

// scanMessages reads the first limit rows of messageColumns of contact
// id and closes rows; none at all is ErrNotFound unless the contact
// exists.
func (db *DB) scanMessages(ctx context.Context, rows *sql.Rows, id string, limit int) ([]router.Message, error) {
	defer rows.Close()
	var msgs []router.Message
	for len(msgs) < limit && rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: messages of %q: %w", id, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages of %q: %w", id, err)
	}
	if len(msgs) == 0 {
		if err := db.contactExists(ctx, id); err != nil {
			return nil, fmt.Errorf("store: messages of %q: %w", id, err)
		}
	}
	return msgs, nil
}

// contactExists returns nil if contact id is stored, ErrNotFound if not.
func (db *DB) contactExists(ctx context.Context, id string) error {
	var one int
	err := db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT 1 FROM contacts WHERE id = ?`), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
