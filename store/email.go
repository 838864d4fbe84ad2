package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// EmailCheckpoint is how far the email channel has read one mailbox.
type EmailCheckpoint struct {
	// UIDValidity is the mailbox's UIDVALIDITY when LastUID was read;
	// UIDs of another UIDVALIDITY mean nothing.
	UIDValidity uint32
	// LastUID is the highest UID whose message is committed (and, when
	// configured, flagged or moved).
	LastUID uint32
	// Since, when not zero, limits the reading to mail received since
	// that day: while a first read from a start date, or a read again
	// after a UIDVALIDITY change, is under way.
	Since time.Time
	// Newest is the internal date of the newest message taken in: after
	// a UIDVALIDITY change the mailbox is read again from a little
	// before it.
	Newest time.Time
	// FloorUID and FloorSince are where the mailbox's intake began (for
	// this UIDVALIDITY): the UID before the first message to take in
	// (the next UID at a first connect that takes only new mail; 0
	// otherwise), and the day a read by date began (zero for none). The
	// resynchronisation's sweep looks at nothing below them, so that
	// old mail is never taken in by surprise.
	FloorUID   uint32
	FloorSince time.Time
	UpdatedAt  time.Time
}

// EmailCheckpoint returns mailbox's checkpoint; found is false when none
// is stored (the mailbox was never read).
func (db *DB) EmailCheckpoint(ctx context.Context, mailbox string) (cp EmailCheckpoint, found bool, err error) {
	var validity, last, since, newest, floorUID, floorSince, updated int64
	err = db.read.QueryRowContext(ctx, rebind(db.dialect,
		`SELECT uid_validity, last_uid, since, newest, floor_uid, floor_since, updated_at FROM email_checkpoints WHERE mailbox = ?`), mailbox).
		Scan(&validity, &last, &since, &newest, &floorUID, &floorSince, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return EmailCheckpoint{}, false, nil
	}
	if err != nil {
		return EmailCheckpoint{}, false, fmt.Errorf("store: email checkpoint %q: %w", mailbox, err)
	}
	return EmailCheckpoint{UIDValidity: uint32(validity), LastUID: uint32(last), Since: fromNanos(since), Newest: fromNanos(newest),
		FloorUID: uint32(floorUID), FloorSince: fromNanos(floorSince), UpdatedAt: fromNanos(updated)}, true, nil
}

// PutEmailCheckpoint stores mailbox's checkpoint, replacing the one
// before.
func (db *DB) PutEmailCheckpoint(ctx context.Context, mailbox string, cp EmailCheckpoint) error {
	if cp.UpdatedAt.IsZero() {
		cp.UpdatedAt = time.Now()
	}
	return db.inTx(ctx, "put email checkpoint "+mailbox, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO email_checkpoints (mailbox, uid_validity, last_uid, since, newest, floor_uid, floor_since, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid,
	since = excluded.since, newest = excluded.newest, floor_uid = excluded.floor_uid, floor_since = excluded.floor_since,
	updated_at = excluded.updated_at`),
			mailbox, int64(cp.UIDValidity), int64(cp.LastUID), toNanos(cp.Since), toNanos(cp.Newest),
			int64(cp.FloorUID), toNanos(cp.FloorSince), toNanos(cp.UpdatedAt))
		return err
	})
}

// EmailRefreshToken returns the OAuth refresh token stored under name;
// found is false when none is (the configured one is the first).
func (db *DB) EmailRefreshToken(ctx context.Context, name string) (token string, found bool, err error) {
	err = db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT refresh_token FROM email_oauth_tokens WHERE name = ?`), name).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: email refresh token %q: %w", name, err)
	}
	return token, true, nil
}

// PutEmailRefreshToken stores the refresh token the provider rotated to.
func (db *DB) PutEmailRefreshToken(ctx context.Context, name, token string) error {
	return db.inTx(ctx, "put email refresh token "+name, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO email_oauth_tokens (name, refresh_token, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET refresh_token = excluded.refresh_token, updated_at = excluded.updated_at`), name, token, time.Now().UnixNano())
		return err
	})
}
