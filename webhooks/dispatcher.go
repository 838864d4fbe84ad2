// Package webhooks delivers the durable event log to outside systems (a
// CRM, a ticketing tool) as signed HTTP POSTs.
//
// The router and the store append what happens to the event log in the
// transaction of the change (router.Options.EventLog, router.LogEntry),
// so a crash loses none. A Dispatcher reads the log for each webhook in
// id order and delivers the entries the webhook subscribes to, one at a
// time, each as JSON signed with HMAC-SHA256 (Sign), in order per
// contact: the entries without a contact (customer.changed) count as one
// contact of their own. A 2xx answer delivers the event; 410 Gone
// unsubscribes the webhook (it is disabled and shows so).
//
// Any other failure is retried with capped exponential backoff and
// jitter until GiveUpAfter has passed since the event, when the event is
// skipped and counted as failed. What waits for the retry depends on the
// failure. A refusal of this event (a 400, a 500: most statuses) holds
// back its contact only: the contact's later events wait behind it, the
// other contacts' go on. At most Options.MaxHeld contacts are held; with
// that many, the webhook reads no further than the next event of another
// contact until one is released, as it waited for every failure before.
// A receiver that takes nothing now (no answer, a redirect, 401, 408,
// 429, 502 to 504, or three contacts' events refused in a row, nothing
// taken between) makes the whole webhook wait: the next attempt is at
// the first event waiting, of any contact.
//
// Each entry is read again just before its attempt: an erasure
// (store.EraseCustomer) rewrites the entries of the erased customer's
// contacts to what the store keeps of them, and an entry read before the
// erasure is posted as it reads after it, never with the customer's
// personal data.
//
// Where each webhook stands is durable (store.WebhookState: the log read
// up to Scanned, the held contacts each from its first owed event, the
// retries' times), saved after every attempt: after a restart delivery
// goes on from there, at least once (a receiver deduplicates by the
// event's id), in order per contact. The log is pruned only below every
// webhook's Cursor, the last id up to which it owes nothing.
//
// The dispatcher wakes on the router's event stream (it is a
// router.Notifier) and on a slow timer, for what the store writes
// outside the router (customer.changed, offer.outcome); the timer also
// prunes the log.
//
//	d, err := webhooks.New(webhooks.Options{Store: db, Webhooks: configured})
//	sub, snap := rt.Subscribe(0)
//	go rt.Follow(ctx, sub, snap, d, d.Resync)
//	err = d.Start(ctx)
//	defer d.Close()
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Defaults of Options.
const (
	// DefaultMinBackoff is the wait before the first retry; each further
	// retry doubles it, up to DefaultMaxBackoff, with ±20 % jitter.
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 10 * time.Minute
	// DefaultGiveUpAfter is how long after an event its delivery is
	// retried before it is skipped and counted as failed.
	DefaultGiveUpAfter = 24 * time.Hour
	// DefaultRetention is how long the event log keeps entries that every
	// webhook is done with.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultPollInterval is how often the dispatcher looks at the log
	// without being woken (for entries written outside the router), and
	// prunes it.
	DefaultPollInterval = 15 * time.Second
	// DefaultMaxHeld is how many contacts a webhook holds back at most,
	// each for an event its receiver refused (Options.MaxHeld).
	DefaultMaxHeld = 100
	// deliveryTimeout bounds one attempt, the answer's body included.
	deliveryTimeout = 10 * time.Second
	// pageSize is how many entries a webhook reads from the log at a time.
	pageSize = 100
	// maxAnswer is how much of an answer's body is read (and ignored).
	maxAnswer = 64 << 10
)

// Headers of a delivery.
const (
	HeaderEventID   = "Switchboard-Event-Id"
	HeaderEventType = "Switchboard-Event-Type"
	HeaderTimestamp = "Switchboard-Timestamp"
	HeaderSignature = "Switchboard-Signature"
)

