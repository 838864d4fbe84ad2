package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
)

// dialect is what differs between the databases the store runs on. The
// SQL of the package is written once, in the subset SQLite and PostgreSQL
// share; each database's own spelling of the rest is one value of this
// type, sqliteDialect (dialect_sqlite.go) and postgresDialect
// (dialect_postgres.go), and nowhere else.
type dialect struct {
	// name is the driver's name in Options.Driver.
	name string
	// numbered: placeholders are $1, $2, ... rather than ?.
	numbered bool
	// schema rewrites a statement of the migrations (written in
	// SQLite's spelling: INTEGER, REAL, json_extract) for the database.
	schema func(stmt string) string
	// lockMigrations, when set, is run first in the migration
	// transaction so that two nodes starting together migrate once.
	lockMigrations string
	// lastLogID selects the highest id the event log ever gave, pruned or
	// not; no row or NULL for none.
	lastLogID string
	// textParam is a ? placeholder typed as text of the columns'
	// collation, for a value a query unions with a column.
	textParam string
	// hasTable counts the tables named by its one argument (0 or 1).
	hasTable string
	// commit runs Commit's statements in one transaction of the write
	// connection (commitPrepared, commitPipelined).
	commit func(ctx context.Context, db *DB, ops []commitOp) error
	// deferredTx runs f in a write transaction whose commit does not
	// wait for the disk (DeferSync).
	deferredTx func(ctx context.Context, db *DB, f func(tx *sql.Tx) error) error
	// snapshot are the options of a read transaction whose statements
	// all see one snapshot (Load).
	snapshot *sql.TxOptions
	// rowID names a row of any table, for deleteBatched: SQLite's rowid,
	// PostgreSQL's ctid.
	rowID string
}

// rebind rewrites the ? placeholders of query for d. Question marks inside
// single-quoted string literals or double-quoted identifiers are left
// alone. Every query of the package goes through it.
func rebind(d dialect, query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	var quote byte // the open quote character, 0 outside quotes
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// toNanos returns t as unix nanoseconds, 0 for the zero time.
func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of toNanos; times come back in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullIfEmpty stores the empty string as NULL, for columns that are
// unique only when set.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// marshalJSON is json.Marshal returning a string for a TEXT column.
func marshalJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// unmarshalJSON is json.Unmarshal of a TEXT column.
func unmarshalJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// scanContact reads the data, idempotency_key and idempotency_hash columns
// of a contacts row.
func scanContact(row interface{ Scan(...any) error }) (router.Contact, error) {
	var (
		data string
		key  sql.NullString
		hash string
		rec  contactRecord
	)
	if err := row.Scan(&data, &key, &hash); err != nil {
		return router.Contact{}, err
	}
	if err := json.Unmarshal([]byte(data), &rec); err != nil {
		return router.Contact{}, err
	}
	c, err := rec.contact()
	if err != nil {
		return router.Contact{}, err
	}
	c.IdempotencyKey = key.String
	c.IdempotencyHash = hash
	return c, nil
}
