package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/router"
)

// Commit's statements. Upserts use INSERT ... ON CONFLICT ... DO UPDATE,
// which SQLite (3.24+) and PostgreSQL both accept.
const (
	upsertAgentSQL = `INSERT INTO agents (id, name, skills, capacity, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, skills = excluded.skills,
	capacity = excluded.capacity, updated_at = excluded.updated_at`
	deleteAgentSQL = `DELETE FROM agents WHERE id = ?`
	upsertQueueSQL = `INSERT INTO queues (name, definition, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`
	deleteQueueSQL   = `DELETE FROM queues WHERE name = ?`
	upsertContactSQL = `INSERT INTO contacts (id, channel, queue, state, agent_id,
	customer_id, customer_email, customer_phone, priority,
	created_at, enqueued_at, assigned_at, ended_at,
	idempotency_key, idempotency_hash, subject, disposition, data, queued_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, queue = excluded.queue,
	state = excluded.state, agent_id = excluded.agent_id,
	customer_id = excluded.customer_id, customer_email = excluded.customer_email,
	customer_phone = excluded.customer_phone, priority = excluded.priority,
	created_at = excluded.created_at, enqueued_at = excluded.enqueued_at,
	assigned_at = excluded.assigned_at, ended_at = excluded.ended_at,
	idempotency_key = excluded.idempotency_key, idempotency_hash = excluded.idempotency_hash,
	subject = excluded.subject, disposition = excluded.disposition, data = excluded.data, queued_at = excluded.queued_at`
	insertEventSQL = `INSERT INTO contact_events (contact_id, seq, at, event, agent_id, queue, reason, actor)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	insertMessageSQL = `INSERT INTO contact_messages (` + messageColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// A done entry stays done: delivered, given up, or cancelled by its
	// customer's erasure while an attempt was in flight.
	upsertOutboxSQL = `INSERT INTO outbox (id, channel, contact_id, seq, created_at, due_at, attempts, last_error, done)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, attempts = excluded.attempts,
	last_error = excluded.last_error, done = excluded.done WHERE outbox.done = 0`
	// A provider's id, once named, stays (COALESCE). The delivery of a
	// message erased with its contact stays as the erasure left it
	// (eraseDeliveriesTx): an attempt that was in flight, a bounce or a
	// provider's late status report records nothing, its reason naming
	// no one.
	updateDeliverySQL = `UPDATE contact_messages SET delivery = ?, external_id = COALESCE(external_id, ?) WHERE contact_id = ? AND seq = ?
	AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = contact_messages.contact_id AND c.erased_at <> 0 AND c.erased_at >= contact_messages.at)`
	insertAttachmentSQL = `INSERT INTO message_attachments (contact_id, seq, sha256, name, type, size) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (contact_id, seq, sha256) DO NOTHING`
	insertLogSQL        = `INSERT INTO event_log (type, contact_id, at, data) VALUES (?, ?, ?, ?)`
	insertAgentStateSQL = `INSERT INTO agent_states (agent_id, at, state, reason, why, by_actor) VALUES (?, ?, ?, ?, ?, ?)`
	deleteTagsSQL       = `DELETE FROM contact_tags WHERE contact_id = ?`
	insertTagSQL        = `INSERT INTO contact_tags (tag, contact_id) VALUES (?, ?)`
)

// commitStmt is one of Commit's statements: its SQL for the database,
// and (SQLite) the statement prepared on the write connection.
type commitStmt struct {
	query string
	st    *sql.Stmt
}

// commitStmts are Commit's statements. They are prepared once on the
// write connection; Tx.StmtContext reuses them inside each transaction,
// so a commit parses no SQL. (PostgreSQL's pipeline uses the query text:
// pgx caches the statements it prepares, per connection.)
type commitStmts struct {
	upsertAgent, deleteAgent     commitStmt
	upsertQueue, deleteQueue     commitStmt
	upsertContact                commitStmt
	insertEvent, insertMessage   commitStmt
	upsertOutbox, updateDelivery commitStmt
	insertAttachment             commitStmt
	insertLog                    commitStmt
	insertAgentState             commitStmt
	deleteTags, insertTag        commitStmt
}

// all lists the statements with their SQL as written.
func (s *commitStmts) all() []struct {
	stmt  *commitStmt
	query string
} {
	return []struct {
		stmt  *commitStmt
		query string
	}{
		{&s.upsertAgent, upsertAgentSQL},
		{&s.deleteAgent, deleteAgentSQL},
		{&s.upsertQueue, upsertQueueSQL},
		{&s.deleteQueue, deleteQueueSQL},
		{&s.upsertContact, upsertContactSQL},
		{&s.insertEvent, insertEventSQL},
		{&s.insertMessage, insertMessageSQL},
		{&s.upsertOutbox, upsertOutboxSQL},
		{&s.updateDelivery, updateDeliverySQL},
		{&s.insertAttachment, insertAttachmentSQL},
		{&s.insertLog, insertLogSQL},
		{&s.insertAgentState, insertAgentStateSQL},
		{&s.deleteTags, deleteTagsSQL},
		{&s.insertTag, insertTagSQL},
	}
}

// prepare prepares every statement on db.
func (s *commitStmts) prepare(ctx context.Context, db *sql.DB, d dialect) error {
	for _, p := range s.all() {
		p.stmt.query = rebind(d, p.query)
		st, err := db.PrepareContext(ctx, p.stmt.query)
		if err != nil {
			return fmt.Errorf("store: open: prepare %q: %w", p.query, err)
		}
		p.stmt.st = st
	}
	return nil
}

// close closes the statements that were prepared.
func (s *commitStmts) close() error {
	var errs []error
	for _, p := range s.all() {
		if p.stmt.st != nil {
			if err := p.stmt.st.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: close statement: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// commitOp is one statement of a commit with its arguments.
type commitOp struct {
	stmt *commitStmt
	args []any
	// what and key name what it writes, for its error: "upsert
	// contact" and "c-1" (an id, quoted in the error), or "insert event"
	// and `1 of contact "c-1"` (a description, as it is).
	what, key string
	// described: key is a description, not an id.
	described bool
}

// err wraps the error of the statement.
func (op *commitOp) err(err error) error {
	if op.described {
		return fmt.Errorf("store: commit: %s %s: %w", op.what, op.key, err)
	}
	return fmt.Errorf("store: commit: %s %q: %w", op.what, op.key, err)
}

// Commit writes b in one transaction: all of it is durable when Commit
// returns nil, none of it when it returns an error. It upserts agents
// (durable fields only), deletes agents, upserts queues, deletes queues,
// upserts contacts whole, appends events and messages, upserts outbox
// entries, sets deliveries, appends agents' state changes, replaces
// contacts' tags and appends the event log's entries, in that order.
// An empty batch writes nothing.
//
// Events and messages must belong to contacts already stored or in the
// same batch, and a (contact, seq) pair, an idempotency key, or a
// non-empty (contact, client id) pair that is already stored fails the
// whole batch.
func (db *DB) Commit(ctx context.Context, b *router.Batch) error {
	if b == nil || b.Empty() {
		return nil
	}
	ops, err := db.stmts.ops(b, time.Now().UnixNano())
	if err != nil {
		return err
	}
	return db.dialect.commit(ctx, db, ops)
}

// ops lists the statements that write b, in Commit's order.
func (s *commitStmts) ops(b *router.Batch, now int64) ([]commitOp, error) {
	ops := make([]commitOp, 0, len(b.Agents)+len(b.DeletedAgents)+len(b.Queues)+len(b.DeletedQueues)+
		len(b.Contacts)+len(b.Events)+len(b.Messages)+len(b.Outbox)+len(b.Deliveries)+len(b.AgentStates)+len(b.Tags)+len(b.Log))
	for _, a := range b.Agents {
		skills, err := marshalJSON(a.Skills)
		if err != nil {
			return nil, fmt.Errorf("store: commit: agent %q: encode skills: %w", a.ID, err)
		}
		capacity, err := marshalJSON(a.Capacity)
		if err != nil {
			return nil, fmt.Errorf("store: commit: agent %q: encode capacity: %w", a.ID, err)
		}
		ops = append(ops, commitOp{&s.upsertAgent, []any{a.ID, a.Name, skills, capacity, now}, "upsert agent", a.ID, false})
	}
	for _, id := range b.DeletedAgents {
		ops = append(ops, commitOp{&s.deleteAgent, []any{id}, "delete agent", id, false})
	}
	for _, q := range b.Queues {
		def, err := marshalJSON(recordOfQueue(q))
		if err != nil {
			return nil, fmt.Errorf("store: commit: queue %q: encode: %w", q.Name, err)
		}
		ops = append(ops, commitOp{&s.upsertQueue, []any{q.Name, def, now}, "upsert queue", q.Name, false})
	}
	for _, name := range b.DeletedQueues {
		ops = append(ops, commitOp{&s.deleteQueue, []any{name}, "delete queue", name, false})
	}
	for i := range b.Contacts {
		c := &b.Contacts[i]
		data, err := marshalJSON(recordOfContact(c))
		if err != nil {
			return nil, fmt.Errorf("store: commit: contact %q: encode: %w", c.ID, err)
		}
		ops = append(ops, commitOp{&s.upsertContact, []any{c.ID, c.Channel, c.Queue, string(c.State), c.AgentID,
			c.Customer.ID, c.Customer.Email, c.Customer.Phone, c.Priority,
			toNanos(c.CreatedAt), toNanos(c.EnqueuedAt), toNanos(c.AssignedAt), toNanos(c.EndedAt),
			nullIfEmpty(c.IdempotencyKey), c.IdempotencyHash, c.Subject, c.Disposition, data, toNanos(cmp.Or(c.QueuedAt, c.EnqueuedAt))},
			"upsert contact", c.ID, false})
	}
	for i := range b.Events {
		e := &b.Events[i]
		ops = append(ops, commitOp{&s.insertEvent, []any{e.ContactID, e.Seq, toNanos(e.At), e.Event, e.AgentID, e.Queue, e.Reason, e.By},
			"insert event", fmt.Sprintf("%d of contact %q", e.Seq, e.ContactID), true})
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		args, err := messageArgs(m)
		if err != nil {
			return nil, fmt.Errorf("store: commit: message %d of contact %q: %w", m.Seq, m.ContactID, err)
		}
		key := fmt.Sprintf("%d of contact %q", m.Seq, m.ContactID)
		ops = append(ops, commitOp{&s.insertMessage, args, "insert message", key, true})
		for _, a := range m.Attachments {
			if a.SHA256 == "" {
				continue // only referenced (a URL): no file of ours
			}
			ops = append(ops, commitOp{&s.insertAttachment, []any{m.ContactID, m.Seq, a.SHA256, a.Name, a.Type, a.Size},
				"attachment of message", key, true})
		}
	}
	for i := range b.Outbox {
		e := &b.Outbox[i]
		ops = append(ops, commitOp{&s.upsertOutbox, []any{e.ID, e.Channel, e.ContactID, e.Seq, toNanos(e.CreatedAt), toNanos(e.DueAt),
			e.Attempts, e.LastError, boolInt(e.Done)}, "outbox entry", e.ID, false})
	}
	for i := range b.Deliveries {
		d := &b.Deliveries[i]
		key := fmt.Sprintf("of message %d of %q", d.Seq, d.ContactID)
		rec, err := marshalJSON(deliveryRecord{Status: string(d.Delivery.Status), Reason: d.Delivery.Reason,
			Attempts: d.Delivery.Attempts, At: toNanos(d.Delivery.At)})
		if err != nil {
			return nil, fmt.Errorf("store: commit: delivery %s: %w", key, err)
		}
		ops = append(ops, commitOp{&s.updateDelivery, []any{rec, nullIfEmpty(d.Delivery.ExternalID), d.ContactID, d.Seq}, "delivery", key, true})
	}
	for _, st := range b.AgentStates {
		ops = append(ops, commitOp{&s.insertAgentState, []any{st.AgentID, toNanos(st.At), string(st.State), st.Reason, st.Why, st.By},
			"state of agent", st.AgentID, false})
	}
	for _, t := range b.Tags {
		ops = append(ops, commitOp{&s.deleteTags, []any{t.ContactID}, "tags of", t.ContactID, false})
		for _, tag := range t.Tags {
			ops = append(ops, commitOp{&s.insertTag, []any{tag, t.ContactID}, "tag", fmt.Sprintf("%q of %q", tag, t.ContactID), true})
		}
	}
	for i := range b.Log {
		e := &b.Log[i]
		ops = append(ops, commitOp{&s.insertLog, []any{e.Type, e.ContactID, toNanos(e.At), string(e.Data)},
			"event log entry", fmt.Sprintf("%s of %q", e.Type, e.ContactID), true})
	}
	return ops, nil
}

// commitPrepared runs ops in one transaction of the write connection,
// each through its prepared statement: SQLite's Commit, where a
// statement is a function call, not a round trip.
func commitPrepared(ctx context.Context, db *DB, ops []commitOp) (err error) {
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("store: commit: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var (
		last  *commitStmt
		bound *sql.Stmt
	)
	for i := range ops {
		op := &ops[i]
		if op.stmt != last {
			last, bound = op.stmt, tx.StmtContext(ctx, op.stmt.st)
		}
		if _, err := bound.ExecContext(ctx, op.args...); err != nil {
			return op.err(err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
