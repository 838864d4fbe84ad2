package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/switchboard/switchboard/router"
)

// MaxAgentStates bounds the entries AgentStates returns at once.
const MaxAgentStates = 1000

// stateLookback bounds how far before a period AgentStateTimes looks for
// the state an agent was in when it began: an agent whose last change is
// older counts as offline (a desktop that drops makes an agent offline,
// so nobody stays available or in wrap-up that long).
const stateLookback = 7 * 24 * time.Hour

// AgentStateFilter selects a page of an agent's state history
// (AgentStates).
type AgentStateFilter struct {
	AgentID string
	// From and To bound the period, [From, To).
	From, To time.Time
	// Limit is the page size: MaxAgentStates when <= 0, at most
	// MaxAgentStates.
	Limit int
	// Cursor is AgentStatePage.Next of the previous page; empty for the
	// first.
	Cursor string
}

// AgentStatePage is one page of AgentStates.
type AgentStatePage struct {
	// States are oldest first.
	States []router.AgentStateChange
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// AgentStates returns one page of the state history of an agent in
// [f.From, f.To), oldest first: the first page starts with the change in
// force at From (its own time, before From), if any; then come the
// changes from From up to To. The router gives one agent's changes
// distinct times (each a nanosecond after the one before at least), so
// that the cursor, the time of the last change of the page, starts the
// next page right after it. A cursor that was not returned by an earlier
// page of this agent fails with an error wrapping ErrBadCursor.
func (db *DB) AgentStates(ctx context.Context, f AgentStateFilter) (AgentStatePage, error) {
	limit := f.Limit
	if limit <= 0 || limit > MaxAgentStates {
		limit = MaxAgentStates
	}
	var (
		out   []router.AgentStateChange
		after int64 = math.MinInt64 // the page starts after this time
	)
	if f.Cursor != "" {
		at, agentID, err := decodeCursor(f.Cursor)
		if err != nil || agentID != f.AgentID {
			return AgentStatePage{}, fmt.Errorf("store: agent states of %q: cursor %q: %w", f.AgentID, f.Cursor, ErrBadCursor)
		}
		after = at
	}
	scan := func(q string, args ...any) error {
		rows, err := db.read.QueryContext(ctx, rebind(db.dialect, q), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				s     router.AgentStateChange
				at    int64
				state string
			)
			if err := rows.Scan(&s.AgentID, &at, &state, &s.Reason, &s.Why, &s.By); err != nil {
				return err
			}
			s.At, s.State = fromNanos(at), router.AgentState(state)
			out = append(out, s)
		}
		return rows.Err()
	}
	const cols = `SELECT agent_id, at, state, reason, why, by_actor FROM agent_states`
	from := toNanos(f.From)
	if f.Cursor == "" {
		if err := scan(cols+` WHERE agent_id = ? AND at < ? ORDER BY at DESC LIMIT 1`, f.AgentID, from); err != nil {
			return AgentStatePage{}, fmt.Errorf("store: agent states of %q: %w", f.AgentID, err)
		}
	}
	// One more than the page: whether a next page follows.
	if err := scan(cols+` WHERE agent_id = ? AND at >= ? AND at > ? AND at < ? ORDER BY at LIMIT ?`,
		f.AgentID, from, after, toNanos(f.To), limit-len(out)+1); err != nil {
		return AgentStatePage{}, fmt.Errorf("store: agent states of %q: %w", f.AgentID, err)
	}
	page := AgentStatePage{States: out}
	if len(out) > limit {
		page.States = out[:limit]
		page.Next = encodeCursor(toNanos(out[limit-1].At), f.AgentID)
	}
	return page, nil
}

