package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The leader's lease (PostgreSQL only; docs/ha.md).
//
// One row of the leases table names the process that leads, where the
// other nodes reach it, and an epoch that grows by one at every change of
// holder. Acquiring, renewing and releasing are single atomic statements
// on the database's own clock, so the nodes' clocks never have to agree.
// Safety does not rest on the lease's time but on the epoch: once Fence
// is called, every write transaction of the DB first locks the lease row
// where it still names this holder and epoch (fenceSQL), and a write
// that finds another epoch fails with ErrFenced and changes nothing. A
// takeover's UPDATE of the row waits for a write in flight to commit, and
// every write after the takeover sees the new epoch: no write of a
// deposed leader lands after its successor loaded the state.
//
// No advisory locks and no reliance on one connection staying open: the
// statements are ordinary ones on any connection, so that PgBouncer's
// transaction pooling and a reconnect change nothing.

// LeaderLease is the name of the routing leader's lease.
const LeaderLease = "leader"

// ErrFenced is the error of a write, or of renewing a lease, after
// another process took the lease: this one must stop writing.
var ErrFenced = errors.New("store: fenced: another node holds the lease")

// ErrNoLease is the error of the lease operations on SQLite, which serves
// one node.
var ErrNoLease = errors.New("store: leases need PostgreSQL")

// Lease is the state of a lease as read.
type Lease struct {
	Holder  string
	Address string
	Epoch   int64
	// Left is how long the lease had to run when read, on the database's
	// clock; zero or less when it has expired.
	Left time.Duration
}

// nowNanos is the database's clock in unix nanoseconds. clock_timestamp,
// not now(): now() is the transaction's start.
const nowNanos = `CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000 AS BIGINT)`

const (
	acquireLeaseSQL = `INSERT INTO leases AS l (name, holder, address, epoch, expires_at)
VALUES ($1, $2, $3, 1, ` + nowNanos + ` + $4)
ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, address = EXCLUDED.address,
	epoch = l.epoch + 1, expires_at = EXCLUDED.expires_at
WHERE l.expires_at <= ` + nowNanos + `
RETURNING epoch`
	readLeaseSQL = `SELECT holder, address, epoch, expires_at - ` + nowNanos + ` FROM leases WHERE name = $1`
	// Renewing does not require the lease to be unexpired: while no one
	// took it, the epoch is still this holder's and renewing is safe.
	renewLeaseSQL   = `UPDATE leases SET expires_at = ` + nowNanos + ` + $4 WHERE name = $1 AND holder = $2 AND epoch = $3`
	releaseLeaseSQL = `UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2 AND epoch = $3`
	// fenceSQL locks the lease row (as an UPDATE of it would, without
	// writing a row version) where it is still the fenced holder's.
	fenceSQL = `SELECT epoch FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 FOR NO KEY UPDATE`
)

// fence is what every write checks once Fence was called.
type fence struct {
	holder string
	epoch  int64
}

// AcquireLease takes the lease name for holder, reachable at address,
// for ttl, if it is free or expired: ok says whether it did, and l is the
// lease as it is now (the new one, or the holder's that stands).
func (db *DB) AcquireLease(ctx context.Context, name, holder, address string, ttl time.Duration) (l Lease, ok bool, err error) {
	if db.lease == nil {
		return Lease{}, false, ErrNoLease
	}
	var epoch int64
	err = db.lease.QueryRowContext(ctx, acquireLeaseSQL, name, holder, address, ttl.Nanoseconds()).Scan(&epoch)
	switch {
	case err == nil:
		return Lease{Holder: holder, Address: address, Epoch: epoch, Left: ttl}, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Lease{}, false, fmt.Errorf("store: acquire lease %q: %w", name, err)
	}
	l, _, err = db.ReadLease(ctx, name)
	return l, false, err
}

