package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard/switchboard/router"
)

// messageColumns are the columns of contact_messages that make a
// router.Message, in the order scanMessage reads them (its ContactID
// first).
const messageColumns = `contact_id, seq, at, direction, author, body, client_id,
	author_kind, author_name, external_id, detail, delivery`

// messageDetail is what the store keeps of a message's channel fields, as
// JSON in contact_messages.detail (empty when the message has none). It
// is the store's own record: renaming a field of router.Message does not
// change what is stored.
type messageDetail struct {
	Subject     string             `json:"subject,omitempty"`
	HTML        string             `json:"html,omitempty"`
	References  []string           `json:"references,omitempty"`
	To          []string           `json:"to,omitempty"`
	Cc          []string           `json:"cc,omitempty"`
	Attachments []attachmentRecord `json:"attachments,omitempty"`
}

type attachmentRecord struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	URL    string `json:"url,omitempty"`
}

// deliveryRecord is an outbound message's delivery, as JSON in
// contact_messages.delivery (NULL for none).
type deliveryRecord struct {
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`
	Attempts int    `json:"attempts"`
	At       int64  `json:"at"` // unix ns UTC
}

// messageArgs returns the values of messageColumns for m.
func messageArgs(m *router.Message) ([]any, error) {
	var detail string
	if m.Subject != "" || m.HTML != "" || len(m.References) > 0 || len(m.Attachments) > 0 || len(m.To) > 0 || len(m.Cc) > 0 {
		d := messageDetail{Subject: m.Subject, HTML: m.HTML, References: m.References, To: m.To, Cc: m.Cc}
		for _, a := range m.Attachments {
			d.Attachments = append(d.Attachments, attachmentRecord(a))
		}
		var err error
		if detail, err = marshalJSON(d); err != nil {
			return nil, fmt.Errorf("encode detail: %w", err)
		}
	}
	var delivery any
	if d := m.Delivery; d != nil {
		b, err := marshalJSON(deliveryRecord{Status: string(d.Status), Reason: d.Reason, Attempts: d.Attempts, At: toNanos(d.At)})
		if err != nil {
			return nil, fmt.Errorf("encode delivery: %w", err)
		}
		delivery = b
	}
	return []any{m.ContactID, m.Seq, toNanos(m.At), m.Direction, m.Author, m.Body, nullIfEmpty(m.ClientID),
		m.AuthorKind, m.AuthorName, nullIfEmpty(m.ExternalID), detail, delivery}, nil
}

// scanMessage reads a row of messageColumns.
func scanMessage(row interface{ Scan(...any) error }) (router.Message, error) {
	var (
		m                            router.Message
		at                           int64
		author, clientID, externalID sql.NullString
		detail                       string
		delivery                     sql.NullString
	)
	if err := row.Scan(&m.ContactID, &m.Seq, &at, &m.Direction, &author, &m.Body, &clientID,
		&m.AuthorKind, &m.AuthorName, &externalID, &detail, &delivery); err != nil {
		return router.Message{}, err
	}
	m.At, m.Author, m.ClientID, m.ExternalID = fromNanos(at), author.String, clientID.String, externalID.String
	if detail != "" {
		var d messageDetail
		if err := unmarshalJSON(detail, &d); err != nil {
			return router.Message{}, fmt.Errorf("message %d: detail: %w", m.Seq, err)
		}
		m.Subject, m.HTML, m.References, m.To, m.Cc = d.Subject, d.HTML, d.References, d.To, d.Cc
		for _, a := range d.Attachments {
			m.Attachments = append(m.Attachments, router.Attachment(a))
		}
	}
	if delivery.Valid {
		var d deliveryRecord
		if err := unmarshalJSON(delivery.String, &d); err != nil {
			return router.Message{}, fmt.Errorf("message %d: delivery: %w", m.Seq, err)
		}
		m.Delivery = &router.Delivery{Status: router.DeliveryStatus(d.Status), Reason: d.Reason, Attempts: d.Attempts, At: fromNanos(d.At)}
	}
	return m, nil
}

// MessageByExternalID returns the message stored with a channel's
// external id, with its ContactID; found is false when there is none.
func (db *DB) MessageByExternalID(ctx context.Context, externalID string) (router.Message, bool, error) {
	row := db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT `+messageColumns+`
FROM contact_messages WHERE external_id = ?`), externalID)
	m, err := scanMessage(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return router.Message{}, false, nil
	case err != nil:
		return router.Message{}, false, fmt.Errorf("store: message by external id: %w", err)
	}
	return m, true, nil
}

