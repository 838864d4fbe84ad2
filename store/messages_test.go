package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// fullMessage is a message with every field set.
func fullMessage(contactID string, seq int) router.Message {
	return router.Message{
		ContactID: contactID, Seq: seq, At: t0.Add(time.Duration(seq) * time.Second), Direction: "out",
		Author: "alice", AuthorKind: router.AuthorAgent, AuthorName: "Alice Martin",
		Body: "Your refund is on its way.", Subject: "Re: Invoice", HTML: "<p>Your refund is on its way.</p>",
		ClientID: "cl-9", ExternalID: "<reply-1@switchboard.example>", References: []string{"<m0@example.com>", "<m1@example.com>"},
		To: []string{"Ada <ada@example.com>"}, Cc: []string{"bob@example.com"},
		Attachments: []router.Attachment{{Name: "refund.pdf", Type: "application/pdf", Size: 1234,
			SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", URL: "https://media.example/1"}},
		Delivery: &router.Delivery{Status: router.DeliveryFailed, Reason: "mailbox full", Attempts: 3, At: t0.Add(time.Minute)},
	}
}

func TestMessageRoundTrip(t *testing.T) { forEachDialect(t, testMessageRoundTrip) }

func testMessageRoundTrip(t *testing.T) {
	ctx := context.Background()
	m := fullMessage("c-1", 1)
	assertNoZeroFields(t, m)
	assertNoZeroFields(t, m.Attachments[0])
	// A delivery's ExternalID names the message's (TestDeliveryNamesTheExternalID).
	assertNoZeroFields(t, *m.Delivery, "ExternalID")
	db := openTest(t)
	c := simpleContact("c-1", router.ContactAssigned, t0)
	commit(t, db, &router.Batch{Contacts: []router.Contact{c}, Messages: []router.Message{m}})

	got, err := db.Messages(ctx, "c-1", 0, 10)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], m) {
		t.Errorf("Messages: got %+v %v, want [%+v]", got, err, m)
	}
	byID, found, err := db.MessageByExternalID(ctx, m.ExternalID)
	if err != nil || !found || !reflect.DeepEqual(byID, m) {
		t.Errorf("MessageByExternalID: got %+v %v %v, want %+v", byID, found, err, m)
	}
	if _, found, err := db.MessageByExternalID(ctx, "<nobody@example.com>"); err != nil || found {
		t.Errorf("an unknown external id: found %v, %v", found, err)
	}
	l := load(t, db)
	if len(l.ClientMessages) != 1 || !reflect.DeepEqual(l.ClientMessages[0], m) {
		t.Errorf("Load client messages: got %+v, want [%+v]", l.ClientMessages, m)
	}

	// The external id is a unique key: a second copy fails the batch.
	again := fullMessage("c-1", 2)
	again.ClientID = ""
	if err := db.Commit(ctx, &router.Batch{Messages: []router.Message{again}}); err == nil {
		t.Error("a second message with the same external id was stored")
	}
	// A message without channel fields stores none.
	plain := router.Message{ContactID: "c-1", Seq: 2, At: t0, Direction: "in", Body: "thanks"}
	commit(t, db, &router.Batch{Messages: []router.Message{plain}})
	got, err = db.Messages(ctx, "c-1", 1, 10)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], plain) {
		t.Errorf("plain message: got %+v %v, want [%+v]", got, err, plain)
	}
}

// The files messages carry are known by contact, and those an erasure
// let go of are handed back once no other message holds them.
func TestAttachmentsAndErasure(t *testing.T) { forEachDialect(t, testAttachmentsAndErasure) }

