package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens the store on the PostgreSQL server of dsn.
//
// It goes through pgx's database/sql driver (stdlib) rather than pgx's
// native interface: every query of the package and its transactions then
// have one code path on both databases, and the shared test suite proves
// the same code. Commit alone, the router's hot path, takes the native
// connection underneath (commitPipelined): its statements travel in one
// pipeline rather than a round trip each.
//
// As on SQLite, one connection writes (the router is the single writer,
// committing in groups) and a pool reads; the pool's sessions are
// read-only (default_transaction_read_only), as SQLite's query_only.
// When durable is false the writer's commits do not wait for the WAL's
// flush (synchronous_commit off): a crash of the server may lose the last
// ones, never corrupt the database, like SQLite's synchronous=normal.
func openPostgres(ctx context.Context, dsn string, durable bool, stalled time.Duration) (*DB, error) {
	if dsn == "" {
		return nil, fmt.Errorf("%w: PostgreSQL needs a DSN (postgres://…)", ErrBadOptions)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// Not err: pgx redacts the password only at best, and a URL
		// parse error quotes the URL whole.
		return nil, fmt.Errorf("%w: the PostgreSQL DSN does not parse (its text is not repeated here: it may hold a password)", ErrBadOptions)
	}
	wcfg := cfg.Copy()
	if !durable {
		wcfg.RuntimeParams["synchronous_commit"] = "off"
	}
	// A writer stopped inside a transaction (SIGSTOP, a frozen VM) keeps
	// the lease row locked: the server ends its session after stalled,
	// and a takeover goes on.
	wcfg.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(max(stalled.Milliseconds(), 1), 10)
	write := stdlib.OpenDB(*wcfg)
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	read := stdlib.OpenDB(*rcfg)
	lease := stdlib.OpenDB(*cfg.Copy())
	lease.SetMaxOpenConns(2)

	db := &DB{write: write, lease: lease, dialect: postgresDialect, pruneBatch: defaultPruneBatch}
	if err := db.write.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open: connect to PostgreSQL: %w", err), read.Close(), write.Close(), lease.Close())
	}
	if err := db.init(ctx, read); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// commitPipelined runs ops in one transaction of the write connection,
// queued in one pgx.Batch: PostgreSQL's Commit. Through database/sql
// every statement would be a round trip to the server, hundreds for a
// group commit; pipelined, the batch costs three (begin, the statements,
// commit) whatever its size (docs/performance.md has the figures).
// Statements are prepared once per connection by pgx's statement cache.
func commitPipelined(ctx context.Context, db *DB, ops []commitOp) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: commit: connection: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) (err error) {
		pc := driverConn.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("store: commit: begin: %w", err)
		}
		defer func() {
			if err != nil {
				_ = tx.Rollback(ctx)
			}
		}()
		batch := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(ops)+1)}
		// The fence (lease.go) leads the pipeline: the statements after
		// it run, but the transaction commits only if it held.
		f := db.fence.Load()
		if f != nil {
			batch.Queue(fenceSQL, LeaderLease, f.holder, f.epoch)
		}
		for i := range ops {
			batch.Queue(ops[i].stmt.query, ops[i].args...)
		}
		br := tx.SendBatch(ctx, batch)
		if f != nil {
			tag, err := br.Exec()
			if err == nil && tag.RowsAffected() != 1 {
				err = fmt.Errorf("%w (epoch %d)", ErrFenced, f.epoch)
			} else if err != nil {
				err = fmt.Errorf("store: commit: check the lease: %w", err)
			}
			if err != nil {
				_ = br.Close()
				return err
			}
		}
		for i := range ops {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return ops[i].err(err)
			}
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("store: commit: %w", err)
		}
		return nil
	})
}
