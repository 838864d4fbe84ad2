package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store/pgtest"
)

// t0 is the base time of the fixtures, with nanoseconds to prove they
// survive.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// openTest opens a store on the dialect of the test (testDialect): in a
// fresh directory for SQLite, in a fresh database for PostgreSQL; it is
// closed at the end of the test.
func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), testOptions(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// testOptions returns the options of a new, empty database on the
// dialect of the test: a file in a fresh directory, or a fresh
// PostgreSQL database (dropped at the end of the test).
func testOptions(t testing.TB) *Options {
	t.Helper()
	if testDialect(t) == DriverPostgres {
		return &Options{Driver: DriverPostgres, DSN: pgtest.Database(t)}
	}
	return &Options{Path: filepath.Join(t.TempDir(), "sub", "test.db")}
}

// migrateTo makes the database of opts as a program of schema version
// left it: its migrations up to version, on a plain connection (Open
// prepares statements that may name later versions' columns). Close it
// before opening the store.
func migrateTo(t testing.TB, opts *Options, version int) (*sql.DB, dialect) {
	t.Helper()
	var (
		raw *sql.DB
		d   dialect
	)
	if opts.Driver == DriverPostgres {
		cfg, err := pgx.ParseConfig(opts.DSN)
		if err != nil {
			t.Fatal(err)
		}
		raw, d = stdlib.OpenDB(*cfg), postgresDialect
	} else {
		if err := os.MkdirAll(filepath.Dir(opts.Path), 0o700); err != nil {
			t.Fatal(err)
		}
		var err error
		if raw, err = sql.Open("sqlite", opts.Path); err != nil {
			t.Fatal(err)
		}
		d = sqliteDialect
	}
	all := migrations
	migrations = all[:version]
	err := migrate(context.Background(), raw, d)
	migrations = all
	if err != nil {
		raw.Close()
		t.Fatalf("migrate to version %d: %v", version, err)
	}
	return raw, d
}

// commit commits b and fails the test on error.
func commit(t testing.TB, db *DB, b *router.Batch) {
	t.Helper()
	if err := db.Commit(context.Background(), b); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// load loads and fails the test on error.
func load(t testing.TB, db *DB) *router.Loaded {
	t.Helper()
	l, err := db.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return l
}

// assertNoZeroFields fails if any field of the struct v is its zero value,
// so that a field added to the type later must be added to the fixture
// (and so to the round-trip tests) too. skip names fields allowed to be zero.
func assertNoZeroFields(t *testing.T, v any, skip ...string) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if !f.IsExported() || slices.Contains(skip, f.Name) {
			continue
		}
		if rv.Field(i).IsZero() {
			t.Errorf("fixture %T: field %s is zero; set it so the round trip covers it", v, f.Name)
		}
	}
}

// fullContact returns a contact with every field set.
func fullContact(id string) router.Contact {
	return router.Contact{
		ID:      id,
		Channel: router.ChannelChat,
		Queue:   "support",
		Customer: router.Customer{
			ID: "cust-" + id, Name: "Ada Lovelace", Email: id + "@example.com", Phone: "+4420" + id, Value: 1234.5, Segment: "premium",
			Verified: true, ClaimedID: "claimed-" + id,
		},
		Subject:         "Engine trouble",
		Requirements:    []router.Requirement{{Skill: "english", Min: 3}, {Skill: "billing", Min: 2}},
		Effective:       []router.Requirement{{Skill: "english", Min: 2}},
		Step:            1,
		Priority:        5,
		Rank:            17,
		Preferred:       []string{"agent-1", "agent-2"},
		PreferredUntil:  t0.Add(30 * time.Second),
		State:           router.ContactAssigned,
		AgentID:         "agent-1",
		Declined:        []string{"agent-3"},
		IdempotencyKey:  "key-" + id,
		IdempotencyHash: "sha256:abc" + id,
		CreatedAt:       t0,
		EnqueuedAt:      t0.Add(time.Millisecond),
		QueuedAt:        t0.Add(2 * time.Millisecond),
		OfferedAt:       t0.Add(3 * time.Second),
		OfferExpires:    t0.Add(23 * time.Second),
		AssignedAt:      t0.Add(5 * time.Second),
		EndedAt:         t0.Add(5 * time.Minute),
		Disposition:     "resolved",
		Returned:        true,
		Notes:           "called back",
		Tags:            []string{"callback", "vip"},
		Follows:         "c-0",
		TakenOverBy:     []router.TakeOver{{ID: "sam", Name: "Sam Lee", At: t0.Add(time.Minute)}},
	}
}

