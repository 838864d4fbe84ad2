package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/pgtest"
)

const testSecret = "0123456789abcdef-test-secret"

// verify checks a delivery's signature the way a receiver would, with
// its own HMAC, not the package's Sign.
func verify(secret string, h http.Header, body []byte) error {
	ts := h.Get("Switchboard-Timestamp")
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("timestamp %q: %v", ts, err)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("Switchboard-Signature")), []byte(want)) {
		return fmt.Errorf("signature %q, want %q", h.Get("Switchboard-Signature"), want)
	}
	return nil
}

// delivery is what the receiver got.
type delivery struct {
	Event
	contact string
}

// receiver is an HTTP endpoint that checks every delivery and answers
// with status(event id, attempt at that id).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	got    []delivery     // the 2xx ones, in order
	tries  map[string]int // attempts per event id
	status func(d delivery, attempt int) int
}

func newReceiver(t *testing.T, status func(id string, attempt int) int) *receiver {
	if status == nil {
		return newContactReceiver(t, nil)
	}
	return newContactReceiver(t, func(d delivery, attempt int) int { return status(d.ID, attempt) })
}

// newContactReceiver is a receiver whose answer may depend on the
// delivery's contact.
func newContactReceiver(t *testing.T, status func(d delivery, attempt int) int) *receiver {
	r := &receiver{t: t, tries: map[string]int{}, status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := verify(testSecret, req.Header, body); err != nil {
			t.Errorf("delivery: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e Event
		if err := json.Unmarshal(body, &e); err != nil || e.ID != req.Header.Get("Switchboard-Event-Id") || e.Type == "" || e.At.IsZero() {
			t.Errorf("delivery body %s (%v), header id %q", body, err, req.Header.Get("Switchboard-Event-Id"))
		}
		var d router.LogData
		_ = json.Unmarshal(e.Data, &d)
		dl := delivery{Event: e}
		if d.Contact != nil {
			dl.contact = d.Contact.ID
		}
		r.mu.Lock()
		r.tries[e.ID]++
		code := http.StatusNoContent
		if r.status != nil {
			code = r.status(dl, r.tries[e.ID])
		}
		if code/100 == 2 {
			r.got = append(r.got, dl)
		}
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// fixture is a store, a manual clock and a way to run dispatchers on
// them.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	clock *router.ManualClock
	seq   map[string]int
}

func newFixture(t *testing.T) *fixture { return newFixtureOn(t, store.DriverSQLite) }

// newFixtureOn is a fixture on a new database of driver.
func newFixtureOn(t *testing.T, driver string) *fixture {
	t.Helper()
	ctx := context.Background()
	o := &store.Options{Path: filepath.Join(t.TempDir(), "test.db")}
	if driver == store.DriverPostgres {
		o = &store.Options{Driver: driver, DSN: pgtest.Database(t)}
	}
	db, err := store.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{t: t, ctx: ctx, db: db, clock: router.NewManualClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), seq: map[string]int{}}
}

// log appends entries of the given types for contact, as the router
// would commit them.
func (f *fixture) log(contact string, types ...string) {
	f.t.Helper()
	var b router.Batch
	for _, typ := range types {
		f.seq[contact]++
		data, _ := json.Marshal(router.LogData{Contact: &router.LogContact{ID: contact},
			Message: &router.LogMessage{Seq: f.seq[contact], Body: "n" + strconv.Itoa(f.seq[contact])}})
		b.Log = append(b.Log, router.LogEntry{Type: typ, ContactID: contact, At: f.clock.Now(), Data: data})
	}
	if err := f.db.Commit(f.ctx, &b); err != nil {
		f.t.Fatal(err)
	}
}

// idle is a worker waiting: for next, or for a wake-up.
type idle struct {
	id   string
	next time.Time
}

// start starts a dispatcher with the webhooks ws (URLs from r).
func (f *fixture) start(ws ...Webhook) (*Dispatcher, chan idle) {
	f.t.Helper()
	return f.startWith(Options{Webhooks: ws})
}

// startWith starts a dispatcher with o, on f's store and clock, with
// backoffs from 1 s to 1 h unless o sets them.
func (f *fixture) startWith(o Options) (*Dispatcher, chan idle) {
	f.t.Helper()
	o.Store, o.Clock = f.db, f.clock
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = time.Second, time.Hour
	}
	d, err := New(o)
	if err != nil {
		f.t.Fatal(err)
	}
	idles := make(chan idle, 1000)
	d.idle = func(id string, next time.Time) { idles <- idle{id, next} }
	if err := d.Start(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(d.Close)
	return d, idles
}

// settle runs the clock forward through every retry until the worker
// of webhook id of d waits for nothing but a wake-up, caught up with the
// log (or unsubscribed), and returns.
func (f *fixture) settle(d *Dispatcher, idles chan idle, id string) {
	f.t.Helper()
	for {
		select {
		case i := <-idles:
			if i.id != id {
				continue
			}
			if !i.next.IsZero() {
				f.clock.Advance(i.next.Sub(f.clock.Now()))
				continue
			}
			last, err := f.db.LastLogID(f.ctx)
			if err != nil {
				f.t.Fatal(err)
			}
			if s, ok := d.Get(id); ok && (s.State.Disabled || s.State.Cursor >= last) {
				return
			}
		case <-time.After(20 * time.Second):
			f.t.Fatalf("webhook %s never settled", id)
		}
	}
}

func hookTo(r *receiver, id string, events ...string) Webhook {
	return Webhook{ID: id, URL: r.srv.URL + "/hook", Events: events, Secret: testSecret}
}

// Every event is delivered once, signed, in log order; while the
// receiver is down (503) the whole webhook waits, the failing event
// retried with backoff before any later one, of any contact.
func TestDeliveryRetriesInOrder(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t, func(id string, attempt int) int {
		if id == "evt_3" && attempt <= 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	d, idles := f.start(hookTo(r, "crm", AllEvents))
	f.settle(d, idles, "crm")
	f.log("c1", router.LogContactCreated, router.LogMessageIn)
	f.log("c2", router.LogContactCreated)
	f.log("c1", router.LogContactOffered, router.LogMessageOut)
	f.log("c2", router.LogMessageIn)
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.settle(d, idles, "crm")

	got := r.received()
	if len(got) != 6 {
		t.Fatalf("got %d deliveries %+v, want 6", len(got), got)
	}
	for i, dl := range got {
		if want := EventID(int64(i + 1)); dl.ID != want {
			t.Errorf("delivery %d: got %s, want %s (log order)", i, dl.ID, want)
		}
	}
	last := map[string]int{}
	for _, dl := range got {
		var data router.LogData
		_ = json.Unmarshal(dl.Data, &data)
		if data.Message.Seq <= last[dl.contact] {
			t.Errorf("contact %s: message %d after %d", dl.contact, data.Message.Seq, last[dl.contact])
		}
		last[dl.contact] = data.Message.Seq
	}
	r.mu.Lock()
	tries := r.tries["evt_3"]
	r.mu.Unlock()
	if tries != 4 {
		t.Errorf("evt_3: got %d attempts, want 4", tries)
	}
	s, _ := d.Get("crm")
	if s.State.Cursor != 6 || s.State.Delivered != 6 || s.State.Attempts != 0 || s.State.LastError != "" || s.Source != SourceConfig {
		t.Errorf("state: got %+v", s)
	}
}

// A webhook gets only the types it subscribes to; its cursor passes the
// others.
func TestSubscribedTypesOnly(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t, nil)
	d, idles := f.start(hookTo(r, "out", router.LogMessageOut))
	f.settle(d, idles, "out")
	f.log("c1", router.LogContactCreated, router.LogMessageIn, router.LogMessageOut, router.LogContactEnded)
	d.Notify([]router.Notification{{Kind: router.NoteMessage}})
	f.settle(d, idles, "out")
	if got := r.received(); len(got) != 1 || got[0].Type != router.LogMessageOut || got[0].ID != "evt_3" {
		t.Fatalf("got %+v, want only evt_3, message.out", got)
	}
	if s, _ := d.Get("out"); s.State.Cursor != 4 {
		t.Errorf("cursor: got %d, want 4", s.State.Cursor)
	}
}

// 410 Gone unsubscribes the webhook: it is disabled, durably, and gets
// nothing more; a PUT subscribes it again from the end of the log.
func TestGoneUnsubscribes(t *testing.T) {
	f := newFixture(t)
	gone := true
	var mu sync.Mutex
	r := newReceiver(t, func(string, int) int {
		mu.Lock()
		defer mu.Unlock()
		if gone {
			return http.StatusGone
		}
		return http.StatusOK
	})
	d, idles := f.start()
	if created, err := d.Put(f.ctx, hookTo(r, "crm", AllEvents)); err != nil || !created {
		t.Fatalf("put: %v, %v", created, err)
	}
	f.settle(d, idles, "crm")
	f.log("c1", router.LogContactCreated, router.LogContactEnded)
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.settle(d, idles, "crm")
	s, _ := d.Get("crm")
	if !s.State.Disabled || s.State.LastStatus != http.StatusGone || s.State.Cursor != 0 {
		t.Fatalf("state: got %+v, want disabled by 410", s.State)
	}
	d.Close()

	// After a restart it stays unsubscribed.
	d, idles = f.start()
	f.log("c2", router.LogContactCreated)
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.settle(d, idles, "crm")
	r.mu.Lock()
	tries := len(r.tries)
	r.mu.Unlock()
	if s, _ := d.Get("crm"); !s.State.Disabled || tries != 1 {
		t.Fatalf("after a restart: state %+v, %d events tried; want still disabled, 1", s.State, tries)
	}

	mu.Lock()
	gone = false
	mu.Unlock()
	if created, err := d.Put(f.ctx, hookTo(r, "crm", AllEvents)); err != nil || created {
		t.Fatalf("put again: %v, %v", created, err)
	}
	f.settle(d, idles, "crm")
	f.log("c3", router.LogContactCreated)
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.settle(d, idles, "crm")
	if got := r.received(); len(got) != 1 || got[0].contact != "c3" {
		t.Errorf("after subscribing again: got %+v, want c3's event only", got)
	}
}

// An event that keeps failing is retried for GiveUpAfter after it
// happened, then skipped and counted as failed; the next one goes on.
func TestGiveUpAfter24h(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t, func(id string, _ int) int {
		if id == "evt_1" {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	d, idles := f.start(hookTo(r, "crm", AllEvents))
	f.settle(d, idles, "crm")
	start := f.clock.Now()
	f.log("c1", router.LogContactCreated, router.LogContactEnded)
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.settle(d, idles, "crm")
	if elapsed := f.clock.Now().Sub(start); elapsed < DefaultGiveUpAfter {
		t.Errorf("gave up after %s, want at least %s", elapsed, DefaultGiveUpAfter)
	}
	s, _ := d.Get("crm")
	if s.State.Failures != 1 || s.State.LastFailedEvent != 1 || s.State.Cursor != 2 || s.State.Delivered != 1 || s.State.LastFailure == "" {
		t.Errorf("state: got %+v, want evt_1 failed, evt_2 delivered", s.State)
	}
	if got := r.received(); len(got) != 1 || got[0].ID != "evt_2" {
		t.Errorf("got %+v, want evt_2", got)
	}
}

// After a restart, delivery goes on from the durable cursor: nothing
// delivered before is sent again, nothing written meanwhile is lost.
func TestRestartContinuesFromCursor(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t, nil)
	d, idles := f.start(hookTo(r, "crm", AllEvents))
	f.settle(d, idles, "crm")
	f.log("c1", router.LogContactCreated, router.LogMessageIn)
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	f.settle(d, idles, "crm")
	d.Close()
	f.log("c1", router.LogMessageOut, router.LogContactEnded)

	d, idles = f.start(hookTo(r, "crm", AllEvents))
	f.settle(d, idles, "crm")
	got := r.received()
	if len(got) != 4 {
		t.Fatalf("got %d deliveries, want 4", len(got))
	}
	for i, dl := range got {
		if want := EventID(int64(i + 1)); dl.ID != want {
			t.Errorf("delivery %d: got %s, want %s", i, dl.ID, want)
		}
	}
}

// The poll prunes the entries every webhook is done with, once they are
// older than the retention, and wakes the webhooks for entries written
// outside the router.
func TestPollPrunesAndWakes(t *testing.T) {
	f := newFixture(t)
	r := newReceiver(t, nil)
	d, idles := f.start(hookTo(r, "crm", router.LogCustomerChanged))
	f.settle(d, idles, "crm")
	if _, err := f.db.PutCustomer(f.ctx, store.Customer{ID: "cu1", UpdatedAt: f.clock.Now()}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	f.log("c1", router.LogContactCreated)
	f.clock.Advance(DefaultPollInterval) // no Notify: the poll finds it
	f.settle(d, idles, "crm")
	if got := r.received(); len(got) != 1 || got[0].Type != router.LogCustomerChanged {
		t.Fatalf("got %+v, want the customer.changed", got)
	}
	f.clock.Advance(DefaultRetention + DefaultPollInterval)
	left, err := f.db.EventLog(f.ctx, 0, 10)
	if err != nil || len(left) != 0 {
		t.Errorf("after the retention: %d entries left (%v), want 0", len(left), err)
	}
}

func TestValidate(t *testing.T) {
	ok := Webhook{ID: "crm", URL: "https://crm.example/hook", Events: []string{"*"}, Secret: testSecret}
	for _, tc := range []struct {
		name      string
		change    func(*Webhook)
		allowHTTP bool
		field     string
	}{
		{"valid", func(*Webhook) {}, false, ""},
		{"loopback-http", func(w *Webhook) { w.URL = "http://127.0.0.1:9000/x" }, false, ""},
		{"localhost-http", func(w *Webhook) { w.URL = "http://localhost/x" }, false, ""},
		{"ipv6-loopback-http", func(w *Webhook) { w.URL = "http://[::1]:80/x" }, false, ""},
		{"plain-http", func(w *Webhook) { w.URL = "http://crm.example/hook" }, false, "url"},
		{"plain-http-allowed", func(w *Webhook) { w.URL = "http://crm.example/hook" }, true, ""},
		{"other-scheme", func(w *Webhook) { w.URL = "ftp://crm.example/hook" }, true, "url"},
		{"relative", func(w *Webhook) { w.URL = "/hook" }, false, "url"},
		{"credentials", func(w *Webhook) { w.URL = "https://u:p@crm.example/hook" }, false, "url"},
		{"unknown-event", func(w *Webhook) { w.Events = []string{"contact.created", "contact.exploded"} }, false, "events[1]"},
		{"no-events", func(w *Webhook) { w.Events = nil }, false, "events"},
		{"short-secret", func(w *Webhook) { w.Secret = "short" }, false, "secret"},
		{"bad-id", func(w *Webhook) { w.ID = "a/b" }, false, "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ok
			tc.change(&w)
			err := w.Validate(tc.allowHTTP)
			var field string
			if e, isErr := err.(*Error); isErr {
				field = e.Field
			} else if err != nil {
				t.Fatalf("got %T %v, want an *Error", err, err)
			}
			if field != tc.field {
				t.Errorf("got %v, want field %q", err, tc.field)
			}
		})
	}
}

// OnActive hears whether any webhook is defined: at Start, when the first
// is put, not while one is put again, and when the last is deleted.
func TestOnActive(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var heard []bool
	d, err := New(Options{Store: f.db, Clock: f.clock, OnActive: func(on bool) { mu.Lock(); heard = append(heard, on); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	w := Webhook{ID: "crm", URL: "https://crm.example/hook", Events: []string{"*"}, Secret: testSecret}
	for range 2 {
		if _, err := d.Put(f.ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Delete(f.ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(heard) != "[false true false]" {
		t.Errorf("got %v, want [false true false]: none at start, one put (twice), deleted", heard)
	}
}
