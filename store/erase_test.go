package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/router"
)

// textHits returns, for each of needles, the "table.column" of every text
// column of every table that holds it somewhere, read straight from the
// database.
func textHits(t *testing.T, db *DB, needles ...string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	listTables := `SELECT name FROM sqlite_master WHERE type = 'table'`
	listColumns := `SELECT name, type FROM pragma_table_info(?)`
	contains := `SELECT COUNT(*) FROM %q WHERE instr(%q, ?) > 0`
	if db.dialect.name == DriverPostgres {
		listTables = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
		listColumns = `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`
		contains = `SELECT COUNT(*) FROM %q WHERE strpos(%q, $1) > 0`
	}
	tables, err := db.read.QueryContext(ctx, listTables)
	if err != nil {
		t.Fatalf("tables: %v", err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatalf("tables: %v", err)
		}
		names = append(names, n)
	}
	tables.Close()
	hits := map[string][]string{}
	for _, table := range names {
		cols, err := db.read.QueryContext(ctx, listColumns, table)
		if err != nil {
			t.Fatalf("columns of %s: %v", table, err)
		}
		var text []string
		for cols.Next() {
			var n, typ string
			if err := cols.Scan(&n, &typ); err != nil {
				t.Fatalf("columns of %s: %v", table, err)
			}
			if strings.Contains(strings.ToUpper(typ), "TEXT") {
				text = append(text, n)
			}
		}
		cols.Close()
		for _, col := range text {
			for _, needle := range needles {
				var n int
				q := fmt.Sprintf(contains, table, col)
				if err := db.read.QueryRowContext(ctx, q, needle).Scan(&n); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				if n > 0 {
					hits[needle] = append(hits[needle], table+"."+col)
				}
			}
		}
	}
	return hits
}

