package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashHookSecret = "crash-test-webhook-secret-0123456789"

// hookReceiver is an integration's endpoint: it checks each delivery's
// signature with its own HMAC, answers 503 while down, and records the
// events it accepted, in order.
type hookReceiver struct {
	t        *testing.T
	mu       sync.Mutex
	down     bool
	attempts int            // every request
	accepted []hookEvent    // the 2xx ones, duplicates included
	count    map[string]int // 2xx answers per event id
	// seen gets a token after each request (buffered 1: a token not yet
	// taken stands for every request since).
	seen chan struct{}
}

type hookEvent struct {
	id, typ, contact string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get("Switchboard-Timestamp")
	mac := hmac.New(sha256.New, []byte(crashHookSecret))
	mac.Write([]byte(ts + "." + string(body)))
	if want := "v1=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(r.Header.Get("Switchboard-Signature")), []byte(want)) {
		h.t.Errorf("bad signature on %s", body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var e struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Contact struct {
				ID string `json:"id"`
			} `json:"contact"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.ID != r.Header.Get("Switchboard-Event-Id") {
		h.t.Errorf("delivery %s: %v", body, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	defer func() {
		select {
		case h.seen <- struct{}{}:
		default:
		}
	}()
	h.attempts++
	if h.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	h.accepted = append(h.accepted, hookEvent{e.ID, e.Type, e.Data.Contact.ID})
	h.count[e.ID]++
	w.WriteHeader(http.StatusNoContent)
}

// waitFor looks again after each request the receiver gets until cond
// holds, for at most a minute.
func (h *hookReceiver) waitFor(what string, cond func() bool) {
	h.t.Helper()
	timeout := time.After(time.Minute)
	for {
		h.mu.Lock()
		ok := cond()
		h.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-h.seen:
		case <-timeout:
			h.t.Fatalf("the receiver never saw %s", what)
		}
	}
}

// TestWebhookCrashRecovery kills routerd with SIGKILL while the events of
// committed contacts wait for a receiver that is down; after a restart
// every event is delivered, each event id seen once after deduplication,
// in order per contact, and none delivered before the kill is sent again.
func TestWebhookCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	rcv := &hookReceiver{t: t, count: map[string]int{}, seen: make(chan struct{}, 1)}
	srv := httptest.NewServer(rcv)
	defer srv.Close()

	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "webhooks:\n  - id: crm\n    url: %s/hook\n    events: [\"*\"]\n    secret: %s\n", srv.URL, crashHookSecret)
	f.Close()
	d := startDaemon(t, "-config", cfgPath)

	create := func(base string, n int) []string {
		var ids []string
		for i := 0; i < n; i++ {
			var c contactReply
			code, err := call(base, "POST", "/api/v1/contacts", map[string]any{"channel": "api", "queue": "billing", "body": fmt.Sprintf("hello %d", i)}, nil, &c)
			if err != nil || code != http.StatusCreated {
				t.Fatalf("create: %d %v", code, err)
			}
			ids = append(ids, c.ID)
		}
		return ids
	}
	// Delivered before the kill: created and message.in of each.
	before := create(d.base, 5)
	rcv.waitFor("the first contacts' events", func() bool { return len(rcv.accepted) == 2*len(before) })
	delivered := map[string]bool{}
	for _, e := range rcv.accepted {
		delivered[e.id] = true
	}

	// Committed while the receiver is down, then the kill.
	rcv.mu.Lock()
	rcv.down = true
	attempts := rcv.attempts
	rcv.mu.Unlock()
	during := create(d.base, 15)
	// A reply on each: an outbound message committed, its delivery to
	// the integration (message.out) still to come when routerd dies.
	for _, id := range during {
		if code, err := call(d.base, "POST", "/api/v1/contacts/"+id+"/messages", map[string]string{"direction": "out", "body": "we are on it"}, nil, nil); err != nil || code != http.StatusCreated {
			t.Fatalf("reply on %s: %d %v", id, code, err)
		}
	}
	all := append(append([]string(nil), before...), during...)
	for _, id := range all {
		if code, err := call(d.base, "POST", "/api/v1/contacts/"+id+"/abandon", map[string]string{"reason": "gone"}, nil, nil); err != nil || code != http.StatusOK {
			t.Fatalf("abandon %s: %d %v", id, code, err)
		}
	}
	rcv.waitFor("a failed attempt", func() bool { return rcv.attempts > attempts })
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.wait()
	rcv.mu.Lock()
	rcv.down = false
	rcv.mu.Unlock()

	d2 := startDaemon(t, "-config", cfgPath)
	want := 3*len(all) + len(during) // created, message.in, ended; message.out of the replies
	rcv.waitFor("every event", func() bool { return len(rcv.count) >= want })

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.count) != want {
		t.Errorf("got %d distinct events, want %d", len(rcv.count), want)
	}
	types := map[string][]string{} // contact → types, deduplicated by event id
	seen := map[string]bool{}
	for _, e := range rcv.accepted {
		if rcv.count[e.id] > 1 && delivered[e.id] {
			t.Errorf("%s was delivered before the kill and again after it", e.id)
		}
		if seen[e.id] {
			continue // at least once: the receiver deduplicates by id
		}
		seen[e.id] = true
		types[e.contact] = append(types[e.contact], e.typ)
	}
	for _, id := range before {
		if got := strings.Join(types[id], ","); got != "contact.created,message.in,contact.ended" {
			t.Errorf("contact %s: got %s, want contact.created,message.in,contact.ended", id, got)
		}
	}
	for _, id := range during {
		if got := strings.Join(types[id], ","); got != "contact.created,message.in,message.out,contact.ended" {
			t.Errorf("contact %s: got %s, want contact.created,message.in,message.out,contact.ended", id, got)
		}
	}
	var hooks struct {
		Webhooks []struct {
			ID       string `json:"id"`
			Delivery struct {
				Status    string `json:"status"`
				Delivered int64  `json:"delivered"`
				Failed    int64  `json:"failed"`
			} `json:"delivery"`
		} `json:"webhooks"`
	}
	if code, err := call(d2.base, "GET", "/api/v1/webhooks", nil, nil, &hooks); err != nil || code != http.StatusOK {
		t.Fatalf("list webhooks: %d %v", code, err)
	}
	if len(hooks.Webhooks) != 1 || hooks.Webhooks[0].Delivery.Status != "active" || hooks.Webhooks[0].Delivery.Failed != 0 {
		t.Errorf("webhooks: got %+v", hooks.Webhooks)
	}
}
