package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/router"
)

// Page sizes of Contacts.
const (
	// DefaultContactLimit is the page size when ContactFilter.Limit <= 0.
	DefaultContactLimit = 50
	// MaxContactLimit caps ContactFilter.Limit.
	MaxContactLimit = 500
)

// ContactFilter selects contacts for Contacts. Empty fields match
// everything.
type ContactFilter struct {
	// State, Channel and Queue match the contact's exactly.
	State   string
	Channel string
	Queue   string
	// Customer matches the customer's id, email or phone exactly.
	Customer string
	// AgentID matches the contact's agent (the one it is offered to or
	// with, or who last had it) exactly.
	AgentID string
	// Tag matches the contacts carrying it (router.NormalizeTag's form).
	Tag string
	// Limit is the page size: DefaultContactLimit when <= 0, at most
	// MaxContactLimit.
	Limit int
	// Cursor is ContactPage.Next of the previous page; empty for the first.
	Cursor string
}

// ContactPage is one page of Contacts.
type ContactPage struct {
	// Contacts are newest first, by (CreatedAt, ID) descending.
	Contacts []router.Contact
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// Contacts returns one page of the contacts matching f, newest first. A
// cursor that was not returned by an earlier page fails with an error
// wrapping ErrBadCursor. Pages are stable under inserts: a walk sees
// each contact created before it started exactly once.
func (db *DB) Contacts(ctx context.Context, f ContactFilter) (ContactPage, error) {
	q, args, limit, err := contactsQuery(f)
	if err != nil {
		return ContactPage{}, err
	}
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, q), args...)
	if err != nil {
		return ContactPage{}, fmt.Errorf("store: contacts: %w", err)
	}
	defer rows.Close()
	var (
		page   ContactPage
		lastAt int64
	)
	for rows.Next() {
		if len(page.Contacts) == limit {
			last := page.Contacts[limit-1]
			page.Next = encodeCursor(lastAt, last.ID)
			break
		}
		var c router.Contact
		c, lastAt, err = scanContactCreated(rows)
		if err != nil {
			return ContactPage{}, fmt.Errorf("store: contacts: %w", err)
		}
		page.Contacts = append(page.Contacts, c)
	}
	if err := rows.Err(); err != nil {
		return ContactPage{}, fmt.Errorf("store: contacts: %w", err)
	}
	return page, nil
}

// contactsQuery builds the query of Contacts for f, with its arguments
// and the page size. It asks for one row more than the page, to tell
// whether there is a next page.
func contactsQuery(f ContactFilter) (query string, args []any, limit int, err error) {
	limit = f.Limit
	if limit <= 0 {
		limit = DefaultContactLimit
	}
	limit = min(limit, MaxContactLimit)

	var where []string
	for _, eq := range []struct{ col, val string }{
		{"state", f.State}, {"channel", f.Channel}, {"queue", f.Queue}, {"agent_id", f.AgentID},
	} {
		if eq.val != "" {
			where = append(where, eq.col+" = ?")
			args = append(args, eq.val)
		}
	}
	if f.Customer != "" {
		where = append(where, "(customer_id = ? OR customer_email = ? OR customer_phone = ?)")
		args = append(args, f.Customer, f.Customer, f.Customer)
	}
	if f.Tag != "" {
		where = append(where, "id IN (SELECT contact_id FROM contact_tags WHERE tag = ?)")
		args = append(args, f.Tag)
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, 0, fmt.Errorf("store: contacts: cursor %q: %w", f.Cursor, err)
		}
		where = append(where, "(created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, at, at, id)
	}
	query = `SELECT data, idempotency_key, idempotency_hash, created_at FROM contacts`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	return query, args, limit, nil
}

// scanContactCreated scans a contact followed by its created_at column.
func scanContactCreated(rows interface{ Scan(...any) error }) (router.Contact, int64, error) {
	var at int64
	c, err := scanContact(scanFunc(func(dest ...any) error {
		return rows.Scan(append(dest, &at)...)
	}))
	return c, at, err
}

// scanFunc adapts a function to the Scan method scanContact wants.
type scanFunc func(dest ...any) error

// Scan calls f.
func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// encodeCursor makes the opaque cursor of the row (createdAt, id): the
// next page starts strictly after it in (created_at, id) descending order.
func encodeCursor(createdAt int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(createdAt, 10) + ":" + id))
}

// decodeCursor is the inverse of encodeCursor; its errors wrap
// ErrBadCursor.
func decodeCursor(s string) (createdAt int64, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	at, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return 0, "", ErrBadCursor
	}
	createdAt, err = strconv.ParseInt(at, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	return createdAt, id, nil
}