// AgentStateTimes returns, per agent, how long it spent in each state in
// [from, to) (EachAgentStateSpan). Agents with no history in that span
// are absent.
func (db *DB) AgentStateTimes(ctx context.Context, from, to time.Time) (map[string]map[router.AgentState]time.Duration, error) {
	out := map[string]map[router.AgentState]time.Duration{}
	err := db.EachAgentStateSpan(ctx, from, to, func(agentID string, state router.AgentState, start, end time.Time) error {
		if out[agentID] == nil {
			out[agentID] = map[router.AgentState]time.Duration{}
		}
		out[agentID][state] += end.Sub(start)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachAgentStateSpan calls fn with each span of [from, to) an agent spent
// in one state, by agent then time, from the state history: the state in
// force at from (the last change in the stateLookback before it; none:
// offline, and no span) and every change after; the last span of each
// agent runs to to. A span may be empty (two changes at one instant).
// An error from fn stops the read and is returned (wrapped).
func (db *DB) EachAgentStateSpan(ctx context.Context, from, to time.Time, fn func(agentID string, state router.AgentState, start, end time.Time) error) error {
	f, t := toNanos(from), toNanos(to)
	// The state each agent was in at from: ROW_NUMBER (SQLite 3.25 and
	// PostgreSQL alike) picks each agent's last change before it.
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, `SELECT agent_id, at, state FROM (
	SELECT agent_id, at, state, ROW_NUMBER() OVER (PARTITION BY agent_id ORDER BY at DESC) AS rn
	FROM agent_states WHERE at >= ? AND at < ?) last WHERE rn = 1
UNION ALL
SELECT agent_id, at, state FROM agent_states WHERE at >= ? AND at < ?
ORDER BY 1, 2`), f-int64(stateLookback), f, f, t)
	if err != nil {
		return fmt.Errorf("store: agent state spans: %w", err)
	}
	defer rows.Close()
	var (
		agent   string
		state   router.AgentState
		since   int64
		started bool
	)
	emit := func(until int64) error {
		if !started || until < since {
			return nil
		}
		return fn(agent, state, fromNanos(since), fromNanos(until))
	}
	for rows.Next() {
		var (
			id string
			at int64
			st string
		)
		if err := rows.Scan(&id, &at, &st); err != nil {
			return fmt.Errorf("store: agent state spans: %w", err)
		}
		end := at
		if id != agent {
			end = t
		}
		if err := emit(end); err != nil {
			return fmt.Errorf("store: agent state spans: %w", err)
		}
		agent, started = id, true
		state, since = router.AgentState(st), max(at, f)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: agent state spans: %w", err)
	}
	if err := emit(t); err != nil {
		return fmt.Errorf("store: agent state spans: %w", err)
	}
	return nil
}

// EachOfferTimeout calls fn with the agent and time of each offer that
// rang unanswered (an offer_timeout event) in [from, to), by time.
func (db *DB) EachOfferTimeout(ctx context.Context, from, to time.Time, fn func(agentID string, at time.Time) error) error {
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, `SELECT agent_id, at FROM contact_events
WHERE event = ? AND at >= ? AND at < ? AND agent_id <> '' ORDER BY at`), router.EventOfferTimeout, toNanos(from), toNanos(to))
	if err != nil {
		return fmt.Errorf("store: offer timeouts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			at int64
		)
		if err := rows.Scan(&id, &at); err != nil {
			return fmt.Errorf("store: offer timeouts: %w", err)
		}
		if err := fn(id, fromNanos(at)); err != nil {
			return fmt.Errorf("store: offer timeouts: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: offer timeouts: %w", err)
	}
	return nil
}

// PruneAgentStates deletes the state history entries older than before
// and returns how many, a batch at a time (deleteBatched). An agent
// whose last change is older counts as
// offline before it (as AgentStateTimes does past its lookback).
func (db *DB) PruneAgentStates(ctx context.Context, before time.Time) (int64, error) {
	n, err := db.deleteBatched(ctx, "agent_states", "at < ?", toNanos(before))
	if err != nil {
		return n, fmt.Errorf("store: prune agent states: %w", err)
	}
	return n, nil
}
