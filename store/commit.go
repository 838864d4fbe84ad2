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
	upsertOutboxSQL = `INSERT INTO outbox (id, channel, contact_id, seq, created_at, due_at, attempts, last_error, done)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET due_at = excluded.due_at, attempts = excluded.attempts,
	last_error = excluded.last_error, done = excluded.done`
	// A provider's id, once named, stays (COALESCE).
	updateDeliverySQL   = `UPDATE contact_messages SET delivery = ?, external_id = COALESCE(external_id, ?) WHERE contact_id = ? AND seq = ?`
	insertAttachmentSQL = `INSERT INTO message_attachments (contact_id, seq, sha256, name, type, size) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (contact_id, seq, sha256) DO NOTHING`
	insertLogSQL        = `INSERT INTO event_log (type, contact_id, at, data) VALUES (?, ?, ?, ?)`
	insertAgentStateSQL = `INSERT INTO agent_states (agent_id, at, state, reason, why, by_actor) VALUES (?, ?, ?, ?, ?, ?)`
	deleteTagsSQL       = `DELETE FROM contact_tags WHERE contact_id = ?`
	insertTagSQL        = `INSERT INTO contact_tags (tag, contact_id) VALUES (?, ?)`
)

// commitStmts are Commit's prepared statements. They are prepared once on
// the write connection; Tx.StmtContext reuses them inside each
// transaction, so a commit parses no SQL.
type commitStmts struct {
	upsertAgent, deleteAgent     *sql.Stmt
	upsertQueue, deleteQueue     *sql.Stmt
	upsertContact                *sql.Stmt
	insertEvent, insertMessage   *sql.Stmt
	upsertOutbox, updateDelivery *sql.Stmt
	insertAttachment             *sql.Stmt
	insertLog                    *sql.Stmt
	insertAgentState             *sql.Stmt
}

// prepare prepares every statement on db.
func (s *commitStmts) prepare(ctx context.Context, db *sql.DB, d dialect) error {
	for _, p := range []struct {
		stmt  **sql.Stmt
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
	} {
		st, err := db.PrepareContext(ctx, rebind(d, p.query))
		if err != nil {
			return fmt.Errorf("store: open: prepare %q: %w", p.query, err)
		}
		*p.stmt = st
	}
	return nil
}

