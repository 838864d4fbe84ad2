package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/router"
)

// Identity kinds of a customer.
const (
	IdentityEmail    = "email"
	IdentityPhone    = "phone"
	IdentityChat     = "chat"
	IdentityExternal = "external"
)

// Customer is a customer profile. The store keeps what it is given: the
// customers package normalizes identities and decides on merges.
type Customer struct {
	ID      string
	Name    string
	Segment string
	// Value is the lifetime value; after EraseCustomer, its bucket (the
	// power of ten at or below it, or 0).
	Value               float64
	Language            string
	Consent             consent.Flags
	RelationshipManager string
	// SMSOptOut is true when the customer asked for no marketing by SMS.
	SMSOptOut bool
	// Products and Tags are never nil when read.
	Products []string
	Tags     []string
	// MergedInto is the customer this one was merged into, or empty.
	MergedInto string
	// ContactCount and IdentityCount are set by EraseCustomer: the
	// anonymous statistics kept after the personal data is gone.
	ContactCount  int
	IdentityCount int
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// ErasedAt is when the personal data was erased; zero if never.
	ErasedAt time.Time
}

// Identity is one way to recognise a customer. (Kind, Value) is unique
// across customers.
type Identity struct {
	// Kind is IdentityEmail, IdentityPhone, IdentityChat or IdentityExternal.
	Kind  string
	Value string
	// CustomerID is who holds it; ignored by the writes that name the
	// customer themselves.
	CustomerID string
	// Verified is true when a channel proved it, false when only claimed.
	Verified  bool
	CreatedAt time.Time
}

// Merge is the audit record of one customer merged into another.
type Merge struct {
	ID     string
	FromID string
	IntoID string
	// IdentityKind and IdentityValue are the verified identity that
	// linked the two.
	IdentityKind  string
	IdentityValue string
	At            time.Time
	Reason        string
}

// CustomerExport is everything the store holds about a customer.
type CustomerExport struct {
	Customer   Customer
	Identities []Identity
	// Merges are into or from the customer, oldest first.
	Merges []Merge
	// Contacts are those whose customer id, email or phone is the
	// customer's id or one of its identities, oldest first.
	Contacts []router.Contact
	// OfferOutcomes are the outcomes of offers made to the customer (or
	// to a customer merged into it), oldest first.
	OfferOutcomes []OfferOutcome
	// Audit is the customer's audit (verifications, identities taken
	// over), oldest first.
	Audit []AuditEntry
	// Consent is the customer's consent ledger (opt-outs and opt-ins by
	// channel and address), oldest first.
	Consent []consent.Entry
	// CSAT are the customer's answers to the satisfaction survey about
	// Contacts (score and comment), in the order of Contacts.
	CSAT []csat.Response
}

// IdentityConflictError says that an identity belongs to another
// customer. It matches ErrConflict.
type IdentityConflictError struct {
	Kind, Value string
	// Owner is the customer that holds it.
	Owner string
	// claimOnly is set when Owner holds it as a claim, not verified.
	claimOnly bool
}

func (e *IdentityConflictError) Error() string {
	return fmt.Sprintf("store: %s identity %q belongs to another customer", e.Kind, e.Value)
}

// Is makes the error match ErrConflict.
func (e *IdentityConflictError) Is(target error) bool { return target == ErrConflict }

const customerColumns = `id, name, segment, value, language, consent_marketing, consent_profiling,
	relationship_manager, products, tags, merged_into, contact_count, identity_count,
	created_at, updated_at, erased_at, sms_opt_out`