// PendingOutbox returns up to limit outbox entries not done whose id
// is above afterID (any, when empty), by id: what the dispatcher
// delivers after a restart, a page at a time.
func (db *DB) PendingOutbox(ctx context.Context, afterID string, limit int) ([]router.OutboxEntry, error) {
	rows, err := db.read.QueryContext(ctx, rebind(db.dialect, `SELECT id, channel, contact_id, seq, created_at, due_at, attempts, last_error
FROM outbox WHERE done = 0 AND id > ? ORDER BY id LIMIT ?`), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	defer rows.Close()
	var out []router.OutboxEntry
	for rows.Next() {
		var (
			e            router.OutboxEntry
			channel      string
			created, due int64
		)
		if err := rows.Scan(&e.ID, &channel, &e.ContactID, &e.Seq, &created, &due, &e.Attempts, &e.LastError); err != nil {
			return nil, fmt.Errorf("store: pending outbox: %w", err)
		}
		e.Channel, e.CreatedAt, e.DueAt = router.Channel(channel), fromNanos(created), fromNanos(due)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending outbox: %w", err)
	}
	return out, nil
}

// OutboxDone says whether outbox entry id is done: delivered, given up,
// or cancelled by its customer's erasure. An unknown id is not done.
func (db *DB) OutboxDone(ctx context.Context, id string) (bool, error) {
	var done int64
	err := db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT done FROM outbox WHERE id = ?`), id).Scan(&done)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: outbox entry %q: %w", id, err)
	}
	return done != 0, nil
}

// Message returns message seq of contact id, or an error wrapping
// ErrNotFound.
func (db *DB) Message(ctx context.Context, id string, seq int) (router.Message, error) {
	m, err := scanMessage(db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT `+messageColumns+`
FROM contact_messages WHERE contact_id = ? AND seq = ?`), id, seq))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return router.Message{}, fmt.Errorf("store: message %d of %q: %w", seq, id, ErrNotFound)
	case err != nil:
		return router.Message{}, fmt.Errorf("store: message %d of %q: %w", seq, id, err)
	}
	return m, nil
}

// MessageAttachment returns the file sha256 as a message of contact id
// carries it (its name, type and size); found is false when no message
// of the contact does.
func (db *DB) MessageAttachment(ctx context.Context, id, sha256 string) (a router.Attachment, found bool, err error) {
	err = db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT name, type, size FROM message_attachments
WHERE contact_id = ? AND sha256 = ? ORDER BY seq LIMIT 1`), id, sha256).Scan(&a.Name, &a.Type, &a.Size)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return router.Attachment{}, false, nil
	case err != nil:
		return router.Attachment{}, false, fmt.Errorf("store: attachment of %q: %w", id, err)
	}
	a.SHA256 = sha256
	return a, true, nil
}

// heldAttachmentsSQL asks which of n files a message carries, through
// the index message_attachments_sha256.
func heldAttachmentsSQL(n int) string {
	return `SELECT DISTINCT sha256 FROM message_attachments WHERE sha256 IN (?` + strings.Repeat(", ?", n-1) + `)`
}

// HeldAttachments returns those of shas (files by their SHA-256) that a
// stored message carries: the attachment store asks it before it
// removes a file (attachments.Holders). It asks in batches of 500.
func (db *DB) HeldAttachments(ctx context.Context, shas []string) (map[string]bool, error) {
	held := map[string]bool{}
	for len(shas) > 0 {
		chunk := shas[:min(len(shas), 500)]
		shas = shas[len(chunk):]
		args := make([]any, len(chunk))
		for i, sha := range chunk {
			args[i] = sha
		}
		rows, err := db.read.QueryContext(ctx, rebind(db.dialect, heldAttachmentsSQL(len(chunk))), args...)
		if err != nil {
			return nil, fmt.Errorf("store: held attachments: %w", err)
		}
		for rows.Next() {
			var sha string
			if err := rows.Scan(&sha); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: held attachments: %w", err)
			}
			held[sha] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("store: held attachments: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: held attachments: %w", err)
		}
	}
	return held, nil
}

// TakeOrphanedAttachments returns the files that erasures let go of and
// that no message holds any more, and forgets them: the caller removes
// them (package attachments). A file another message still holds is
// forgotten too, and stays.
func (db *DB) TakeOrphanedAttachments(ctx context.Context) ([]string, error) {
	var out []string
	err := db.inTx(ctx, "take orphaned attachments", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT o.sha256 FROM attachment_orphans o
WHERE NOT EXISTS (SELECT 1 FROM message_attachments m WHERE m.sha256 = o.sha256)`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var sha string
			if err := rows.Scan(&sha); err != nil {
				rows.Close()
				return err
			}
			out = append(out, sha)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM attachment_orphans`)
		return err
	})
	return out, err
}
