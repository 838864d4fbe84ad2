package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/switchboard/switchboard/router"
)

// DefaultPath is the database file used when Options.Path is empty.
const DefaultPath = "switchboard.db"

// busyTimeoutMillis is how long a connection waits for a lock held by
// another connection (or another process) before failing with SQLITE_BUSY.
const busyTimeoutMillis = 5000

// maxReaders bounds the read pool; WAL lets readers run beside the writer.
var maxReaders = max(4, runtime.GOMAXPROCS(0))

// The databases Open knows, for Options.Driver.
const (
	// DriverSQLite is an embedded SQLite file (Options.Path): the default.
	DriverSQLite = "sqlite"
	// DriverPostgres is a PostgreSQL server (Options.DSN).
	DriverPostgres = "postgres"
)

// Options configure Open. A nil *Options means the defaults.
type Options struct {
	// Driver is DriverSQLite (the default, also when empty) or
	// DriverPostgres.
	Driver string
	// DSN is PostgreSQL's connection URL or keyword/value string (see
	// pgx.ParseConfig), for DriverPostgres only. It may hold a password:
	// errors never quote it.
	DSN string
	// Path is SQLite's database file; its directory is created if missing.
	// Default DefaultPath. SQLite adds Path-wal and Path-shm beside it.
	Path string
	// Synchronous is SQLite's synchronous setting: "full" (the default)
	// makes every Commit durable against power loss; "normal" is faster
	// but a power cut may lose the last commits (never corrupting the
	// file). Case-insensitive. On PostgreSQL "normal" turns
	// synchronous_commit off for the store's writes: the same trade.
	Synchronous string
	// WriteCacheMiB is the page cache of the write connection, in MiB; 0
	// means SQLite's default (2 MiB). A bulk write such as
	// ImportCustomers inserts into indexes larger than the default, and
	// reads their pages again and again without a larger one. PostgreSQL
	// ignores it (its server's shared_buffers serve every connection).
	WriteCacheMiB int
	// StalledWriteTimeout (PostgreSQL) ends the session of a write
	// transaction left idle this long (idle_in_transaction_session_timeout
	// on the writing sessions): a leader stopped in the middle of one
	// holds the lease row's lock (lease.go), which would block every
	// takeover for as long as it stays stopped. routerd sets it to the
	// lease's length; 0 is DefaultStalledWriteTimeout.
	StalledWriteTimeout time.Duration
}

// DefaultStalledWriteTimeout is Options.StalledWriteTimeout's default.
const DefaultStalledWriteTimeout = 10 * time.Second

// DB is the store, on SQLite or PostgreSQL. It is safe for concurrent use.
type DB struct {
	// write is the single connection used by Commit (and migrations):
	// one writer, on either database.
	write *sql.DB
	// read is a pool of read-only connections for Load and the queries.
	read    *sql.DB
	dialect dialect
	// stmts are Commit's statements, prepared once on the write
	// connection and bound to each transaction with Tx.StmtContext.
	stmts commitStmts
	// readStmts caches prepared queries of the read pool that are hot
	// and costly to parse (readStmt): query text → *sql.Stmt.
	readStmts sync.Map
	// lease is PostgreSQL's small pool for the leader's lease (lease.go),
	// apart from the writer so that a renewal never waits behind a
	// commit; nil on SQLite.
	lease *sql.DB
	// fence, once set, is checked by every write (lease.go).
	fence atomic.Pointer[fence]
	// syncFull: SQLite's commits wait for the disk (synchronous full);
	// DeferSync lowers it for one transaction.
	syncFull bool
	// pruneBatch is how many rows one statement of a prune deletes
	// (deleteBatched): defaultPruneBatch; tests lower it.
	pruneBatch int
}

var _ router.Store = (*DB)(nil)