// fullAgent returns an agent with every field set, runtime ones included.
func fullAgent(id string) router.Agent {
	return router.Agent{
		ID:          id,
		Name:        "Agent " + id,
		Skills:      map[string]int{"english": 5, "billing": 3},
		Capacity:    map[string]int{"chat": 3, "email": 5},
		State:       router.AgentAvailable,
		Reason:      "lunch",
		StateSince:  t0,
		WrapUpUntil: t0.Add(time.Minute),
		GraceUntil:  t0.Add(2 * time.Minute),
		IdleSince:   t0,
		Active:      map[string]int{"chat": 1},
		Offer:       "c-1",
		Connected:   true,
	}
}

// durable returns the durable part of a, as Load gives it back.
func durable(a router.Agent) router.Agent {
	return router.Agent{ID: a.ID, Name: a.Name, Skills: a.Skills, Capacity: a.Capacity}
}

// fullQueue returns a queue with every field set.
func fullQueue(name string) router.Queue {
	return router.Queue{
		Name:         name,
		Requirements: []router.Requirement{{Skill: "english", Min: 2}},
		Priority:     3,
		Strategy:     router.BestSkill,
		ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second), ShortAbandon: router.Duration(5 * time.Second)},
		Relaxation: []router.RelaxStep{{
			Name: "any-level", After: router.Duration(time.Minute), Drop: []string{"billing"}, Min: map[string]int{"english": 1},
		}},
		MaxWait:    router.Duration(10 * time.Minute),
		Overflow:   "overflow",
		Hours:      "office",
		WrapUp:     router.Duration(30 * time.Second),
		ValueTiers: []router.ValueTier{{Min: 1000, Boost: 10}}, SegmentBoosts: map[string]int{"premium": 20},
	}
}

// simpleContact is a contact with only what the indexed columns need.
func simpleContact(id string, state router.ContactState, created time.Time) router.Contact {
	return router.Contact{ID: id, Channel: router.ChannelEmail, Queue: "sales", State: state, CreatedAt: created, EnqueuedAt: created, QueuedAt: created}
}

func TestRoundTrip(t *testing.T) { forEachDialect(t, testRoundTrip) }

func testRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := fullContact("c-1")
	c.State = router.ContactWrapUp // not final, so Load returns it
	a := fullAgent("a-1")
	q := fullQueue("support")
	// OfferReason is the router's, in memory only (not stored).
	assertNoZeroFields(t, c, "OfferReason")
	assertNoZeroFields(t, c.Customer)
	// Agents keep only their durable fields; the runtime ones are set to
	// show they are dropped.
	assertNoZeroFields(t, durable(a), "State", "Reason", "StateSince", "WrapUpUntil", "GraceUntil", "IdleSince", "Active", "Offer", "Contacts", "Connected")
	assertNoZeroFields(t, q)
	assertNoZeroFields(t, q.ServiceLevel)
	assertNoZeroFields(t, q.Relaxation[0])

	db := openTest(t)
	commit(t, db, &router.Batch{Agents: []router.Agent{a}, Queues: []router.Queue{q}, Contacts: []router.Contact{c}})
	l := load(t, db)

	t.Run("contact-load", func(t *testing.T) {
		if len(l.Contacts) != 1 || !reflect.DeepEqual(l.Contacts[0], c) {
			t.Errorf("Load contacts: got %+v, want [%+v]", l.Contacts, c)
		}
	})
	t.Run("contact-get", func(t *testing.T) {
		got, err := db.Contact(ctx, c.ID)
		if err != nil {
			t.Fatalf("Contact: %v", err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("Contact: got %+v, want %+v", got, c)
		}
	})
	t.Run("agent-durable-fields-only", func(t *testing.T) {
		want := []router.Agent{durable(a)}
		if !reflect.DeepEqual(l.Agents, want) {
			t.Errorf("Load agents: got %+v, want %+v", l.Agents, want)
		}
	})
	t.Run("queue", func(t *testing.T) {
		if !reflect.DeepEqual(l.Queues, []router.Queue{q}) {
			t.Errorf("Load queues: got %+v, want [%+v]", l.Queues, q)
		}
	})
	t.Run("times-in-utc", func(t *testing.T) {
		// A contact written with times in another zone reads back the
		// same instants, in UTC.
		zone := time.FixedZone("CET", 3600)
		z := fullContact("c-zone")
		z.CreatedAt = t0.In(zone)
		z.AssignedAt = t0.Add(time.Second).In(zone)
		commit(t, db, &router.Batch{Contacts: []router.Contact{z}})
		got, err := db.Contact(ctx, z.ID)
		if err != nil {
			t.Fatalf("Contact: %v", err)
		}
		if !got.CreatedAt.Equal(t0) || got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt: got %v, want %v", got.CreatedAt, t0)
		}
		if !got.AssignedAt.Equal(t0.Add(time.Second)) || got.AssignedAt.Location() != time.UTC {
			t.Errorf("AssignedAt: got %v, want %v", got.AssignedAt, t0.Add(time.Second))
		}
	})
	t.Run("zero-times", func(t *testing.T) {
		z := router.Contact{ID: "c-zero", Channel: "api", Queue: "q", State: router.ContactQueued}
		commit(t, db, &router.Batch{Contacts: []router.Contact{z}})
		got, err := db.Contact(ctx, z.ID)
		if err != nil {
			t.Fatalf("Contact: %v", err)
		}
		if !reflect.DeepEqual(got, z) {
			t.Errorf("Contact: got %+v, want %+v", got, z)
		}
	})
}

