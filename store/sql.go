package store

import (
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
)

// dialect says how a database spells query placeholders.
type dialect int

const (
	// dialectQuestion uses ? placeholders (SQLite, MySQL).
	dialectQuestion dialect = iota
	// dialectDollar uses $1, $2, ... placeholders (PostgreSQL).
	dialectDollar
)

// rebind rewrites the ? placeholders of query for d. Question marks inside
// single-quoted string literals or double-quoted identifiers are left
// alone. Every query of the package goes through it.
func rebind(d dialect, query string) string {
	if d == dialectQuestion {
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
