package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/switchboard/switchboard/router"
)

// liveContacts selects the contacts not in a final state (closed,
// abandoned). It is written as ranges around the final states rather than
// NOT IN so that the index on state serves it: Load reads only the live
// contacts, however many closed ones the table holds.
const liveContacts = `(state < 'abandoned' OR (state > 'abandoned' AND state < 'closed') OR state > 'closed')`

// loadContactsSQL selects each live contact with its highest event and
// message seq (0: none), found by one index seek each. It has no ORDER BY:
// that would lead the planner to walk every contact in created_at order
// instead of using the state index; Load sorts in memory.
const loadContactsSQL = `SELECT data, idempotency_key, idempotency_hash,
	COALESCE((SELECT MAX(e.seq) FROM contact_events e WHERE e.contact_id = c.id), 0),
	COALESCE((SELECT MAX(m.seq) FROM contact_messages m WHERE m.contact_id = c.id), 0)
FROM contacts c WHERE ` + liveContacts

// loadClientMessagesSQL selects the messages of live contacts that carry
// a client id, for the router's deduplication of resends.
const loadClientMessagesSQL = `SELECT ` + messageColumns + `
FROM contact_messages m
WHERE m.client_id IS NOT NULL AND m.contact_id IN (SELECT id FROM contacts WHERE ` + liveContacts + `)
ORDER BY m.contact_id, m.seq`

// loadInboundSQL selects the bodies of the customer's messages of live
// contacts, for the router's customer limits. Their lengths are summed in
// Go: SQLite's LENGTH counts characters, not bytes.
const loadInboundSQL = `SELECT m.contact_id, m.body
FROM contact_messages m
WHERE m.direction = 'in' AND m.contact_id IN (SELECT id FROM contacts WHERE ` + liveContacts + `)`

// Load returns the durable state to start the router from: every agent
// (durable fields only; runtime fields are zero), every queue, the
// contacts not closed or abandoned (oldest first), and for each of those
// the next event and message sequence numbers (1 when it has none) and
// what its customer sent (router.Inbound).
func (db *DB) Load(ctx context.Context) (*router.Loaded, error) {
	l := &router.Loaded{
		NextEventSeq:   make(map[string]int),
		NextMessageSeq: make(map[string]int),
		Inbound:        make(map[string]router.Inbound),
	}
	// One read transaction, so the parts are a consistent snapshot.
	tx, err := db.read.BeginTx(ctx, db.dialect.snapshot)
	if err != nil {
		return nil, fmt.Errorf("store: load: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	rows, err := tx.QueryContext(ctx, rebind(db.dialect, `SELECT id, name, skills, capacity FROM agents ORDER BY id`))
	if err != nil {
		return nil, fmt.Errorf("store: load agents: %w", err)
	}
	for rows.Next() {
		var (
			a                router.Agent
			skills, capacity string
		)
		if err := rows.Scan(&a.ID, &a.Name, &skills, &capacity); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load agents: %w", err)
		}
		if err := json.Unmarshal([]byte(skills), &a.Skills); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load agent %q: decode skills: %w", a.ID, err)
		}
		if err := json.Unmarshal([]byte(capacity), &a.Capacity); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load agent %q: decode capacity: %w", a.ID, err)
		}
		l.Agents = append(l.Agents, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load agents: %w", err)
	}

	rows, err = tx.QueryContext(ctx, rebind(db.dialect, `SELECT name, definition FROM queues ORDER BY name`))
	if err != nil {
		return nil, fmt.Errorf("store: load queues: %w", err)
	}
	for rows.Next() {
		var (
			name, def string
			rec       queueRecord
		)
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load queues: %w", err)
		}
		if err := json.Unmarshal([]byte(def), &rec); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load queue %q: decode: %w", name, err)
		}
		q, err := rec.queue()
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: load %w", err)
		}
		l.Queues = append(l.Queues, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load queues: %w", err)
	}

	rows, err = tx.QueryContext(ctx, rebind(db.dialect, loadContactsSQL))
	if err != nil {
		return nil, fmt.Errorf("store: load contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var lastEvent, lastMessage int
		c, err := scanContact(scanFunc(func(dest ...any) error {
			return rows.Scan(append(dest, &lastEvent, &lastMessage)...)
		}))
		if err != nil {
			return nil, fmt.Errorf("store: load contacts: %w", err)
		}
		l.Contacts = append(l.Contacts, c)
		l.NextEventSeq[c.ID] = lastEvent + 1
		l.NextMessageSeq[c.ID] = lastMessage + 1
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load contacts: %w", err)
	}
	msgs, err := tx.QueryContext(ctx, rebind(db.dialect, loadClientMessagesSQL))
	if err != nil {
		return nil, fmt.Errorf("store: load client messages: %w", err)
	}
	defer msgs.Close()
	for msgs.Next() {
		m, err := scanMessage(msgs)
		if err != nil {
			return nil, fmt.Errorf("store: load client messages: %w", err)
		}
		l.ClientMessages = append(l.ClientMessages, m)
	}
	if err := msgs.Err(); err != nil {
		return nil, fmt.Errorf("store: load client messages: %w", err)
	}
	in, err := tx.QueryContext(ctx, rebind(db.dialect, loadInboundSQL))
	if err != nil {
		return nil, fmt.Errorf("store: load inbound messages: %w", err)
	}
	defer in.Close()
	for in.Next() {
		var id, body string
		if err := in.Scan(&id, &body); err != nil {
			return nil, fmt.Errorf("store: load inbound messages: %w", err)
		}
		n := l.Inbound[id]
		n.Messages++
		n.Bytes += len(body)
		l.Inbound[id] = n
	}
	if err := in.Err(); err != nil {
		return nil, fmt.Errorf("store: load inbound messages: %w", err)
	}
	slices.SortFunc(l.Contacts, func(a, b router.Contact) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return l, nil
}
