package store

import (
	"context"
	"fmt"
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

// AgentStates returns the state history of an agent in [from, to), oldest
// first: the change in force at from (its own time, before from), if
// any, then every change up to to, at most limit (MaxAgentStates when <=
// 0 or more).
func (db *DB) AgentStates(ctx context.Context, agentID string, from, to time.Time, limit int) ([]router.AgentStateChange, error) {
	if limit <= 0 || limit > MaxAgentStates {
		limit = MaxAgentStates
	}
	var out []router.AgentStateChange
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
	if err := scan(cols+` WHERE agent_id = ? AND at < ? ORDER BY at DESC LIMIT 1`, agentID, toNanos(from)); err != nil {
		return nil, fmt.Errorf("store: agent states of %q: %w", agentID, err)
	}
	if err := scan(cols+` WHERE agent_id = ? AND at >= ? AND at < ? ORDER BY at LIMIT ?`, agentID, toNanos(from), toNanos(to), limit-len(out)); err != nil {
		return nil, fmt.Errorf("store: agent states of %q: %w", agentID, err)
	}
	return out, nil
}

// AgentStateTimes returns, per agent, how long it spent in each state in
// [from, to), from the state history: the state in force at from (the
// last change in the stateLookback before it; none: offline) and every
// change after. Agents with no history in that span are absent.
func (db *DB) AgentStateTimes(ctx context.Context, from, to time.Time) (map[string]map[router.AgentState]time.Duration, error) {
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
		return nil, fmt.Errorf("store: agent state times: %w", err)
	}
	defer rows.Close()
	out := map[string]map[router.AgentState]time.Duration{}
	var (
		agent   string
		state   router.AgentState
		since   int64
		started bool
	)
	flush := func(until int64) {
		if started && until > since {
			out[agent][state] += time.Duration(until - since)
		}
	}
	for rows.Next() {
		var (
			id string
			at int64
			st string
		)
		if err := rows.Scan(&id, &at, &st); err != nil {
			return nil, fmt.Errorf("store: agent state times: %w", err)
		}
		if id != agent || !started {
			flush(t)
			agent, started = id, true
			if out[id] == nil {
				out[id] = map[router.AgentState]time.Duration{}
			}
		} else {
			flush(at)
		}
		state, since = router.AgentState(st), max(at, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: agent state times: %w", err)
	}
	flush(t)
	return out, nil
}
