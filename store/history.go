package store

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/router"
)

// EachContactHistory calls fn with each contact created in [from, to),
// oldest first (by created_at, then id), with its whole timeline in
// sequence order: what a what-if replay reads of a period (package
// replay). It holds the range's contacts (at most MaxReportContacts,
// past which it fails with ErrLimit) and streams their events. An error
// from fn stops the read and is returned (wrapped).
func (db *DB) EachContactHistory(ctx context.Context, from, to time.Time, fn func(c router.Contact, timeline []router.Event) error) error {
	f, t := max(toNanos(from), 1), toNanos(to)
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect,
		`SELECT data, idempotency_key, idempotency_hash FROM contacts WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id`), f, t)
	if err != nil {
		return fmt.Errorf("store: contact history: %w", err)
	}
	var contacts []router.Contact
	for rows.Next() {
		if len(contacts) == MaxReportContacts {
			rows.Close()
			return fmt.Errorf("store: contact history: %w: more than %d contacts; ask for a shorter range", ErrLimit, MaxReportContacts)
		}
		c, err := scanContact(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("store: contact history: %w", err)
		}
		contacts = append(contacts, c)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("store: contact history: %w", err)
	}
	rows.Close()
	if len(contacts) == 0 {
		return nil
	}

	// The events of the same contacts, in the same order.
	rows, err = db.read.QueryContext(ctx, rebind(db.dialect, `SELECT e.contact_id, e.seq, e.at, e.event, e.agent_id, e.queue, e.reason, e.actor
FROM contact_events e JOIN contacts c ON c.id = e.contact_id
WHERE c.created_at >= ? AND c.created_at < ? ORDER BY c.created_at, c.id, e.seq`), f, t)
	if err != nil {
		return fmt.Errorf("store: contact history: %w", err)
	}
	defer rows.Close()
	i := 0
	var events []router.Event
	// flush hands fn the contacts up to the one whose events are read
	// next (those before it have none left).
	flush := func(upTo string) error {
		for i < len(contacts) && contacts[i].ID != upTo {
			if err := fn(contacts[i], events); err != nil {
				return fmt.Errorf("store: contact history: %w", err)
			}
			events = nil
			i++
		}
		return nil
	}
	for rows.Next() {
		var (
			e  router.Event
			at int64
		)
		if err := rows.Scan(&e.ContactID, &e.Seq, &at, &e.Event, &e.AgentID, &e.Queue, &e.Reason, &e.By); err != nil {
			return fmt.Errorf("store: contact history: %w", err)
		}
		e.At = fromNanos(at)
		if i < len(contacts) && contacts[i].ID != e.ContactID {
			if err := flush(e.ContactID); err != nil {
				return err
			}
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: contact history: %w", err)
	}
	return flush("")
}

// OfferOutcomesOf returns the offer outcomes recorded during the
// contacts created in [from, to), by time; none is nil.
func (db *DB) OfferOutcomesOf(ctx context.Context, from, to time.Time) ([]OfferOutcome, error) {
	outs, err := queryOfferOutcomes(ctx, db.read, db.dialect,
		`WHERE contact_id IN (SELECT id FROM contacts WHERE created_at >= ? AND created_at < ?) ORDER BY at, id`,
		max(toNanos(from), 1), toNanos(to))
	if err != nil {
		return nil, fmt.Errorf("store: offer outcomes of contacts: %w", err)
	}
	return outs, nil
}