// ReadLease reads the lease name; found is false when no one ever held it.
func (db *DB) ReadLease(ctx context.Context, name string) (l Lease, found bool, err error) {
	if db.lease == nil {
		return Lease{}, false, ErrNoLease
	}
	var left int64
	err = db.lease.QueryRowContext(ctx, readLeaseSQL, name).Scan(&l.Holder, &l.Address, &l.Epoch, &left)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Lease{}, false, nil
	case err != nil:
		return Lease{}, false, fmt.Errorf("store: read lease %q: %w", name, err)
	}
	l.Left = time.Duration(left)
	return l, true, nil
}

// RenewLease extends the lease name of holder at epoch to ttl from now;
// ErrFenced if another took it.
func (db *DB) RenewLease(ctx context.Context, name, holder string, epoch int64, ttl time.Duration) error {
	return db.leaseUpdate(ctx, "renew", renewLeaseSQL, name, holder, epoch, ttl.Nanoseconds())
}

// ReleaseLease ends the lease name of holder at epoch now, so that a
// standby takes over at once instead of after the lease's time; ErrFenced
// if another already took it.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string, epoch int64) error {
	return db.leaseUpdate(ctx, "release", releaseLeaseSQL, name, holder, epoch)
}

func (db *DB) leaseUpdate(ctx context.Context, step, query, name, holder string, epoch int64, args ...any) error {
	if db.lease == nil {
		return ErrNoLease
	}
	res, err := db.lease.ExecContext(ctx, query, append([]any{name, holder, epoch}, args...)...)
	if err != nil {
		return fmt.Errorf("store: %s lease %q: %w", step, name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: %s lease %q: %w", step, name, err)
	} else if n != 1 {
		return fmt.Errorf("%w (%s lease %q at epoch %d)", ErrFenced, step, name, epoch)
	}
	return nil
}

// Fence makes every later write of db (Commit and the other writes)
// check, in its own transaction, that holder still holds the leader's
// lease at epoch, and fail with ErrFenced otherwise. Call it once, after
// AcquireLease and before the first write as leader.
func (db *DB) Fence(holder string, epoch int64) error {
	if db.lease == nil {
		return ErrNoLease
	}
	db.fence.Store(&fence{holder: holder, epoch: epoch})
	return nil
}

// fenceTx checks the fence, if any, in tx: the first statement of every
// write transaction.
func (db *DB) fenceTx(ctx context.Context, tx *sql.Tx) error {
	f := db.fence.Load()
	if f == nil {
		return nil
	}
	var epoch int64
	err := tx.QueryRowContext(ctx, fenceSQL, LeaderLease, f.holder, f.epoch).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w (epoch %d)", ErrFenced, f.epoch)
	}
	if err != nil {
		return fmt.Errorf("store: check the lease: %w", err)
	}
	return nil
}

// beginWrite begins a write transaction, fenced.
func (db *DB) beginWrite(ctx context.Context) (*sql.Tx, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := db.fenceTx(ctx, tx); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// execWrite runs one write statement, in a fenced transaction when db is
// fenced.
func (db *DB) execWrite(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.fence.Load() == nil {
		return db.write.ExecContext(ctx, query, args...)
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return res, tx.Commit()
}

// Secret returns the shared secret name, storing the one generate makes
// if there is none yet: the first node to ask writes it, every other
// node reads that one.
func (db *DB) Secret(ctx context.Context, name string, generate func() (string, error)) (string, error) {
	var v string
	err := db.write.QueryRowContext(ctx, rebind(db.dialect, `SELECT value FROM secrets WHERE name = ?`), name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: read secret %q: %w", name, err)
	}
	if v, err = generate(); err != nil {
		return "", err
	}
	if _, err := db.write.ExecContext(ctx, rebind(db.dialect, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`),
		name, v, toNanos(time.Now())); err != nil {
		return "", fmt.Errorf("store: write secret %q: %w", name, err)
	}
	// Another node may have written first: its value is the one.
	if err := db.write.QueryRowContext(ctx, rebind(db.dialect, `SELECT value FROM secrets WHERE name = ?`), name).Scan(&v); err != nil {
		return "", fmt.Errorf("store: read secret %q: %w", name, err)
	}
	return v, nil
}
