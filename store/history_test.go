package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

func TestEachContactHistory(t *testing.T) { forEachDialect(t, testEachContactHistory) }

// EachContactHistory hands each contact created in the range, oldest
// first, with its own events only, in sequence order; contacts without
// events get none, and those created outside the range are not read.
func testEachContactHistory(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	from := t0.Add(time.Hour)
	at := func(d time.Duration) time.Time { return from.Add(d) }
	ev := func(id string, seq int, d time.Duration, name string) router.Event {
		return router.Event{ContactID: id, Seq: seq, At: at(d), Event: name, Queue: "sales"}
	}
	commit(t, db, &router.Batch{
		Contacts: []router.Contact{
			simpleContact("before", router.ContactClosed, at(-time.Minute)),
			simpleContact("b", router.ContactClosed, at(2*time.Minute)),
			simpleContact("a", router.ContactAbandoned, at(time.Minute)),
			simpleContact("quiet", router.ContactQueued, at(3*time.Minute)),
			simpleContact("c", router.ContactQueued, at(4*time.Minute)),
			simpleContact("after", router.ContactQueued, at(time.Hour)),
		},
		Events: []router.Event{
			ev("before", 1, -time.Minute, router.EventCreated),
			ev("a", 1, time.Minute, router.EventCreated), ev("a", 2, 90*time.Second, router.EventAbandoned),
			ev("b", 1, 2*time.Minute, router.EventCreated), ev("b", 2, 3*time.Minute, router.EventAssigned),
			ev("b", 3, 5*time.Minute, router.EventClosed),
			ev("c", 1, 4*time.Minute, router.EventCreated),
			ev("after", 1, time.Hour, router.EventCreated),
		},
	})
	type got struct {
		id     string
		events []string
	}
	var all []got
	err := db.EachContactHistory(ctx, from, at(time.Hour), func(c router.Contact, events []router.Event) error {
		g := got{id: c.ID}
		for _, e := range events {
			if e.ContactID != c.ID {
				t.Errorf("contact %s was handed an event of %s", c.ID, e.ContactID)
			}
			g.events = append(g.events, e.Event)
		}
		all = append(all, g)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []got{
		{"a", []string{router.EventCreated, router.EventAbandoned}},
		{"b", []string{router.EventCreated, router.EventAssigned, router.EventClosed}},
		{"quiet", nil},
		{"c", []string{router.EventCreated}},
	}
	if !slices.EqualFunc(all, want, func(x, y got) bool { return x.id == y.id && slices.Equal(x.events, y.events) }) {
		t.Errorf("got %v, want %v", all, want)
	}

	stop := errors.New("stop")
	if err := db.EachContactHistory(ctx, from, at(time.Hour), func(router.Contact, []router.Event) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("got %v from a callback that failed, want it wrapped", err)
	}
	if err := db.EachContactHistory(ctx, at(2*time.Hour), at(3*time.Hour), func(c router.Contact, _ []router.Event) error {
		t.Errorf("got contact %s in an empty range", c.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
