package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"strconv"
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
	// Brief reads only what a list of contacts shows: ID, Channel, Queue,
	// Customer.ID, Subject, State, AgentID, CreatedAt, AssignedAt, EndedAt
	// and Disposition, from columns; the contacts' other fields are left
	// zero. The screen pop's history is brief: decoding the contacts'
	// JSON was a third of its cost.
	Brief bool
}

// TimelinePage is one page of CustomerTimeline.
type TimelinePage struct {
	// Contacts are newest first, by (CreatedAt, ID) descending.
	Contacts []router.Contact
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// The select lists of customerContactsQuery: a whole contact (scanned by
// scanContactCreated) and a brief one (scanBrief).
const (
	wholeContactColumns = "data, idempotency_key, idempotency_hash, created_at"
	briefContactColumns = "id, channel, queue, customer_id, subject, state, agent_id, created_at, assigned_at, ended_at, disposition"
)

// scanBrief scans the briefContactColumns of a contact, and returns its
// created_at column too.
func scanBrief(rows interface{ Scan(...any) error }) (router.Contact, int64, error) {
	var (
		c                        router.Contact
		state                    string
		created, assigned, ended int64
	)
	if err := rows.Scan(&c.ID, &c.Channel, &c.Queue, &c.Customer.ID, &c.Subject, &state, &c.AgentID,
		&created, &assigned, &ended, &c.Disposition); err != nil {
		return router.Contact{}, 0, err
	}
	c.State = router.ContactState(state)
	c.CreatedAt, c.AssignedAt, c.EndedAt = fromNanos(created), fromNanos(assigned), fromNanos(ended)
	return c, created, nil
}

// mergedCTE lists in merged(id) the customer given as its one argument
// and every customer merged into it, at any depth (a customer merged
// away keeps its id on its contacts, its identities move).
func mergedCTE(d dialect) string {
	return `WITH RECURSIVE merged(id) AS (
	SELECT ` + d.textParam + `
	UNION
	SELECT m.from_id FROM customer_merges m JOIN merged ON m.into_id = merged.id
)
`
}

// customerContactsQuery returns the query of the contacts a filter
// selects, with its arguments, newest first when newestFirst, else oldest
// first. Every branch of its WHERE reaches the contacts through an index
// (contacts_customer_id, _email, _phone): the cost is in the customer's
// contacts, never in the table's size (TestQueryPlans guards it; the
// store runs no ANALYZE, whose statistics could make a column that is
// mostly empty, such as customer_phone, look worth a scan). limit <= 0
// means no LIMIT; the cursor (the row the page starts after, newest
// first) is ignored when atID is empty. It selects columns
// (wholeContactColumns or briefContactColumns).
func customerContactsQuery(d dialect, columns, customerID, email, phone string, newestFirst bool, atNanos int64, atID string, limit int) (string, []any) {
	var (
		where []string
		args  []any
		query string
	)
	if customerID != "" {
		query = mergedCTE(d)
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
	query += `SELECT ` + columns + ` FROM contacts
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
// running it, and parsing costs a quarter of a screen pop's reads. The
// cache is bounded by the few shapes of the queries given to it (fixed
// texts; a paged read: one per limit limitSQL writes, at most eleven;
// CustomerTimeline: one per combination of the filter's fields set).
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

// limitSQL returns the LIMIT clause of a query kept prepared (readStmt)
// for a page of n rows: n rounded up to a power of two and written in
// the query's text, not bound. SQLite prepares a statement again each
// time the value bound to its LIMIT changes (BenchmarkMessagesLimits: a
// page of messages read with limits that alternate costs twice as much;
// the screen pop, the desktop and the receipts read pages of different
// sizes), and the rounding keeps the texts few: eleven for 1 to 1,000.
// The query returns up to twice n rows: its reader stops at n.
func limitSQL(n int) string {
	return " LIMIT " + strconv.Itoa(1<<bits.Len(uint(max(n, 1)-1)))
}

// readQuery runs query, prepared once on the read pool (readStmt).
func (db *DB) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// readRow runs query for one row, prepared once on the read pool
// (readStmt).
func (db *DB) readRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
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
	columns, scan := wholeContactColumns, scanContactCreated
	if f.Brief {
		columns, scan = briefContactColumns, scanBrief
	}
	q, args := customerContactsQuery(db.dialect, columns, f.CustomerID, f.Email, f.Phone, true, at, id, limit+1)
	rows, err := db.readQuery(ctx, rebind(db.dialect, q), args...)
	if err != nil {
		return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: %w", f.CustomerID, err)
	}
	defer rows.Close()
	var (
		page   = TimelinePage{Contacts: make([]router.Contact, 0, min(limit, 8))}
		lastAt int64
	)
	for rows.Next() {
		if len(page.Contacts) == limit {
			page.Next = encodeCursor(lastAt, page.Contacts[limit-1].ID)
			break
		}
		var c router.Contact
		if c, lastAt, err = scan(rows); err != nil {
			return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: %w", f.CustomerID, err)
		}
		page.Contacts = append(page.Contacts, c)
	}
	if err := rows.Err(); err != nil {
		return TimelinePage{}, fmt.Errorf("store: timeline of customer %q: %w", f.CustomerID, err)
	}
	return page, nil
}