func TestUpsertReplaces(t *testing.T) { forEachDialect(t, testUpsertReplaces) }

func testUpsertReplaces(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	a, q, c := fullAgent("a-1"), fullQueue("support"), fullContact("c-1")
	c.State = router.ContactQueued
	commit(t, db, &router.Batch{Agents: []router.Agent{a}, Queues: []router.Queue{q}, Contacts: []router.Contact{c}})

	a.Name, a.Skills, a.Capacity = "Renamed", map[string]int{"french": 4}, nil
	q.Priority, q.Relaxation, q.Strategy = 9, nil, router.RoundRobin
	c.State, c.AgentID, c.Queue, c.Customer.Email, c.IdempotencyHash = router.ContactOffered, "a-9", "billing", "new@example.com", "h2"
	commit(t, db, &router.Batch{Agents: []router.Agent{a}, Queues: []router.Queue{q}, Contacts: []router.Contact{c}})

	l := load(t, db)
	if want := []router.Agent{durable(a)}; !reflect.DeepEqual(l.Agents, want) {
		t.Errorf("agents: got %+v, want %+v", l.Agents, want)
	}
	if want := []router.Queue{q}; !reflect.DeepEqual(l.Queues, want) {
		t.Errorf("queues: got %+v, want %+v", l.Queues, want)
	}
	if want := []router.Contact{c}; !reflect.DeepEqual(l.Contacts, want) {
		t.Errorf("contacts: got %+v, want %+v", l.Contacts, want)
	}
	// The indexed columns follow the upsert too.
	page, err := db.Contacts(ctx, ContactFilter{Queue: "billing", State: "offered", Customer: "new@example.com"})
	if err != nil {
		t.Fatalf("Contacts: %v", err)
	}
	if len(page.Contacts) != 1 || page.Contacts[0].ID != c.ID {
		t.Errorf("Contacts by new columns: got %d contacts, want [%s]", len(page.Contacts), c.ID)
	}
	if page, _ := db.Contacts(ctx, ContactFilter{Queue: "support"}); len(page.Contacts) != 0 {
		t.Errorf("Contacts by old queue: got %d contacts, want 0", len(page.Contacts))
	}
}

func TestDelete(t *testing.T) { forEachDialect(t, testDelete) }

func testDelete(t *testing.T) {
	db := openTest(t)
	commit(t, db, &router.Batch{
		Agents: []router.Agent{fullAgent("a-1"), fullAgent("a-2")},
		Queues: []router.Queue{fullQueue("q-1"), fullQueue("q-2")},
	})
	commit(t, db, &router.Batch{DeletedAgents: []string{"a-1", "a-missing"}, DeletedQueues: []string{"q-2"}})
	l := load(t, db)
	if want := []router.Agent{durable(fullAgent("a-2"))}; !reflect.DeepEqual(l.Agents, want) {
		t.Errorf("agents: got %+v, want %+v", l.Agents, want)
	}
	if want := []router.Queue{fullQueue("q-1")}; !reflect.DeepEqual(l.Queues, want) {
		t.Errorf("queues: got %+v, want %+v", l.Queues, want)
	}
}