// PutCustomer creates or replaces the profile c and adds ids to it (an
// identity it already holds becomes verified if given verified), in one
// transaction. It reports whether the customer was created. An identity
// held by another customer fails with an *IdentityConflictError; an
// erased or merged-away customer fails with an error wrapping
// ErrConflict. c.CreatedAt is kept from the stored row when there is one.
//
// A verified identity that another customer holds only as a claim is
// taken over: it moves to c, verified, and both customers' audits say so
// (AuditIdentityTakenOver, by by: the login or token that wrote). A claim
// never blocks the profile that proves the identity.
func (db *DB) PutCustomer(ctx context.Context, c Customer, ids []Identity, by string) (created bool, err error) {
	err = db.inTx(ctx, "put customer "+c.ID, func(tx *sql.Tx) error {
		// Atomic statements, not a read and then a write: insert if
		// new, else update if neither erased nor merged away (keeping
		// created_at); only a refused update reads why.
		var err error
		if created, err = putCustomerTx(ctx, tx, db.dialect, c); err != nil {
			return err
		}
		for _, id := range ids {
			id.CustomerID = c.ID
			if id.CreatedAt.IsZero() {
				id.CreatedAt = c.UpdatedAt
			}
			err := addIdentityTx(ctx, tx, db.dialect, id)
			var ice *IdentityConflictError
			if errors.As(err, &ice) && ice.claimOnly && id.Verified {
				err = takeOverTx(ctx, tx, db.dialect, id, ice.Owner, by, c.UpdatedAt)
			}
			if err != nil {
				return err
			}
		}
		return customerChangedTx(ctx, tx, db.dialect, CustomerChange{ID: c.ID, Change: ChangePut}, c.UpdatedAt)
	})
	return created, err
}

// takeOverTx moves the identity id, held as a claim by from, to
// id.CustomerID as verified, and records it in both customers' audits.
func takeOverTx(ctx context.Context, tx *sql.Tx, d dialect, id Identity, from, by string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, rebind(d, `UPDATE customer_identities SET customer_id = ?, verified = 1 WHERE kind = ? AND value = ?`),
		id.CustomerID, id.Kind, id.Value); err != nil {
		return err
	}
	return auditTakeOverTx(ctx, tx, d, id, from, by, at)
}

// auditTakeOverTx records in both customers' audits that id.CustomerID
// took the identity id over from from.
func auditTakeOverTx(ctx context.Context, tx *sql.Tx, d dialect, id Identity, from, by string, at time.Time) error {
	for _, e := range []AuditEntry{
		// The details name the kind of identity, never its value, so that
		// erasing either customer leaves nothing personal here.
		{CustomerID: id.CustomerID, Detail: fmt.Sprintf("%s identity taken over, verified, from customer %s, which only claimed it", id.Kind, from)},
		{CustomerID: from, Detail: fmt.Sprintf("claimed %s identity taken over by customer %s, which proved it", id.Kind, id.CustomerID)},
	} {
		e.At, e.Action, e.Actor = at, AuditIdentityTakenOver, by
		if err := addAuditTx(ctx, tx, d, e); err != nil {
			return err
		}
	}
	return nil
}

// CreateCustomer creates the customer c holding the identity id, in one
// transaction. If the identity is already held, it fails with an
// *IdentityConflictError and creates nothing.
func (db *DB) CreateCustomer(ctx context.Context, c Customer, id Identity) error {
	return db.inTx(ctx, "create customer "+c.ID, func(tx *sql.Tx) error {
		if err := upsertCustomerTx(ctx, tx, db.dialect, c); err != nil {
			return err
		}
		id.CustomerID = c.ID
		return addIdentityTx(ctx, tx, db.dialect, id)
	})
}

// AddIdentity gives id to id.CustomerID; see PutCustomer for an identity
// already held.
func (db *DB) AddIdentity(ctx context.Context, id Identity) error {
	return db.inTx(ctx, "add identity", func(tx *sql.Tx) error {
		return addIdentityTx(ctx, tx, db.dialect, id)
	})
}