func testAttachmentsAndErasure(t *testing.T) {
	f := newEraseFixture(t)
	db, ctx := f.db, context.Background()
	const shared, own = "1111111111111111111111111111111111111111111111111111111111111111", "2222222222222222222222222222222222222222222222222222222222222222"
	adas, bobs := f.ada[0], f.bob
	m := func(c router.Contact, seq int, shas ...string) router.Message {
		msg := router.Message{ContactID: c.ID, Seq: seq, At: t0, Direction: "in", Body: "see attached"}
		for _, s := range shas {
			msg.Attachments = append(msg.Attachments, router.Attachment{Name: s[:4] + ".pdf", Type: "application/pdf", Size: 7, SHA256: s})
		}
		return msg
	}
	commit(t, db, &router.Batch{Messages: []router.Message{m(adas, 10, shared, own), m(bobs, 10, shared)}})
	a, found, err := db.MessageAttachment(ctx, adas.ID, own)
	if err != nil || !found || a.Name != "2222.pdf" || a.Type != "application/pdf" || a.Size != 7 || a.SHA256 != own {
		t.Fatalf("MessageAttachment: got %+v %v %v", a, found, err)
	}
	if _, found, _ := db.MessageAttachment(ctx, bobs.ID, own); found {
		t.Error("bob's contact holds ada's file")
	}
	if err := db.EraseCustomer(ctx, "ada", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	orphans, err := db.TakeOrphanedAttachments(ctx)
	if err != nil || len(orphans) != 1 || orphans[0] != own {
		t.Errorf("orphans: got %v %v, want ada's own file only (bob still holds the shared one)", orphans, err)
	}
	if again, _ := db.TakeOrphanedAttachments(ctx); len(again) != 0 {
		t.Errorf("orphans taken twice: %v", again)
	}
	if _, found, _ := db.MessageAttachment(ctx, adas.ID, own); found {
		t.Error("the erased contact still holds its file")
	}
}

// Which files messages hold, asked of a batch of candidates: the held
// ones only, each once, however many messages carry it; more than one
// query's worth at once; and no longer once an erasure let go of them.
func TestHeldAttachments(t *testing.T) { forEachDialect(t, testHeldAttachments) }

func testHeldAttachments(t *testing.T) {
	f := newEraseFixture(t)
	db, ctx := f.db, context.Background()
	sha := func(i int) string { return fmt.Sprintf("%064x", i) }
	m := func(c router.Contact, seq int, shas ...string) router.Message {
		msg := router.Message{ContactID: c.ID, Seq: seq, At: t0, Direction: "in", Body: "see attached"}
		for _, s := range shas {
			msg.Attachments = append(msg.Attachments, router.Attachment{Name: "f.pdf", Type: "application/pdf", Size: 7, SHA256: s})
		}
		return msg
	}
	// sha(1) twice, by ada and bob; sha(2) by ada only; sha(1200) past
	// the first batch of candidates; and a file only a URL names.
	url := m(f.bob, 12)
	url.Attachments = []router.Attachment{{Name: "mms.jpg", Type: "image/jpeg", URL: "https://media.example/1"}}
	commit(t, db, &router.Batch{Messages: []router.Message{m(f.ada[0], 10, sha(1), sha(2)), m(f.bob, 10, sha(1)), m(f.bob, 11, sha(1200)), url}})
	var candidates []string
	for i := range 1300 {
		candidates = append(candidates, sha(i))
	}
	held, err := db.HeldAttachments(ctx, candidates)
	if err != nil || !reflect.DeepEqual(held, map[string]bool{sha(1): true, sha(2): true, sha(1200): true}) {
		t.Fatalf("HeldAttachments: got %v %v, want sha 1, 2 and 1200", held, err)
	}
	if held, err := db.HeldAttachments(ctx, nil); err != nil || len(held) != 0 {
		t.Errorf("no candidates: got %v %v", held, err)
	}
	if err := db.EraseCustomer(ctx, "ada", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	held, err = db.HeldAttachments(ctx, []string{sha(1), sha(2)})
	if err != nil || !reflect.DeepEqual(held, map[string]bool{sha(1): true}) {
		t.Errorf("after ada's erasure: got %v %v, want sha 1 only (bob holds it)", held, err)
	}
}

// A provider's id named with a delivery (an SMS's MessageSid, learned
// when the provider accepted the message) is the message's external id
// from then on, also after a restart; a later delivery keeps it.
func TestDeliveryNamesTheExternalID(t *testing.T) {
	forEachDialect(t, testDeliveryNamesTheExternalID)
}

func testDeliveryNamesTheExternalID(t *testing.T) {
	ctx := context.Background()
	o := testOptions(t)
	db, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	c := simpleContact("c-1", router.ContactAssigned, t0)
	out := router.Message{ContactID: "c-1", Seq: 1, At: t0, Direction: "out", Author: "alice", Body: "hi",
		Delivery: &router.Delivery{Status: router.DeliveryQueued, At: t0}}
	commit(t, db, &router.Batch{Contacts: []router.Contact{c}, Messages: []router.Message{out}})
	commit(t, db, &router.Batch{Deliveries: []router.DeliveryUpdate{{ContactID: "c-1", Seq: 1,
		Delivery: router.Delivery{Status: router.DeliveryQueued, Attempts: 1, At: t0, ExternalID: "SM0001"}}}})
	commit(t, db, &router.Batch{Deliveries: []router.DeliveryUpdate{{ContactID: "c-1", Seq: 1,
		Delivery: router.Delivery{Status: router.DeliveryDelivered, Attempts: 1, At: t0}}}})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, found, err := db.MessageByExternalID(ctx, "SM0001")
	if err != nil || !found || m.ContactID != "c-1" || m.Seq != 1 || m.Delivery == nil || m.Delivery.Status != router.DeliveryDelivered {
		t.Fatalf("after a restart: got %+v (found %v, %v), want message 1 of c-1, delivered", m, found, err)
	}
}

// A page holds exactly the messages its limit asks for, whatever the
// limit written in the query's text (limitSQL rounds it up), forwards
// and backwards, and paging visits each message once.
func TestMessagePages(t *testing.T) { forEachDialect(t, testMessagePages) }

func testMessagePages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const n = 7
	b := &router.Batch{Contacts: []router.Contact{simpleContact("c-1", router.ContactAssigned, t0)}}
	for seq := 1; seq <= n; seq++ {
		b.Messages = append(b.Messages, router.Message{ContactID: "c-1", Seq: seq, At: t0, Direction: "in", Body: fmt.Sprint(seq)})
	}
	commit(t, db, b)
	seqs := func(msgs []router.Message) []int {
		var out []int
		for _, m := range msgs {
			out = append(out, m.Seq)
		}
		return out
	}
	for limit := 1; limit <= n+2; limit++ {
		k := min(limit, n)
		var first, last []int
		for seq := 1; seq <= k; seq++ {
			first = append(first, seq)
			last = append(last, n-k+seq)
		}
		got, err := db.Messages(ctx, "c-1", 0, limit)
		if err != nil || !reflect.DeepEqual(seqs(got), first) {
			t.Errorf("Messages limit %d: %v %v, want %v", limit, seqs(got), err, first)
		}
		got, err = db.MessagesBefore(ctx, "c-1", 0, limit)
		if err != nil || !reflect.DeepEqual(seqs(got), last) {
			t.Errorf("MessagesBefore limit %d: %v %v, want %v", limit, seqs(got), err, last)
		}
	}
	var all []int
	for after := 0; ; {
		page, err := db.Messages(ctx, "c-1", after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, seqs(page)...)
		after = page[len(page)-1].Seq
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7}; !reflect.DeepEqual(all, want) {
		t.Errorf("paged by 3: %v, want %v", all, want)
	}
}

func TestLimitSQL(t *testing.T) {
	for n, want := range map[int]string{-1: " LIMIT 1", 0: " LIMIT 1", 1: " LIMIT 1", 2: " LIMIT 2", 3: " LIMIT 4",
		11: " LIMIT 16", 100: " LIMIT 128", 128: " LIMIT 128", 1000: " LIMIT 1024"} {
		if got := limitSQL(n); got != want {
			t.Errorf("limitSQL(%d) = %q, want %q", n, got, want)
		}
	}
}

// BenchmarkMessagesLimits reads a page of a contact's messages with one
// limit every time, and with limits that alternate (as the screen pop,
// the desktop and the receipts read): SQLite prepares a statement again
// whenever the value bound to its LIMIT changes, which limitSQL avoids.
//
//	go test -run=NONE -bench=MessagesLimits ./store/
func BenchmarkMessagesLimits(b *testing.B) {
	ctx := context.Background()
	db := openTest(b)
	batch := &router.Batch{Contacts: []router.Contact{simpleContact("c-1", router.ContactAssigned, t0)}}
	for seq := 1; seq <= 5; seq++ {
		batch.Messages = append(batch.Messages, router.Message{ContactID: "c-1", Seq: seq, At: t0, Direction: "in", Body: "hello"})
	}
	commit(b, db, batch)
	for _, limits := range [][]int{{100}, {1, 10, 100, 1000}} {
		b.Run(fmt.Sprintf("limits=%d", len(limits)), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				if _, err := db.Messages(ctx, "c-1", 0, limits[i%len(limits)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