func TestEmptyBatch(t *testing.T) { forEachDialect(t, testEmptyBatch) }

func testEmptyBatch(t *testing.T) {
	db := openTest(t)
	for _, b := range []*router.Batch{nil, {}} {
		if err := db.Commit(context.Background(), b); err != nil {
			t.Errorf("Commit(%v): got %v, want nil", b, err)
		}
	}
}

// events returns n events of contact id, seq first..first+n-1.
func events(id string, first, n int) []router.Event {
	var es []router.Event
	for i := range n {
		es = append(es, router.Event{ContactID: id, Seq: first + i, At: t0.Add(time.Duration(i) * time.Second), Event: fmt.Sprintf("e%d", first+i)})
	}
	return es
}

// messages returns n messages of contact id, seq first..first+n-1.
func messages(id string, first, n int) []router.Message {
	var ms []router.Message
	for i := range n {
		ms = append(ms, router.Message{ContactID: id, Seq: first + i, At: t0.Add(time.Duration(i) * time.Second), Direction: "in", Body: fmt.Sprintf("m%d", first+i)})
	}
	return ms
}

func TestLoadLiveContactsAndSeqs(t *testing.T) { forEachDialect(t, testLoadLiveContactsAndSeqs) }

func testLoadLiveContactsAndSeqs(t *testing.T) {
	db := openTest(t)
	b := &router.Batch{}
	states := []router.ContactState{router.ContactQueued, router.ContactOffered, router.ContactAssigned,
		router.ContactWrapUp, router.ContactTransferred, router.ContactClosed, router.ContactAbandoned}
	for i, s := range states {
		id := string(s)
		b.Contacts = append(b.Contacts, simpleContact(id, s, t0.Add(time.Duration(i)*time.Second)))
		b.Events = append(b.Events, events(id, 1, i)...)         // queued has none
		b.Messages = append(b.Messages, messages(id, 1, i/2)...) // queued, offered have none
	}
	commit(t, db, b)
	// Sequences need not be dense: max + 1 counts.
	commit(t, db, &router.Batch{Events: []router.Event{{ContactID: "offered", Seq: 10, At: t0, Event: "late"}}})

	l := load(t, db)
	var ids []string
	for _, c := range l.Contacts {
		ids = append(ids, c.ID)
	}
	wantIDs := []string{"queued", "offered", "assigned", "wrapup", "transferred"}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("contacts: got %v, want %v", ids, wantIDs)
	}
	wantEv := map[string]int{"queued": 1, "offered": 11, "assigned": 3, "wrapup": 4, "transferred": 5}
	if !reflect.DeepEqual(l.NextEventSeq, wantEv) {
		t.Errorf("NextEventSeq: got %v, want %v", l.NextEventSeq, wantEv)
	}
	wantMsg := map[string]int{"queued": 1, "offered": 1, "assigned": 2, "wrapup": 2, "transferred": 3}
	if !reflect.DeepEqual(l.NextMessageSeq, wantMsg) {
		t.Errorf("NextMessageSeq: got %v, want %v", l.NextMessageSeq, wantMsg)
	}
}

func TestLoadInbound(t *testing.T) { forEachDialect(t, testLoadInbound) }

func testLoadInbound(t *testing.T) {
	db := openTest(t)
	b := &router.Batch{}
	for i, s := range []router.ContactState{router.ContactAssigned, router.ContactClosed} {
		b.Contacts = append(b.Contacts, simpleContact(string(s), s, t0.Add(time.Duration(i)*time.Second)))
		b.Messages = append(b.Messages, messages(string(s), 1, 2)...)
	}
	b.Messages = append(b.Messages,
		router.Message{ContactID: "assigned", Seq: 3, At: t0, Direction: "out", Author: "alice", Body: "not the customer's"},
		router.Message{ContactID: "assigned", Seq: 4, At: t0, Direction: "in", Body: "Grüße"})
	commit(t, db, b)
	l := load(t, db)
	want := map[string]router.Inbound{"assigned": {Messages: 3, Bytes: len("m1") + len("m2") + len("Grüße")}}
	if !reflect.DeepEqual(l.Inbound, want) {
		t.Errorf("Inbound: got %v, want %v", l.Inbound, want)
	}
}

