package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// migration is one step of the schema. Migrations are applied in order,
// each once, and never edited after release: change the schema by adding
// a migration.
type migration struct {
	version int
	name    string
	// stmts are run in order; each is one portable SQL statement.
	stmts []string
}

// migrations is the schema's history, oldest first; versions count from 1
// without gaps.
var migrations = []migration{
	{
		version: 1,
		name:    "initial schema",
		stmts: []string{
			`CREATE TABLE agents (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	skills     TEXT NOT NULL,   -- JSON map[string]int
	capacity   TEXT NOT NULL,   -- JSON map[string]int
	updated_at BIGINT NOT NULL  -- unix ns UTC
)`,
			`CREATE TABLE queues (
	name       TEXT PRIMARY KEY,
	definition TEXT NOT NULL,   -- JSON router.Queue
	updated_at BIGINT NOT NULL  -- unix ns UTC
)`,
			`CREATE TABLE contacts (
	id               TEXT PRIMARY KEY,
	channel          TEXT NOT NULL,
	queue            TEXT NOT NULL,
	state            TEXT NOT NULL,
	agent_id         TEXT NOT NULL,
	customer_id      TEXT NOT NULL,
	customer_email   TEXT NOT NULL,
	customer_phone   TEXT NOT NULL,
	priority         INTEGER NOT NULL,
	created_at       BIGINT NOT NULL,  -- unix ns UTC, 0 = zero time
	enqueued_at      BIGINT NOT NULL,
	assigned_at      BIGINT NOT NULL,
	ended_at         BIGINT NOT NULL,
	idempotency_key  TEXT UNIQUE,      -- NULL when the create had no key
	idempotency_hash TEXT NOT NULL,
	data             TEXT NOT NULL     -- JSON router.Contact, the whole row
)`,
			// Contacts with a State filter, newest first; Load (the
			// live states, as ranges around the final ones).
			`CREATE INDEX contacts_state_created ON contacts (state, created_at, id)`,
			// Contacts with Queue and State filters, newest first.
			`CREATE INDEX contacts_queue_state ON contacts (queue, state, created_at, id)`,
			// Contacts with a Queue filter, newest first.
			`CREATE INDEX contacts_queue_created ON contacts (queue, created_at, id)`,
			// Contacts with a Customer filter: one index per identifier.
			`CREATE INDEX contacts_customer_id ON contacts (customer_id, created_at)`,
			`CREATE INDEX contacts_customer_email ON contacts (customer_email, created_at)`,
			`CREATE INDEX contacts_customer_phone ON contacts (customer_phone, created_at)`,
			// Contacts paging, newest first by (created_at, id).
			`CREATE INDEX contacts_created ON contacts (created_at, id)`,
			// QueueStats: answered since.
			`CREATE INDEX contacts_assigned ON contacts (assigned_at)`,
			// QueueStats: abandoned since (state = abandoned, ended_at >=).
			`CREATE INDEX contacts_state_ended ON contacts (state, ended_at)`,
			`CREATE TABLE contact_events (
	contact_id TEXT NOT NULL REFERENCES contacts (id),
	seq        INTEGER NOT NULL,
	at         BIGINT NOT NULL,  -- unix ns UTC
	event      TEXT NOT NULL,
	agent_id   TEXT NOT NULL,
	queue      TEXT NOT NULL,
	reason     TEXT NOT NULL,
	PRIMARY KEY (contact_id, seq)
)`,
			`CREATE TABLE contact_messages (
	contact_id TEXT NOT NULL REFERENCES contacts (id),
	seq        INTEGER NOT NULL,
	at         BIGINT NOT NULL,  -- unix ns UTC
	direction  TEXT NOT NULL,
	author     TEXT NOT NULL,
	body       TEXT NOT NULL,
	client_id  TEXT,             -- NULL when the client gave none
	PRIMARY KEY (contact_id, seq),
	UNIQUE (contact_id, client_id)
)`,
		},
	},
	{
		version: 2,
		name:    "credentials and sessions",
		stmts: []string{
			`CREATE TABLE credentials (
	login_id   TEXT PRIMARY KEY,
	hash       TEXT NOT NULL,   -- bcrypt
	role       TEXT NOT NULL,   -- agent or supervisor
	updated_at BIGINT NOT NULL  -- unix ns UTC
)`,
			`CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,  -- hex SHA-256 of the token; never the token
	login_id   TEXT NOT NULL,
	role       TEXT NOT NULL,
	created_at BIGINT NOT NULL,   -- unix ns UTC
	expires_at BIGINT NOT NULL    -- unix ns UTC
)`,
			// DeleteSessions: every session of a login.
			`CREATE INDEX sessions_login ON sessions (login_id)`,
			// DeleteExpiredSessions.
			`CREATE INDEX sessions_expires ON sessions (expires_at)`,
			// Contacts with an AgentID filter, newest first.
			`CREATE INDEX contacts_agent_created ON contacts (agent_id, created_at, id)`,
		},
	},
	{
		version: 3,
		name:    "customers, identities and merges",
		stmts: []string{
			`CREATE TABLE customers (
	id                   TEXT PRIMARY KEY,
	name                 TEXT NOT NULL,
	segment              TEXT NOT NULL,
	value                REAL NOT NULL,
	language             TEXT NOT NULL,
	consent_marketing    INTEGER,          -- NULL unknown, 0 no, 1 yes
	consent_profiling    INTEGER,          -- NULL unknown, 0 no, 1 yes
	relationship_manager TEXT NOT NULL,    -- an agent id, or empty
	products             TEXT NOT NULL,    -- JSON []string
	tags                 TEXT NOT NULL,    -- JSON []string
	merged_into          TEXT NOT NULL,    -- the customer this one was merged into, or empty
	contact_count        INTEGER NOT NULL, -- set when erased: contacts found then
	identity_count       INTEGER NOT NULL, -- set when erased: identities deleted then
	created_at           BIGINT NOT NULL,  -- unix ns UTC
	updated_at           BIGINT NOT NULL,  -- unix ns UTC
	erased_at            BIGINT NOT NULL   -- unix ns UTC, 0 = not erased
)`,
			`CREATE TABLE customer_identities (
	kind        TEXT NOT NULL,    -- email, phone, chat or external
	value       TEXT NOT NULL,    -- normalized: emails lowercased, phones E.164
	customer_id TEXT NOT NULL REFERENCES customers (id),
	verified    INTEGER NOT NULL, -- 1 proven by a channel, 0 only claimed
	created_at  BIGINT NOT NULL,  -- unix ns UTC
	PRIMARY KEY (kind, value)
)`,
			// CustomerIdentities, MergeCustomers, EraseCustomer.
			`CREATE INDEX customer_identities_customer ON customer_identities (customer_id, kind, value)`,
			`CREATE TABLE customer_merges (
	id             TEXT PRIMARY KEY,
	from_id        TEXT NOT NULL,
	into_id        TEXT NOT NULL,
	identity_kind  TEXT NOT NULL,   -- the verified identity that linked them
	identity_value TEXT NOT NULL,
	at             BIGINT NOT NULL, -- unix ns UTC
	reason         TEXT NOT NULL
)`,
			// CustomerMerges: the merges into or from a customer.
			`CREATE INDEX customer_merges_into ON customer_merges (into_id, at)`,
			`CREATE INDEX customer_merges_from ON customer_merges (from_id, at)`,
		},
	},
	{
		version: 4,
		name:    "customers' SMS opt-out",
		stmts: []string{
			// 1: the customer asked for no marketing by SMS.
			`ALTER TABLE customers ADD COLUMN sms_opt_out INTEGER NOT NULL DEFAULT 0`,
		},
	},
	{
		version: 5,
		name:    "offer outcomes, learned counts and the offer catalog",
		stmts: []string{
			// Append-only: a correction is a new row, never an update.
			// EraseCustomer blanks customer_id and nothing else.
			`CREATE TABLE offer_outcomes (
	id          TEXT PRIMARY KEY,  -- random
	offer_id    TEXT NOT NULL,
	contact_id  TEXT NOT NULL,
	customer_id TEXT NOT NULL,     -- the profile (after its merge, if any); empty if none or erased
	segment     TEXT NOT NULL,     -- the customer's segment when recorded
	agent_id    TEXT NOT NULL,
	outcome     TEXT NOT NULL,     -- presented, accepted, declined or not_relevant
	at          BIGINT NOT NULL    -- unix ns UTC
)`,
			// OfferHistory (a customer's recent outcomes, newest
			// first), ExportCustomer and EraseCustomer.
			`CREATE INDEX offer_outcomes_customer ON offer_outcomes (customer_id, at)`,
			// RecordOfferOutcomes: an offer's outcomes during one
			// contact (retries, corrections, one presentation per agent).
			`CREATE INDEX offer_outcomes_contact ON offer_outcomes (contact_id, offer_id, at)`,
			// The learner's counts per offer and segment, kept in the
			// transaction of each outcome; OfferStats reads them at start.
			`CREATE TABLE offer_stats (
	offer_id TEXT NOT NULL,
	segment  TEXT NOT NULL,
	accepted BIGINT NOT NULL,
	rejected BIGINT NOT NULL,  -- declined or not relevant
	PRIMARY KEY (offer_id, segment)
)`,
			// Offers put or withdrawn over the API; they override the
			// configuration's offers of the same id.
			`CREATE TABLE offer_catalog (
	id         TEXT PRIMARY KEY,
	definition TEXT NOT NULL,    -- JSON offers.Offer; empty when withdrawn
	withdrawn  INTEGER NOT NULL, -- 1: the id is withdrawn, a configured offer of that id included
	updated_at BIGINT NOT NULL   -- unix ns UTC
)`,
		},
	},
	{
		version: 6,
		name:    "contacts' subject and disposition as columns",
		stmts: []string{
			// A brief timeline (the screen pop's history, the customer
			// API's timeline) reads columns only, never the JSON data.
			`ALTER TABLE contacts ADD COLUMN subject TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE contacts ADD COLUMN disposition TEXT NOT NULL DEFAULT ''`,
			`UPDATE contacts SET subject = COALESCE(json_extract(data, '$.subject'), ''),
	disposition = COALESCE(json_extract(data, '$.disposition'), '')`,
		},
	},
	{
		version: 7,
		name:    "customers' audit",
		stmts: []string{
			// Append-only: who did what to a customer's identity, besides
			// merges (customer_merges): an agent's verification of a
			// claim, an identity taken over from a claim-only holder.
			`CREATE TABLE customer_audit (
	id          TEXT PRIMARY KEY, -- random
	customer_id TEXT NOT NULL,
	at          BIGINT NOT NULL,  -- unix ns UTC
	action      TEXT NOT NULL,    -- verified or identity_taken_over
	actor       TEXT NOT NULL,    -- the agent, login or token name
	contact_id  TEXT NOT NULL,    -- the contact it happened in, or empty
	detail      TEXT NOT NULL     -- how (the method), or what was taken from whom
)`,
			// CustomerAudit and ExportCustomer: a customer's entries.
			`CREATE INDEX customer_audit_customer ON customer_audit (customer_id, at)`,
		},
	},
	{
		version: 8,
		name:    "messages of every channel",
		stmts: []string{
			// customer, agent, supervisor or system; '' before this.
			`ALTER TABLE contact_messages ADD COLUMN author_kind TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE contact_messages ADD COLUMN author_name TEXT NOT NULL DEFAULT ''`,
			// The channel's id of the message (an email's Message-ID, an
			// SMS's MessageSid), NULL for none; stored once, ever.
			`ALTER TABLE contact_messages ADD COLUMN external_id TEXT`,
			// JSON messageDetail (subject, html, references,
			// attachments), '' for none.
			`ALTER TABLE contact_messages ADD COLUMN detail TEXT NOT NULL DEFAULT ''`,
			// JSON deliveryRecord of an outbound message, NULL for none.
			`ALTER TABLE contact_messages ADD COLUMN delivery TEXT`,
			// MessageByExternalID; the unique key of external ids.
			`CREATE UNIQUE INDEX contact_messages_external ON contact_messages (external_id) WHERE external_id IS NOT NULL`,
		},
	},
	{
		version: 9,
		name:    "the outbox and attachments",
		stmts: []string{
			// An outbound message to deliver, committed with it; done
			// once delivered or given up on.
			`CREATE TABLE outbox (
	id         TEXT PRIMARY KEY, -- router.OutboxID: contact id/seq, stable
	channel    TEXT NOT NULL,
	contact_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	created_at BIGINT NOT NULL,  -- unix ns UTC
	due_at     BIGINT NOT NULL,  -- unix ns UTC: the next attempt
	attempts   INTEGER NOT NULL,
	last_error TEXT NOT NULL,
	done       INTEGER NOT NULL  -- 1: delivered or given up on
)`,
			// PendingOutbox: what is still to deliver, by id.
			`CREATE INDEX outbox_pending ON outbox (done, id)`,
			// The files messages carry (package attachments keeps them
			// by hash): MessageAttachment, and who still holds a file.
			`CREATE TABLE message_attachments (
	contact_id TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	sha256     TEXT NOT NULL,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL,
	size       BIGINT NOT NULL,
	PRIMARY KEY (contact_id, seq, sha256)
)`,
			// TakeOrphanedAttachments, HeldAttachments: whether a file is
			// still held.
			`CREATE INDEX message_attachments_sha256 ON message_attachments (sha256)`,
			// Files an erasure let go of, until TakeOrphanedAttachments.
			`CREATE TABLE attachment_orphans (sha256 TEXT PRIMARY KEY)`,
		},
	},
	{
		version: 10,
		name:    "the event log and outbound webhooks",
		stmts: []string{
			// What happened, appended in the transaction of the change;
			// the webhooks deliver it in id order. AUTOINCREMENT: an id
			// is never reused, not even after the newest entries were
			// pruned, so that a webhook's cursor never skips one.
			`CREATE TABLE event_log (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	type       TEXT NOT NULL,    -- router.LogTypes
	contact_id TEXT NOT NULL,    -- '' for customer.changed
	at         BIGINT NOT NULL,  -- unix ns UTC
	data       TEXT NOT NULL     -- JSON payload
)`,
			// Webhooks put over the API; configured ones are not stored.
			`CREATE TABLE webhooks (
	id         TEXT PRIMARY KEY,
	url        TEXT NOT NULL,
	events     TEXT NOT NULL,    -- JSON []string
	secret     TEXT NOT NULL,
	updated_at BIGINT NOT NULL   -- unix ns UTC
)`,
			// The delivery state of every webhook, configured or put.
			`CREATE TABLE webhook_state (
	id         TEXT PRIMARY KEY,
	state      TEXT NOT NULL,    -- JSON webhookStateRecord
	updated_at BIGINT NOT NULL   -- unix ns UTC
)`,
		},
	},
	{
		version: 11,
		name:    "the consent ledger",
		stmts: []string{
			// Append-only: who opted out of or back into a channel at an
			// address, when, by which message. The latest entry of a
			// channel and address (by seq: the order they were recorded
			// in) is in force. EraseCustomer deletes a customer's.
			`CREATE TABLE consent_ledger (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	id          TEXT NOT NULL UNIQUE, -- random
	customer_id TEXT NOT NULL,        -- '' when nobody held the address
	channel     TEXT NOT NULL,        -- sms
	address     TEXT NOT NULL,        -- the customer's, E.164 for sms
	action      TEXT NOT NULL,        -- opt_out or opt_in
	at          BIGINT NOT NULL,      -- unix ns UTC
	message_id  TEXT NOT NULL UNIQUE, -- the message that said it (a MessageSid): recorded once
	detail      TEXT NOT NULL         -- the keyword, or the provider's word
)`,
			// ConsentState: the latest entry of an address.
			`CREATE INDEX consent_ledger_address ON consent_ledger (channel, address, seq)`,
			// ConsentLedger, ConsentBlocked and EraseCustomer.
			`CREATE INDEX consent_ledger_customer ON consent_ledger (customer_id, channel)`,
		},
	},
	{
		version: 12,
		name:    "email mailbox checkpoints",
		stmts: []string{
			// How far the email channel has read each mailbox: the
			// mailbox's UIDVALIDITY and the highest UID taken in. It is
			// written after the contacts it covers are committed; a
			// replay from an older checkpoint is harmless (the messages'
			// external ids are unique), see docs/email.md.
			`CREATE TABLE email_checkpoints (
	mailbox      TEXT PRIMARY KEY,  -- the configured mailbox name
	uid_validity BIGINT NOT NULL,
	last_uid     BIGINT NOT NULL,
	since        BIGINT NOT NULL,   -- unix ns UTC: read only mail received since, while a pass by date is under way; 0 none
	newest       BIGINT NOT NULL,   -- unix ns UTC: the internal date of the newest message taken in
	updated_at   BIGINT NOT NULL    -- unix ns UTC
)`,
		},
	},
	{
		version: 13,
		name:    "email OAuth refresh tokens",
		stmts: []string{
			// The refresh token of each mailbox or SMTP server that logs
			// in with OAuth 2.0, as the provider last rotated it; the
			// configured one is only the first.
			`CREATE TABLE email_oauth_tokens (
	name          TEXT PRIMARY KEY,  -- "mailbox:<name>" or "smtp"
	refresh_token TEXT NOT NULL,
	updated_at    BIGINT NOT NULL    -- unix ns UTC
)`,
		},
	},
	{
		version: 14,
		name:    "contacts queued_at",
		stmts: []string{
			// When the contact entered its current queue (a transfer or a
			// take-back enters it again): the waits the statistics and
			// reports count run from it, not from the first arrival
			// (enqueued_at, the age that orders the queue). Contacts
			// stored before it take their enqueued_at.
			`ALTER TABLE contacts ADD COLUMN queued_at BIGINT NOT NULL DEFAULT 0`,
			`UPDATE contacts SET queued_at = enqueued_at`,
		},
	},
	{
		version: 15,
		name:    "contact events actor",
		stmts: []string{
			// Who asked for what an event records (router.Event.By):
			// "sam (supervisor)"; '' for the router's own decisions and
			// for events stored before it.
			`ALTER TABLE contact_events ADD COLUMN actor TEXT NOT NULL DEFAULT ''`,
		},
	},
	{
		version: 16,
		name:    "contact events by kind and time",
		stmts: []string{
			// EachOfferTimeout: the offers the agents missed in a period.
			`CREATE INDEX contact_events_event_at ON contact_events (event, at)`,
		},
	},
	{
		version: 17,
		name:    "canned responses",
		stmts: []string{
			// The canned responses put over the API (the configuration's
			// are not stored).
			`CREATE TABLE canned_responses (
	id         TEXT PRIMARY KEY,
	def        TEXT NOT NULL,    -- JSON cannedRecord
	updated_at BIGINT NOT NULL   -- unix ns UTC
)`,
		},
	},
	{
		version: 18,
		name:    "contact tags",
		stmts: []string{
			// The search index of the contacts' tags (the tags themselves
			// are in contacts.data): Contacts with a Tag filter.
			`CREATE TABLE contact_tags (
	tag        TEXT NOT NULL,
	contact_id TEXT NOT NULL REFERENCES contacts (id),
	PRIMARY KEY (tag, contact_id)
)`,
			`CREATE INDEX contact_tags_contact ON contact_tags (contact_id)`,
		},
	},
	{
		version: 19,
		name:    "satisfaction survey",
		stmts: []string{
			// One answer per contact (package csat).
			`CREATE TABLE contact_csat (
	contact_id TEXT PRIMARY KEY REFERENCES contacts (id),
	queue      TEXT NOT NULL,
	score      INTEGER NOT NULL,
	comment    TEXT NOT NULL,
	at         BIGINT NOT NULL  -- unix ns UTC
)`,
		},
	},
	{
		version: 20,
		name:    "agent state history",
		stmts: []string{
			// Every change of an agent's state (router.AgentStateChange),
			// committed with the batch that made it.
			`CREATE TABLE agent_states (
	agent_id TEXT NOT NULL,
	at       BIGINT NOT NULL,  -- unix ns UTC
	state    TEXT NOT NULL,
	reason   TEXT NOT NULL,
	why      TEXT NOT NULL,
	by_actor TEXT NOT NULL
)`,
			// An agent's history from a time; the state an agent was in
			// at a time (the last change before it).
			`CREATE INDEX agent_states_agent_at ON agent_states (agent_id, at)`,
			// Every agent's changes of a day.
			`CREATE INDEX agent_states_at ON agent_states (at)`,
		},
	},
	{
		version: 21,
		name:    "leadership and shared secrets",
		stmts: []string{
			// The leader's lease (lease.go), one row per lease name:
			// PostgreSQL deployments only; SQLite has one node.
			`CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,   -- the process holding it (node and instance)
	address    TEXT NOT NULL,   -- where the other nodes reach the holder
	epoch      BIGINT NOT NULL, -- +1 at every change of holder
	expires_at BIGINT NOT NULL  -- unix ns on the database's clock
)`,
			// Secrets every node must share (the chat's signing key, the
			// generated admin token), written once by the first node.
			`CREATE TABLE secrets (
	name       TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	created_at BIGINT NOT NULL  -- unix ns UTC
)`,
		},
	},
	{
		version: 22,
		name:    "email checkpoints' floor",
		stmts: []string{
			// Where a mailbox's intake began (for its UIDVALIDITY): the
			// resynchronisation's sweep takes in nothing below it. A
			// checkpoint stored before has its floor at its last UID, and
			// the day of a read by date under way: the sweep looks at
			// nothing already behind it.
			`ALTER TABLE email_checkpoints ADD COLUMN floor_uid BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE email_checkpoints ADD COLUMN floor_since BIGINT NOT NULL DEFAULT 0`,
			`UPDATE email_checkpoints SET floor_uid = last_uid, floor_since = since`,
		},
	},
	{
		version: 23,
		name:    "the event log by contact",
		stmts: []string{
			// EventLogOf: a webhook holding back one contact's events
			// (a receiver refused one) reads that contact's entries
			// after the one it retries, however far the others ran,
			// and reads each entry again just before its delivery.
			// EraseCustomer: the entries of an erased customer's
			// contacts, rewritten.
			`CREATE INDEX event_log_contact ON event_log (contact_id, id)`,
		},
	},
	{
		version: 24,
		name:    "erased contacts",
		stmts: []string{
			// When a contact was erased with its customer (eraseContactsTx),
			// 0 = not: a delivery report about one of its messages sent
			// before then is not recorded (updateDeliverySQL). Contacts
			// erased before this migration: their customer's erasure, if
			// they came before it.
			`ALTER TABLE contacts ADD COLUMN erased_at BIGINT NOT NULL DEFAULT 0`,
			`UPDATE contacts SET erased_at = (SELECT cu.erased_at FROM customers cu WHERE cu.id = contacts.customer_id)
WHERE EXISTS (SELECT 1 FROM customers cu WHERE cu.id = contacts.customer_id AND cu.erased_at <> 0 AND cu.erased_at >= contacts.created_at)`,
		},
	},
}

