package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SessionIDLen is the length of a session's id: the first hex characters
// of its token hash.
const SessionIDLen = 16

// Credential is a login's password hash and role.
type Credential struct {
	// LoginID is an agent id, or a supervisor's login name.
	LoginID string
	// Hash is the bcrypt hash of the password; never the password.
	Hash string
	// Role is "agent" or "supervisor".
	Role      string
	UpdatedAt time.Time
}

// Session is a login session. The store keeps the hash of its token,
// never the token.
type Session struct {
	// TokenHash is the hex SHA-256 of the session token; unique.
	TokenHash string
	LoginID   string
	// Role is the credential's role when the session began.
	Role      string
	CreatedAt time.Time
	// ExpiresAt is when the session stops being valid. The store keeps
	// expired sessions until DeleteExpiredSessions; readers check it.
	ExpiresAt time.Time
}

// ID returns the session's id: the first SessionIDLen characters of its
// token hash. It names the session in logs and to the WebSocket hub; it
// cannot be used to authenticate.
func (s Session) ID() string { return SessionID(s.TokenHash) }

// SessionID returns the id of the session whose token hash is tokenHash.
func SessionID(tokenHash string) string {
	if len(tokenHash) > SessionIDLen {
		return tokenHash[:SessionIDLen]
	}
	return tokenHash
}