func TestLoadEmpty(t *testing.T) { forEachDialect(t, testLoadEmpty) }

func testLoadEmpty(t *testing.T) {
	l := load(t, openTest(t))
	if len(l.Agents)+len(l.Queues)+len(l.Contacts) != 0 || l.NextEventSeq == nil || l.NextMessageSeq == nil {
		t.Errorf("Load of empty store: got %+v, want nothing and non-nil maps", l)
	}
}

func TestCommitAtomic(t *testing.T) { forEachDialect(t, testCommitAtomic) }

func testCommitAtomic(t *testing.T) {
	ctx := context.Background()
	existing := simpleContact("existing", router.ContactQueued, t0)
	existing.IdempotencyKey = "taken"
	base := &router.Batch{
		Contacts: []router.Contact{existing},
		Events:   events("existing", 1, 2),
		Messages: []router.Message{{ContactID: "existing", Seq: 1, At: t0, Direction: "in", Body: "hi", ClientID: "cl-1"}},
	}
	withKey := func(c router.Contact, key string) router.Contact { c.IdempotencyKey = key; return c }
	tests := []struct {
		name    string
		wantErr string // the failing step named in the error
		batch   router.Batch
	}{
		{"duplicate-event-in-batch", "insert event 2 of contact \"new\"", router.Batch{
			Events: append(events("new", 1, 2), events("new", 2, 1)...),
		}},
		{"duplicate-event-of-stored", "insert event 2 of contact \"existing\"", router.Batch{
			Events: append(events("new", 1, 1), events("existing", 2, 1)...),
		}},
		{"event-of-unknown-contact", "insert event 1 of contact \"nobody\"", router.Batch{
			Events: append(events("new", 1, 1), events("nobody", 1, 1)...),
		}},
		{"duplicate-message", "insert message 1 of contact \"new\"", router.Batch{
			Messages: append(messages("new", 1, 1), messages("new", 1, 1)...),
		}},
		{"duplicate-client-id", "insert message 2 of contact \"existing\"", router.Batch{
			Messages: []router.Message{
				{ContactID: "new", Seq: 1, At: t0, Direction: "in", Body: "a"},
				{ContactID: "existing", Seq: 2, At: t0, Direction: "in", Body: "again", ClientID: "cl-1"},
			},
		}},
		{"idempotency-key-taken", "upsert contact \"new-2\"", router.Batch{
			Contacts: []router.Contact{withKey(simpleContact("new-2", router.ContactQueued, t0), "taken")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t)
			commit(t, db, base)
			b := tt.batch
			// Every batch also carries changes that would succeed alone.
			b.Agents = []router.Agent{fullAgent("a-new")}
			b.Queues = []router.Queue{fullQueue("q-new")}
			b.DeletedQueues = nil
			b.Contacts = append([]router.Contact{simpleContact("new", router.ContactQueued, t0)}, b.Contacts...)
			b.Contacts = append(b.Contacts, func() router.Contact { c := existing; c.State = router.ContactClosed; return c }())
			err := db.Commit(ctx, &b)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Commit: got %v, want an error naming %s", err, tt.wantErr)
			}
			// Nothing of the batch is there; the earlier commit is intact.
			if _, err := db.Contact(ctx, "new"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Contact(new): got %v, want ErrNotFound", err)
			}
			got, err := db.Contact(ctx, "existing")
			if err != nil || got.State != router.ContactQueued {
				t.Errorf("Contact(existing): got state %q, %v; want queued", got.State, err)
			}
			l := load(t, db)
			if len(l.Agents) != 0 || len(l.Queues) != 0 {
				t.Errorf("Load: got %d agents, %d queues; want none", len(l.Agents), len(l.Queues))
			}
			if l.NextEventSeq["existing"] != 3 || l.NextMessageSeq["existing"] != 2 {
				t.Errorf("next seqs of existing: got %d, %d; want 3, 2", l.NextEventSeq["existing"], l.NextMessageSeq["existing"])
			}
			// The store still works after the failure.
			commit(t, db, &router.Batch{Contacts: []router.Contact{simpleContact("after", router.ContactQueued, t0)}})
		})
	}
}

func TestIdempotencyKey(t *testing.T) { forEachDialect(t, testIdempotencyKey) }

func testIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	keyed := simpleContact("keyed", router.ContactQueued, t0)
	keyed.IdempotencyKey, keyed.IdempotencyHash = "req-42", "sha256:feed"
	// Contacts without a key do not collide with each other.
	commit(t, db, &router.Batch{Contacts: []router.Contact{
		keyed, simpleContact("plain-1", router.ContactQueued, t0), simpleContact("plain-2", router.ContactQueued, t0),
	}})

	tests := []struct {
		name    string
		key     string
		wantID  string
		wantErr error
	}{
		{"found", "req-42", "keyed", nil},
		{"unknown-key", "req-43", "", ErrNotFound},
		{"empty-key", "", "", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ContactByIdempotencyKey(ctx, tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ContactByIdempotencyKey(%q): got error %v, want %v", tt.key, err, tt.wantErr)
			}
			if got.ID != tt.wantID {
				t.Errorf("got id %q, want %q", got.ID, tt.wantID)
			}
			if tt.wantErr == nil && (got.IdempotencyKey != keyed.IdempotencyKey || got.IdempotencyHash != keyed.IdempotencyHash) {
				t.Errorf("got key %q hash %q, want %q %q", got.IdempotencyKey, got.IdempotencyHash, keyed.IdempotencyKey, keyed.IdempotencyHash)
			}
		})
	}
	t.Run("unique", func(t *testing.T) {
		dup := simpleContact("dup", router.ContactQueued, t0)
		dup.IdempotencyKey = "req-42"
		if err := db.Commit(ctx, &router.Batch{Contacts: []router.Contact{dup}}); err == nil {
			t.Errorf("Commit of a second contact with key req-42: got nil, want error")
		}
	})
	t.Run("same-contact-keeps-key", func(t *testing.T) {
		k := keyed
		k.State = router.ContactOffered
		commit(t, db, &router.Batch{Contacts: []router.Contact{k}})
		got, err := db.ContactByIdempotencyKey(ctx, "req-42")
		if err != nil || got.State != router.ContactOffered {
			t.Errorf("got state %q, %v; want offered", got.State, err)
		}
	})
}

func TestContactNotFound(t *testing.T) { forEachDialect(t, testContactNotFound) }

func testContactNotFound(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if _, err := db.Contact(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Contact: got %v, want ErrNotFound", err)
	}
	if _, err := db.Timeline(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Timeline: got %v, want ErrNotFound", err)
	}
	if _, err := db.Messages(ctx, "nope", 0, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Messages: got %v, want ErrNotFound", err)
	}
}

func TestTimelineAndMessages(t *testing.T) { forEachDialect(t, testTimelineAndMessages) }

func testTimelineAndMessages(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	evs := []router.Event{
		{ContactID: "c", Seq: 2, At: t0.Add(time.Second), Event: "offered", AgentID: "a-1", Queue: "sales", Reason: "longest_idle", By: "sam (supervisor)"},
		{ContactID: "c", Seq: 1, At: t0, Event: "queued", Queue: "sales"},
	}
	msgs := []router.Message{
		{ContactID: "c", Seq: 1, At: t0, Direction: "in", Author: "Ada", Body: "hello", ClientID: "x1"},
		{ContactID: "c", Seq: 2, At: t0.Add(time.Second), Direction: "out", Author: "a-1", Body: "hi!"},
		{ContactID: "c", Seq: 3, At: t0.Add(2 * time.Second), Direction: "in", Author: "Ada", Body: "thanks", ClientID: "x2"},
	}
	commit(t, db, &router.Batch{
		Contacts: []router.Contact{simpleContact("c", router.ContactOffered, t0), simpleContact("quiet", router.ContactQueued, t0)},
		Events:   evs,
		Messages: msgs,
	})

	got, err := db.Timeline(ctx, "c")
	if err != nil {
		t.Fatalf("Timeline: %v", err)
	}
	if want := []router.Event{evs[1], evs[0]}; !reflect.DeepEqual(got, want) {
		t.Errorf("Timeline: got %+v, want %+v", got, want)
	}
	if got, err := db.Timeline(ctx, "quiet"); err != nil || len(got) != 0 {
		t.Errorf("Timeline of a contact without events: got %v, %v; want none, nil", got, err)
	}

	tests := []struct {
		name     string
		id       string
		after    int
		limit    int
		wantSeqs []int
	}{
		{"all", "c", 0, 0, []int{1, 2, 3}},
		{"after", "c", 1, 0, []int{2, 3}},
		{"limit", "c", 0, 2, []int{1, 2}},
		{"after-and-limit", "c", 1, 1, []int{2}},
		{"past-end", "c", 3, 10, nil},
		{"no-messages", "quiet", 0, 10, nil},
	}
	for _, tt := range tests {
		t.Run("messages-"+tt.name, func(t *testing.T) {
			got, err := db.Messages(ctx, tt.id, tt.after, tt.limit)
			if err != nil {
				t.Fatalf("Messages: %v", err)
			}
			var seqs []int
			for _, m := range got {
				seqs = append(seqs, m.Seq)
				if want := msgs[m.Seq-1]; !reflect.DeepEqual(m, want) {
					t.Errorf("message %d: got %+v, want %+v", m.Seq, m, want)
				}
			}
			if !slices.Equal(seqs, tt.wantSeqs) {
				t.Errorf("seqs: got %v, want %v", seqs, tt.wantSeqs)
			}
		})
	}
}

