package webhooks

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// A webhook put over the API to a plain http URL while the
// configuration allowed it is refused once webhook_allow_http is off:
// listed with the reason, nothing delivered, its place in the log kept;
// put again with https, it goes on from there.
func TestStoredHTTPWebhookRefusedWhenNoLongerAllowed(t *testing.T) {
	f := newFixture(t)
	f.log("c1", router.LogContactCreated, router.LogMessageIn)
	last, err := f.db.LastLogID(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = f.db.PutWebhook(f.ctx, store.Webhook{ID: "crm", URL: "http://crm.internal/hook", Events: []string{AllEvents}, Secret: testSecret, UpdatedAt: f.clock.Now()},
		store.WebhookState{Cursor: last, Scanned: last})
	if err != nil {
		t.Fatal(err)
	}
	f.log("c1", router.LogMessageOut)

	d, idles := f.startWith(Options{}) // webhook_allow_http off
	s, ok := d.Get("crm")
	if !ok || !strings.Contains(s.Refused, "webhook_allow_http") || strings.Contains(s.Refused, "crm.internal") || s.State.Cursor != last {
		t.Fatalf("the stored http webhook: %+v %v, want it refused for want of webhook_allow_http (without its URL), at cursor %d", s, ok, last)
	}
	r := newReceiver(t, nil)
	w := hookTo(r, "crm", AllEvents) // a loopback receiver: allowed
	w.Source = ""
	if _, err := d.Put(f.ctx, w); err != nil {
		t.Fatal(err)
	}
	f.settle(d, idles, "crm")
	if got := r.received(); len(got) != 1 || got[0].ID != EventID(last+1) {
		t.Errorf("put again: delivered %+v, want only the event after its cursor, %s", got, EventID(last+1))
	}
	if s, _ := d.Get("crm"); s.Refused != "" {
		t.Errorf("put again: still refused (%q)", s.Refused)
	}
}

// A failed post's error, logged and kept as the last error, names the
// receiver's host, never its URL's path or query (a secret may be there).
func TestPostErrorWithoutTheURL(t *testing.T) {
	f := newFixture(t)
	down := httptest.NewServer(nil)
	url := down.URL + "/services/T0/B0/SECRETPATH?token=SECRETQUERY"
	down.Close() // connections refused
	d, idles := f.start(Webhook{ID: "crm", URL: url, Events: []string{AllEvents}, Secret: testSecret})
	f.log("c1", router.LogContactCreated) // after the start: a new webhook begins at the end of the log
	d.Notify([]router.Notification{{Kind: router.NoteContact}})
	for failed := false; !failed; {
		select {
		case i := <-idles:
			failed = i.id == "crm" && !i.next.IsZero() // the attempt failed; its retry is scheduled
		case <-time.After(20 * time.Second):
			t.Fatal("no failed attempt")
		}
	}
	s, _ := d.Get("crm")
	if s.State.LastError == "" || strings.Contains(s.State.LastError, "SECRET") || !strings.Contains(s.State.LastError, strings.TrimPrefix(down.URL, "http://")) {
		t.Errorf("the last error %q: want the host, not the path or query", s.State.LastError)
	}
}