// Customer returns a customer, or an error wrapping ErrNotFound.
func (db *DB) Customer(ctx context.Context, id string) (Customer, error) {
	row, err := db.readRow(ctx, rebind(db.dialect, `SELECT `+customerColumns+` FROM customers WHERE id = ?`), id)
	if err != nil {
		return Customer{}, fmt.Errorf("store: customer %q: %w", id, err)
	}
	c, err := scanCustomer(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, fmt.Errorf("store: customer %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Customer{}, fmt.Errorf("store: customer %q: %w", id, err)
	}
	return c, nil
}

// HasCustomers reports whether the store holds any customer row, erased
// and merged ones included.
func (db *DB) HasCustomers(ctx context.Context) (bool, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM customers LIMIT 1) AS one`).Scan(&n); err != nil {
		return false, fmt.Errorf("store: has customers: %w", err)
	}
	return n > 0, nil
}

// CustomerIdentities returns the identities a customer holds, by kind and
// value; none is nil.
func (db *DB) CustomerIdentities(ctx context.Context, customerID string) ([]Identity, error) {
	rows, err := db.readQuery(ctx, rebind(db.dialect,
		`SELECT kind, value, customer_id, verified, created_at FROM customer_identities WHERE customer_id = ? ORDER BY kind, value`), customerID)
	if err != nil {
		return nil, fmt.Errorf("store: identities of %q: %w", customerID, err)
	}
	defer rows.Close()
	var ids []Identity
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("store: identities of %q: %w", customerID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: identities of %q: %w", customerID, err)
	}
	return ids, nil
}

// IdentityOwner returns the identity (kind, value) with the customer that
// holds it, or an error wrapping ErrNotFound.
func (db *DB) IdentityOwner(ctx context.Context, kind, value string) (Identity, error) {
	row := db.read.QueryRowContext(ctx, rebind(db.dialect,
		`SELECT kind, value, customer_id, verified, created_at FROM customer_identities WHERE kind = ? AND value = ?`), kind, value)
	id, err := scanIdentity(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, fmt.Errorf("store: %s identity %q: %w", kind, value, ErrNotFound)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("store: %s identity %q: %w", kind, value, err)
	}
	return id, nil
}

// MergeCustomers merges m.FromID into m.IntoID in one transaction: every
// identity of FromID moves to IntoID, the identity (m.IdentityKind,
// m.IdentityValue) becomes verified, FromID keeps its row with MergedInto
// set, and m is recorded (with a new ID when empty). Contacts keep their
// data. A missing customer wraps ErrNotFound; merging a customer into
// itself, or one already merged or erased, wraps ErrConflict.
func (db *DB) MergeCustomers(ctx context.Context, m Merge) error {
	return db.inTx(ctx, fmt.Sprintf("merge customer %q into %q", m.FromID, m.IntoID), func(tx *sql.Tx) error {
		if m.FromID == m.IntoID {
			return fmt.Errorf("%w: a customer cannot be merged into itself", ErrConflict)
		}
		for _, id := range []string{m.FromID, m.IntoID} {
			c, err := customerTx(ctx, tx, db.dialect, id)
			if err != nil {
				return err
			}
			if c.MergedInto != "" || !c.ErasedAt.IsZero() {
				return fmt.Errorf("%w: customer %q was merged or erased", ErrConflict, id)
			}
		}
		if m.ID == "" {
			m.ID = newID()
		}
		at := toNanos(m.At)
		stmts := []struct {
			q    string
			args []any
		}{
			{`UPDATE customer_identities SET customer_id = ? WHERE customer_id = ?`, []any{m.IntoID, m.FromID}},
			{`UPDATE customer_identities SET verified = 1 WHERE kind = ? AND value = ? AND customer_id = ?`, []any{m.IdentityKind, m.IdentityValue, m.IntoID}},
			{`UPDATE customers SET merged_into = ?, updated_at = ? WHERE id = ?`, []any{m.IntoID, at, m.FromID}},
			{`UPDATE customers SET updated_at = ? WHERE id = ?`, []any{at, m.IntoID}},
			{`INSERT INTO customer_merges (id, from_id, into_id, identity_kind, identity_value, at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				[]any{m.ID, m.FromID, m.IntoID, m.IdentityKind, m.IdentityValue, at, m.Reason}},
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, rebind(db.dialect, s.q), s.args...); err != nil {
				return err
			}
		}
		return customerChangedTx(ctx, tx, db.dialect, CustomerChange{ID: m.FromID, Change: ChangeMerged, MergedInto: m.IntoID}, m.At)
	})
}

// CustomerMerges returns the merges into or from a customer, oldest
// first; none is nil.
func (db *DB) CustomerMerges(ctx context.Context, customerID string) ([]Merge, error) {
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect,
		`SELECT id, from_id, into_id, identity_kind, identity_value, at, reason FROM customer_merges
WHERE into_id = ? OR from_id = ? ORDER BY at, id`), customerID, customerID)
	if err != nil {
		return nil, fmt.Errorf("store: merges of %q: %w", customerID, err)
	}
	defer rows.Close()
	var ms []Merge
	for rows.Next() {
		var (
			m  Merge
			at int64
		)
		if err := rows.Scan(&m.ID, &m.FromID, &m.IntoID, &m.IdentityKind, &m.IdentityValue, &at, &m.Reason); err != nil {
			return nil, fmt.Errorf("store: merges of %q: %w", customerID, err)
		}
		m.At = fromNanos(at)
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: merges of %q: %w", customerID, err)
	}
	return ms, nil
}

