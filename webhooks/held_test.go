package webhooks

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// waitIdle reads the idles of webhook id of d, without moving the clock,
// until the worker waits with cond true of its status and of what it
// waits for (zero: a wake-up only), and returns that status.
func (f *fixture) waitIdle(d *Dispatcher, idles chan idle, id, what string, cond func(s Status, next time.Time) bool) Status {
	f.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case i := <-idles:
			if i.id != id {
				continue
			}
			if s, ok := d.Get(id); ok && cond(s, i.next) {
				return s
			}
		case <-timeout:
			s, _ := d.Get(id)
			f.t.Fatalf("webhook %s never waited with %s; state %+v", id, what, s.State)
		}
	}
}

// refusing is a receiver's set of contacts whose events it refuses with
// 400; safe for concurrent use.
type refusing struct {
	mu       sync.Mutex
	contacts map[string]bool
}

func (rf *refusing) set(contact string, refuse bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.contacts[contact] = refuse
}

func (rf *refusing) status(dl delivery, _ int) int {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.contacts[dl.contact] {
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// ids are the event ids of ds whose contact is contact.
// attempts counts every attempt r got, of every event.
func (r *receiver) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.tries {
		n += k
	}
	return n
}

func ids(ds []delivery, contact string) []string {
	var out []string
	for _, dl := range ds {
		if dl.contact == contact {
			out = append(out, dl.ID)
		}
	}
	return out
}

func evts(ns ...int64) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, EventID(n))
	}
	return out
}

func heldOf(st store.WebhookState) map[string]int64 {
	out := map[string]int64{}
	for _, hc := range st.Held {
		out[hc.ContactID] = hc.Next
	}
	return out
}

// A receiver that keeps refusing one contact's events (400) holds back
// only that contact's later events: the other contacts' arrive, in
// order, while it is refused, and the log is pruned only below its
// first owed event. The entries without a contact (customer.changed)
// are one sequence of their own. Across a restart the held contact's
// events are neither lost nor reordered, and arrive once the receiver
// takes them.
func TestRefusedContactHoldsOnlyItsOwnEvents(t *testing.T) {
	forEachStore(t, testRefusedContactHoldsOnlyItsOwnEvents)
}