// Event is the JSON body of a delivery.
type Event struct {
	// ID is stable across attempts and restarts: "evt_" and the log id.
	ID   string          `json:"id"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// EventID is the id of the event of log entry id.
func EventID(id int64) string { return "evt_" + strconv.FormatInt(id, 10) }

// Sign returns the Switchboard-Signature of body sent at timestamp
// (unix seconds): "v1=" and the hex HMAC-SHA256, keyed with secret, of
// the timestamp, a dot, and the body.
func Sign(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Store is what the dispatcher reads and keeps; *store.DB implements it.
type Store interface {
	EventLog(ctx context.Context, after int64, limit int) ([]router.LogEntry, error)
	EventLogOf(ctx context.Context, contactID string, from, upTo int64, limit int) ([]router.LogEntry, error)
	LastLogID(ctx context.Context) (int64, error)
	PruneEventLog(ctx context.Context, upTo int64, before time.Time) (int64, error)
	Webhooks(ctx context.Context) ([]store.Webhook, error)
	PutWebhook(ctx context.Context, w store.Webhook, st store.WebhookState) error
	DeleteWebhook(ctx context.Context, id string) error
	WebhookState(ctx context.Context, id string) (store.WebhookState, bool, error)
	PutWebhookState(ctx context.Context, id string, st store.WebhookState) error
}

var _ Store = (*store.DB)(nil)

// Options configure New. Store is required.
type Options struct {
	Store Store
	// Webhooks are the configured ones (Source SourceConfig), read only
	// over the API; those put over the API are read from the store.
	Webhooks []Webhook
	// AllowHTTP accepts plain http URLs to any host (CheckURL).
	AllowHTTP bool
	// Client posts the deliveries; nil is a client that follows no
	// redirect (a 3xx is a failure).
	Client *http.Client
	// MinBackoff, MaxBackoff, GiveUpAfter, Retention and PollInterval:
	// zero means the defaults.
	MinBackoff, MaxBackoff, GiveUpAfter, Retention, PollInterval time.Duration
	// MaxHeld bounds how many contacts a webhook holds back, each for an
	// event its receiver refused; zero means DefaultMaxHeld. With that
	// many held, the webhook reads no further than the next event of
	// another contact until one of them is delivered or given up.
	MaxHeld int
	// Clock times the retries, the poll and the signatures' timestamps;
	// nil is the wall clock.
	Clock  router.Clock
	Logger *slog.Logger
	// OnActive, if set, hears whether any webhook is defined, at Start
	// and whenever that changes (routerd keeps the router's event log
	// on only then: a webhook starts at the end of the log, so nothing
	// logged before it would be read). It is called with the
	// dispatcher's lock held and must not block.
	OnActive func(active bool)
}

// Status is a webhook as GET /api/v1/webhooks shows it: its definition
// without the secret, and where its deliveries stand.
type Status struct {
	ID        string
	URL       string
	Events    []string
	Source    string
	UpdatedAt time.Time
	State     store.WebhookState
	// Refused says why the configuration refuses a webhook put over the
	// API earlier (its URL is plain http, and webhook_allow_http is off
	// now): nothing is delivered to it until it is put again.
	Refused string
}

// Dispatcher delivers the event log to the webhooks. It implements
// router.Notifier and is safe for concurrent use.
type Dispatcher struct {
	o   Options
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards hooks and each hook's def and st, started and closed.
	mu      sync.Mutex
	hooks   map[string]*hook
	started bool
	closed  bool
	// reported and active are what OnActive last heard.
	reported, active bool
	poll             router.Timer
	// putMu serialises Put, Delete and prune.
	putMu sync.Mutex
	// pruning is set while a prune runs.
	pruning sync.Mutex

	// idle, when set (tests), is told each time a webhook's worker waits:
	// until next, or for a wake-up when next is zero.
	idle func(id string, next time.Time)
}

// hook is one webhook and its worker.
type hook struct {
	def Webhook
	// refused: the configuration refuses def (Status.Refused); no worker.
	refused string
	st      store.WebhookState // guarded by Dispatcher.mu; written by the worker
	wake    chan struct{}      // capacity 1
	stop    context.CancelFunc
	done    chan struct{}
}

var _ router.Notifier = (*Dispatcher)(nil)

// New checks o and returns a dispatcher; Start it.
func New(o Options) (*Dispatcher, error) {
	if o.Store == nil {
		return nil, errors.New("webhooks: options: Store is required")
	}
	o.MinBackoff = orDefault(o.MinBackoff, DefaultMinBackoff)
	o.MaxBackoff = orDefault(o.MaxBackoff, DefaultMaxBackoff)
	o.GiveUpAfter = orDefault(o.GiveUpAfter, DefaultGiveUpAfter)
	o.Retention = orDefault(o.Retention, DefaultRetention)
	o.PollInterval = orDefault(o.PollInterval, DefaultPollInterval)
	if o.MaxHeld <= 0 {
		o.MaxHeld = DefaultMaxHeld
	}
	if o.Clock == nil {
		o.Clock = router.WallClock{}
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout:       deliveryTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	seen := map[string]bool{}
	for _, w := range o.Webhooks {
		if err := w.Validate(o.AllowHTTP); err != nil {
			return nil, fmt.Errorf("webhooks: webhook %q: %w", w.ID, err)
		}
		if seen[w.ID] {
			return nil, fmt.Errorf("webhooks: webhook %q is configured twice", w.ID)
		}
		seen[w.ID] = true
	}
	d := &Dispatcher{o: o, log: o.Logger, hooks: map[string]*hook{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Start loads the webhooks (configured, then stored; a stored one with a
// configured one's id is ignored) with their delivery state, and starts
// delivering. A webhook without a state starts at the end of the log: it
// gets what happens from now on.
func (d *Dispatcher) Start(ctx context.Context) error {
	defs := slices.Clone(d.o.Webhooks)
	for i := range defs {
		defs[i].Source = SourceConfig
	}
	stored, err := d.o.Store.Webhooks(ctx)
	if err != nil {
		return fmt.Errorf("webhooks: start: %w", err)
	}
	for _, w := range stored {
		if slices.ContainsFunc(defs, func(c Webhook) bool { return c.ID == w.ID }) {
			d.log.Warn("webhooks: a webhook put over the API has a configured webhook's id; the configured one is used", "webhook", w.ID)
			continue
		}
		defs = append(defs, Webhook{ID: w.ID, URL: w.URL, Events: w.Events, Secret: w.Secret, Source: SourceAPI, UpdatedAt: w.UpdatedAt})
	}
	hooks := make([]*hook, 0, len(defs))
	for _, w := range defs {
		st, found, err := d.o.Store.WebhookState(ctx, w.ID)
		if err != nil {
			return fmt.Errorf("webhooks: start: %w", err)
		}
		if !found || (st.Disabled && w.Source == SourceConfig && st.DisabledURL != w.URL) {
			// New, or a configured webhook whose receiver unsubscribed
			// and that now names another URL: from the end of the log.
			if st, err = d.freshState(ctx); err != nil {
				return err
			}
			if err := d.o.Store.PutWebhookState(ctx, w.ID, st); err != nil {
				return fmt.Errorf("webhooks: start: %w", err)
			}
		}
		h := &hook{def: w, st: st}
		// Put when the configuration allowed it, refused by it now (the
		// configured ones were checked by New): kept, with its place in
		// the log, and not delivered to.
		var ve *Error
		if err := w.Validate(d.o.AllowHTTP); errors.As(err, &ve) {
			h.refused = "refused by the configuration now: " + ve.Field + " " + refusal(ve)
			d.log.Error("webhooks: a webhook put over the API is "+h.refused+"; nothing is delivered to it until it is put again", "webhook", w.ID)
		}
		hooks = append(hooks, h)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.started = true
	for _, h := range hooks {
		d.startLocked(h)
	}
	d.reportLocked()
	d.armPollLocked()
	return nil
}

// reportLocked tells Options.OnActive whether any webhook is defined,
// the first time and when it changed. d.mu is held.
func (d *Dispatcher) reportLocked() {
	active := len(d.hooks) > 0
	if d.o.OnActive == nil || d.reported && active == d.active {
		return
	}
	d.reported, d.active = true, active
	d.o.OnActive(active)
}

// freshState is the state of a webhook that starts now: its cursor at
// the end of the log.
func (d *Dispatcher) freshState(ctx context.Context) (store.WebhookState, error) {
	last, err := d.o.Store.LastLogID(ctx)
	if err != nil {
		return store.WebhookState{}, fmt.Errorf("webhooks: %w", err)
	}
	return store.WebhookState{Cursor: last, Scanned: last}, nil
}

// startLocked starts h's worker (none for a refused one); d.mu is held.
func (d *Dispatcher) startLocked(h *hook) {
	if h.refused != "" {
		d.hooks[h.def.ID] = h
		d.reportLocked()
		return
	}
	ctx, cancel := context.WithCancel(d.ctx)
	h.wake, h.stop, h.done = make(chan struct{}, 1), cancel, make(chan struct{})
	d.hooks[h.def.ID] = h
	d.reportLocked()
	d.wg.Add(1)
	go d.run(ctx, h)
}

// armPollLocked arms the slow timer; d.mu is held.
func (d *Dispatcher) armPollLocked() {
	if d.closed {
		return
	}
	d.poll = d.o.Clock.AfterFunc(d.o.PollInterval, func() {
		d.wakeAll()
		d.prune()
		d.mu.Lock()
		defer d.mu.Unlock()
		d.armPollLocked()
	})
}

// Notify wakes every webhook after a committed batch; it never blocks.
func (d *Dispatcher) Notify(ns []router.Notification) {
	if len(ns) > 0 {
		d.wakeAll()
	}
}

// Resync wakes every webhook after the dispatcher missed some of the
// router's batches; the log holds them all.
func (d *Dispatcher) Resync(*router.Snapshot) { d.wakeAll() }

func (d *Dispatcher) wakeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, h := range d.hooks {
		wake(h.wake)
	}
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Close stops the deliveries in flight and waits for them; the states
// are durable for the next Start.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	d.closed = true
	if d.poll != nil {
		d.poll.Stop()
	}
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}

// List returns every webhook, by id.
func (d *Dispatcher) List() []Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Status, 0, len(d.hooks))
	for _, h := range d.hooks {
		out = append(out, statusOf(h))
	}
	slices.SortFunc(out, func(a, b Status) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// Get returns webhook id.
func (d *Dispatcher) Get(id string) (Status, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h, ok := d.hooks[id]
	if !ok {
		return Status{}, false
	}
	return statusOf(h), true
}

func statusOf(h *hook) Status {
	st := h.st
	st.Held = slices.Clone(st.Held)
	return Status{ID: h.def.ID, URL: h.def.URL, Events: slices.Clone(h.def.Events), Source: h.def.Source,
		UpdatedAt: h.def.UpdatedAt, State: st, Refused: h.refused}
}

// Put creates or replaces the webhook w.ID over the API, durably, and
// reports whether it was created. A replaced webhook keeps its place in
// the log, held contacts included; one its receiver unsubscribed (410)
// is subscribed again from the end of the log. A configured id is
// ErrReadOnly; an invalid w an *Error.
func (d *Dispatcher) Put(ctx context.Context, w Webhook) (created bool, err error) {
	w.Source = SourceAPI
	w.Events = slices.Clone(w.Events)
	if err := w.Validate(d.o.AllowHTTP); err != nil {
		return false, err
	}
	if slices.ContainsFunc(d.o.Webhooks, func(c Webhook) bool { return c.ID == w.ID }) {
		return false, ErrReadOnly
	}
	d.putMu.Lock()
	defer d.putMu.Unlock()
	old := d.stopHook(w.ID)
	var st store.WebhookState
	if old != nil && !old.st.Disabled {
		st = old.st
	} else if st, err = d.freshState(ctx); err != nil {
		d.restart(old)
		return false, err
	}
	if w.UpdatedAt.IsZero() {
		w.UpdatedAt = d.o.Clock.Now().UTC()
	}
	if err := d.o.Store.PutWebhook(ctx, store.Webhook{ID: w.ID, URL: w.URL, Events: w.Events, Secret: w.Secret, UpdatedAt: w.UpdatedAt}, st); err != nil {
		d.restart(old)
		return false, err
	}
	d.restart(&hook{def: w, st: st})
	return old == nil, nil
}

// Delete removes webhook id, put over the API, and its state. A
// configured id is ErrReadOnly; an unknown one ErrUnknown.
func (d *Dispatcher) Delete(ctx context.Context, id string) error {
	if slices.ContainsFunc(d.o.Webhooks, func(c Webhook) bool { return c.ID == id }) {
		return ErrReadOnly
	}
	d.putMu.Lock()
	defer d.putMu.Unlock()
	old := d.stopHook(id)
	if old == nil {
		return ErrUnknown
	}
	if err := d.o.Store.DeleteWebhook(ctx, id); err != nil {
		d.restart(old)
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnknown
		}
		return err
	}
	d.mu.Lock()
	if d.started {
		d.reportLocked()
	}
	d.mu.Unlock()
	return nil
}

// stopHook stops the worker of webhook id and returns its hook (its
// state final), nil if there is none.
func (d *Dispatcher) stopHook(id string) *hook {
	d.mu.Lock()
	h := d.hooks[id]
	if h != nil {
		delete(d.hooks, id) // not reported: a Put starts it again
	}
	d.mu.Unlock()
	if h == nil {
		return nil
	}
	if h.stop != nil { // nil: put before Start, no worker yet
		h.stop()
		<-h.done
	}
	return h
}

// restart starts h again (nil: nothing), unless the dispatcher closed or
// has not started (Start then loads it from the store).
func (d *Dispatcher) restart(h *hook) {
	if h == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if !d.started {
		d.hooks[h.def.ID] = h
		return
	}
	d.startLocked(h)
}

// run is h's worker: it delivers what the log holds for h, then waits
// for a wake-up or its next retry.
func (d *Dispatcher) run(ctx context.Context, h *hook) {
	defer d.wg.Done()
	defer close(h.done)
	d.mu.Lock()
	st := h.st
	st.Held = slices.Clone(st.Held) // the worker's own: it changes them in place
	d.mu.Unlock()
	for {
		var next time.Time
		st, next = d.deliver(ctx, h, st)
		if ctx.Err() != nil {
			return
		}
		var t router.Timer
		if !next.IsZero() {
			t = d.o.Clock.AfterFunc(next.Sub(d.o.Clock.Now()), func() { wake(h.wake) })
		}
		if d.idle != nil {
			d.idle(h.def.ID, next)
		}
		select {
		case <-ctx.Done():
		case <-h.wake:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// post delivers e to w once. It returns the answer's status (0 when
// none came) and an error unless it was 2xx.
func (d *Dispatcher) post(ctx context.Context, w Webhook, e router.LogEntry) (int, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	body, err := json.Marshal(Event{ID: EventID(e.ID), Type: e.Type, At: e.At.UTC(), Data: data})
	if err != nil {
		return 0, fmt.Errorf("webhooks: encode event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhooks: %w", err)
	}
	ts := d.o.Clock.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(HeaderEventID, EventID(e.ID))
	req.Header.Set(HeaderEventType, e.Type)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	resp, err := d.o.Client.Do(req)
	if err != nil {
		// Without the URL, which the error repeats: it may hold the
		// receiver's secret (a token in its path or query), and this
		// text is logged and kept as the last error.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("webhooks: post to %s: %w", hostOf(w.URL), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhooks: the receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// prune deletes the log's entries that every enabled webhook is done
// with (at or below its Cursor: none a held contact still owes) and that
// are older than the retention.
func (d *Dispatcher) prune() {
	if !d.pruning.TryLock() {
		return
	}
	defer d.pruning.Unlock()
	// Not while a Put or Delete has a webhook out of d.hooks: its cursor
	// must hold back the prune like every other's.
	d.putMu.Lock()
	defer d.putMu.Unlock()
	last, err := d.o.Store.LastLogID(d.ctx)
	if err != nil {
		return
	}
	upTo := last
	d.mu.Lock()
	for _, h := range d.hooks {
		// Neither an unsubscribed webhook nor one the configuration
		// refuses holds the log back: put again, a refused one gets
		// what the retention kept.
		if !h.st.Disabled && h.refused == "" {
			upTo = min(upTo, h.st.Cursor)
		}
	}
	d.mu.Unlock()
	n, err := d.o.Store.PruneEventLog(d.ctx, upTo, d.o.Clock.Now().Add(-d.o.Retention))
	if err != nil && d.ctx.Err() == nil {
		d.log.Error("webhooks: prune the event log", "err", err)
	} else if n > 0 {
		d.log.Debug("webhooks: pruned the event log", "entries", n)
	}
}

// refusal is what Validate's error says, without the URL it quotes.
func refusal(e *Error) string {
	if e.Field == "url" {
		return "(https wanted; webhook_allow_http is off)"
	}
	return "(" + e.Msg + ")"
}

// hostOf is the host of a webhook's URL, for errors: never its path or
// query.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the receiver"
	}
	return u.Host
}
