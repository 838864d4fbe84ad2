package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/consent"
)

// RecordConsent appends e to the consent ledger (with a new ID) and
// reports whether it did: an entry whose MessageID the ledger holds
// already is the same message told twice (a provider's retry), and is
// not recorded again.
func (db *DB) RecordConsent(ctx context.Context, e consent.Entry) (recorded bool, err error) {
	if err := e.Validate(); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	err = db.inTx(ctx, "record consent", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO consent_ledger (id, customer_id, channel, address, action, at, message_id, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`),
			newID(), e.CustomerID, e.Channel, e.Address, string(e.Action), toNanos(e.At), e.MessageID, e.Detail)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		recorded = n == 1
		return err
	})
	return recorded, err
}

// ConsentState returns the latest ledger entry of an address on a
// channel, the one in force (consent.Entry.Blocks); found is false when
// the ledger holds none.
func (db *DB) ConsentState(ctx context.Context, channel, address string) (e consent.Entry, found bool, err error) {
	e, err = scanConsent(db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT `+consentColumns+`
FROM consent_ledger WHERE channel = ? AND address = ? ORDER BY seq DESC LIMIT 1`), channel, address))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return consent.Entry{}, false, nil
	case err != nil:
		return consent.Entry{}, false, fmt.Errorf("store: consent of %s %q: %w", channel, address, err)
	}
	return e, true, nil
}

// ConsentBlocked returns the entries in force that block an address of
// the customer on channel: for each address the ledger names for the
// customer or a customer merged into it, or that the customer holds as
// an identity (a STOP recorded before the number was theirs), its
// latest entry, if that is an opt-out (by whoever recorded it since).
// None is nil.
func (db *DB) ConsentBlocked(ctx context.Context, customerID, channel string) ([]consent.Entry, error) {
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, `SELECT address FROM consent_ledger
WHERE customer_id IN `+offerCustomers+` AND channel = ?
UNION SELECT l.address FROM customer_identities i JOIN consent_ledger l ON l.channel = ? AND l.address = i.value
WHERE i.customer_id = ?`), customerID, customerID, channel, channel, customerID)
	if err != nil {
		return nil, fmt.Errorf("store: consent of customer %q: %w", customerID, err)
	}
	var addrs []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: consent of customer %q: %w", customerID, err)
		}
		addrs = append(addrs, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: consent of customer %q: %w", customerID, err)
	}
	var out []consent.Entry
	for _, a := range addrs {
		e, found, err := db.ConsentState(ctx, channel, a)
		if err != nil {
			return nil, err
		}
		if found && e.Blocks() {
			out = append(out, e)
		}
	}
	return out, nil
}

// ConsentLedger returns a customer's ledger entries, oldest first.
func (db *DB) ConsentLedger(ctx context.Context, customerID string) ([]consent.Entry, error) {
	return consentLedger(ctx, db.read, db.dialect, customerID)
}

func consentLedger(ctx context.Context, q queryer, d dialect, customerID string) ([]consent.Entry, error) {
	rows, err := q.QueryContext(ctx, rebind(d, `SELECT `+consentColumns+`
FROM consent_ledger WHERE customer_id = ? ORDER BY seq`), customerID)
	if err != nil {
		return nil, fmt.Errorf("store: consent ledger of %q: %w", customerID, err)
	}
	defer rows.Close()
	var out []consent.Entry
	for rows.Next() {
		e, err := scanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: consent ledger of %q: %w", customerID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const consentColumns = `id, customer_id, channel, address, action, at, message_id, detail`

func scanConsent(row interface{ Scan(...any) error }) (consent.Entry, error) {
	var (
		e      consent.Entry
		action string
		at     int64
	)
	if err := row.Scan(&e.ID, &e.CustomerID, &e.Channel, &e.Address, &action, &at, &e.MessageID, &e.Detail); err != nil {
		return consent.Entry{}, err
	}
	e.Action, e.At = consent.Action(action), fromNanos(at)
	return e, nil
}

// eraseConsentSQL forgets a customer's consent ledger when the customer
// is erased, but for the opt-outs in force: the address that said STOP
// must stay suppressed (a retention the law expects, so that it is never
// messaged again), now held by nobody and with no detail. Arguments:
// the customer's id, twice.
var eraseConsentSQL = []string{
	`UPDATE consent_ledger SET customer_id = '', detail = '' WHERE customer_id = ? AND action = 'opt_out'
AND seq IN (SELECT MAX(seq) FROM consent_ledger GROUP BY channel, address)`,
	`DELETE FROM consent_ledger WHERE customer_id = ?`,
}
