package store

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

func TestQueueStats(t *testing.T) { forEachDialect(t, testQueueStats) }

func testQueueStats(t *testing.T) {
	db := openTest(t)
	since := t0.Add(time.Hour)
	sec := time.Second
	// contact builds a contact of queue q enqueued at since+enq, assigned
	// at since+asg (0: never), ended at since+end (0: not ended).
	contact := func(id, q string, s router.ContactState, enq, asg, end time.Duration) router.Contact {
		c := simpleContact(id, s, since.Add(enq))
		c.Queue = q
		c.EnqueuedAt = since.Add(enq)
		if asg != 0 {
			c.AssignedAt = since.Add(asg)
		}
		if end != 0 {
			c.EndedAt = since.Add(end)
		}
		return c
	}
	commit(t, db, &router.Batch{Contacts: []router.Contact{
		// sales: answered in 30s, 5s, 12s (one still assigned, one closed,
		// one enqueued before since but answered after); two abandoned.
		contact("s1", "sales", router.ContactAssigned, 0, 30*sec, 0),
		contact("s2", "sales", router.ContactClosed, 10*sec, 15*sec, 100*sec),
		contact("s3", "sales", router.ContactWrapUp, -10*sec, 2*sec, 0),
		contact("s4", "sales", router.ContactAbandoned, 0, 0, 45*sec),
		contact("s5", "sales", router.ContactAbandoned, -30*sec, 0, 1*sec),
		// Not counted: still waiting, answered or abandoned before since.
		contact("s6", "sales", router.ContactQueued, 0, 0, 0),
		contact("s7", "sales", router.ContactClosed, -100*sec, -90*sec, 10*sec),
		contact("s8", "sales", router.ContactAbandoned, -100*sec, 0, -1*sec),
		// support: one answered exactly at since, with a zero wait.
		contact("p1", "support", router.ContactAssigned, 0, time.Nanosecond, 0),
		// billing: only abandoned.
		contact("b1", "billing", router.ContactAbandoned, 0, 0, 5*sec),
		// idle: nothing since.
		contact("i1", "idle", router.ContactClosed, -50*sec, -40*sec, -30*sec),
	}})

	tests := []struct {
		name  string
		since time.Time
		want  map[string]QueueStats
	}{
		// Abandon waits run from EnqueuedAt to EndedAt, sorted.
		{"since", since, map[string]QueueStats{
			"sales":   {Answered: 3, Abandoned: 2, Waits: []time.Duration{5 * sec, 12 * sec, 30 * sec}, AbandonWaits: []time.Duration{31 * sec, 45 * sec}},
			"support": {Answered: 1, Waits: []time.Duration{time.Nanosecond}},
			"billing": {Abandoned: 1, AbandonWaits: []time.Duration{5 * sec}},
		}},
		{"later", since.Add(20 * sec), map[string]QueueStats{
			"sales": {Answered: 1, Abandoned: 1, Waits: []time.Duration{30 * sec}, AbandonWaits: []time.Duration{45 * sec}},
		}},
		{"nothing", since.Add(time.Hour), map[string]QueueStats{}},
		{"zero-time-counts-all", time.Time{}, map[string]QueueStats{
			"sales":   {Answered: 4, Abandoned: 3, Waits: []time.Duration{5 * sec, 10 * sec, 12 * sec, 30 * sec}, AbandonWaits: []time.Duration{31 * sec, 45 * sec, 99 * sec}},
			"support": {Answered: 1, Waits: []time.Duration{time.Nanosecond}},
			"billing": {Abandoned: 1, AbandonWaits: []time.Duration{5 * sec}},
			"idle":    {Answered: 1, Waits: []time.Duration{10 * sec}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.QueueStats(context.Background(), tt.since)
			if err != nil {
				t.Fatalf("QueueStats: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestContactTimesSpanning: a contact accepted before a range and ended
// after it, or still open, is read for the range (its agent was busy
// through it); one accepted more than spanAccepted before is not.
func TestContactTimesSpanning(t *testing.T) { forEachDialect(t, testContactTimesSpanning) }

func testContactTimesSpanning(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	from, to := t0.Add(48*time.Hour), t0.Add(49*time.Hour)
	accepted := func(id string, state router.ContactState, assigned, ended time.Time) router.Contact {
		c := simpleContact(id, state, assigned.Add(-time.Minute))
		c.AgentID, c.AssignedAt, c.EndedAt = "alice", assigned, ended
		return c
	}
	commit(t, db, &router.Batch{Contacts: []router.Contact{
		accepted("across", router.ContactClosed, from.Add(-time.Hour), to.Add(time.Hour)),
		accepted("open", router.ContactAssigned, from.Add(-2*time.Hour), time.Time{}),
		accepted("before", router.ContactClosed, from.Add(-2*time.Hour), from.Add(-time.Hour)),
		accepted("too-old", router.ContactAssigned, from.Add(-spanAccepted-time.Hour), time.Time{}),
	}})
	got, err := db.ContactTimes(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if want := []string{"across", "open"}; !slices.Equal(ids, want) {
		t.Errorf("read %v, want %v", ids, want)
	}
}

func TestTransfersByQueue(t *testing.T) { forEachDialect(t, testTransfersByQueue) }

// Transfers count by the queue of their event (the queue the contact
// left), in [from, to): at from counts, at to does not; other events do
// not.
func testTransfersByQueue(t *testing.T) {
	db := openTest(t)
	from, to := t0.Add(time.Hour), t0.Add(2*time.Hour)
	var contacts []router.Contact
	var evs []router.Event
	event := func(id, queue, name string, at time.Time) {
		c := simpleContact(id, router.ContactQueued, t0)
		contacts = append(contacts, c)
		evs = append(evs, router.Event{ContactID: id, Seq: 1, At: at, Event: name, Queue: queue, AgentID: "alice"})
	}
	event("c1", "billing", router.EventTransferred, from)
	event("c2", "billing", router.EventTransferred, from.Add(time.Minute))
	event("c3", "sales", router.EventTransferred, to.Add(-time.Nanosecond))
	event("c4", "sales", router.EventTransferred, to)                       // after
	event("c5", "billing", router.EventTransferred, from.Add(-time.Second)) // before
	event("c6", "billing", router.EventAssigned, from.Add(time.Minute))     // not a transfer
	commit(t, db, &router.Batch{Contacts: contacts, Events: evs})
	got, err := db.TransfersByQueue(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]int{"billing": 2, "sales": 1}; !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
