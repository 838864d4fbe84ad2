package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
)

// ImportOutcome is what ImportCustomers did with one profile.
type ImportOutcome int

// Outcomes of an imported profile.
const (
	// ImportRejected: nothing of the profile was written; see
	// ImportResult.Err.
	ImportRejected ImportOutcome = iota
	// ImportCreated: the customer did not exist.
	ImportCreated
	// ImportUpdated: the profile was replaced or an identity added or
	// verified.
	ImportUpdated
	// ImportUnchanged: the store already held the profile and every
	// identity as given (or verified where a claim was given); nothing
	// was written, not even updated_at.
	ImportUnchanged
)

func (o ImportOutcome) String() string {
	switch o {
	case ImportRejected:
		return "rejected"
	case ImportCreated:
		return "created"
	case ImportUpdated:
		return "updated"
	case ImportUnchanged:
		return "unchanged"
	}
	return fmt.Sprintf("ImportOutcome(%d)", int(o))
}

// Bounds of the statements ImportCustomers sends: at most this many
// rows per multi-row statement, which keeps the placeholders of one
// statement (13 a customer, 5 an identity) under the limits of SQLite
// and PostgreSQL.
const (
	importLookupRows   = 400
	importCustomerRows = 100
	importIdentityRows = 400
)

// CustomerImport is one profile for ImportCustomers: the customer and
// the identities to add to it, normalized by the caller.
type CustomerImport struct {
	Customer   Customer
	Identities []Identity
	// By is who imports (a file's name, the demo), for the audit of an
	// identity taken over from a claim-only holder.
	By string
}

// ImportResult is what became of one profile of ImportCustomers.
type ImportResult struct {
	Outcome ImportOutcome
	// Err is why the profile was rejected (nil otherwise): an
	// *IdentityConflictError when an identity belongs to another
	// customer (one stored, or an earlier profile of the same call), or
	// an error wrapping ErrConflict when the customer was erased or
	// merged into another.
	Err error
}

