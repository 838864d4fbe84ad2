package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard/switchboard/router"
)

// QueueStats are the wait outcomes of one queue over a period.
type QueueStats struct {
	// Answered counts contacts assigned to an agent in the period.
	Answered int
	// Abandoned counts contacts abandoned in the period.
	Abandoned int
	// Waits are the answered contacts' waits in the queue that answered
	// them (AssignedAt − QueuedAt: a transferred or returned contact
	// entered it again; 0 if unset), sorted ascending; len(Waits) ==
	// Answered.
	// The service level within d is the count of Waits <= d over Answered
	// (or over Answered + Abandoned, as the caller defines it); the p-th
	// percentile is Waits[p*(len-1)/100].
	Waits []time.Duration
	// AbandonWaits are the abandoned contacts' waits (EndedAt −
	// QueuedAt, 0 if unset), sorted ascending; the short
	// abandons are those within a queue's threshold.
	AbandonWaits []time.Duration
}

// queueStatsSQL selects the contacts answered or abandoned since a time;
// arguments: since, "abandoned", since.
const queueStatsSQL = `SELECT queue, state, queued_at, assigned_at, ended_at FROM contacts
WHERE assigned_at >= ? OR (state = ? AND ended_at >= ?)`

// QueueStats returns, per queue, the contacts whose wait ended since
// since: answered (AssignedAt >= since) or abandoned (state abandoned and
// EndedAt >= since). A contact counts once, as abandoned if its state is
// abandoned. Queues with no such contact are absent from the map. A
// contact counts in the queue it is in now.
func (db *DB) QueueStats(ctx context.Context, since time.Time) (map[string]QueueStats, error) {
	from := max(toNanos(since), 1) // 0 means "never assigned/ended"
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, queueStatsSQL), from, string(router.ContactAbandoned), from)
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	defer rows.Close()
	stats := make(map[string]QueueStats)
	for rows.Next() {
		var (
			queue, state                  string
			enqueued, assignedAt, endedAt int64
		)
		if err := rows.Scan(&queue, &state, &enqueued, &assignedAt, &endedAt); err != nil {
			return nil, fmt.Errorf("store: queue stats: %w", err)
		}
		s := stats[queue]
		if router.ContactState(state) == router.ContactAbandoned {
			s.Abandoned++
			wait := time.Duration(0)
			if enqueued != 0 && endedAt > enqueued {
				wait = time.Duration(endedAt - enqueued)
			}
			s.AbandonWaits = append(s.AbandonWaits, wait)
		} else {
			s.Answered++
			wait := time.Duration(0)
			if enqueued != 0 && assignedAt > enqueued {
				wait = time.Duration(assignedAt - enqueued)
			}
			s.Waits = append(s.Waits, wait)
		}
		stats[queue] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	for q, s := range stats {
		slices.Sort(s.Waits)
		slices.Sort(s.AbandonWaits)
		stats[q] = s
	}
	return stats, nil
}

// ContactTimes are the moments of one contact that reports count.
type ContactTimes struct {
	ID    string
	Queue string
	// AgentID is the agent it is with, or who last had it.
	AgentID string
	Channel router.Channel
	State   router.ContactState
	// CreatedAt, QueuedAt (when it entered its current queue), AssignedAt
	// and EndedAt are zero when they did not happen (yet).
	CreatedAt, QueuedAt, AssignedAt, EndedAt time.Time
	// CSAT is the customer's satisfaction score (package csat), 0 when
	// they gave none.
	CSAT int
}

// contactTimesSQL selects the contacts created, assigned or ended in
// [from, to): arguments from, to three times, with the final states
// between the second and the third pair (each term has its index); and
// those accepted in the spanAccepted before from and not ended by it
// (handled across the range's start: from − spanAccepted, from, from).
const contactTimesSQL = `SELECT c.id, c.queue, c.agent_id, c.channel, c.state, c.created_at, c.queued_at, c.assigned_at, c.ended_at,
COALESCE((SELECT s.score FROM contact_csat s WHERE s.contact_id = c.id), 0)
FROM contacts c
WHERE (c.created_at >= ? AND c.created_at < ?) OR (c.assigned_at >= ? AND c.assigned_at < ?)
OR (c.state IN (?, ?) AND c.ended_at >= ? AND c.ended_at < ?)
OR (c.assigned_at >= ? AND c.assigned_at < ? AND (c.ended_at = 0 OR c.ended_at >= ?))
ORDER BY c.created_at, c.id`

// spanAccepted is how long before a range a contact accepted and still
// handled when the range starts is looked for (ContactTimes): the
// agents' report counts the busy time of those too, and a bounded look
// back keeps the read off the whole history. A contact handled for
// longer (an email left open for days) is not seen from before it.
const spanAccepted = 24 * time.Hour

// MaxReportContacts bounds what ContactTimes reads at once.
const MaxReportContacts = 2_000_000

// ContactTimes returns the contacts created, assigned or ended (closed
// or abandoned) in [from, to), and those accepted in the day before from
// and still handled at from, each once, oldest first. Past
// MaxReportContacts it fails with ErrLimit rather than hold an unbounded
// range in memory; EachContactTimes streams any range.
func (db *DB) ContactTimes(ctx context.Context, from, to time.Time) ([]ContactTimes, error) {
	var out []ContactTimes
	err := db.EachContactTimes(ctx, from, to, func(c ContactTimes) error {
		if len(out) == MaxReportContacts {
			return fmt.Errorf("%w: more than %d contacts; ask for a shorter range", ErrLimit, MaxReportContacts)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// EachContactTimes calls fn with each contact created, assigned or ended
// (closed or abandoned) in [from, to), once, oldest first, as it reads
// them: a report of any range holds only its bins. An error from fn
// stops the read and is returned (wrapped).
func (db *DB) EachContactTimes(ctx context.Context, from, to time.Time, fn func(ContactTimes) error) error {
	f, t := max(toNanos(from), 1), toNanos(to)
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, contactTimesSQL), f, t, f, t,
		string(router.ContactClosed), string(router.ContactAbandoned), f, t, max(f-int64(spanAccepted), 1), f, f)
	if err != nil {
		return fmt.Errorf("store: contact times: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			c                                  ContactTimes
			channel, state                     string
			created, enqueued, assigned, ended int64
		)
		if err := rows.Scan(&c.ID, &c.Queue, &c.AgentID, &channel, &state, &created, &enqueued, &assigned, &ended, &c.CSAT); err != nil {
			return fmt.Errorf("store: contact times: %w", err)
		}
		c.Channel, c.State = router.Channel(channel), router.ContactState(state)
		c.CreatedAt, c.QueuedAt, c.AssignedAt, c.EndedAt = fromNanos(created), fromNanos(enqueued), fromNanos(assigned), fromNanos(ended)
		if err := fn(c); err != nil {
			return fmt.Errorf("store: contact times: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: contact times: %w", err)
	}
	return nil
}

// TransfersByQueue counts the transfers in [from, to) by the queue the
// contact left (the transferred events: router.Event.Queue), for the
// queues' figures of the day.
func (db *DB) TransfersByQueue(ctx context.Context, from, to time.Time) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, `SELECT queue, COUNT(*) FROM contact_events
WHERE event = ? AND at >= ? AND at < ? GROUP BY queue`), router.EventTransferred, toNanos(from), toNanos(to))
	if err != nil {
		return nil, fmt.Errorf("store: transfers: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			q string
			n int
		)
		if err := rows.Scan(&q, &n); err != nil {
			return nil, fmt.Errorf("store: transfers: %w", err)
		}
		out[q] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: transfers: %w", err)
	}
	return out, nil
}