// ExportCustomer returns everything the store holds about a customer, or
// an error wrapping ErrNotFound.
func (db *DB) ExportCustomer(ctx context.Context, customerID string) (CustomerExport, error) {
	var x CustomerExport
	var err error
	if x.Customer, err = db.Customer(ctx, customerID); err != nil {
		return CustomerExport{}, err
	}
	if x.Identities, err = db.CustomerIdentities(ctx, customerID); err != nil {
		return CustomerExport{}, err
	}
	if x.Merges, err = db.CustomerMerges(ctx, customerID); err != nil {
		return CustomerExport{}, err
	}
	if x.Contacts, err = customerContacts(ctx, db.read, db.dialect, customerID); err != nil {
		return CustomerExport{}, fmt.Errorf("store: export customer %q: contacts: %w", customerID, err)
	}
	if x.OfferOutcomes, err = customerOfferOutcomes(ctx, db.read, db.dialect, customerID); err != nil {
		return CustomerExport{}, fmt.Errorf("store: export customer %q: %w", customerID, err)
	}
	if x.Audit, err = customerAudit(ctx, db.read, db.dialect, customerID); err != nil {
		return CustomerExport{}, fmt.Errorf("store: export customer %q: %w", customerID, err)
	}
	if x.Consent, err = consentLedger(ctx, db.read, db.dialect, customerID); err != nil {
		return CustomerExport{}, fmt.Errorf("store: export customer %q: %w", customerID, err)
	}
	ids := make([]string, len(x.Contacts))
	for i, c := range x.Contacts {
		ids[i] = c.ID
	}
	answers, err := db.CSATs(ctx, ids)
	if err != nil {
		return CustomerExport{}, fmt.Errorf("store: export customer %q: %w", customerID, err)
	}
	for _, id := range ids {
		if a, ok := answers[id]; ok {
			x.CSAT = append(x.CSAT, a)
		}
	}
	return x, nil
}

// EraseCustomer erases a customer's personal data in one transaction.
// The profile: the name, language, relationship manager, products, tags
// and consents are blanked and the identities deleted; the id, segment,
// value bucket (valueBucket), merge records (without the identity that
// linked the two customers, and without the reason naming it) and the
// counts of contacts and identities held are kept. Offer outcomes are
// kept as anonymous statistics, their customer id blanked. The customers
// merged into it are erased too. The contacts (customerContacts) and
// their entries in the event log: see eraseContactsTx. If any of them
// has not ended (it still lives in the router, which would write its
// personal data back), nothing is changed and the error is an
// *OpenContactsError. Erasing again erases the contacts that reached
// the customer since and changes nothing else. A missing customer wraps
// ErrNotFound.
func (db *DB) EraseCustomer(ctx context.Context, customerID string, at time.Time) error {
	return db.inTx(ctx, "erase customer "+customerID, func(tx *sql.Tx) error {
		c, err := customerTx(ctx, tx, db.dialect, customerID)
		if err != nil {
			return err
		}
		contacts, err := customerContacts(ctx, tx, db.dialect, customerID)
		if err != nil {
			return err
		}
		if err := eraseContactsTx(ctx, tx, db.dialect, customerID, contacts, at); err != nil {
			return err
		}
		if !c.ErasedAt.IsZero() {
			return nil
		}
		ids, err := identitiesTx(ctx, tx, db.dialect, customerID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, `DELETE FROM customer_identities WHERE customer_id = ?`), customerID); err != nil {
			return err
		}
		if err := eraseOfferOutcomesTx(ctx, tx, db.dialect, customerID); err != nil {
			return err
		}
		for _, q := range eraseConsentSQL {
			if _, err := tx.ExecContext(ctx, rebind(db.dialect, q), customerID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, rebind(db.dialect, `UPDATE customers SET name = '', language = '',
	consent_marketing = NULL, consent_profiling = NULL, relationship_manager = '', products = '[]', tags = '[]', sms_opt_out = 0,
	value = ?, contact_count = ?, identity_count = ?, updated_at = ?, erased_at = ? WHERE id = ?`),
			valueBucket(c.Value), len(contacts), len(ids), toNanos(at), toNanos(at), customerID)
		if err != nil {
			return err
		}
		if err := customerChangedTx(ctx, tx, db.dialect, CustomerChange{ID: customerID, Change: ChangeErased}, at); err != nil {
			return err
		}
		return eraseMergedTx(ctx, tx, db.dialect, customerID, at)
	})
}

