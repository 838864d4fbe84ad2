// Package store is Switchboard's durable store, on an embedded SQLite file
// or on PostgreSQL. It implements router.Store (Commit and Load) and the
// read queries of the HTTP API.
//
// Open the database once at start-up, hand it to the router as its Store,
// and to the API for reads:
//
//	db, err := store.Open(ctx, &store.Options{Path: "/var/lib/switchboard/switchboard.db"})
//	// or: store.Open(ctx, &store.Options{Driver: store.DriverPostgres, DSN: "postgres://…"})
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	loaded, err := db.Load(ctx) // the router's starting state
//	...
//	err = db.Commit(ctx, batch) // durable when it returns nil
//	page, err := db.Contacts(ctx, store.ContactFilter{State: "queued", Limit: 20})
//
// It also keeps the login credentials (bcrypt hashes, never passwords) and
// sessions (the SHA-256 of each token, never the token) of the API:
// SetCredential, Credential, ReplaceSessions, Session, DeleteSession,
// DeleteSessions.
//
// The schema is plain SQL (TEXT, INTEGER, BIGINT columns; times as BIGINT
// unix nanoseconds UTC, 0 for the zero time; maps and slices as JSON TEXT)
// shared by both databases. Every query is written once, with ?
// placeholders, and passes through rebind. What the two databases spell
// differently is a dialect value each (dialect_sqlite.go,
// dialect_postgres.go): migrations' column types, the migration lock,
// reads of one snapshot, and how Commit sends its statements.
//
// Writes go through a single connection on both (the router is the one
// writer; SQLite allows no other); reads use a separate pool of read-only
// connections, which SQLite's WAL lets run alongside the writer. A *DB is
// safe for concurrent use, though the router calls Commit from one
// goroutine.
package store