// pagingFixture is 30 contacts across states, channels, queues and
// customers, some created at the same instant to exercise the id
// tie-break.
func pagingFixture() []router.Contact {
	states := []router.ContactState{router.ContactQueued, router.ContactAssigned, router.ContactClosed}
	channels := []string{"chat", "email", "sms", "api"}
	var cs []router.Contact
	for i := range 30 {
		c := simpleContact(fmt.Sprintf("c-%02d", i), states[i%3], t0.Add(time.Duration(i/3)*time.Second))
		c.Channel = channels[i%4]
		c.Queue = []string{"sales", "support"}[i%2]
		switch i % 5 {
		case 0:
			c.Customer.ID = "cust-7"
		case 1:
			c.Customer.Email = "cust-7"
		case 2:
			c.Customer.Phone = "cust-7"
		case 3:
			c.Customer = router.Customer{ID: "other", Email: "cust-7@example.com", Phone: "+1"}
		}
		if i%3 == 0 {
			c.Tags = append(c.Tags, "vip")
		}
		if i%4 == 0 {
			c.Tags = append([]string{"refund"}, c.Tags...)
		}
		cs = append(cs, c)
	}
	return cs
}

func TestContactsPaging(t *testing.T) { forEachDialect(t, testContactsPaging) }

func testContactsPaging(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	all := pagingFixture()
	b := &router.Batch{Contacts: all}
	for _, c := range all {
		if len(c.Tags) > 0 {
			b.Tags = append(b.Tags, router.ContactTags{ContactID: c.ID, Tags: c.Tags})
		}
	}
	commit(t, db, b)
	// A later entry replaces a contact's tags: c-00 is no longer vip.
	all[0].Tags = []string{"refund"}
	commit(t, db, &router.Batch{Contacts: all[:1], Tags: []router.ContactTags{{ContactID: all[0].ID, Tags: all[0].Tags}}})

	match := func(f ContactFilter, c router.Contact) bool {
		return (f.Tag == "" || slices.Contains(c.Tags, f.Tag)) &&
			(f.State == "" || string(c.State) == f.State) &&
			(f.Channel == "" || c.Channel == f.Channel) &&
			(f.Queue == "" || c.Queue == f.Queue) &&
			(f.Customer == "" || c.Customer.ID == f.Customer || c.Customer.Email == f.Customer || c.Customer.Phone == f.Customer)
	}
	tests := []struct {
		name      string
		filter    ContactFilter
		wantCount int // guards the expectation helper itself
	}{
		{"all", ContactFilter{}, 30},
		{"state", ContactFilter{State: "queued"}, 10},
		{"channel", ContactFilter{Channel: "sms"}, 7},
		{"queue", ContactFilter{Queue: "support"}, 15},
		{"queue-and-state", ContactFilter{Queue: "support", State: "closed"}, 5},
		{"customer-any-identifier", ContactFilter{Customer: "cust-7"}, 18},
		{"customer-and-channel", ContactFilter{Customer: "cust-7", Channel: "chat"}, 4},
		{"no-match", ContactFilter{State: "abandoned"}, 0},
		{"tag", ContactFilter{Tag: "vip"}, 9},
		{"tag-and-queue", ContactFilter{Tag: "refund", Queue: "sales"}, 8},
		{"unknown-tag", ContactFilter{Tag: "nobody"}, 0},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 4, 7, 100} {
			t.Run(fmt.Sprintf("%s/limit-%d", tt.name, limit), func(t *testing.T) {
				var want []string
				for _, c := range all {
					if match(tt.filter, c) {
						want = append(want, c.ID)
					}
				}
				if len(want) != tt.wantCount {
					t.Fatalf("fixture: %d contacts match, want %d", len(want), tt.wantCount)
				}
				// Newest first by (created_at, id).
				slices.Reverse(want)

				f := tt.filter
				f.Limit = limit
				var got []string
				for pages := 0; ; pages++ {
					if pages > 40 {
						t.Fatalf("paging does not end")
					}
					page, err := db.Contacts(ctx, f)
					if err != nil {
						t.Fatalf("Contacts: %v", err)
					}
					if len(page.Contacts) > limit {
						t.Fatalf("page of %d contacts, limit %d", len(page.Contacts), limit)
					}
					for _, c := range page.Contacts {
						got = append(got, c.ID)
					}
					if page.Next == "" {
						break
					}
					f.Cursor = page.Next
				}
				if !slices.Equal(got, want) {
					t.Errorf("walk: got %v, want %v", got, want)
				}
			})
		}
	}
	t.Run("limit-default-and-cap", func(t *testing.T) {
		var many []router.Contact
		for i := range MaxContactLimit + 10 {
			many = append(many, simpleContact(fmt.Sprintf("m-%04d", i), router.ContactClosed, t0.Add(time.Hour)))
		}
		commit(t, db, &router.Batch{Contacts: many})
		for _, tt := range []struct{ limit, want int }{{0, DefaultContactLimit}, {-1, DefaultContactLimit}, {10_000, MaxContactLimit}} {
			page, err := db.Contacts(ctx, ContactFilter{Limit: tt.limit})
			if err != nil {
				t.Fatalf("Contacts: %v", err)
			}
			if len(page.Contacts) != tt.want || page.Next == "" {
				t.Errorf("Limit %d: got %d contacts (next %q), want %d and a next page", tt.limit, len(page.Contacts), page.Next, tt.want)
			}
		}
	})
}