// valueBucket is what an erased customer keeps of a value: the power of
// ten at or below it, 0 for values under 1.
func valueBucket(v float64) float64 {
	if v < 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Pow(10, math.Floor(math.Log10(v)))
}

// inTx runs f in a write transaction, committing if it returns nil.
// Errors are prefixed with "store: " and step.
func (db *DB) inTx(ctx context.Context, step string, f func(tx *sql.Tx) error) error {
	var err error
	if syncDeferred(ctx) {
		err = db.dialect.deferredTx(ctx, db, f)
	} else {
		err = db.inPlainTx(ctx, f)
	}
	if err == nil {
		return nil
	}
	var (
		ice *IdentityConflictError
		oce *OpenContactsError
	)
	if errors.As(err, &ice) || errors.As(err, &oce) {
		return err
	}
	return fmt.Errorf("store: %s: %w", step, err)
}

// inPlainTx runs f in a write transaction.
func (db *DB) inPlainTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return commitAfter(tx, f)
}

// commitAfter runs f in tx and commits, or rolls back if f fails.
func commitAfter(tx *sql.Tx, f func(tx *sql.Tx) error) error {
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// queryer is what reads need of a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func customerTx(ctx context.Context, q queryer, d dialect, id string) (Customer, error) {
	c, err := scanCustomer(q.QueryRowContext(ctx, rebind(d, `SELECT `+customerColumns+` FROM customers WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, fmt.Errorf("customer %q: %w", id, ErrNotFound)
	}
	return c, err
}

func identitiesTx(ctx context.Context, q queryer, d dialect, customerID string) ([]Identity, error) {
	rows, err := q.QueryContext(ctx, rebind(d,
		`SELECT kind, value, customer_id, verified, created_at FROM customer_identities WHERE customer_id = ? ORDER BY kind, value`), customerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []Identity
	for rows.Next() {
		id, err := scanIdentity(rows)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// putCustomerTx creates c, or updates it (created_at kept) unless it was
// erased or merged away (an error wrapping ErrConflict), and reports
// whether it created it.
func putCustomerTx(ctx context.Context, tx *sql.Tx, d dialect, c Customer) (created bool, err error) {
	args, err := customerArgs(nil, c)
	if err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, rebind(d, insertCustomerSQL), args...)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	res, err = tx.ExecContext(ctx, rebind(d, updateCustomerSQL), c.Name, c.Segment, c.Value, c.Language,
		nullBool(c.Consent.Marketing), nullBool(c.Consent.Profiling), c.RelationshipManager, args[8], args[9],
		toNanos(c.UpdatedAt), boolInt(c.SMSOptOut), c.ID)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return false, err
	}
	old, err := customerTx(ctx, tx, d, c.ID)
	switch {
	case err != nil:
		return false, err
	case !old.ErasedAt.IsZero():
		return false, fmt.Errorf("%w: customer %q was erased", ErrConflict, c.ID)
	default:
		return false, fmt.Errorf("%w: customer %q was merged into %q", ErrConflict, c.ID, old.MergedInto)
	}
}

// insertCustomerSQL creates a customer (the row of customerArgs) unless
// one has its id.
const insertCustomerSQL = `INSERT INTO customers (` + customerColumns + `) VALUES
	(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, 0, ?, ?, 0, ?) ON CONFLICT (id) DO NOTHING`

// updateCustomerSQL replaces a customer's profile, unless it was erased
// or merged away.
const updateCustomerSQL = `UPDATE customers SET name = ?, segment = ?, value = ?, language = ?,
	consent_marketing = ?, consent_profiling = ?, relationship_manager = ?, products = ?, tags = ?,
	updated_at = ?, sms_opt_out = ? WHERE id = ? AND erased_at = 0 AND merged_into = ''`

func upsertCustomerTx(ctx context.Context, tx *sql.Tx, d dialect, c Customer) error {
	args, err := customerArgs(nil, c)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, rebind(d, upsertCustomersSQL(1)), args...)
	return err
}

// customerArgs appends to args the values of one row of
// upsertCustomersSQL.
func customerArgs(args []any, c Customer) ([]any, error) {
	if c.ID == "" {
		return nil, fmt.Errorf("%w: customer id is required", ErrBadOptions)
	}
	products, err := marshalJSON(nonNil(c.Products))
	if err != nil {
		return nil, err
	}
	tags, err := marshalJSON(nonNil(c.Tags))
	if err != nil {
		return nil, err
	}
	return append(args, c.ID, c.Name, c.Segment, c.Value, c.Language, nullBool(c.Consent.Marketing), nullBool(c.Consent.Profiling),
		c.RelationshipManager, products, tags, toNanos(c.CreatedAt), toNanos(c.UpdatedAt), boolInt(c.SMSOptOut)), nil
}

// addIdentityTx gives id to id.CustomerID, or upgrades it to verified if
// that customer holds it already.
// The insert comes first, atomic (ON CONFLICT DO NOTHING): two writers
// giving one identity to two customers cannot both see it free.
func addIdentityTx(ctx context.Context, tx *sql.Tx, d dialect, id Identity) error {
	res, err := tx.ExecContext(ctx, rebind(d, `INSERT INTO customer_identities (kind, value, customer_id, verified, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (kind, value) DO NOTHING`),
		id.Kind, id.Value, id.CustomerID, boolInt(id.Verified), toNanos(id.CreatedAt))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var (
		owner    string
		verified int
	)
	err = tx.QueryRowContext(ctx, rebind(d, `SELECT customer_id, verified FROM customer_identities WHERE kind = ? AND value = ?`),
		id.Kind, id.Value).Scan(&owner, &verified)
	switch {
	case err != nil:
		return err
	case owner != id.CustomerID:
		return &IdentityConflictError{Kind: id.Kind, Value: id.Value, Owner: owner, claimOnly: verified == 0}
	case id.Verified && verified == 0:
		_, err = tx.ExecContext(ctx, rebind(d, `UPDATE customer_identities SET verified = 1 WHERE kind = ? AND value = ?`), id.Kind, id.Value)
		return err
	}
	return nil
}

// customerContacts returns the contacts of a customer, oldest first: its
// own, those of the customers merged into it, and those whose email or
// phone is one of their identities (customerContactsQuery).
func customerContacts(ctx context.Context, q queryer, d dialect, customerID string) ([]router.Contact, error) {
	query, args := customerContactsQuery(d, wholeContactColumns, customerID, "", "", false, 0, "", 0)
	rows, err := q.QueryContext(ctx, rebind(d, query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []router.Contact
	for rows.Next() {
		c, _, err := scanContactCreated(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

func scanCustomer(row interface{ Scan(...any) error }) (Customer, error) {
	var (
		c                       Customer
		marketing, profiling    sql.NullInt64
		products, tags          string
		created, updated, erase int64
		smsOptOut               int
	)
	if err := row.Scan(&c.ID, &c.Name, &c.Segment, &c.Value, &c.Language, &marketing, &profiling,
		&c.RelationshipManager, &products, &tags, &c.MergedInto, &c.ContactCount, &c.IdentityCount,
		&created, &updated, &erase, &smsOptOut); err != nil {
		return Customer{}, err
	}
	if err := json.Unmarshal([]byte(products), &c.Products); err != nil {
		return Customer{}, fmt.Errorf("products: %w", err)
	}
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return Customer{}, fmt.Errorf("tags: %w", err)
	}
	c.Products, c.Tags = nonNil(c.Products), nonNil(c.Tags)
	c.Consent.Marketing, c.Consent.Profiling = boolPtr(marketing), boolPtr(profiling)
	c.CreatedAt, c.UpdatedAt, c.ErasedAt = fromNanos(created), fromNanos(updated), fromNanos(erase)
	c.SMSOptOut = smsOptOut != 0
	return c, nil
}

func scanIdentity(row interface{ Scan(...any) error }) (Identity, error) {
	var (
		id       Identity
		verified int
		created  int64
	)
	if err := row.Scan(&id.Kind, &id.Value, &id.CustomerID, &verified, &created); err != nil {
		return Identity{}, err
	}
	id.Verified, id.CreatedAt = verified != 0, fromNanos(created)
	return id, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return boolInt(*b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func boolPtr(n sql.NullInt64) *bool {
	if !n.Valid {
		return nil
	}
	b := n.Int64 != 0
	return &b
}

// newID returns a random id for a merge record.
func newID() string { return strings.ToLower(rand.Text()) }
