package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
)

// deferSyncKey marks a context whose writes wait for the next durable
// commit (DeferSync).
type deferSyncKey struct{}

// DeferSync returns a context whose writes outside Commit (the customer
// writes: CreateCustomer, AddIdentity, MergeCustomers, PutCustomer, and
// the others of this package's transactions) commit without waiting for
// the disk: they become durable with the next durable commit, which the
// caller makes at once. Intake uses it for the profile a new contact's
// customer gets, which the contact's own commit (its Submit) follows: a
// new customer's first contact pays one fsync, not two in series.
//
// Why that holds: both databases keep one ordered log (SQLite's WAL,
// PostgreSQL's WAL), and a durable commit makes every commit before it
// in the log durable too. A crash before the next durable commit loses
// the deferred writes, and so the contact that needed them, which
// nobody was told about; never a contact without its customer.
func DeferSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferSyncKey{}, true)
}

func syncDeferred(ctx context.Context) bool {
	v, _ := ctx.Value(deferSyncKey{}).(bool)
	return v
}

// deferredTxPostgres: SET LOCAL scopes synchronous_commit to the
// transaction.
func deferredTxPostgres(ctx context.Context, db *DB, f func(tx *sql.Tx) error) error {
	return db.inPlainTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("defer sync: %w", err)
		}
		return f(tx)
	})
}

// deferredTxSQLite: the synchronous setting is the connection's, and
// cannot change inside a transaction. The writer connection is held
// from the setting's change to its restoration, so that no other commit
// runs on the weaker setting; if the setting cannot be restored, the
// connection is discarded (a new one opens with the configured one).
func deferredTxSQLite(ctx context.Context, db *DB, f func(tx *sql.Tx) error) (err error) {
	if !db.syncFull {
		return db.inPlainTx(ctx, f) // no commit waits for the disk anyway
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	// The restoration is armed before the change, and neither runs under
	// ctx: a cancel after the statement ran may still report an error,
	// and the connection must never go back to the pool on NORMAL.
	defer func() {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("restore synchronous: %w", rerr))
		}
	}()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("defer sync: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := db.fenceTx(ctx, tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("begin: %w", err)
	}
	return commitAfter(tx, f)
}
