// Package store is Switchboard's embedded SQLite store. It implements
// router.Store (Commit and Load) and the read queries of the HTTP API.
//
// Open the database once at start-up, hand it to the router as its Store,
// and to the API for reads:
//
//	db, err := store.Open(ctx, &store.Options{Path: "/var/lib/switchboard/switchboard.db"})
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
// so that a PostgreSQL implementation can share it. Every query is written
// with ? placeholders and passes through rebind.
//
// Writes go through a single connection (SQLite allows one writer); reads
// use a separate pool of read-only connections, which WAL lets run
// alongside the writer. A *DB is safe for concurrent use, though the router
// calls Commit from one goroutine.
package store
