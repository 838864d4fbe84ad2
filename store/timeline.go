package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/router"
)

// Page sizes of CustomerTimeline.
const (
	// DefaultTimelineLimit is the page size when TimelineFilter.Limit <= 0.
	DefaultTimelineLimit = 20
	// MaxTimelineLimit caps TimelineFilter.Limit.
	MaxTimelineLimit = 100
)

// TimelineFilter selects a customer's contacts for CustomerTimeline.
type TimelineFilter struct {
	// CustomerID selects the contacts of the customer and of every
	// customer merged into it (at any depth), and the contacts whose email
	// or phone is one those customers hold. Empty selects none of these.
	CustomerID string
	// Email and Phone, when not empty, also select the contacts whose
	// email or phone is exactly this (the screen pop: a contact's own
	// claims, which no profile may hold).
	Email, Phone string
	// Limit is the page size: DefaultTimelineLimit when <= 0, at most
	// MaxTimelineLimit.
	Limit int
	// Cursor is TimelinePage.Next of the previous page; empty for the first.
	Cursor string
}

// TimelinePage is one page of CustomerTimeline.
type TimelinePage struct {
	// Contacts are newest first, by (CreatedAt, ID) descending.
	Contacts []router.Contact
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// mergedCTE lists in merged(id) the customer given as its one argument
// and every customer merged into it, at any depth (a customer merged
// away keeps its id on its contacts, its identities move).
const mergedCTE = `WITH RECURSIVE merged(id) AS (
	SELECT CAST(? AS TEXT)
	UNION
	SELECT m.from_id FROM customer_merges m JOIN merged ON m.into_id = merged.id
)
`

// customerContactsQuery returns the query of the contacts a filter
// selects, with its arguments, newest first when newestFirst, else oldest
// first. Every branch of its WHERE reaches the contacts through an index
// (contacts_customer_id, _email, _phone): the cost is in the customer's
// contacts, never in the table's size (TestQueryPlans guards it; the
// store runs no ANALYZE, whose statistics could make a column that is
// mostly empty, such as customer_phone, look worth a scan). limit <= 0
// means no LIMIT; the
// cursor (the row the page starts after, newest first) is ignored when
// atID is empty. It selects data, idempotency_key, idempotency_hash and
// created_at.
func customerContactsQuery(customerID, email, phone string, newestFirst bool, atNanos int64, atID string, limit int) (string, []any) {
	var (
		where []string
		args  []any
		query string
	)
	if customerID != "" {
		query = mergedCTE
		args = append(args, customerID)
		where = append(where,
			"customer_id IN (SELECT id FROM merged)",
			"customer_email IN (SELECT value FROM customer_identities WHERE kind = 'email' AND customer_id IN (SELECT id FROM merged))",
			"customer_phone IN (SELECT value FROM customer_identities WHERE kind = 'phone' AND customer_id IN (SELECT id FROM merged))")
	}
	if email != "" {
		where = append(where, "customer_email = ?")
		args = append(args, email)
	}
	if phone != "" {
		where = append(where, "customer_phone = ?")
		args = append(args, phone)
	}
	if len(where) == 0 {
		where = append(where, "1 = 0")
	}
	query += `SELECT data, idempotency_key, idempotency_hash, created_at FROM contacts
WHERE (` + strings.Join(where, "\n\tOR ") + ")"
	if atID != "" {
		// The unary + keeps the planner from walking contacts_created
		// from the cursor instead of the customer's indexes.
		query += "\n\tAND (+created_at < ? OR (+created_at = ? AND id < ?))"
		args = append(args, atNanos, atNanos, atID)
	}
	if newestFirst {
		query += "\nORDER BY created_at DESC, id DESC"
	} else {
		query += "\nORDER BY created_at, id"
	}
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	return query, args
}

// readStmt returns query prepared on the read pool, preparing it on
// first use: parsing the timeline's query costs ten times as much as
// running it. The cache is bounded by the few shapes of the queries
// given to it (CustomerTimeline: one per combination of the filter's
// fields set).
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.readStmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.readStmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// CustomerTimeline returns one page of a customer's contacts on every
// channel, newest first: those f selects (see TimelineFilter). It is one
// query. A cursor that was not returned by an earlier page fails with an
// error wrapping ErrBadCursor. An unknown customer has no contacts: the
// page is empty, not an error. It is safe for concurrent use.
func (db *DB) CustomerTimeline(ctx context.Context, f TimelineFilter) (TimelinePage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultTimelineLimit
	}
	limit = min(limit, MaxTimelineLimit)
	var (
		at int64
		id string
	)
	if f.Cursor != "" {
		var err error
		if at, id, err = decodeCursor(f.Cursor); err != nil {
			return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: cursor %q: %w", f.CustomerID, f.Cursor, err)
		}
	}
	q, args := customerContactsQuery(f.CustomerID, f.Email, f.Phone, true, at, id, limit+1)
	st, err := db.readStmt(ctx, rebind(db.dialect, q))
	if err != nil {
		return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: prepare: %w", f.CustomerID, err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: %w", f.CustomerID, err)
	}
	defer rows.Close()
	var (
		page   TimelinePage
		lastAt int64
	)
	for rows.Next() {
		if len(page.Contacts) == limit {
			page.Next = encodeCursor(lastAt, page.Contacts[limit-1].ID)
			break
		}
		var c router.Contact
		if c, lastAt, err = scanContactCreated(rows); err != nil {
			return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: %w", f.CustomerID, err)
		}
		page.Contacts = append(page.Contacts, c)
	}
	if err := rows.Err(); err != nil {
		return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: %w", f.CustomerID, err)
	}
	return page, nil
}
