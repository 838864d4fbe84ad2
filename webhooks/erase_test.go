package webhooks

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// adaSecrets are Ada's personal data that the router writes to the event
// log: her name, email and phone, her subject, her words and her mail's
// references.
var adaSecrets = []string{"Lovelace", "ada@example.com", "+15551234567", "Invoice dispute", "charged twice", "thread-1@ada.example"}

// eraseReceiver is an integration's endpoint that tells the requests it
// got after the erasure from those before. answer decides each attempt's
// status and may block (it is called without the lock).
type eraseReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	answer func(e Event, contact string, attempt int) int

	mu        sync.Mutex
	erased    bool           // set by the test once the erasure committed
	tries     map[string]int // attempts per event id
	after     []string       // the bodies of the requests that came after the erasure
	delivered map[string]int // 2xx answers per event id
	data      map[string]router.LogData
}

func newEraseReceiver(t *testing.T) *eraseReceiver {
	r := &eraseReceiver{t: t, tries: map[string]int{}, delivered: map[string]int{}, data: map[string]router.LogData{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := verify(testSecret, req.Header, body); err != nil {
			t.Errorf("delivery: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("delivery body %s: %v", body, err)
		}
		var d router.LogData
		_ = json.Unmarshal(e.Data, &d)
		contact := ""
		if d.Contact != nil {
			contact = d.Contact.ID
		}
		r.mu.Lock()
		r.tries[e.ID]++
		attempt := r.tries[e.ID]
		if r.erased {
			r.after = append(r.after, string(body))
		}
		r.mu.Unlock()
		code := r.answer(e, contact, attempt)
		if code/100 == 2 {
			r.mu.Lock()
			r.delivered[e.ID]++
			r.data[e.ID] = d
			r.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// adaLog is what the router wrote to the log for the test: Bob's
// contact first, then Ada's two, ended.
type adaLog struct {
	bob, ada, adaBySMS string
	// from is the last log id before them.
	from int64
}

// logAda has a router with the event log on write Bob's contact and
// Ada's two (one hers by her verified id, one by her phone alone), with
// their messages; Ada's end. Ada's profile holds her email and phone.
func (f *fixture) logAda() adaLog {
	f.t.Helper()
	if _, err := f.db.PutCustomer(f.ctx, store.Customer{ID: "ada", Name: "Ada Lovelace", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()},
		[]store.Identity{{Kind: store.IdentityEmail, Value: "ada@example.com"}, {Kind: store.IdentityPhone, Value: "+15551234567"}}, "test"); err != nil {
		f.t.Fatal(err)
	}
	from, err := f.db.LastLogID(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	rt, err := router.New(f.db, &router.Options{EventLog: true, Clock: f.clock})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := rt.Start(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(rt.Close)
	if _, err := rt.PutQueue(f.ctx, router.Queue{Name: "billing"}); err != nil {
		f.t.Fatal(err)
	}
	submit := func(nc router.NewContact) string {
		c, _, err := rt.Submit(f.ctx, nc)
		if err != nil {
			f.t.Fatal(err)
		}
		return c.ID
	}
	l := adaLog{from: from}
	l.bob = submit(router.NewContact{Channel: router.ChannelEmail, Queue: "billing", Subject: "Bob's question",
		Customer: router.Customer{Name: "Bob Stone", Email: "bob@example.com"}, Body: "Bob here, bob@example.com"})
	l.ada = submit(router.NewContact{Channel: router.ChannelEmail, Queue: "billing", Subject: "Invoice dispute",
		Customer: router.Customer{ID: "ada", Verified: true, Name: "Ada Lovelace", Email: "ada@example.com"},
		Body:     "I was charged twice; write to ada@example.com or call +15551234567",
		First: router.Message{ExternalID: "email:<m-1@mail.ada.example>", AuthorName: "Ada Lovelace",
			References: []string{"<thread-1@ada.example>"}}})
	if _, _, err := rt.AddMessage(f.ctx, l.ada, router.Message{Direction: "out", Body: "Dear Ada Lovelace, we refunded what you were charged twice"}); err != nil {
		f.t.Fatal(err)
	}
	l.adaBySMS = submit(router.NewContact{Channel: router.ChannelSMS, Queue: "billing",
		Customer: router.Customer{Phone: "+15551234567"}, Body: "Lovelace again: charged twice"})
	for _, id := range []string{l.ada, l.adaBySMS} {
		if _, err := rt.Abandon(f.ctx, id, "Ada Lovelace hung up"); err != nil {
			f.t.Fatal(err)
		}
	}
	// The log holds each of Ada's secrets before the erasure: the check
	// after it can see them.
	entries, err := f.db.EventLog(f.ctx, from, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	var all strings.Builder
	for _, e := range entries {
		all.Write(e.Data)
	}
	for _, s := range adaSecrets {
		if !strings.Contains(all.String(), s) {
			f.t.Fatalf("before the erasure, the log holds no %q: %s", s, all.String())
		}
	}
	return l
}

// erase erases Ada and tells r that it is done.
func (f *fixture) erase(r *eraseReceiver) {
	f.t.Helper()
	if err := f.db.EraseCustomer(f.ctx, "ada", f.clock.Now()); err != nil {
		f.t.Fatalf("EraseCustomer: %v", err)
	}
	r.mu.Lock()
	r.erased = true
	r.mu.Unlock()
}

// An erased customer's events that a webhook still owes are delivered
// after the erasure without their personal data: every event is
// delivered once (the receiver's records of the contacts stay complete,
// in order), the customer's messages with their external ids but
// without their words, and no request after the erasure carries any of
// it, whether the events waited in the log for a receiver that was down,
// were in the page being delivered, or were a held contact's being
// retried.
func TestErasedCustomerNotDelivered(t *testing.T) {
	for _, tc := range []struct {
		name string
		// answer makes the receiver's answer, given the log (filled in
		// before the first delivery); one that holds an attempt open
		// says so on held and answers once release is closed.
		answer func(l *adaLog, r *eraseReceiver, held chan<- struct{}, release <-chan struct{}) func(e Event, contact string, attempt int) int
		// until waits for the moment to erase Ada, with the dispatcher
		// delivering, erases her and lets the receiver go on.
		until func(f *fixture, d *Dispatcher, idles chan idle, r *eraseReceiver, held <-chan struct{}, release chan<- struct{})
	}{
		{
			// The receiver is down until the erasure: every event waits
			// in the log.
			name: "owed-while-down",
			answer: func(_ *adaLog, r *eraseReceiver, _ chan<- struct{}, _ <-chan struct{}) func(Event, string, int) int {
				return func(Event, string, int) int {
					r.mu.Lock()
					defer r.mu.Unlock()
					if !r.erased {
						return http.StatusServiceUnavailable
					}
					return http.StatusNoContent
				}
			},
			until: func(f *fixture, d *Dispatcher, idles chan idle, r *eraseReceiver, _ <-chan struct{}, _ chan<- struct{}) {
				f.waitIdle(d, idles, "crm", "the receiver down", func(s Status, next time.Time) bool { return !next.IsZero() && s.State.Attempts > 0 })
				f.erase(r)
			},
		},
		{
			// The receiver holds Bob's first event open: Ada's are in
			// the page the dispatcher read before the erasure.
			name: "in-the-page-being-delivered",
			answer: func(l *adaLog, _ *eraseReceiver, held chan<- struct{}, release <-chan struct{}) func(Event, string, int) int {
				return func(e Event, contact string, attempt int) int {
					if contact == l.bob && e.Type == router.LogContactCreated && attempt == 1 {
						held <- struct{}{}
						<-release
					}
					return http.StatusNoContent
				}
			},
			until: func(f *fixture, _ *Dispatcher, _ chan idle, r *eraseReceiver, held <-chan struct{}, release chan<- struct{}) {
				<-held
				f.erase(r)
				close(release)
			},
		},
		{
			// The receiver refuses Ada's first event, then holds its
			// retry open: her later events are in the page of her held
			// contact that the retry read before the erasure.
			name: "held-contact-retried",
			answer: func(l *adaLog, _ *eraseReceiver, held chan<- struct{}, release <-chan struct{}) func(Event, string, int) int {
				return func(e Event, contact string, attempt int) int {
					if contact != l.ada || e.Type != router.LogContactCreated {
						return http.StatusNoContent
					}
					if attempt == 1 {
						return http.StatusBadRequest
					}
					if attempt == 2 {
						held <- struct{}{}
						<-release
					}
					return http.StatusNoContent
				}
			},
			until: func(f *fixture, d *Dispatcher, idles chan idle, r *eraseReceiver, held <-chan struct{}, release chan<- struct{}) {
				f.waitIdle(d, idles, "crm", "Ada's contact held", func(s Status, next time.Time) bool { return len(s.State.Held) == 1 && !next.IsZero() })
				s, _ := d.Get("crm")
				f.clock.Advance(s.State.Held[0].NextAttemptAt.Sub(f.clock.Now()))
				<-held
				f.erase(r)
				close(release)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, f *fixture) {
				var l adaLog
				held, release := make(chan struct{}), make(chan struct{})
				r := newEraseReceiver(t)
				r.answer = tc.answer(&l, r, held, release)
				d, idles := f.start(Webhook{ID: "crm", URL: r.srv.URL + "/hook", Events: []string{AllEvents}, Secret: testSecret})
				f.settle(d, idles, "crm")
				l = f.logAda()
				d.Notify([]router.Notification{{Kind: router.NoteContact}})
				tc.until(f, d, idles, r, held, release)
				d.Notify([]router.Notification{{Kind: router.NoteContact}}) // the erasure's customer.changed
				f.settle(d, idles, "crm")

				r.mu.Lock()
				defer r.mu.Unlock()
				if len(r.after) == 0 {
					t.Fatal("no request came after the erasure")
				}
				for _, body := range r.after {
					for _, s := range adaSecrets {
						if strings.Contains(body, s) {
							t.Errorf("a delivery after the erasure carries %q: %s", s, body)
						}
					}
				}
				entries, err := f.db.EventLog(f.ctx, l.from, 1000)
				if err != nil {
					t.Fatal(err)
				}
				in := 0
				for _, e := range entries {
					id := EventID(e.ID)
					if n := r.delivered[id]; n != 1 {
						t.Errorf("%s (%s of %s): delivered %d times, want once", id, e.Type, e.ContactID, n)
					}
					got := r.data[id]
					switch {
					case e.ContactID == l.bob && e.Type == router.LogMessageIn:
						if got.Message == nil || got.Message.Body != "Bob here, bob@example.com" {
							t.Errorf("Bob's message: got %+v, want it whole", got.Message)
						}
					case e.ContactID == l.ada && e.Type == router.LogMessageIn:
						in++
						if got.Message == nil || got.Message.Body != "" || got.Message.ExternalID != "email:<m-1@mail.ada.example>" || got.Contact.Customer.ID != "ada" {
							t.Errorf("Ada's message: got %+v of %+v, want her external id and contact, not her words", got.Message, got.Contact)
						}
					}
				}
				if in != 1 {
					t.Errorf("got %d of Ada's message.in, want 1", in)
				}
				if last := entries[len(entries)-1]; last.Type != router.LogCustomerChanged {
					t.Errorf("the last entry: got %s, want the erasure's customer.changed", last.Type)
				}
			})
		})
	}
}
