package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
)

// OpenContactsError says that a customer cannot be erased while contacts
// of theirs have not ended: the router holds them, personal data
// included, and writes them whole on its next change. It matches
// ErrConflict.
type OpenContactsError struct {
	CustomerID string
	// ContactIDs are the contacts not closed or abandoned, oldest first;
	// never empty.
	ContactIDs []string
}

func (e *OpenContactsError) Error() string {
	return fmt.Sprintf("store: customer %q has %d contacts not ended: %s", e.CustomerID, len(e.ContactIDs), strings.Join(e.ContactIDs, ", "))
}

// Is makes the error match ErrConflict.
func (e *OpenContactsError) Is(target error) bool { return target == ErrConflict }

// eraseContactsTx blanks the personal data of customerID's contacts,
// keeping what statistics need. In each contact: the customer's name,
// email and phone, the subject and the notes go; the customer's value
// becomes its bucket (valueBucket); a contact linked to no customer id
// gets customerID, so that it still counts as the erased customer's. In
// its conversation: every body, subject, HTML, reference and attachment
// (detail), and the author and author name of the messages from the
// customer (the name they gave); external ids stay, so that a channel's
// message is still never stored twice. In its timeline: every reason (an
// abandonment's or a recorded event's may be free text). Ids, channel,
// queue, agents, times, states, dispositions, event names, message
// directions and counts stay. If one of contacts that names a customer
// has not ended, it changes nothing and returns an *OpenContactsError. A
// live contact that names no customer only claimed the customer's email
// or phone: it is not theirs, does not hold up the erasure, and is left
// to the router, which holds it (router.ForgetClaims).
func eraseContactsTx(ctx context.Context, tx *sql.Tx, d dialect, customerID string, contacts []router.Contact) error {
	var open []string
	ended := contacts[:0:0]
	for _, c := range contacts {
		switch {
		case c.State.Final():
			ended = append(ended, c)
		case c.Customer.ID != "":
			open = append(open, c.ID)
		}
	}
	if len(open) > 0 {
		return &OpenContactsError{CustomerID: customerID, ContactIDs: open}
	}
	for _, c := range ended {
		c.Customer = router.Customer{ID: c.Customer.ID, Value: valueBucket(c.Customer.Value)}
		if c.Customer.ID == "" {
			c.Customer.ID = customerID
		}
		c.Subject, c.Notes = "", ""
		data, err := marshalJSON(recordOfContact(&c))
		if err != nil {
			return fmt.Errorf("contact %q: encode: %w", c.ID, err)
		}
		if err := execTx(ctx, tx, d, []stmt{
			{`UPDATE contacts SET customer_id = ?, customer_email = '', customer_phone = '', subject = '', data = ? WHERE id = ?`,
				[]any{c.Customer.ID, data, c.ID}},
			{`UPDATE contact_messages SET body = '', detail = '', author = CASE WHEN direction = 'in' THEN '' ELSE author END,
	author_name = CASE WHEN direction = 'in' THEN '' ELSE author_name END WHERE contact_id = ?`,
				[]any{c.ID}},
			{`UPDATE contact_events SET reason = '' WHERE contact_id = ?`, []any{c.ID}},
			{`UPDATE contact_csat SET comment = '' WHERE contact_id = ?`, []any{c.ID}},
			// The files go too, once no other message holds them
			// (TakeOrphanedAttachments).
			{`INSERT INTO attachment_orphans (sha256) SELECT sha256 FROM message_attachments WHERE contact_id = ?
ON CONFLICT (sha256) DO NOTHING`, []any{c.ID}},
			{`DELETE FROM message_attachments WHERE contact_id = ?`, []any{c.ID}},
		}); err != nil {
			return fmt.Errorf("contact %q: %w", c.ID, err)
		}
	}
	return nil
}

// eraseMergedTx erases the customers merged into customerID (at any
// depth): their profiles are blanked as EraseCustomer blanks one (their
// counts stay 0: their contacts count as customerID's) and every merge
// record into or from one of them loses the identity that linked the two
// and its reason, which names it.
func eraseMergedTx(ctx context.Context, tx *sql.Tx, d dialect, customerID string, at time.Time) error {
	rows, err := tx.QueryContext(ctx, rebind(d, mergedCTE(d)+`SELECT id FROM merged`), customerID)
	if err != nil {
		return fmt.Errorf("merged customers: %w", err)
	}
	var group []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("merged customers: %w", err)
		}
		group = append(group, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("merged customers: %w", err)
	}
	for _, id := range group {
		stmts := []stmt{{`UPDATE customer_merges SET identity_value = '', reason = '' WHERE into_id = ? OR from_id = ?`, []any{id, id}}}
		if id != customerID {
			mc, err := customerTx(ctx, tx, d, id)
			if err != nil {
				return fmt.Errorf("merged customer: %w", err)
			}
			if mc.ErasedAt.IsZero() {
				stmts = append(stmts,
					stmt{`DELETE FROM customer_identities WHERE customer_id = ?`, []any{id}},
					stmt{eraseConsentSQL[0], []any{id}},
					stmt{eraseConsentSQL[1], []any{id}},
					stmt{`UPDATE customers SET name = '', language = '', consent_marketing = NULL, consent_profiling = NULL,
	relationship_manager = '', products = '[]', tags = '[]', sms_opt_out = 0, value = ?, updated_at = ?, erased_at = ?
WHERE id = ?`, []any{valueBucket(mc.Value), toNanos(at), toNanos(at), id}})
			}
		}
		if err := execTx(ctx, tx, d, stmts); err != nil {
			return fmt.Errorf("merged customer %q: %w", id, err)
		}
	}
	return nil
}

// stmt is one statement of execTx with its arguments.
type stmt struct {
	q    string
	args []any
}

// execTx runs stmts in order in tx, stopping at the first error.
func execTx(ctx context.Context, tx *sql.Tx, d dialect, stmts []stmt) error {
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, rebind(d, s.q), s.args...); err != nil {
			return err
		}
	}
	return nil
}