// createMigrationsTable records which migrations have been applied.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL  -- unix ns UTC
)`

// migrate applies the migrations db has not seen, in one transaction: the
// schema is either fully upgraded or left as it was. The transaction
// holds a lock from its start (SQLite's BEGIN IMMEDIATE, PostgreSQL's
// dialect.lockMigrations), so that of two nodes starting together one
// migrates and the other then finds nothing to do.
//
// This runner is ours rather than pressly/goose's or golang-migrate's:
// both run each migration in a transaction of its own, so no
// transaction-level lock can cover a whole run, and their locks on
// PostgreSQL are session-level advisory locks (which a transaction-pooling
// PgBouncer breaks) or a lock table polled with timeouts; golang-migrate
// also wants a schema_migrations table of its own shape (one row, a
// dirty flag) where ours has a row per version. Taking over our existing
// databases would need a conversion of that table on both sides; the
// runner is 40 lines and DDL is transactional on both databases.
func migrate(ctx context.Context, db *sql.DB, d dialect) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if d.lockMigrations != "" {
		if _, err = tx.ExecContext(ctx, d.lockMigrations); err != nil {
			return fmt.Errorf("store: migrate: lock: %w", err)
		}
	}
	if _, err = tx.ExecContext(ctx, d.schema(createMigrationsTable)); err != nil {
		return fmt.Errorf("store: migrate: create schema_migrations: %w", err)
	}
	var current int
	if err = tx.QueryRowContext(ctx, rebind(d, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)).Scan(&current); err != nil {
		return fmt.Errorf("store: migrate: read version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("store: migrate: database schema version %d is newer than this program's %d", current, len(migrations))
	}
	for _, m := range migrations[current:] {
		for i, stmt := range m.stmts {
			if _, err = tx.ExecContext(ctx, d.schema(stmt)); err != nil {
				return fmt.Errorf("store: migrate: version %d (%s) statement %d: %w", m.version, m.name, i+1, err)
			}
		}
		if _, err = tx.ExecContext(ctx, rebind(d, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.version, m.name, time.Now().UnixNano()); err != nil {
			return fmt.Errorf("store: migrate: record version %d: %w", m.version, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: commit: %w", err)
	}
	return nil
}

// MigrationState is a migration of the schema and whether a database
// has it.
type MigrationState struct {
	Version int
	Name    string
	// AppliedAt is when the database applied it; zero while pending.
	AppliedAt time.Time
}

// Migrations reports which migrations the database of opts has applied
// and which are pending, changing nothing (Open applies the pending
// ones). A SQLite file that does not exist has every one pending and is
// not created. Versions the database has beyond this program's are
// listed with the name "(newer than this program)".
func Migrations(ctx context.Context, opts *Options) ([]MigrationState, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	var (
		raw *sql.DB
		d   dialect
	)
	switch o.Driver {
	case "", DriverSQLite:
		if o.Path == "" {
			o.Path = DefaultPath
		}
		if _, err := os.Stat(o.Path); errors.Is(err, os.ErrNotExist) {
			return migrationStates(nil), nil
		}
		db, err := sql.Open("sqlite", o.Path+fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=query_only(1)", busyTimeoutMillis))
		if err != nil {
			return nil, fmt.Errorf("store: migrations: %w", err)
		}
		raw, d = db, sqliteDialect
	case DriverPostgres:
		cfg, err := pgx.ParseConfig(o.DSN)
		if err != nil {
			return nil, fmt.Errorf("%w: the PostgreSQL DSN does not parse", ErrBadOptions)
		}
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
		raw, d = stdlib.OpenDB(*cfg), postgresDialect
	default:
		return nil, fmt.Errorf("%w: driver %q: want %q or %q", ErrBadOptions, o.Driver, DriverSQLite, DriverPostgres)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRowContext(ctx, rebind(d, d.hasTable), "schema_migrations").Scan(&n); err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	applied := map[int]time.Time{}
	if n > 0 {
		rows, err := raw.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			return nil, fmt.Errorf("store: migrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				v  int
				at int64
			)
			if err := rows.Scan(&v, &at); err != nil {
				return nil, fmt.Errorf("store: migrations: %w", err)
			}
			applied[v] = fromNanos(at)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: migrations: %w", err)
		}
	}
	return migrationStates(applied), nil
}

// migrationStates lists this program's migrations, then any newer
// versions of applied, with their times of applied.
func migrationStates(applied map[int]time.Time) []MigrationState {
	out := make([]MigrationState, 0, len(migrations))
	for _, m := range migrations {
		out = append(out, MigrationState{Version: m.version, Name: m.name, AppliedAt: applied[m.version]})
	}
	var newer []int
	for v := range applied {
		if v > len(migrations) {
			newer = append(newer, v)
		}
	}
	slices.Sort(newer)
	for _, v := range newer {
		out = append(out, MigrationState{Version: v, Name: "(newer than this program)", AppliedAt: applied[v]})
	}
	return out
}
