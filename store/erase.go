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
// abandonment's or a recorded event's may be free text). In the event
// log, which the webhooks deliver: the same, in its entries not yet
// pruned (eraseLogTx). Its deliveries' failure reasons, and its outbound
// messages not yet delivered, cancelled at at (eraseDeliveriesTx). Ids, channel, queue, agents, times, states,
// dispositions, event names, message directions and counts stay. If one
// of contacts that names a customer has not ended, it changes nothing
// and returns an *OpenContactsError. A live contact that names no
// customer only claimed the customer's email or phone: it is not theirs,
// does not hold up the erasure, and is left to the router, which holds
// it (router.ForgetClaims).
func eraseContactsTx(ctx context.Context, tx *sql.Tx, d dialect, customerID string, contacts []router.Contact, at time.Time) error {
	if err := openContacts(customerID, contacts); err != nil {
		return err
	}
	for _, c := range contacts {
		if !c.State.Final() {
			continue // a claim: the router's (router.ForgetClaims)
		}
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
			// erased_at: the first erasure's time stays.
			{`UPDATE contacts SET customer_id = ?, customer_email = '', customer_phone = '', subject = '', data = ?,
	erased_at = CASE WHEN erased_at = 0 THEN ? ELSE erased_at END WHERE id = ?`,
				[]any{c.Customer.ID, data, toNanos(at), c.ID}},
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
		if err := eraseDeliveriesTx(ctx, tx, d, c.ID, at); err != nil {
			return fmt.Errorf("contact %q: %w", c.ID, err)
		}
		if err := eraseLogTx(ctx, tx, d, c.ID); err != nil {
			return fmt.Errorf("contact %q: %w", c.ID, err)
		}
	}
	return nil
}

// ErasedOutboxReason is the reason an outbound message not yet delivered
// when its customer was erased is given up: its body and its customer's
// address are gone, and nothing of it may reach anyone.
const ErasedOutboxReason = "cancelled: the customer was erased"

// eraseDeliveriesTx forgets, in tx, why the deliveries of contactID's
// messages failed (a provider's error may name the customer's address)
// and cancels its outbound messages still pending: each is done in the
// outbox, and its message's delivery failed with ErasedOutboxReason at
// at. A dispatcher that still holds one learns it from the store before
// its next attempt (OutboxDone); the outbox's upsert never makes a done
// entry pending again (upsertOutboxSQL), nor does a later delivery
// report rewrite the delivery (updateDeliverySQL).
func eraseDeliveriesTx(ctx context.Context, tx *sql.Tx, d dialect, contactID string, at time.Time) error {
	// The outbox is joined by its key (router.OutboxID): it has no index
	// by contact, and grows with every message sent.
	rows, err := tx.QueryContext(ctx, rebind(d, `SELECT m.seq, m.delivery, o.id, o.attempts, o.done, o.last_error
FROM contact_messages m LEFT JOIN outbox o ON o.id = m.contact_id || '/' || CAST(m.seq AS TEXT)
WHERE m.contact_id = ? AND m.direction = 'out'`), contactID)
	if err != nil {
		return fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	var stmts []stmt
	for rows.Next() {
		var (
			seq            int
			delivery, id   sql.NullString
			attempts, done sql.NullInt64
			lastError      sql.NullString
		)
		if err := rows.Scan(&seq, &delivery, &id, &attempts, &done, &lastError); err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}
		var rec deliveryRecord
		if delivery.Valid {
			if err := unmarshalJSON(delivery.String, &rec); err != nil {
				return fmt.Errorf("delivery of message %d: %w", seq, err)
			}
		}
		was := rec
		switch {
		case id.Valid && done.Int64 == 0: // on its way: cancelled
			stmts = append(stmts, stmt{`UPDATE outbox SET done = 1, last_error = ? WHERE id = ?`, []any{ErasedOutboxReason, id.String}})
			rec = deliveryRecord{Status: string(router.DeliveryFailed), Reason: ErasedOutboxReason, Attempts: int(attempts.Int64), At: toNanos(at)}
		case id.Valid && lastError.String != "" && lastError.String != ErasedOutboxReason:
			stmts = append(stmts, stmt{`UPDATE outbox SET last_error = '' WHERE id = ?`, []any{id.String}})
			fallthrough
		default:
			if rec.Reason != ErasedOutboxReason {
				rec.Reason = ""
			}
		}
		if rec == was {
			continue
		}
		b, err := marshalJSON(rec)
		if err != nil {
			return fmt.Errorf("delivery of message %d: %w", seq, err)
		}
		stmts = append(stmts, stmt{`UPDATE contact_messages SET delivery = ? WHERE contact_id = ? AND seq = ?`, []any{b, contactID, seq}})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("deliveries: %w", err)
	}
	rows.Close()
	if err := execTx(ctx, tx, d, stmts); err != nil {
		return fmt.Errorf("deliveries: %w", err)
	}
	return nil
}

