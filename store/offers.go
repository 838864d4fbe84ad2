package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
)

// Offer outcomes as recorded: the offers package's (offers.Outcome).
// Accepted counts as a success of the offer, Declined and NotRelevant as
// failures; Presented teaches nothing but counts towards the offer's cap
// per contact.
const (
	OutcomePresented   = string(offers.Presented)
	OutcomeAccepted    = string(offers.Accepted)
	OutcomeDeclined    = string(offers.Declined)
	OutcomeNotRelevant = string(offers.NotRelevant)
)

// MaxOfferHistory is the most rows OfferHistory returns.
const MaxOfferHistory = 1000

// OfferOutcome is one recorded outcome of an offer during a contact.
type OfferOutcome struct {
	// ID is set by RecordOfferOutcomes.
	ID        string
	OfferID   string
	ContactID string
	// CustomerID is the customer's profile (after its merge, if any);
	// empty when the contact had none, or after EraseCustomer.
	CustomerID string
	// Segment is the customer's segment when the outcome was recorded.
	Segment string
	AgentID string
	// Outcome is one of the Outcome constants.
	Outcome string
	At      time.Time
}

// OfferStat is what was learned of one offer in one segment.
type OfferStat struct {
	OfferID  string
	Segment  string
	Accepted int
	Rejected int // declined or not relevant
}

// CatalogOffer is an offer put over the API: its definition (JSON of
// offers.Offer, which the store does not read), or a withdrawal of the id.
type CatalogOffer struct {
	ID string
	// Definition is empty when Withdrawn.
	Definition []byte
	// Withdrawn hides the id, a configured offer of that id included.
	Withdrawn bool
	UpdatedAt time.Time
}

func decision(outcome string) bool { return offers.Outcome(outcome).Decision() }