// Open opens (creating if needed) the database at opts.Path, applies any
// pending schema migrations, and prepares the commit statements.
func Open(ctx context.Context, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	sync := strings.ToLower(o.Synchronous)
	switch sync {
	case "":
		sync = "full"
	case "full", "normal":
	default:
		return nil, fmt.Errorf("%w: synchronous %q: want \"full\" or \"normal\"", ErrBadOptions, o.Synchronous)
	}
	switch o.Driver {
	case "", DriverSQLite:
	case DriverPostgres:
		if o.Path != "" {
			return nil, fmt.Errorf("%w: path %q is SQLite's; PostgreSQL takes a DSN", ErrBadOptions, o.Path)
		}
		stalled := o.StalledWriteTimeout
		if stalled <= 0 {
			stalled = DefaultStalledWriteTimeout
		}
		return openPostgres(ctx, o.DSN, sync == "full", stalled)
	default:
		return nil, fmt.Errorf("%w: driver %q: want %q or %q", ErrBadOptions, o.Driver, DriverSQLite, DriverPostgres)
	}
	if o.DSN != "" {
		return nil, fmt.Errorf("%w: a DSN is PostgreSQL's; SQLite takes a path", ErrBadOptions)
	}
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if err := checkPath(o.Path); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(o.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: open: create directory: %w", err)
		}
	}

	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(%s)", busyTimeoutMillis, sync)
	// The writer takes the write lock at BEGIN (immediate), so a
	// transaction never fails half-way on a lock upgrade.
	writeDSN := o.Path + "?" + common + "&_pragma=journal_mode(WAL)&_txlock=immediate"
	switch {
	case o.WriteCacheMiB < 0:
		return nil, fmt.Errorf("%w: write cache %d MiB: want 0 (the default) or more", ErrBadOptions, o.WriteCacheMiB)
	case o.WriteCacheMiB > 0:
		// A negative cache_size is in KiB.
		writeDSN += fmt.Sprintf("&_pragma=cache_size(-%d)", o.WriteCacheMiB<<10)
	}
	write, err := sql.Open("sqlite", writeDSN)
	if err != nil {
		return nil, fmt.Errorf("store: open: write connection: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	db := &DB{write: write, dialect: sqliteDialect, syncFull: sync == "full", pruneBatch: defaultPruneBatch}
	if err := db.initSQLite(ctx, o.Path, common); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// initSQLite checks the write connection, migrates, opens the read pool
// and prepares the commit statements.
func (db *DB) initSQLite(ctx context.Context, path, common string) error {
	var mode string
	if err := db.write.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("store: open: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("store: open: journal_mode is %q, want wal", mode)
	}
	read, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("store: open: read pool: %w", err)
	}
	return db.init(ctx, read)
}

// init migrates, sets up the read pool read and prepares the commit
// statements.
func (db *DB) init(ctx context.Context, read *sql.DB) error {
	if err := migrate(ctx, db.write, db.dialect); err != nil {
		return errors.Join(err, read.Close())
	}
	read.SetMaxOpenConns(maxReaders)
	read.SetMaxIdleConns(maxReaders)
	db.read = read
	if err := read.PingContext(ctx); err != nil {
		return fmt.Errorf("store: open: read pool: %w", err)
	}
	if err := db.stmts.prepare(ctx, db.write, db.dialect); err != nil {
		return err
	}
	return nil
}

// Driver returns the database the store runs on: DriverSQLite or
// DriverPostgres.
func (db *DB) Driver() string { return db.dialect.name }

// Close closes the statements and connections. Commit and the queries
// must not be called after it.
func (db *DB) Close() error {
	var errs []error
	errs = append(errs, db.stmts.close())
	db.readStmts.Range(func(_, st any) bool {
		if err := st.(*sql.Stmt).Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close statement: %w", err))
		}
		return true
	})
	if db.read != nil {
		if err := db.read.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close read pool: %w", err))
		}
	}
	if err := db.write.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close write connection: %w", err))
	}
	if db.lease != nil {
		if err := db.lease.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: close lease pool: %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkPath refuses a SQLite path that is not a plain file's: the
// driver's DSN takes the path as it is and adds its own query.
func checkPath(path string) error {
	if strings.ContainsAny(path, "?#") || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("%w: path %q: want a plain file path without ? or #", ErrBadOptions, path)
	}
	return nil
}