// eraseLogTx rewrites, in tx, the entries of contact contactID that the
// event log still holds (not yet pruned: owed to a webhook, or within
// the retention) to their erased form (erasedLogData). Their ids, types,
// contacts and times stay: every webhook keeps its place in the log and
// its order per contact, and an entry it still owes is delivered, after
// the erasure, without the customer's personal data.
func eraseLogTx(ctx context.Context, tx *sql.Tx, d dialect, contactID string) error {
	rows, err := tx.QueryContext(ctx, rebind(d, `SELECT id, type, data FROM event_log WHERE contact_id = ? ORDER BY id`), contactID)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	type entry struct {
		id        int64
		typ, data string
	}
	var entries []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.id, &e.typ, &e.data); err != nil {
			rows.Close()
			return fmt.Errorf("event log: %w", err)
		}
		entries = append(entries, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	var stmts []stmt
	for _, e := range entries {
		erased, err := erasedLogData(e.typ, e.data)
		if err != nil {
			return fmt.Errorf("event log entry %d: %w", e.id, err)
		}
		if erased != e.data {
			stmts = append(stmts, stmt{`UPDATE event_log SET data = ? WHERE id = ?`, []any{erased, e.id}})
		}
	}
	if err := execTx(ctx, tx, d, stmts); err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	return nil
}

// erasedLogData is the payload data of an event log entry of type typ,
// of an erased customer's contact, without their personal data: an
// offer.outcome without the customer id (as eraseOfferOutcomesTx keeps
// the outcome), the contact and message entries as
// router.LogData.Erased keeps them. A payload that does not decode
// becomes "{}": nothing of it can be told to be safe.
func erasedLogData(typ, data string) (string, error) {
	var v any
	switch typ {
	case router.LogOfferOutcome:
		var p map[string]OfferOutcomeData
		if err := unmarshalJSON(data, &p); err != nil {
			return "{}", nil
		}
		for k, o := range p {
			o.CustomerID = ""
			p[k] = o
		}
		v = p
	default:
		var ld router.LogData
		if err := unmarshalJSON(data, &ld); err != nil {
			return "{}", nil
		}
		v = ld.Erased()
	}
	out, err := marshalJSON(v)
	if err != nil {
		return "", fmt.Errorf("encode: %w", err)
	}
	return out, nil
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

// openContacts is the *OpenContactsError of the contacts that name
// customerID and hold up its erasure, those that have not ended and name
// a customer (the others only claimed theirs); nil when none does.
func openContacts(customerID string, contacts []router.Contact) error {
	var open []string
	for _, c := range contacts {
		if !c.State.Final() && c.Customer.ID != "" {
			open = append(open, c.ID)
		}
	}
	if len(open) > 0 {
		return &OpenContactsError{CustomerID: customerID, ContactIDs: open}
	}
	return nil
}

// CheckErasable says whether EraseCustomer would go ahead now: nil, an
// *OpenContactsError naming the contacts that hold it up, or an error
// wrapping ErrNotFound for an unknown customer. It reads, and writes
// nothing: a caller checks before it changes what the erasure needs
// changed first (the claims of live contacts), so that a refusal
// changes nothing.
func (db *DB) CheckErasable(ctx context.Context, customerID string) error {
	if _, err := customerTx(ctx, db.read, db.dialect, customerID); err != nil {
		return err
	}
	contacts, err := customerContacts(ctx, db.read, db.dialect, customerID)
	if err != nil {
		return err
	}
	return openContacts(customerID, contacts)
}