// RecordOfferOutcomes records outcomes in one transaction and keeps the
// learned counts (OfferStats) in step with them. Retries are safe:
//
//   - a presentation is recorded once per contact, offer and agent;
//   - a decision (accepted, declined, not relevant) equal to the latest
//     decision on the same contact and offer is a duplicate; a different
//     one corrects it: the counts move from the old decision (in the old
//     row's segment) to the new.
//
// Duplicates are skipped. It returns the counts that changed, after the
// change, and how many outcomes were recorded. An unknown outcome wraps
// ErrBadOptions and records nothing.
func (db *DB) RecordOfferOutcomes(ctx context.Context, outs []OfferOutcome) (changed []OfferStat, recorded int, err error) {
	for _, o := range outs {
		if o.Outcome != OutcomePresented && !decision(o.Outcome) {
			return nil, 0, fmt.Errorf("%w: offer outcome %q", ErrBadOptions, o.Outcome)
		}
		if o.OfferID == "" || o.ContactID == "" {
			return nil, 0, fmt.Errorf("%w: offer outcome without offer or contact", ErrBadOptions)
		}
	}
	type key struct{ offer, segment string }
	delta := map[key]OfferStat{}
	var order []key
	bump := func(offer, segment, outcome string, n int) {
		k := key{offer, segment}
		s, ok := delta[k]
		if !ok {
			order = append(order, k)
			s = OfferStat{OfferID: offer, Segment: segment}
		}
		if outcome == OutcomeAccepted {
			s.Accepted += n
		} else {
			s.Rejected += n
		}
		delta[k] = s
	}
	err = db.inTx(ctx, "record offer outcomes", func(tx *sql.Tx) error {
		for _, o := range outs {
			var dup bool
			var prev OfferOutcome
			if o.Outcome == OutcomePresented {
				var n int
				err := tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT COUNT(*) FROM offer_outcomes
WHERE contact_id = ? AND offer_id = ? AND agent_id = ? AND outcome = ?`), o.ContactID, o.OfferID, o.AgentID, OutcomePresented).Scan(&n)
				if err != nil {
					return err
				}
				dup = n > 0
			} else {
				var at int64
				err := tx.QueryRowContext(ctx, rebind(db.dialect, `SELECT outcome, segment, at FROM offer_outcomes
WHERE contact_id = ? AND offer_id = ? AND outcome <> ? ORDER BY at DESC, id DESC LIMIT 1`), o.ContactID, o.OfferID, OutcomePresented).
					Scan(&prev.Outcome, &prev.Segment, &at)
				switch {
				case errors.Is(err, sql.ErrNoRows):
				case err != nil:
					return err
				default:
					dup = prev.Outcome == o.Outcome
				}
			}
			if dup {
				continue
			}
			o.ID = newID()
			if _, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO offer_outcomes
(id, offer_id, contact_id, customer_id, segment, agent_id, outcome, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
				o.ID, o.OfferID, o.ContactID, o.CustomerID, o.Segment, o.AgentID, o.Outcome, toNanos(o.At)); err != nil {
				return err
			}
			if err := appendLogTx(ctx, tx, db.dialect, router.LogOfferOutcome, o.ContactID, o.At, map[string]OfferOutcomeData{"offer_outcome": {
				OfferID: o.OfferID, ContactID: o.ContactID, CustomerID: o.CustomerID, AgentID: o.AgentID, Outcome: o.Outcome, Segment: o.Segment,
			}}); err != nil {
				return err
			}
			recorded++
			if !decision(o.Outcome) {
				continue
			}
			if prev.Outcome != "" {
				bump(o.OfferID, prev.Segment, prev.Outcome, -1)
			}
			bump(o.OfferID, o.Segment, o.Outcome, 1)
		}
		for _, k := range order {
			d := delta[k]
			if _, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO offer_stats (offer_id, segment, accepted, rejected)
VALUES (?, ?, ?, ?) ON CONFLICT (offer_id, segment) DO UPDATE SET
accepted = offer_stats.accepted + excluded.accepted, rejected = offer_stats.rejected + excluded.rejected`),
				d.OfferID, d.Segment, d.Accepted, d.Rejected); err != nil {
				return err
			}
			s, err := offerStatTx(ctx, tx, db.dialect, d.OfferID, d.Segment)
			if err != nil {
				return err
			}
			changed = append(changed, s)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return changed, recorded, nil
}

func offerStatTx(ctx context.Context, q queryer, d dialect, offerID, segment string) (OfferStat, error) {
	s := OfferStat{OfferID: offerID, Segment: segment}
	err := q.QueryRowContext(ctx, rebind(d, `SELECT accepted, rejected FROM offer_stats WHERE offer_id = ? AND segment = ?`),
		offerID, segment).Scan(&s.Accepted, &s.Rejected)
	return s, err
}

// OfferStats returns the learned counts of every offer and segment, by
// offer and segment; none is nil.
func (db *DB) OfferStats(ctx context.Context) ([]OfferStat, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT offer_id, segment, accepted, rejected FROM offer_stats ORDER BY offer_id, segment`)
	if err != nil {
		return nil, fmt.Errorf("store: offer stats: %w", err)
	}
	defer rows.Close()
	var out []OfferStat
	for rows.Next() {
		var s OfferStat
		if err := rows.Scan(&s.OfferID, &s.Segment, &s.Accepted, &s.Rejected); err != nil {
			return nil, fmt.Errorf("store: offer stats: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: offer stats: %w", err)
	}
	return out, nil
}

// offerCustomers is the customer and those merged into it: the profiles
// whose outcomes are the customer's.
const offerCustomers = `(SELECT ? UNION SELECT from_id FROM customer_merges WHERE into_id = ?)`

// OfferHistory returns the outcomes of customerID (and of the customers
// merged into it) recorded at or after since, newest first, at most
// limit (1 to MaxOfferHistory); none is nil.
func (db *DB) OfferHistory(ctx context.Context, customerID string, since time.Time, limit int) ([]OfferOutcome, error) {
	if limit < 1 || limit > MaxOfferHistory {
		limit = MaxOfferHistory
	}
	if customerID == "" {
		return nil, nil
	}
	// Prepared once: every screen pop with an offer that has a cooldown
	// or a cap runs it.
	rows, err := db.readQuery(ctx, rebind(db.dialect, offerOutcomeSelect+`WHERE customer_id IN `+offerCustomers+` AND at >= ?
ORDER BY at DESC, id DESC LIMIT ?`), customerID, customerID, toNanos(since), limit)
	if err != nil {
		return nil, fmt.Errorf("store: offer history of %q: %w", customerID, err)
	}
	outs, err := scanOfferOutcomes(rows)
	if err != nil {
		return nil, fmt.Errorf("store: offer history of %q: %w", customerID, err)
	}
	return outs, nil
}

// customerOfferOutcomes returns every outcome of customerID (and of the
// customers merged into it), oldest first: its part of ExportCustomer.
func customerOfferOutcomes(ctx context.Context, q queryer, d dialect, customerID string) ([]OfferOutcome, error) {
	outs, err := queryOfferOutcomes(ctx, q, d, `WHERE customer_id IN `+offerCustomers+` ORDER BY at, id`, customerID, customerID)
	if err != nil {
		return nil, fmt.Errorf("offer outcomes: %w", err)
	}
	return outs, nil
}

// eraseOfferOutcomesTx keeps the outcomes of customerID (and of the
// customers merged into it) as anonymous statistics: the customer id is
// blanked; offer, segment, agent, contact, outcome and time stay, and so
// do the learned counts. Its part of EraseCustomer.
func eraseOfferOutcomesTx(ctx context.Context, tx *sql.Tx, d dialect, customerID string) error {
	_, err := tx.ExecContext(ctx, rebind(d, `UPDATE offer_outcomes SET customer_id = '' WHERE customer_id IN `+offerCustomers),
		customerID, customerID)
	if err != nil {
		return fmt.Errorf("offer outcomes: %w", err)
	}
	return nil
}

// offerOutcomeSelect is the start of the queries of offer outcomes.
const offerOutcomeSelect = `SELECT id, offer_id, contact_id, customer_id, segment, agent_id, outcome, at
FROM offer_outcomes `

func queryOfferOutcomes(ctx context.Context, q queryer, d dialect, where string, args ...any) ([]OfferOutcome, error) {
	rows, err := q.QueryContext(ctx, rebind(d, offerOutcomeSelect+where), args...)
	if err != nil {
		return nil, err
	}
	return scanOfferOutcomes(rows)
}

// scanOfferOutcomes reads and closes rows of offerOutcomeSelect.
func scanOfferOutcomes(rows *sql.Rows) ([]OfferOutcome, error) {
	defer rows.Close()
	var out []OfferOutcome
	for rows.Next() {
		var (
			o  OfferOutcome
			at int64
		)
		if err := rows.Scan(&o.ID, &o.OfferID, &o.ContactID, &o.CustomerID, &o.Segment, &o.AgentID, &o.Outcome, &at); err != nil {
			return nil, err
		}
		o.At = fromNanos(at)
		out = append(out, o)
	}
	return out, rows.Err()
}

// CatalogOffers returns the offers put or withdrawn over the API, by id;
// none is nil.
func (db *DB) CatalogOffers(ctx context.Context) ([]CatalogOffer, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, definition, withdrawn, updated_at FROM offer_catalog ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: offer catalog: %w", err)
	}
	defer rows.Close()
	var out []CatalogOffer
	for rows.Next() {
		var (
			o         CatalogOffer
			def       string
			withdrawn int
			at        int64
		)
		if err := rows.Scan(&o.ID, &def, &withdrawn, &at); err != nil {
			return nil, fmt.Errorf("store: offer catalog: %w", err)
		}
		if def != "" {
			o.Definition = []byte(def)
		}
		o.Withdrawn, o.UpdatedAt = withdrawn != 0, fromNanos(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: offer catalog: %w", err)
	}
	return out, nil
}

// PutCatalogOffer creates or replaces an offer of the catalog, or
// withdraws its id (o.Withdrawn, o.Definition empty).
func (db *DB) PutCatalogOffer(ctx context.Context, o CatalogOffer) error {
	if o.ID == "" || o.Withdrawn != (len(o.Definition) == 0) {
		return fmt.Errorf("%w: catalog offer %q: want an id and either a definition or withdrawn", ErrBadOptions, o.ID)
	}
	return db.inTx(ctx, "put catalog offer "+o.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, rebind(db.dialect, `INSERT INTO offer_catalog (id, definition, withdrawn, updated_at)
VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, withdrawn = excluded.withdrawn,
updated_at = excluded.updated_at`), o.ID, string(o.Definition), boolInt(o.Withdrawn), toNanos(o.UpdatedAt))
		return err
	})
}

// OfferPresented reports whether the offer offerID was recorded as
// presented during the contact contactID (to any agent).
func (db *DB) OfferPresented(ctx context.Context, contactID, offerID string) (bool, error) {
	var one int
	err := db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT 1 FROM offer_outcomes
WHERE contact_id = ? AND offer_id = ? AND outcome = ? LIMIT 1`), contactID, offerID, OutcomePresented).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: offer %q presented in %q: %w", offerID, contactID, err)
	}
	return true, nil
}
