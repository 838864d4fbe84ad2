package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testToken   = "0123456789abcdef0123456789abcdef"
	testPublic  = "https://sms.example.com"
	supportNum  = "+15550001111"
	salesNum    = "+15550002222"
	adaNum      = "+15551234567"
	// waitBound bounds a wait for something the test caused; it is never
	// how the test synchronises.
	waitBound = 10 * time.Second
)

// sign is Twilio's signature as its documentation describes it,
// written apart from the code under test: the URL, then each parameter's
// name and value sorted by name (and value), HMAC-SHA1 keyed by the auth
// token, base64.
func sign(token, u string, form [][2]string) string {
	pairs := append([][2]string(nil), form...)
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	s := u
	for _, p := range pairs {
		s += p[0] + p[1]
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// encode is form as an application/x-www-form-urlencoded body, in order.
func encode(form [][2]string) string {
	parts := make([]string, 0, len(form))
	for _, kv := range form {
		parts = append(parts, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
	}
	return strings.Join(parts, "&")
}

var sidCounter atomic.Int64

// newSID is a fresh Twilio-shaped message SID.
func newSID() string { return fmt.Sprintf("SM%032x", sidCounter.Add(1)) }

// textForm is the form Twilio posts for a text from from to to.
func textForm(sid, from, to, body string, extra ...[2]string) [][2]string {
	f := [][2]string{{"ToCountry", "US"}, {"SmsMessageSid", sid}, {"NumMedia", "0"}, {"SmsSid", sid},
		{"SmsStatus", "received"}, {"Body", body}, {"To", to}, {"NumSegments", "1"}, {"MessageSid", sid},
		{"AccountSid", testAccount}, {"From", from}, {"ApiVersion", "2010-04-01"}}
	return append(f, extra...)
}

// fakeTwilio speaks the Messages API's shapes: a created message, an
// error, a 429. Each To number may have scripted answers, used in order
// before the default (201 queued).
type fakeTwilio struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	script  map[string][]func(w http.ResponseWriter) // guarded by mu
	created []url.Values                             // the messages created; guarded by mu
	calls   int                                      // guarded by mu
}

func newFakeTwilio(t testing.TB) *fakeTwilio {
	f := &fakeTwilio{t: t, script: map[string][]func(http.ResponseWriter){}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/"+testAccount+"/Messages/") {
		// A medium of an MMS: the account's credentials required.
		if !ok || user != testAccount || pass != testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, "JPEG bytes of "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+testAccount+"/Messages.json" ||
		!ok || user != testAccount || pass != testToken {
		f.t.Errorf("fake Twilio: %s %s (auth %v %q): not the Messages API as the account", r.Method, r.URL.Path, ok, user)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("fake Twilio: %v", err)
	}
	to := r.PostForm.Get("To")
	f.mu.Lock()
	f.calls++
	if s := f.script[to]; len(s) > 0 {
		f.script[to] = s[1:]
		f.mu.Unlock()
		s[0](w)
		return
	}
	f.created = append(f.created, r.PostForm)
	f.mu.Unlock()
	sid := newSID()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"sid": sid, "account_sid": testAccount, "to": to, "from": r.PostForm.Get("From"), "body": r.PostForm.Get("Body"),
		"status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
		"uri": "/2010-04-01/Accounts/" + testAccount + "/Messages/" + sid + ".json",
	})
}

// then scripts the next answers to to.
func (f *fakeTwilio) then(to string, answers ...func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[to] = append(f.script[to], answers...)
}

// twilioError answers with Twilio's error JSON.
func twilioError(status, code int, msg string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`, code, msg, code, status)
	}
}

func (f *fakeTwilio) sent() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.created...)
}

func (f *fakeTwilio) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// env is a router on a store, the intake, the channel against a fake
// Twilio, and the outbox with the channel as its SMS sender, following
// the router's event stream as routerd wires them.
type env struct {
	t      testing.TB
	ctx    context.Context
	db     *store.DB
	rt     *router.Router
	ch     *Channel
	twilio *fakeTwilio
	h      http.Handler
	sub    *router.Subscription // every notification, for the test to wait on
}

func newEnv(t testing.TB, mod ...func(*Options)) *env {
	t.Helper()
	return newEnvSync(t, "normal", mod...)
}

// newEnvSync is newEnv with the store's synchronous mode.
func newEnvSync(t testing.TB, synchronous string, mod ...func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: synchronous})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := router.New(db, &router.Options{Outbound: []router.Channel{router.ChannelSMS}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"support", "sales"} {
		if _, err := rt.PutQueue(ctx, router.Queue{Name: q}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := rt.PutAgent(ctx, router.Agent{ID: "alice", Name: "Alice", Capacity: map[string]int{"sms": 100}}); err != nil {
		t.Fatal(err)
	}
	in := &intake.Intake{Router: rt, Store: db, Resolve: func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
		return customers.Intake(ctx, db, nc, customers.Routing{})
	}}
	tw := newFakeTwilio(t)
	o := Options{Router: rt, Store: db, Intake: in, AccountSID: testAccount, AuthToken: testToken,
		PublicURL: testPublic, APIBaseURL: tw.srv.URL,
		Routes: []Route{{Queue: "support", From: supportNum}, {Queue: "sales", From: salesNum}},
		Logger: slog.New(slog.DiscardHandler)}
	for _, f := range mod {
		f(&o)
	}
	ch, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	disp, err := outbox.New(outbox.Options{Router: rt, Store: db, Senders: map[router.Channel]outbox.Sender{router.ChannelSMS: ch},
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, n := range []struct {
		n      router.Notifier
		resync func(*router.Snapshot)
	}{{disp, disp.Resync}, {ch, ch.Resync}} {
		sub, snap := rt.Subscribe(0)
		wg.Add(1)
		go func() { defer wg.Done(); _ = rt.Follow(fctx, sub, snap, n.n, n.resync) }()
	}
	sub, _ := rt.Subscribe(1 << 14)
	if err := disp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sub.Close()
		cancel()
		wg.Wait()
		disp.Close()
		rt.Close()
		db.Close()
	})
	return &env{t: t, ctx: ctx, db: db, rt: rt, ch: ch, twilio: tw, h: ch.Handler(), sub: sub}
}

// post sends a signed form to path and returns the answer.
func (e *env) post(path string, form [][2]string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.postSigned(path, form, sign(testToken, testPublic+path, form))
}

// postSigned sends form to path with the signature sig.
func (e *env) postSigned(path string, form [][2]string, sig string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(encode(form)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		r.Header.Set("X-Twilio-Signature", sig)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// text posts a text from from to to and expects it taken.
func (e *env) text(sid, from, to, body string, extra ...[2]string) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.post(InboundPath, textForm(sid, from, to, body, extra...))
	if w.Code != http.StatusOK {
		e.t.Fatalf("text %q from %s: %d %s", body, from, w.Code, w.Body)
	}
	return w
}

// contactsOf returns the SMS contacts of number, newest first.
func (e *env) contactsOf(number string) []router.Contact {
	e.t.Helper()
	page, err := e.db.Contacts(e.ctx, store.ContactFilter{Channel: router.ChannelSMS, Customer: number, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Contacts
}

func (e *env) messages(contactID string) []router.Message {
	e.t.Helper()
	ms, err := e.db.Messages(e.ctx, contactID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

// assigned gives the only contact of number to alice.
func (e *env) assigned(number string) router.Contact {
	e.t.Helper()
	cs := e.contactsOf(number)
	if len(cs) != 1 {
		e.t.Fatalf("contacts of %s: got %d, want 1", number, len(cs))
	}
	if _, err := e.rt.SetAgentState(e.ctx, "alice", router.AgentAvailable, ""); err != nil {
		e.t.Fatal(err)
	}
	c, _ := e.rt.Snapshot().Contact(cs[0].ID)
	if c.State == router.ContactOffered {
		if _, err := e.rt.Accept(e.ctx, c.ID, "alice"); err != nil {
			e.t.Fatal(err)
		}
	}
	c, _ = e.rt.Snapshot().Contact(cs[0].ID)
	if c.State != router.ContactAssigned {
		e.t.Fatalf("contact %s is %s, want assigned", c.ID, c.State)
	}
	return c
}

// waitDelivery waits until the router commits a delivery of message seq
// of contactID with status want, and returns it.
func (e *env) waitDelivery(contactID string, seq int, want router.DeliveryStatus) router.Delivery {
	e.t.Helper()
	timeout := time.After(waitBound)
	for {
		select {
		case p, ok := <-e.sub.C:
			if !ok {
				e.t.Fatal("subscription dropped")
			}
			for _, n := range p.Notes {
				if n.Kind == router.NoteDelivery && n.Message.ContactID == contactID && n.Message.Seq == seq && n.Message.Delivery.Status == want {
					return *n.Message.Delivery
				}
			}
		case <-timeout:
			m, _ := e.db.Message(e.ctx, contactID, seq)
			e.t.Fatalf("message %d of %s: never %s (stored %+v)", seq, contactID, want, m.Delivery)
		}
	}
}

// reply commits alice's reply on c and returns it.
func (e *env) reply(c router.Contact, body string) router.Message {
	e.t.Helper()
	m, _, err := e.rt.AddMessage(e.ctx, c.ID, router.Message{Direction: "out", Author: "alice", Body: body})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func bodySHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var _ = io.Discard