// close closes the statements that were prepared.
func (s *commitStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.upsertAgent, s.deleteAgent, s.upsertQueue, s.deleteQueue,
		s.upsertContact, s.insertEvent, s.insertMessage, s.upsertOutbox, s.updateDelivery, s.insertAttachment, s.insertLog, s.insertAgentState} {
		if st != nil {
			if err := st.Close(); err != nil {
				errs = append(errs, fmt.Errorf("store: close statement: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// Commit writes b in one transaction: all of it is durable when Commit
// returns nil, none of it when it returns an error. It upserts agents
// (durable fields only), deletes agents, upserts queues, deletes queues,
// upserts contacts whole, appends events and messages, upserts outbox
// entries, sets deliveries and appends the event log's entries, in that
// order.
// An empty batch writes nothing.
//
// Events and messages must belong to contacts already stored or in the
// same batch, and a (contact, seq) pair, an idempotency key, or a
// non-empty (contact, client id) pair that is already stored fails the
// whole batch.
func (db *DB) Commit(ctx context.Context, b *router.Batch) (err error) {
	if b == nil || b.Empty() {
		return nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: commit: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	now := time.Now().UnixNano()

	if len(b.Agents) > 0 {
		st := tx.StmtContext(ctx, db.stmts.upsertAgent)
		for _, a := range b.Agents {
			skills, err := marshalJSON(a.Skills)
			if err != nil {
				return fmt.Errorf("store: commit: agent %q: encode skills: %w", a.ID, err)
			}
			capacity, err := marshalJSON(a.Capacity)
			if err != nil {
				return fmt.Errorf("store: commit: agent %q: encode capacity: %w", a.ID, err)
			}
			if _, err := st.ExecContext(ctx, a.ID, a.Name, skills, capacity, now); err != nil {
				return fmt.Errorf("store: commit: upsert agent %q: %w", a.ID, err)
			}
		}
	}
	if len(b.DeletedAgents) > 0 {
		st := tx.StmtContext(ctx, db.stmts.deleteAgent)
		for _, id := range b.DeletedAgents {
			if _, err := st.ExecContext(ctx, id); err != nil {
				return fmt.Errorf("store: commit: delete agent %q: %w", id, err)
			}
		}
	}
	if len(b.Queues) > 0 {
		st := tx.StmtContext(ctx, db.stmts.upsertQueue)
		for _, q := range b.Queues {
			def, err := marshalJSON(recordOfQueue(q))
			if err != nil {
				return fmt.Errorf("store: commit: queue %q: encode: %w", q.Name, err)
			}
			if _, err := st.ExecContext(ctx, q.Name, def, now); err != nil {
				return fmt.Errorf("store: commit: upsert queue %q: %w", q.Name, err)
			}
		}
	}
	if len(b.DeletedQueues) > 0 {
		st := tx.StmtContext(ctx, db.stmts.deleteQueue)
		for _, name := range b.DeletedQueues {
			if _, err := st.ExecContext(ctx, name); err != nil {
				return fmt.Errorf("store: commit: delete queue %q: %w", name, err)
			}
		}
	}
	if len(b.Contacts) > 0 {
		st := tx.StmtContext(ctx, db.stmts.upsertContact)
		for i := range b.Contacts {
			c := &b.Contacts[i]
			data, err := marshalJSON(recordOfContact(c))
			if err != nil {
				return fmt.Errorf("store: commit: contact %q: encode: %w", c.ID, err)
			}
			if _, err := st.ExecContext(ctx, c.ID, c.Channel, c.Queue, string(c.State), c.AgentID,
				c.Customer.ID, c.Customer.Email, c.Customer.Phone, c.Priority,
				toNanos(c.CreatedAt), toNanos(c.EnqueuedAt), toNanos(c.AssignedAt), toNanos(c.EndedAt),
				nullIfEmpty(c.IdempotencyKey), c.IdempotencyHash, c.Subject, c.Disposition, data, toNanos(cmp.Or(c.QueuedAt, c.EnqueuedAt))); err != nil {
				return fmt.Errorf("store: commit: upsert contact %q: %w", c.ID, err)
			}
		}
	}
	if len(b.Events) > 0 {
		st := tx.StmtContext(ctx, db.stmts.insertEvent)
		for i := range b.Events {
			e := &b.Events[i]
			if _, err := st.ExecContext(ctx, e.ContactID, e.Seq, toNanos(e.At), e.Event, e.AgentID, e.Queue, e.Reason, e.By); err != nil {
				return fmt.Errorf("store: commit: insert event %d of contact %q: %w", e.Seq, e.ContactID, err)
			}
		}
	}
	if len(b.Messages) > 0 {
		st := tx.StmtContext(ctx, db.stmts.insertMessage)
		for i := range b.Messages {
			m := &b.Messages[i]
			args, err := messageArgs(m)
			if err != nil {
				return fmt.Errorf("store: commit: message %d of contact %q: %w", m.Seq, m.ContactID, err)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("store: commit: insert message %d of contact %q: %w", m.Seq, m.ContactID, err)
			}
			for _, a := range m.Attachments {
				if a.SHA256 == "" {
					continue // only referenced (a URL): no file of ours
				}
				if _, err := tx.StmtContext(ctx, db.stmts.insertAttachment).ExecContext(ctx, m.ContactID, m.Seq, a.SHA256, a.Name, a.Type, a.Size); err != nil {
					return fmt.Errorf("store: commit: attachment of message %d of contact %q: %w", m.Seq, m.ContactID, err)
				}
			}
		}
	}
	if len(b.Outbox) > 0 {
		st := tx.StmtContext(ctx, db.stmts.upsertOutbox)
		for i := range b.Outbox {
			e := &b.Outbox[i]
			if _, err := st.ExecContext(ctx, e.ID, e.Channel, e.ContactID, e.Seq, toNanos(e.CreatedAt), toNanos(e.DueAt),
				e.Attempts, e.LastError, boolInt(e.Done)); err != nil {
				return fmt.Errorf("store: commit: outbox entry %q: %w", e.ID, err)
			}
		}
	}
	if len(b.Deliveries) > 0 {
		st := tx.StmtContext(ctx, db.stmts.updateDelivery)
		for i := range b.Deliveries {
			d := &b.Deliveries[i]
			rec, err := marshalJSON(deliveryRecord{Status: string(d.Delivery.Status), Reason: d.Delivery.Reason,
				Attempts: d.Delivery.Attempts, At: toNanos(d.Delivery.At)})
			if err != nil {
				return fmt.Errorf("store: commit: delivery of message %d of %q: %w", d.Seq, d.ContactID, err)
			}
			if _, err := st.ExecContext(ctx, rec, nullIfEmpty(d.Delivery.ExternalID), d.ContactID, d.Seq); err != nil {
				return fmt.Errorf("store: commit: delivery of message %d of %q: %w", d.Seq, d.ContactID, err)
			}
		}
	}
	if len(b.AgentStates) > 0 {
		st := tx.StmtContext(ctx, db.stmts.insertAgentState)
		for _, s := range b.AgentStates {
			if _, err := st.ExecContext(ctx, s.AgentID, toNanos(s.At), string(s.State), s.Reason, s.Why, s.By); err != nil {
				return fmt.Errorf("store: commit: state of agent %q: %w", s.AgentID, err)
			}
		}
	}
	// Tags change rarely (an agent's or supervisor's click): their
	// statements are not prepared.
	for _, t := range b.Tags {
		if _, err := tx.ExecContext(ctx, rebind(db.dialect, deleteTagsSQL), t.ContactID); err != nil {
			return fmt.Errorf("store: commit: tags of %q: %w", t.ContactID, err)
		}
		for _, tag := range t.Tags {
			if _, err := tx.ExecContext(ctx, rebind(db.dialect, insertTagSQL), tag, t.ContactID); err != nil {
				return fmt.Errorf("store: commit: tag %q of %q: %w", tag, t.ContactID, err)
			}
		}
	}
	if len(b.Log) > 0 {
		st := tx.StmtContext(ctx, db.stmts.insertLog)
		for i := range b.Log {
			e := &b.Log[i]
			if _, err := st.ExecContext(ctx, e.Type, e.ContactID, toNanos(e.At), string(e.Data)); err != nil {
				return fmt.Errorf("store: commit: event log entry %s of %q: %w", e.Type, e.ContactID, err)
			}
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
