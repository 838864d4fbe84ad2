package store

// sqliteDialect is SQLite's spelling: ? placeholders, the migrations as
// written, AUTOINCREMENT's sqlite_sequence. Its write transactions begin
// IMMEDIATE (Open's _txlock), which takes the database's write lock at
// BEGIN: that is the migrations' lock too.
var sqliteDialect = dialect{
	name:       DriverSQLite,
	schema:     func(stmt string) string { return stmt },
	textParam:  `CAST(? AS TEXT)`,
	commit:     commitPrepared,
	deferredTx: deferredTxSQLite,
	hasTable:   `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
	lastLogID:  `SELECT seq FROM sqlite_sequence WHERE name = 'event_log'`,
	rowID:      "rowid",
	// A read transaction of a WAL database sees one snapshot.
	snapshot: nil,
}