// ImportCustomers writes profiles in one transaction, each as PutCustomer
// would (the profile created or replaced, created_at kept, its
// identities added, claims upgraded to verified when given verified),
// and returns what became of each, in order. A profile that PutCustomer
// would refuse (an identity held by another customer, an erased or
// merged-away customer) is rejected alone: the others are written. A
// customer named twice gets the later profile and the identities of
// both. The error is for the whole call: nothing was written.
//
// It reads the customers and identities the profiles name in a few
// queries, decides in memory, and writes with multi-row statements, so a
// call of a few thousand profiles holds the write lock for tens of
// milliseconds.
func (db *DB) ImportCustomers(ctx context.Context, profiles []CustomerImport) ([]ImportResult, error) {
	results := make([]ImportResult, len(profiles))
	if len(profiles) == 0 {
		return results, nil
	}
	err := db.inTx(ctx, fmt.Sprintf("import %d customers", len(profiles)), func(tx *sql.Tx) error {
		known, err := importCustomersTx(ctx, tx, db.dialect, profiles)
		if err != nil {
			return fmt.Errorf("read customers: %w", err)
		}
		held, err := importIdentitiesTx(ctx, tx, db.dialect, profiles)
		if err != nil {
			return fmt.Errorf("read identities: %w", err)
		}
		plan := planImport(profiles, known, held, results)
		return plan.write(ctx, tx, db.dialect)
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// identityKey is an identity's primary key.
type identityKey struct{ kind, value string }

// heldIdentity is who holds an identity, as stored or as the import
// leaves it.
type heldIdentity struct {
	owner    string
	verified bool
}

// importPlan is what ImportCustomers writes.
type importPlan struct {
	// customers to upsert, one per id, the last profile given.
	customers []Customer
	// identities to insert, one per key.
	identities []Identity
	// verify are identities already held by their customer as claims
	// that become verified.
	verify []identityKey
	// takeovers are verified identities taken from customers that only
	// claimed them (takeOverTx).
	takeovers []takeover
}

// takeover is a verified identity moving to id.CustomerID from a
// customer that only claimed it.
type takeover struct {
	id       Identity
	from, by string
	at       time.Time
	// inserted is set when the row is written by this import already
	// with its new holder: only the audit remains.
	inserted bool
}

// planImport decides each profile's outcome into results, given the
// stored customers (known) and holders of identities (held) the profiles
// name; it updates known and held as it goes so that later profiles see
// earlier ones.
func planImport(profiles []CustomerImport, known map[string]Customer, held map[identityKey]heldIdentity, results []ImportResult) importPlan {
	var plan importPlan
	upsert := map[string]int{} // customer id → index in plan.customers
	inserted := map[identityKey]int{}
	for i, p := range profiles {
		c := p.Customer
		old, exists := known[c.ID]
		switch {
		case exists && !old.ErasedAt.IsZero():
			results[i].Err = fmt.Errorf("%w: customer %q was erased", ErrConflict, c.ID)
			continue
		case exists && old.MergedInto != "":
			results[i].Err = fmt.Errorf("%w: customer %q was merged into %q", ErrConflict, c.ID, old.MergedInto)
			continue
		}
		var conflict error
		for _, id := range p.Identities {
			// A verified identity is taken from a customer that only
			// claims it (below); anything else held by another conflicts.
			if h, ok := held[identityKey{id.Kind, id.Value}]; ok && h.owner != c.ID && (h.verified || !id.Verified) {
				conflict = &IdentityConflictError{Kind: id.Kind, Value: id.Value, Owner: h.owner, claimOnly: !h.verified}
				break
			}
		}
		if conflict != nil {
			results[i].Err = conflict
			continue
		}
		changed := !exists || !sameProfile(old, c)
		for _, id := range p.Identities {
			k := identityKey{id.Kind, id.Value}
			h, ok := held[k]
			switch {
			case !ok:
				id.CustomerID = c.ID
				if id.CreatedAt.IsZero() {
					id.CreatedAt = c.UpdatedAt
				}
				held[k] = heldIdentity{owner: c.ID, verified: id.Verified}
				inserted[k] = len(plan.identities)
				plan.identities = append(plan.identities, id)
				changed = true
			case h.owner != c.ID: // verified, held as a claim by another
				held[k] = heldIdentity{owner: c.ID, verified: true}
				id.CustomerID = c.ID
				t := takeover{id: id, from: h.owner, by: p.By, at: c.UpdatedAt}
				if j, ok := inserted[k]; ok {
					// Inserted by an earlier profile of this call: its row
					// changes hands before it is written.
					plan.identities[j].CustomerID, plan.identities[j].Verified = c.ID, true
					t.inserted = true
				}
				plan.takeovers = append(plan.takeovers, t)
				changed = true
			case id.Verified && !h.verified:
				held[k] = heldIdentity{owner: c.ID, verified: true}
				if j, ok := inserted[k]; ok {
					plan.identities[j].Verified = true
				} else {
					plan.verify = append(plan.verify, k)
				}
				changed = true
			}
		}
		switch {
		case !exists:
			results[i].Outcome = ImportCreated
		case changed:
			results[i].Outcome = ImportUpdated
		default:
			results[i].Outcome = ImportUnchanged
			continue
		}
		if exists {
			c.CreatedAt = old.CreatedAt
		}
		c.Products, c.Tags = nonNil(c.Products), nonNil(c.Tags)
		known[c.ID] = c
		if j, ok := upsert[c.ID]; ok {
			plan.customers[j] = c
		} else {
			upsert[c.ID] = len(plan.customers)
			plan.customers = append(plan.customers, c)
		}
	}
	return plan
}

// sameProfile reports whether the stored customer old already holds
// what c would write (the times aside).
func sameProfile(old, c Customer) bool {
	return old.Name == c.Name && old.Segment == c.Segment && old.Value == c.Value && old.Language == c.Language &&
		old.Consent.Equal(c.Consent) &&
		old.RelationshipManager == c.RelationshipManager && old.SMSOptOut == c.SMSOptOut &&
		slices.Equal(nonNil(old.Products), nonNil(c.Products)) && slices.Equal(nonNil(old.Tags), nonNil(c.Tags))
}

// Statements of importPlan.write (and upsertCustomerTx); rows is the
// number of rows of the multi-row INSERTs.
func upsertCustomersSQL(rows int) string {
	return `INSERT INTO customers (` + customerColumns + `) VALUES ` +
		repeatJoin(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, 0, ?, ?, 0, ?)`, rows) + `
ON CONFLICT (id) DO UPDATE SET name = excluded.name, segment = excluded.segment, value = excluded.value,
	language = excluded.language, consent_marketing = excluded.consent_marketing,
	consent_profiling = excluded.consent_profiling, relationship_manager = excluded.relationship_manager,
	products = excluded.products, tags = excluded.tags, updated_at = excluded.updated_at,
	sms_opt_out = excluded.sms_opt_out`
}

func insertIdentitiesSQL(rows int) string {
	return `INSERT INTO customer_identities (kind, value, customer_id, verified, created_at) VALUES ` + repeatJoin(`(?, ?, ?, ?, ?)`, rows)
}

// write applies the plan in tx: customers first (identities refer to
// them), then new identities, then upgrades to verified and takeovers. Full chunks
// share one prepared statement, so a batch parses each statement once.
func (p importPlan) write(ctx context.Context, tx *sql.Tx, d dialect) error {
	err := execChunks(ctx, tx, d, p.customers, importCustomerRows, upsertCustomersSQL, customerArgs)
	if err != nil {
		return fmt.Errorf("upsert customers: %w", err)
	}
	err = execChunks(ctx, tx, d, p.identities, importIdentityRows, insertIdentitiesSQL, func(args []any, id Identity) ([]any, error) {
		return append(args, id.Kind, id.Value, id.CustomerID, boolInt(id.Verified), toNanos(id.CreatedAt)), nil
	})
	if err != nil {
		return fmt.Errorf("insert identities: %w", err)
	}
	for _, k := range p.verify {
		if _, err := tx.ExecContext(ctx, rebind(d, `UPDATE customer_identities SET verified = 1 WHERE kind = ? AND value = ?`), k.kind, k.value); err != nil {
			return fmt.Errorf("verify identity: %w", err)
		}
	}
	for _, t := range p.takeovers {
		takeOver := takeOverTx
		if t.inserted {
			takeOver = auditTakeOverTx
		}
		if err := takeOver(ctx, tx, d, t.id, t.from, t.by, t.at); err != nil {
			return fmt.Errorf("take over identity: %w", err)
		}
	}
	if len(p.customers) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, rebind(d, insertLogSQL))
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	defer st.Close()
	for _, c := range p.customers {
		data, err := marshalJSON(map[string]CustomerChange{"customer": {ID: c.ID, Change: ChangeImported}})
		if err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		if _, err := st.ExecContext(ctx, router.LogCustomerChanged, "", toNanos(c.UpdatedAt), data); err != nil {
			return fmt.Errorf("event log: %w", err)
		}
	}
	return nil
}

// execChunks runs the statement query(n) for each chunk of n (at most
// size) items of all, with the arguments that appendArgs adds for each.
func execChunks[T any](ctx context.Context, tx *sql.Tx, d dialect, all []T, size int, query func(rows int) string,
	appendArgs func([]any, T) ([]any, error)) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for chunk := range slices.Chunk(all, size) {
		args := make([]any, 0, 16*len(chunk))
		for _, x := range chunk {
			var err error
			if args, err = appendArgs(args, x); err != nil {
				return err
			}
		}
		if len(chunk) < size {
			if _, err := tx.ExecContext(ctx, rebind(d, query(len(chunk))), args...); err != nil {
				return err
			}
			continue
		}
		if full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, rebind(d, query(size))); err != nil {
				return err
			}
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// importCustomersTx reads the stored customers that profiles name, by id.
func importCustomersTx(ctx context.Context, q queryer, d dialect, profiles []CustomerImport) (map[string]Customer, error) {
	seen := make(map[string]bool, len(profiles))
	var ids []any
	for _, p := range profiles {
		if !seen[p.Customer.ID] {
			seen[p.Customer.ID] = true
			ids = append(ids, p.Customer.ID)
		}
	}
	known := make(map[string]Customer, len(ids))
	for chunk := range slices.Chunk(ids, importLookupRows) {
		rows, err := q.QueryContext(ctx, rebind(d, `SELECT `+customerColumns+` FROM customers WHERE id IN (`+repeatJoin("?", len(chunk))+`)`), chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			c, err := scanCustomer(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			known[c.ID] = c
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
	}
	return known, nil
}

// importIdentitiesTx reads who holds the identities that profiles name.
func importIdentitiesTx(ctx context.Context, q queryer, d dialect, profiles []CustomerImport) (map[identityKey]heldIdentity, error) {
	byKind := map[string][]any{}
	seen := map[identityKey]bool{}
	for _, p := range profiles {
		for _, id := range p.Identities {
			k := identityKey{id.Kind, id.Value}
			if !seen[k] {
				seen[k] = true
				byKind[id.Kind] = append(byKind[id.Kind], id.Value)
			}
		}
	}
	held := make(map[identityKey]heldIdentity, len(seen))
	kinds := make([]string, 0, len(byKind))
	for kind := range byKind {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		for chunk := range slices.Chunk(byKind[kind], importLookupRows) {
			rows, err := q.QueryContext(ctx, rebind(d, `SELECT value, customer_id, verified FROM customer_identities
WHERE kind = ? AND value IN (`+repeatJoin("?", len(chunk))+`)`), append([]any{kind}, chunk...)...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var (
					value, owner string
					verified     int
				)
				if err := rows.Scan(&value, &owner, &verified); err != nil {
					rows.Close()
					return nil, err
				}
				held[identityKey{kind, value}] = heldIdentity{owner: owner, verified: verified != 0}
			}
			if err := closeRows(rows); err != nil {
				return nil, err
			}
		}
	}
	return held, nil
}

// closeRows closes rows and returns the error of the iteration, if any.
func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// repeatJoin returns n copies of s separated by ", ".
func repeatJoin(s string, n int) string {
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n * (len(s) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}