func TestContactsBadCursor(t *testing.T) { forEachDialect(t, testContactsBadCursor) }

func testContactsBadCursor(t *testing.T) {
	db := openTest(t)
	tests := []struct {
		name   string
		cursor string
	}{
		{"not-base64", "!!!"},
		{"no-separator", encodeRaw("12345")},
		{"no-id", encodeRaw("12345:")},
		{"not-a-number", encodeRaw("abc:c-1")},
		{"std-base64-padding", "MTIzOmMtMQ=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Contacts(context.Background(), ContactFilter{Cursor: tt.cursor})
			if !errors.Is(err, ErrBadCursor) {
				t.Errorf("Contacts(cursor %q): got %v, want ErrBadCursor", tt.cursor, err)
			}
		})
	}
}

// encodeRaw encodes s as a cursor would be, without checking it.
func encodeRaw(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func TestMessagesBefore(t *testing.T) { forEachDialect(t, testMessagesBefore) }

func testMessagesBefore(t *testing.T) {
	db := openTest(t)
	commit(t, db, &router.Batch{
		Contacts: []router.Contact{simpleContact("c", router.ContactAssigned, t0), simpleContact("empty", router.ContactQueued, t0)},
		Messages: messages("c", 1, 7),
	})
	tests := []struct {
		name         string
		id           string
		before, lim  int
		wantFirst, n int // seqs wantFirst..wantFirst+n-1
	}{
		{"latest-page", "c", 0, 3, 5, 3},
		{"page-before", "c", 5, 3, 2, 3},
		{"first-page-short", "c", 2, 3, 1, 1},
		{"nothing-before-the-first", "c", 1, 3, 0, 0},
		{"all-of-it", "c", 0, 100, 1, 7},
		{"empty-conversation", "empty", 0, 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := db.MessagesBefore(context.Background(), tt.id, tt.before, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []int
			for _, m := range ms {
				got = append(got, m.Seq)
			}
			for i := range tt.n {
				want = append(want, tt.wantFirst+i)
			}
			if !slices.Equal(got, want) {
				t.Errorf("seqs: got %v, want %v", got, want)
			}
		})
	}
	if _, err := db.MessagesBefore(context.Background(), "nobody", 0, 3); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown contact: got %v, want ErrNotFound", err)
	}
}