// SetCredential creates or replaces the credential of c.LoginID.
func (db *DB) SetCredential(ctx context.Context, c Credential) error {
	if c.LoginID == "" || c.Hash == "" || c.Role == "" {
		return fmt.Errorf("%w: credential: login id, hash and role are required", ErrBadOptions)
	}
	_, err := db.execWrite(ctx, rebind(db.dialect,
		`INSERT INTO credentials (login_id, hash, role, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (login_id) DO UPDATE SET hash = excluded.hash, role = excluded.role, updated_at = excluded.updated_at`),
		c.LoginID, c.Hash, c.Role, toNanos(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: set credential of %q: %w", c.LoginID, err)
	}
	return nil
}

// Credential returns the credential of a login, or an error wrapping
// ErrNotFound.
func (db *DB) Credential(ctx context.Context, loginID string) (Credential, error) {
	c := Credential{LoginID: loginID}
	var at int64
	err := db.read.QueryRowContext(ctx, rebind(db.dialect,
		`SELECT hash, role, updated_at FROM credentials WHERE login_id = ?`), loginID).Scan(&c.Hash, &c.Role, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Credential{}, fmt.Errorf("store: credential of %q: %w", loginID, ErrNotFound)
	}
	if err != nil {
		return Credential{}, fmt.Errorf("store: credential of %q: %w", loginID, err)
	}
	c.UpdatedAt = fromNanos(at)
	return c, nil
}

// CredentialHashes returns the password hash of every login, in no
// order; none is nil. The API makes the hash that unknown login ids are
// compared against at the cost of these.
func (db *DB) CredentialHashes(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT hash FROM credentials`)
	if err != nil {
		return nil, fmt.Errorf("store: credential hashes: %w", err)
	}
	defer rows.Close()
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("store: credential hashes: %w", err)
		}
		hashes = append(hashes, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: credential hashes: %w", err)
	}
	return hashes, nil
}

// CreateSession stores a new session beside the login's others.
func (db *DB) CreateSession(ctx context.Context, s Session) error {
	if _, err := db.execWrite(ctx, rebind(db.dialect, insertSessionSQL), sessionArgs(s)...); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// ReplaceSessions stores a new session and deletes every other session of
// s.LoginID, in one transaction. It returns the ids of the sessions it
// deleted, oldest first.
func (db *DB) ReplaceSessions(ctx context.Context, s Session) (ended []string, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: replace sessions: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if ended, err = deleteSessionsTx(ctx, tx, db.dialect, s.LoginID); err != nil {
		return nil, fmt.Errorf("store: replace sessions: %w", err)
	}
	if _, err = tx.ExecContext(ctx, rebind(db.dialect, insertSessionSQL), sessionArgs(s)...); err != nil {
		return nil, fmt.Errorf("store: replace sessions: insert: %w", err)
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: replace sessions: commit: %w", err)
	}
	return ended, nil
}

const insertSessionSQL = `INSERT INTO sessions (token_hash, login_id, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`

func sessionArgs(s Session) []any {
	return []any{s.TokenHash, s.LoginID, s.Role, toNanos(s.CreatedAt), toNanos(s.ExpiresAt)}
}

// Session returns the session whose token hash is tokenHash, expired or
// not, or an error wrapping ErrNotFound.
func (db *DB) Session(ctx context.Context, tokenHash string) (Session, error) {
	s := Session{TokenHash: tokenHash}
	var created, expires int64
	err := db.read.QueryRowContext(ctx, rebind(db.dialect,
		`SELECT login_id, role, created_at, expires_at FROM sessions WHERE token_hash = ?`), tokenHash).
		Scan(&s.LoginID, &s.Role, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("store: session %s: %w", SessionID(tokenHash), ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session %s: %w", SessionID(tokenHash), err)
	}
	s.CreatedAt, s.ExpiresAt = fromNanos(created), fromNanos(expires)
	return s, nil
}

// DeleteSession deletes the session whose token hash is tokenHash; it
// reports whether there was one.
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) (bool, error) {
	res, err := db.execWrite(ctx, rebind(db.dialect, `DELETE FROM sessions WHERE token_hash = ?`), tokenHash)
	if err != nil {
		return false, fmt.Errorf("store: delete session %s: %w", SessionID(tokenHash), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: delete session %s: %w", SessionID(tokenHash), err)
	}
	return n > 0, nil
}

// DeleteSessions deletes every session of a login and returns their ids,
// oldest first; none is nil.
func (db *DB) DeleteSessions(ctx context.Context, loginID string) (ended []string, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: delete sessions of %q: begin: %w", loginID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if ended, err = deleteSessionsTx(ctx, tx, db.dialect, loginID); err != nil {
		return nil, fmt.Errorf("store: delete sessions of %q: %w", loginID, err)
	}
	if err = tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: delete sessions of %q: commit: %w", loginID, err)
	}
	return ended, nil
}

// DeleteLogin deletes the credential of a login and every session of
// it, in one transaction. It reports whether there was a credential and
// returns the ids of the sessions it deleted, oldest first.
func (db *DB) DeleteLogin(ctx context.Context, loginID string) (existed bool, ended []string, err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return false, nil, fmt.Errorf("store: delete login %q: begin: %w", loginID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if ended, err = deleteSessionsTx(ctx, tx, db.dialect, loginID); err != nil {
		return false, nil, fmt.Errorf("store: delete login %q: %w", loginID, err)
	}
	res, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM credentials WHERE login_id = ?`), loginID)
	if err != nil {
		return false, nil, fmt.Errorf("store: delete login %q: credential: %w", loginID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, nil, fmt.Errorf("store: delete login %q: credential: %w", loginID, err)
	}
	if err = tx.Commit(); err != nil {
		return false, nil, fmt.Errorf("store: delete login %q: commit: %w", loginID, err)
	}
	return n > 0, ended, nil
}

// deleteSessionsTx deletes the sessions of loginID in tx and returns
// their ids, oldest first.
func deleteSessionsTx(ctx context.Context, tx *sql.Tx, d dialect, loginID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, rebind(d,
		`SELECT token_hash FROM sessions WHERE login_id = ? ORDER BY created_at, token_hash`), loginID)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var ids []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list: %w", err)
		}
		ids = append(ids, SessionID(h))
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, rebind(d, `DELETE FROM sessions WHERE login_id = ?`), loginID); err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	return ids, nil
}

// DeleteExpiredSessions deletes the sessions that expired at or before
// now and returns how many there were.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := db.execWrite(ctx, rebind(db.dialect, `DELETE FROM sessions WHERE expires_at <= ?`), toNanos(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return int(n), nil
}

// SessionLogins returns the id (Session.ID) and login of every session
// the store holds, expired or not. Sessions are few (one a signed-in
// user), so it reads them all.
func (db *DB) SessionLogins(ctx context.Context) (map[string]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT token_hash, login_id FROM sessions`)
	if err != nil {
		return nil, fmt.Errorf("store: sessions: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var hash, login string
		if err := rows.Scan(&hash, &login); err != nil {
			return nil, fmt.Errorf("store: sessions: %w", err)
		}
		out[SessionID(hash)] = login
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sessions: %w", err)
	}
	return out, nil
}

// AgentExists reports whether the store holds an agent with the given id.
func (db *DB) AgentExists(ctx context.Context, id string) (bool, error) {
	var one int
	err := db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT 1 FROM agents WHERE id = ?`), id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: agent %q: %w", id, err)
	}
	return true, nil
}