func testRefusedContactHoldsOnlyItsOwnEvents(t *testing.T, f *fixture) {
	rf := &refusing{contacts: map[string]bool{"A": true, "": true}}
	r := newContactReceiver(t, rf.status)
	o := Options{Webhooks: []Webhook{hookTo(r, "crm", AllEvents)}, Retention: time.Hour}
	d, idles := f.startWith(o)
	f.settle(d, idles, "crm")

	f.log("Z", router.LogContactCreated, router.LogContactEnded) // 1, 2: delivered, then pruned
	f.log("A", router.LogContactCreated, router.LogMessageIn)    // 3, 4
	f.log("B", router.LogContactCreated)                         // 5
	f.log("", router.LogCustomerChanged)                         // 6
	f.log("B", router.LogMessageIn)                              // 7
	f.log("A", router.LogMessageOut)                             // 8
	f.log("", router.LogCustomerChanged)                         // 9
	f.log("B", router.LogMessageOut, router.LogContactEnded)     // 10, 11
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	s := f.waitIdle(d, idles, "crm", "a retry to wait for", func(_ Status, next time.Time) bool { return !next.IsZero() })

	got := r.received()
	if b := ids(got, "B"); !slices.Equal(b, evts(5, 7, 10, 11)) {
		t.Fatalf("while A is refused: got B's %v, want %v, in order", b, evts(5, 7, 10, 11))
	}
	if a, none := ids(got, "A"), ids(got, ""); len(a)+len(none) != 0 {
		t.Errorf("while refused: got A's %v and customer.changed %v, want none", a, none)
	}
	r.mu.Lock()
	for _, behind := range evts(4, 8, 9) {
		if r.tries[behind] != 0 {
			t.Errorf("%s was tried %d times behind its refused predecessor, want 0", behind, r.tries[behind])
		}
	}
	r.mu.Unlock()
	if h := heldOf(s.State); len(h) != 2 || h["A"] != 3 || h[""] != 6 || s.State.Scanned != 11 || s.State.Cursor != 2 || s.State.Attempts != 0 {
		t.Errorf("state: got %+v, want A held from 3, \"\" from 6, scanned 11, cursor 2, the webhook not waiting", s.State)
	}

	// A's next retry is refused too; B's and C's new events still flow.
	f.clock.Advance(time.Hour + time.Minute) // retries, and the poll's prune past the retention
	f.log("C", router.LogContactCreated)     // 12
	f.log("B", router.LogContactEnded)       // 13
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	s = f.waitIdle(d, idles, "crm", "C's event delivered and A retried", func(s Status, next time.Time) bool {
		return !next.IsZero() && s.State.Scanned == 13 && len(s.State.Held) == 2 && s.State.Held[0].Attempts >= 2 && s.State.Held[1].Attempts >= 2
	})
	got = r.received()
	if c, b := ids(got, "C"), ids(got, "B"); !slices.Equal(c, evts(12)) || !slices.Equal(b, evts(5, 7, 10, 11, 13)) {
		t.Errorf("while A is refused: got C's %v and B's %v, want %v and %v", c, b, evts(12), evts(5, 7, 10, 11, 13))
	}
	left, err := f.db.EventLog(f.ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 11 || left[0].ID != 3 {
		t.Errorf("after the prune: %d entries from %d, want the 11 from 3 (A's first owed event)", len(left), left[0].ID)
	}

	// A restart with A still held: the state is durable.
	d.Close()
	st, _, err := f.db.WebhookState(f.ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if h := heldOf(st); len(h) != 2 || h["A"] != 3 || h[""] != 6 || st.Cursor != 2 || st.Scanned != 13 {
		t.Fatalf("stored state: got %+v, want A held from 3, \"\" from 6, cursor 2, scanned 13", st)
	}
	f.log("A", router.LogContactEnded) // 14, while no dispatcher runs
	rf.set("A", false)
	rf.set("", false)
	d, idles = f.startWith(o)
	f.settle(d, idles, "crm")

	got = r.received()
	for _, c := range []struct {
		contact string
		want    []string
	}{
		{"A", evts(3, 4, 8, 14)},
		{"", evts(6, 9)},
		{"B", evts(5, 7, 10, 11, 13)},
		{"C", evts(12)},
		{"Z", evts(1, 2)},
	} {
		if got := ids(got, c.contact); !slices.Equal(got, c.want) {
			t.Errorf("contact %q: got %v, want %v, each once and in order", c.contact, got, c.want)
		}
	}
	s, _ = d.Get("crm")
	if len(s.State.Held) != 0 || s.State.Cursor != 14 || s.State.Scanned != 14 || s.State.Delivered != 14 || s.State.Failures != 0 {
		t.Errorf("state: got %+v, want nothing held, cursor 14, 14 delivered", s.State)
	}
}

// At most MaxHeld contacts are held: with that many, the webhook reads
// no further than the next event of another contact, which waits (as
// every event waited before contacts were held) until a held one is
// released; then reading goes on, in order.
func TestMaxHeldBound(t *testing.T) {
	f := newFixture(t)
	rf := &refusing{contacts: map[string]bool{"A": true, "C": true}}
	r := newContactReceiver(t, rf.status)
	d, idles := f.startWith(Options{Webhooks: []Webhook{hookTo(r, "crm", AllEvents)}, MaxHeld: 1})
	f.settle(d, idles, "crm")
	f.log("A", router.LogContactCreated) // 1
	f.log("C", router.LogContactCreated) // 2
	f.log("B", router.LogContactCreated) // 3
	f.log("A", router.LogMessageIn)      // 4
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	s := f.waitIdle(d, idles, "crm", "a retry to wait for", func(_ Status, next time.Time) bool { return !next.IsZero() })
	r.mu.Lock()
	tries := fmt.Sprint(r.tries)
	r.mu.Unlock()
	if h := heldOf(s.State); len(h) != 1 || h["A"] != 1 || s.State.Scanned != 1 || tries != "map[evt_1:1]" {
		t.Fatalf("one contact held at most: got state %+v, tries %s; want A held, scanned 1, only evt_1 tried", s.State, tries)
	}

	// A is taken: it is released, C's event is refused and C takes the
	// one place; B's waits behind it.
	rf.set("A", false)
	f.clock.Advance(s.State.Held[0].NextAttemptAt.Sub(f.clock.Now()))
	s = f.waitIdle(d, idles, "crm", "C held", func(s Status, next time.Time) bool {
		return !next.IsZero() && heldOf(s.State)["C"] == 2
	})
	if got := r.received(); len(got) != 1 || got[0].ID != EventID(1) || len(s.State.Held) != 1 || s.State.Scanned != 2 {
		t.Fatalf("got %+v and state %+v, want evt_1 delivered, C held, scanned 2", got, s.State)
	}

	rf.set("C", false)
	f.clock.Advance(s.State.Held[0].NextAttemptAt.Sub(f.clock.Now()))
	f.settle(d, idles, "crm")
	got := r.received()
	var order []string
	for _, dl := range got {
		order = append(order, dl.ID)
	}
	if want := evts(1, 2, 3, 4); !slices.Equal(order, want) {
		t.Errorf("got %v, want %v", order, want)
	}
}

// A receiver that takes nothing (503) makes the whole webhook wait, held
// contacts included: each retry is one attempt, at the first event
// waiting, never one per contact; once it answers again, every contact's
// events go, in order.
func TestReceiverDownPausesEveryContact(t *testing.T) {
	f := newFixture(t)
	rf := &refusing{contacts: map[string]bool{"A": true}}
	var mu sync.Mutex
	isDown := false
	r := newContactReceiver(t, func(dl delivery, attempt int) int {
		mu.Lock()
		defer mu.Unlock()
		if isDown {
			return http.StatusServiceUnavailable
		}
		return rf.status(dl, attempt)
	})
	d, idles := f.start(hookTo(r, "crm", AllEvents))
	f.settle(d, idles, "crm")
	f.log("A", router.LogContactCreated) // 1
	f.log("B", router.LogContactCreated) // 2
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.waitIdle(d, idles, "crm", "A held", func(s Status, next time.Time) bool { return !next.IsZero() && len(s.State.Held) == 1 })

	mu.Lock()
	isDown = true
	mu.Unlock()
	f.log("B", router.LogMessageIn) // 3
	f.log("C", router.LogMessageIn) // 4
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	s := f.waitIdle(d, idles, "crm", "the webhook waiting", func(s Status, next time.Time) bool { return s.State.Attempts == 1 })
	tries := r.attempts
	before := tries()
	for wake := 1; wake <= 4; wake++ {
		f.clock.Advance(s.State.NextAttemptAt.Sub(f.clock.Now()))
		s = f.waitIdle(d, idles, "crm", "the webhook waiting again", func(s Status, next time.Time) bool { return s.State.Attempts == 1+wake })
		if got := tries() - before; got != wake {
			t.Fatalf("after %d retries of a receiver that is down: %d attempts, want one a retry", wake, got)
		}
	}
	if s.State.Scanned != 2 || s.State.LastStatus != http.StatusServiceUnavailable {
		t.Errorf("while down: got state %+v, want scanned 2 (B's and C's new events not passed), the last status 503", s.State)
	}

	mu.Lock()
	isDown = false
	mu.Unlock()
	rf.set("A", false)
	f.clock.Advance(s.State.NextAttemptAt.Sub(f.clock.Now()))
	f.settle(d, idles, "crm")
	got := r.received()
	if a, b, c := ids(got, "A"), ids(got, "B"), ids(got, "C"); !slices.Equal(a, evts(1)) || !slices.Equal(b, evts(2, 3)) || !slices.Equal(c, evts(4)) {
		t.Errorf("got A %v, B %v, C %v; want [evt_1], [evt_2 evt_3], [evt_4]", a, b, c)
	}
	if s, _ := d.Get("crm"); s.State.Attempts != 0 || len(s.State.Held) != 0 || s.State.Cursor != 4 {
		t.Errorf("state: got %+v, want nothing waiting, cursor 4", s.State)
	}
}

// A held contact whose refused event is taken at last, while its next
// event finds the receiver down, is retried after the wait: neither is
// forgotten (the contact is still held, now due at once).
func TestHeldContactThenReceiverDown(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t, func(id string, attempt int) int {
		switch {
		case id == EventID(1) && attempt == 1:
			return http.StatusBadRequest
		case id == EventID(2) && attempt == 1:
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	d, idles := f.start(hookTo(r, "crm", AllEvents))
	f.settle(d, idles, "crm")
	f.log("A", router.LogContactCreated, router.LogMessageIn)
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.settle(d, idles, "crm")
	if got := ids(r.received(), "A"); !slices.Equal(got, evts(1, 2)) {
		t.Errorf("got %v, want %v", got, evts(1, 2))
	}
}

// A receiver that refuses every event with a status that names no
// outage (500 to everything) is taken for down after refusedDown
// contacts in a row: the whole webhook waits, probing once a retry,
// rather than holding every contact and trying each at every retry.
func TestRefusingEverythingIsDown(t *testing.T) {
	f := newFixture(t)
	r := newContactReceiver(t, func(delivery, int) int { return http.StatusInternalServerError })
	d, idles := f.start(hookTo(r, "crm", AllEvents))
	f.settle(d, idles, "crm")
	for _, c := range []string{"A", "B", "C", "D", "E", "F"} {
		f.log(c, router.LogContactCreated)
	}
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	s := f.waitIdle(d, idles, "crm", "the webhook waiting", func(s Status, next time.Time) bool { return s.State.Attempts == 1 })
	tries := r.attempts
	if got := tries(); got != refusedDown || len(s.State.Held) != refusedDown || s.State.Scanned != refusedDown {
		t.Fatalf("got %d attempts, state %+v; want %d attempts and contacts held, the rest not tried", got, s.State, refusedDown)
	}
}