// dump renders every row of every table, to compare two states of the
// database.
func dump(t *testing.T, db *DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, table := range []string{"customers", "customer_identities", "customer_merges", "contacts", "contact_events", "contact_messages", "event_log", "outbox"} {
		rows, err := db.read.QueryContext(ctx, fmt.Sprintf(`SELECT * FROM %q ORDER BY 1, 2`, table))
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// eraseFixture is Ada with a work profile merged into her, four contacts
// that are hers by every route, and Bob's, which is not.
type eraseFixture struct {
	db *DB
	// ada are Ada's contacts: by id, by phone only, by the merged
	// customer's id, by the merged customer's email.
	ada []router.Contact
	bob router.Contact
}

// adaSecrets are Ada's personal data in the fixture.
var adaSecrets = []string{
	"Lovelace", "ada@example.com", "+15551234567", "Invoice dispute", "charged twice", "card ending 4111",
	"Augusta", "augusta@work.example", "augusta@old.example", "hung up", "my neighbour Clara",
}

func newEraseFixture(t *testing.T) eraseFixture {
	t.Helper()
	db := openTest(t)
	ctx := context.Background()
	if _, err := db.PutCustomer(ctx, Customer{ID: "ada", Name: "Ada Lovelace", Segment: "premium", Value: 1234, CreatedAt: custEpoch, UpdatedAt: custEpoch}, []Identity{{Kind: IdentityEmail, Value: "ada@example.com"}, {Kind: IdentityPhone, Value: "+15551234567"}}, "test"); err != nil {
		t.Fatalf("PutCustomer ada: %v", err)
	}
	if _, err := db.PutCustomer(ctx, Customer{ID: "ada-work", Name: "Augusta King", Value: 50, CreatedAt: custEpoch, UpdatedAt: custEpoch}, []Identity{{Kind: IdentityEmail, Value: "augusta@work.example"}}, "test"); err != nil {
		t.Fatalf("PutCustomer ada-work: %v", err)
	}
	if err := db.MergeCustomers(ctx, Merge{FromID: "ada-work", IntoID: "ada", IdentityKind: IdentityEmail, IdentityValue: "augusta@work.example",
		At: custEpoch.Add(time.Minute), Reason: "verified email augusta@work.example was claimed by ada"}); err != nil {
		t.Fatalf("MergeCustomers: %v", err)
	}
	at := func(m int) time.Time { return custEpoch.Add(time.Duration(m) * time.Minute) }
	closed := func(id string, m int, cu router.Customer) router.Contact {
		c := simpleContact(id, router.ContactClosed, at(m))
		c.Customer, c.AgentID, c.AssignedAt, c.EndedAt, c.Disposition = cu, "alice", at(m+1), at(m+5), "resolved"
		return c
	}
	byID := closed("c1", 10, router.Customer{ID: "ada", Name: "Ada Lovelace", Email: "ada@example.com", Value: 1234})
	byID.Subject, byID.Notes = "Invoice dispute", "card ending 4111"
	byPhone := simpleContact("c2", router.ContactAbandoned, at(20))
	byPhone.Channel, byPhone.EndedAt, byPhone.Customer = router.ChannelSMS, at(21), router.Customer{Phone: "+15551234567"}
	byMergedID := closed("c3", 30, router.Customer{ID: "ada-work", Name: "Augusta King", Email: "augusta@old.example"})
	byMergedEmail := closed("c4", 40, router.Customer{Email: "augusta@work.example"})
	bob := closed("c5", 50, router.Customer{Name: "Bob Stone", Email: "bob@example.com"})
	bob.Subject = "Bob's question"
	b := &router.Batch{Contacts: []router.Contact{byID, byPhone, byMergedID, byMergedEmail, bob}}
	for _, c := range b.Contacts {
		b.Events = append(b.Events,
			router.Event{ContactID: c.ID, Seq: 1, At: c.CreatedAt, Event: "created", Queue: c.Queue, Reason: "email contact in sales"},
			router.Event{ContactID: c.ID, Seq: 2, At: c.EndedAt, Event: "customer_left", Queue: c.Queue, Reason: c.Customer.Name + " hung up"})
		b.Messages = append(b.Messages,
			router.Message{ContactID: c.ID, Seq: 1, At: c.CreatedAt, Direction: "in", Author: c.Customer.Name, AuthorName: c.Customer.Name,
				Body: c.Subject + ": I was charged twice", ClientID: "m-" + c.ID, Subject: c.Subject, HTML: "<p>" + c.Subject + "</p>",
				Attachments: []router.Attachment{{Name: c.ID + " " + c.Customer.Name + ".png", Type: "image/png", Size: 10}}},
			router.Message{ContactID: c.ID, Seq: 2, At: c.EndedAt, Direction: "out", Author: "alice", Body: "We refunded you"})
	}
	b.Messages[len(b.Messages)-2].Body = "bob body"
	// Outbound messages on their way (a provider's errors name the
	// address): Ada's reply on c1 still pending after two failures, her
	// reply on c3 given up, Bob's pending.
	outbox := func(c router.Contact, m *router.Message, attempts int, lastError string, done bool) {
		m.Delivery = &router.Delivery{Status: router.DeliveryQueued, Reason: lastError, Attempts: attempts, At: m.At}
		if done {
			m.Delivery.Status = router.DeliveryFailed
		}
		b.Outbox = append(b.Outbox, router.OutboxEntry{ID: router.OutboxID(c.ID, m.Seq), Channel: c.Channel, ContactID: c.ID, Seq: m.Seq,
			CreatedAt: m.At, DueAt: m.At.Add(time.Minute), Attempts: attempts, LastError: lastError, Done: done})
	}
	outbox(byID, &b.Messages[1], 2, "452 <ada@example.com>: mailbox full", false)
	outbox(byMergedID, &b.Messages[5], 9, "550 <augusta@old.example>: no such user", true)
	outbox(bob, &b.Messages[9], 1, "452 <bob@example.com>: mailbox full", false)
	b.Events[len(b.Events)-1].Reason = "Bob Stone left"
	// The event log, as the router writes it while webhooks are defined:
	// each contact's life and messages, the customer's own words
	// (their email and phone among them) and name included.
	for i, c := range b.Contacts {
		in, out := b.Messages[2*i], b.Messages[2*i+1]
		in.Body += ", write to " + c.Customer.Email + " or call " + c.Customer.Phone
		in.AuthorKind, in.ExternalID, in.References = router.AuthorCustomer, "email:<m-"+c.ID+"@mail.example>", []string{"<" + c.Customer.Name + "@mail.example>"}
		out.AuthorKind, out.AuthorName = router.AuthorAgent, "Alice Martin"
		b.Log = append(b.Log,
			logEntryOf(t, router.LogContactCreated, c, nil),
			logEntryOf(t, router.LogMessageIn, c, &in),
			logEntryOf(t, router.LogMessageOut, c, &out),
			logEntryOf(t, router.LogContactEnded, c, nil))
	}
	commit(t, db, b)
	// An offer's outcome during Ada's contact names her.
	if _, _, err := db.RecordOfferOutcomes(ctx, []OfferOutcome{{OfferID: "gold-card", ContactID: byID.ID, CustomerID: "ada",
		Segment: "premium", AgentID: "alice", Outcome: OutcomeAccepted, At: at(12)}}); err != nil {
		t.Fatal(err)
	}
	// The survey's comment is free text too.
	if err := db.RecordCSAT(ctx, csat.Response{ContactID: byID.ID, Queue: byID.Queue, Score: 2, Comment: "my neighbour Clara waited too", At: at(16)}); err != nil {
		t.Fatal(err)
	}
	return eraseFixture{db: db, ada: []router.Contact{byID, byPhone, byMergedID, byMergedEmail}, bob: bob}
}

// logEntryOf is the event log's entry of type typ for c and m (nil for
// a contact's entry), as the router writes it (router.contactSummary,
// router.messageSummary).
func logEntryOf(t *testing.T, typ string, c router.Contact, m *router.Message) router.LogEntry {
	t.Helper()
	lc := &router.LogContact{ID: c.ID, Channel: c.Channel, Queue: c.Queue, State: c.State, AgentID: c.AgentID,
		Customer: router.LogCustomer{Verified: c.Customer.Verified}, Subject: c.Subject, Disposition: c.Disposition,
		Follows: c.Follows, CreatedAt: c.CreatedAt}
	if c.Customer.Identified() {
		lc.Customer.ID = c.Customer.ID
	}
	d, at := router.LogData{Contact: lc}, c.CreatedAt
	if m != nil {
		d.Message = &router.LogMessage{Seq: m.Seq, At: m.At, Direction: m.Direction, AuthorKind: m.AuthorKind,
			AuthorName: m.AuthorName, Body: m.Body, Subject: m.Subject, ExternalID: m.ExternalID, References: m.References}
		if m.AuthorKind == router.AuthorAgent {
			d.Message.Author = m.Author
		}
		at = m.At
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return router.LogEntry{Type: typ, ContactID: c.ID, At: at, Data: data}
}

func TestEraseCustomerBlanksContacts(t *testing.T) {
	forEachDialect(t, testEraseCustomerBlanksContacts)
}

func testEraseCustomerBlanksContacts(t *testing.T) {
	f := newEraseFixture(t)
	db, ctx := f.db, context.Background()
	hits := textHits(t, db, adaSecrets...)
	for _, s := range []string{"Lovelace", "ada@example.com", "Invoice dispute", "charged twice", "augusta@work.example", "hung up"} {
		if len(hits[s]) == 0 {
			t.Fatalf("before the erase, %q is nowhere: the scan cannot see it", s)
		}
	}

	at := custEpoch.Add(time.Hour)
	if err := db.EraseCustomer(ctx, "ada", at); err != nil {
		t.Fatalf("EraseCustomer: %v", err)
	}
	for needle, where := range textHits(t, db, adaSecrets...) {
		t.Errorf("after the erase, %q is still in %v", needle, where)
	}
	bobs := []string{"Bob Stone", "bob@example.com", "Bob's question", "bob body"}
	if hits := textHits(t, db, bobs...); len(hits) != len(bobs) {
		t.Errorf("Bob's contact: got %v, want each of %q kept", hits, bobs)
	}

	// What statistics need stays.
	for _, want := range f.ada {
		got, err := db.Contact(ctx, want.ID)
		if err != nil {
			t.Fatalf("Contact %s: %v", want.ID, err)
		}
		wantCustomer := want.Customer.ID
		if wantCustomer == "" {
			wantCustomer = "ada"
		}
		if got.Channel != want.Channel || got.Queue != want.Queue || got.State != want.State || got.AgentID != want.AgentID ||
			!got.CreatedAt.Equal(want.CreatedAt) || !got.EndedAt.Equal(want.EndedAt) || got.Disposition != want.Disposition ||
			got.Customer != (router.Customer{ID: wantCustomer, Value: valueBucket(want.Customer.Value)}) || got.Subject != "" || got.Notes != "" {
			t.Errorf("contact %s: got %+v, want the statistics of %+v and no personal data", want.ID, got, want)
		}
		msgs, _ := db.Messages(ctx, want.ID, 0, 0)
		if len(msgs) != 2 || msgs[0].Direction != "in" || msgs[0].Author != "" || msgs[0].Body != "" || msgs[1].Author != "alice" || msgs[1].Body != "" {
			t.Errorf("messages of %s: got %+v, want 2 with directions, the agent as author, no bodies", want.ID, msgs)
		}
		events, _ := db.Timeline(ctx, want.ID)
		if len(events) != 2 || events[1].Event != "customer_left" || events[1].Reason != "" {
			t.Errorf("timeline of %s: got %+v, want the 2 events without reasons", want.ID, events)
		}
	}
	// Ada's reply still on its way is cancelled, and stays so when an
	// attempt in flight records its outcome; the failure given up on
	// keeps its status, not its reason; Bob's goes on.
	pending, err := db.PendingOutbox(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0].ContactID != f.bob.ID || pending[0].LastError != "452 <bob@example.com>: mailbox full" {
		t.Errorf("pending outbox after the erase: got %+v, want Bob's reply alone, as it was", pending)
	}
	for _, w := range []struct {
		contact  string
		status   router.DeliveryStatus
		reason   string
		attempts int
		at       time.Time
	}{
		{"c1", router.DeliveryFailed, ErasedOutboxReason, 2, at},
		{"c3", router.DeliveryFailed, "", 9, f.ada[2].EndedAt},
		{"c5", router.DeliveryQueued, "452 <bob@example.com>: mailbox full", 1, f.bob.EndedAt},
	} {
		m, err := db.Message(ctx, w.contact, 2)
		if err != nil {
			t.Fatal(err)
		}
		if d := m.Delivery; d == nil || d.Status != w.status || d.Reason != w.reason || d.Attempts != w.attempts || !d.At.Equal(w.at) {
			t.Errorf("the delivery of %s's reply: got %+v, want %s (%q) after %d attempts at %s", w.contact, m.Delivery, w.status, w.reason, w.attempts, w.at)
		}
	}
	late := router.OutboxEntry{ID: router.OutboxID("c1", 2), Channel: router.ChannelEmail, ContactID: "c1", Seq: 2,
		CreatedAt: f.ada[0].EndedAt, DueAt: at.Add(time.Minute), Attempts: 3, LastError: "timeout"}
	// Then an attempt that was in flight records its outcome, a bounce
	// comes for the reply given up on, and Bob's reply is delivered.
	commit(t, db, &router.Batch{Outbox: []router.OutboxEntry{late}, Deliveries: []router.DeliveryUpdate{
		{ContactID: "c1", Seq: 2, Delivery: router.Delivery{Status: router.DeliveryQueued, Reason: "452 <ada@example.com>: mailbox full", Attempts: 3, At: at.Add(time.Second)}},
		{ContactID: "c3", Seq: 2, Delivery: router.Delivery{Status: router.DeliveryFailed, Reason: "bounced: 550 <augusta@old.example>", Attempts: 9, At: at.Add(time.Second)}},
		{ContactID: "c5", Seq: 2, Delivery: router.Delivery{Status: router.DeliveryDelivered, Attempts: 2, At: at.Add(time.Second)}},
	}})
	if again, _ := db.PendingOutbox(ctx, "", 100); len(again) != 1 {
		t.Errorf("after an attempt in flight recorded its outcome: pending %+v, want Bob's alone", again)
	}
	for contact, want := range map[string]string{"c1": ErasedOutboxReason, "c3": ""} {
		if m, _ := db.Message(ctx, contact, 2); m.Delivery == nil || m.Delivery.Reason != want {
			t.Errorf("after late delivery reports: %s's reply's delivery %+v, want still as the erasure left it", contact, m.Delivery)
		}
	}
	if m, _ := db.Message(ctx, "c5", 2); m.Delivery == nil || m.Delivery.Status != router.DeliveryDelivered {
		t.Errorf("Bob's reply's delivery: got %+v, want delivered", m.Delivery)
	}
	for needle, where := range textHits(t, db, adaSecrets...) {
		t.Errorf("after late delivery reports, %q is in %v", needle, where)
	}

	cu, _ := db.Customer(ctx, "ada")
	if cu.ContactCount != 4 || cu.IdentityCount != 3 || cu.Name != "" || !cu.ErasedAt.Equal(at) || cu.Segment != "premium" {
		t.Errorf("ada: got %+v, want erased with 4 contacts and 3 identities counted", cu)
	}
	work, _ := db.Customer(ctx, "ada-work")
	if work.Name != "" || !work.ErasedAt.Equal(at) || work.Value != 10 || work.MergedInto != "ada" {
		t.Errorf("ada-work: got %+v, want erased too, still merged into ada", work)
	}
	ms, _ := db.CustomerMerges(ctx, "ada")
	if len(ms) != 1 || ms[0].IdentityKind != IdentityEmail || ms[0].IdentityValue != "" || ms[0].FromID != "ada-work" {
		t.Errorf("merges: got %+v, want the record without the identity", ms)
	}
	// The router starts from the store as before.
	l := load(t, db)
	if len(l.Contacts) != 0 {
		t.Errorf("Load: got %d live contacts, want 0", len(l.Contacts))
	}

	// Erasing again changes nothing.
	before := dump(t, db)
	if err := db.EraseCustomer(ctx, "ada", at.Add(time.Hour)); err != nil {
		t.Fatalf("EraseCustomer again: %v", err)
	}
	if after := dump(t, db); after != before {
		t.Errorf("a second erase changed the database:\nbefore\n%s\nafter\n%s", before, after)
	}

	// A contact that reached Ada's id after her erasure is erased by the
	// next one, its reply on its way cancelled as hers were, and a
	// bounce after that records nothing either.
	later := simpleContact("c6", router.ContactClosed, at.Add(2*time.Hour))
	later.EndedAt, later.AgentID, later.Customer = at.Add(3*time.Hour), "alice", router.Customer{ID: "ada", Email: "ada@example.com"}
	reply := router.Message{ContactID: "c6", Seq: 1, At: later.EndedAt, Direction: "out", Author: "alice", Body: "We refunded you, ada@example.com",
		Delivery: &router.Delivery{Status: router.DeliverySent, Attempts: 1, At: later.EndedAt}}
	commit(t, db, &router.Batch{Contacts: []router.Contact{later}, Messages: []router.Message{reply}})
	again := at.Add(4 * time.Hour)
	if err := db.EraseCustomer(ctx, "ada", again); err != nil {
		t.Fatalf("EraseCustomer after a new contact: %v", err)
	}
	commit(t, db, &router.Batch{Deliveries: []router.DeliveryUpdate{{ContactID: "c6", Seq: 1,
		Delivery: router.Delivery{Status: router.DeliveryFailed, Reason: "bounced: 550 <ada@example.com>", Attempts: 1, At: again.Add(time.Minute)}}}})
	if m, _ := db.Message(ctx, "c6", 1); m.Delivery == nil || m.Delivery.Status != router.DeliverySent || m.Delivery.Reason != "" {
		t.Errorf("the later contact's reply after a bounce: delivery %+v, want sent, as the erasure left it", m.Delivery)
	}
	for needle, where := range textHits(t, db, adaSecrets...) {
		t.Errorf("after the later contact's erasure and its bounce, %q is in %v", needle, where)
	}
}

func TestEraseCustomerRewritesEventLog(t *testing.T) {
	forEachDialect(t, testEraseCustomerRewritesEventLog)
}

// The erasure rewrites the event log's entries of the customer's
// contacts, which webhooks may still owe, to what the store keeps of the
// contacts and messages: each entry stays (id, type, contact, time), as
// do the ids, states, directions, the agent's authorship and the
// external ids; the subject, bodies, references and the customer's name
// go, and an offer's outcome loses the customer id. Another customer's
// entries are untouched.
func testEraseCustomerRewritesEventLog(t *testing.T) {
	f := newEraseFixture(t)
	db, ctx := f.db, context.Background()
	before, err := db.EventLog(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Four of each contact, the offer's outcome, and customer.changed of
	// the two puts and the merge.
	if len(before) != 5*4+1+3 {
		t.Fatalf("before the erase: got %d entries, want %d", len(before), 5*4+1+3)
	}
	if err := db.EraseCustomer(ctx, "ada", custEpoch.Add(time.Hour)); err != nil {
		t.Fatalf("EraseCustomer: %v", err)
	}
	after, err := db.EventLog(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before)+1 || after[len(before)].Type != router.LogCustomerChanged {
		t.Fatalf("after the erase: got %d entries, want the %d and customer.changed", len(after), len(before))
	}
	for i, b := range before {
		a := after[i]
		if a.ID != b.ID || a.Type != b.Type || a.ContactID != b.ContactID || !a.At.Equal(b.At) {
			t.Errorf("entry %d: got %d %s %s %v, want %d %s %s %v", i, a.ID, a.Type, a.ContactID, a.At, b.ID, b.Type, b.ContactID, b.At)
		}
		if b.ContactID == f.bob.ID || b.ContactID == "" {
			if string(a.Data) != string(b.Data) {
				t.Errorf("entry %d, Bob's or of no contact: got %s, want it untouched: %s", b.ID, a.Data, b.Data)
			}
			continue
		}
		if b.Type == router.LogOfferOutcome {
			var got, want map[string]OfferOutcomeData
			if err := json.Unmarshal(a.Data, &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal(b.Data, &want)
			o := want["offer_outcome"]
			o.CustomerID = ""
			if !reflect.DeepEqual(got, map[string]OfferOutcomeData{"offer_outcome": o}) {
				t.Errorf("offer.outcome %d: got %s, want %+v without the customer", b.ID, a.Data, o)
			}
			continue
		}
		var got, was router.LogData
		if err := json.Unmarshal(a.Data, &got); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(b.Data, &was)
		want := *was.Contact
		want.Subject = ""
		if got.Contact == nil || *got.Contact != want {
			t.Errorf("entry %d's contact: got %+v, want %+v", b.ID, got.Contact, want)
		}
		switch {
		case was.Message == nil:
			if got.Message != nil {
				t.Errorf("entry %d: got message %+v, want none", b.ID, got.Message)
			}
		case was.Message.Direction == "in":
			m := *was.Message
			if got.Message == nil || !reflect.DeepEqual(*got.Message, router.LogMessage{Seq: m.Seq, At: m.At, Direction: "in",
				AuthorKind: router.AuthorCustomer, ExternalID: m.ExternalID}) || m.ExternalID == "" {
				t.Errorf("entry %d's message in: got %+v, want only seq, time, direction, kind and external id of %+v", b.ID, got.Message, m)
			}
		default:
			m := *was.Message
			if got.Message == nil || !reflect.DeepEqual(*got.Message, router.LogMessage{Seq: m.Seq, At: m.At, Direction: "out",
				AuthorKind: router.AuthorAgent, Author: "alice", AuthorName: "Alice Martin"}) {
				t.Errorf("entry %d's message out: got %+v, want the agent's without the body (%+v)", b.ID, got.Message, m)
			}
		}
	}
	var ch map[string]CustomerChange
	if err := json.Unmarshal(after[len(before)].Data, &ch); err != nil || ch["customer"] != (CustomerChange{ID: "ada", Change: ChangeErased}) {
		t.Errorf("the erasure's entry: got %s, want customer.changed erased of ada", after[len(before)].Data)
	}
}

func TestEraseCustomerWithOpenContacts(t *testing.T) {
	forEachDialect(t, testEraseCustomerWithOpenContacts)
}

func testEraseCustomerWithOpenContacts(t *testing.T) {
	f := newEraseFixture(t)
	db, ctx := f.db, context.Background()
	live := simpleContact("c9", router.ContactAssigned, custEpoch.Add(3*time.Hour))
	live.AgentID, live.Customer = "bob-the-agent", router.Customer{ID: "ada-work", Name: "Ada Lovelace", Verified: true}
	// A contact that merely claims Ada's email is not hers: it does not
	// hold up her erasure (the router forgets the claim, ForgetClaims).
	claim := simpleContact("c8", router.ContactQueued, custEpoch.Add(2*time.Hour))
	claim.Customer = router.Customer{Email: "ada@example.com", ClaimedID: "ada"}
	commit(t, db, &router.Batch{Contacts: []router.Contact{live, claim}})

	before := dump(t, db)
	err := db.EraseCustomer(ctx, "ada", custEpoch.Add(4*time.Hour))
	var oce *OpenContactsError
	if !errors.As(err, &oce) || !errors.Is(err, ErrConflict) || !reflect.DeepEqual(oce.ContactIDs, []string{"c9"}) {
		t.Fatalf("erase with live contacts: got %v, want an OpenContactsError naming c9 alone", err)
	}
	if after := dump(t, db); after != before {
		t.Errorf("a refused erase changed the database")
	}

	// Once hers ended, the erase goes through, the live claim left as it is.
	live.State, live.EndedAt = router.ContactClosed, custEpoch.Add(5*time.Hour)
	commit(t, db, &router.Batch{Contacts: []router.Contact{live}})
	if err := db.EraseCustomer(ctx, "ada", custEpoch.Add(6*time.Hour)); err != nil {
		t.Fatalf("erase after hers ended: %v", err)
	}
	got, err := db.Contact(ctx, "c8")
	if err != nil || got.Customer.Email != "ada@example.com" || got.State != router.ContactQueued {
		t.Errorf("the live claim: got %+v, %v; want it untouched", got.Customer, err)
	}
	// The claim's own row (its email column and data) is all that still
	// holds anything of Ada's.
	for needle, cols := range textHits(t, db, adaSecrets...) {
		for _, col := range cols {
			if needle != "ada@example.com" || col != "contacts.customer_email" && col != "contacts.data" {
				t.Errorf("after the erase: %s: %s", needle, col)
			}
		}
	}
}

func TestMigrationMarksErasedContacts(t *testing.T) {
	forEachDialect(t, testMigrationMarksErasedContacts)
}

// Contacts erased before migration 24 get their customer's erasure as
// theirs when they came before it; one that reached the customer's id
// after it, and another customer's, stay unmarked.
func testMigrationMarksErasedContacts(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t)
	db, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"ada", "bob"} {
		if _, err := db.PutCustomer(ctx, Customer{ID: id, Name: id, CreatedAt: custEpoch, UpdatedAt: custEpoch}, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	ended := func(id, customer string, at time.Time) router.Contact {
		c := simpleContact(id, router.ContactClosed, at)
		c.EndedAt, c.Customer = at.Add(time.Minute), router.Customer{ID: customer, Name: customer}
		return c
	}
	erasedAt := custEpoch.Add(time.Hour)
	commit(t, db, &router.Batch{Contacts: []router.Contact{ended("c-before", "ada", custEpoch), ended("c-bob", "bob", custEpoch)}})
	if err := db.EraseCustomer(ctx, "ada", erasedAt); err != nil {
		t.Fatal(err)
	}
	commit(t, db, &router.Batch{Contacts: []router.Contact{ended("c-after", "ada", erasedAt.Add(time.Minute))}})
	// The database as a program before migration 24 left it.
	for _, q := range []string{`ALTER TABLE contacts DROP COLUMN erased_at`, `DELETE FROM schema_migrations WHERE version = 24`} {
		if _, err := db.write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(ctx, opts); err != nil {
		t.Fatalf("Open (migrates to the latest version): %v", err)
	}
	defer db.Close()
	for id, want := range map[string]int64{"c-before": toNanos(erasedAt), "c-after": 0, "c-bob": 0} {
		var got int64
		if err := db.read.QueryRowContext(ctx, rebind(db.dialect, `SELECT erased_at FROM contacts WHERE id = ?`), id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: erased_at %d, want %d", id, got, want)
		}
	}
}
