// Package outbox delivers what agents write, on every channel, at least
// once. The router commits each outbound message of a channel with a
// sender together with its outbox entry (router.Options.Outbound); the
// Dispatcher hears of the entry after the commit (router.NoteOutbox),
// hands the message to its channel's Sender, retries transient failures
// with capped exponential backoff and jitter, and records every attempt
// and the message's delivery through the router (router.RecordDelivery),
// so that the agent sees queued → sent → delivered, or failed with the
// reason. After a crash or a restart, Start finds the entries not done in
// the store and delivers them again: a receiver deduplicates by the
// entry's stable id.
//
//	d, err := outbox.New(outbox.Options{Router: rt, Store: db,
//		Senders: map[router.Channel]outbox.Sender{router.ChannelChat: chatChannel}})
//	// d joins the router's notifiers, then:
//	err = d.Start(ctx)
//	defer d.Close()
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/switchboard/switchboard/backoff"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Defaults of Options.
const (
	// DefaultMinBackoff is the wait before the first retry; each further
	// retry doubles it, up to DefaultMaxBackoff, with ±20 % jitter.
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	// DefaultGiveUpAfter is how long an entry is retried after it was
	// created before its message is marked failed.
	DefaultGiveUpAfter = 24 * time.Hour
	// sendTimeout bounds one attempt.
	sendTimeout = 30 * time.Second
	// scanLimit is how many pending entries Start reads at a time.
	scanLimit = 500
)

// ErrPermanent is wrapped by a Sender's error that no retry can cure (a
// number that cannot receive texts, a mailbox that does not exist): the
// message is marked failed with the error as its reason.
var ErrPermanent = errors.New("outbox: permanent failure")

// Outbound is a message to deliver.
type Outbound struct {
	// ID is stable across attempts and restarts: deduplicate by it.
	ID      string
	Contact router.Contact
	Message router.Message
	// Attempt counts from 1.
	Attempt int
}

// Sender delivers the outbound messages of one channel. Send returns
// the message's delivery status once it succeeded (router.DeliverySent,
// or router.DeliveryDelivered for a channel that knows), an error
// wrapping ErrPermanent to give up, or another error to be retried. It
// may be called concurrently for different contacts, never for two
// messages of one contact at once.
type Sender interface {
	Send(ctx context.Context, o Outbound) (router.DeliveryStatus, error)
}

// Sent is what a provider answered when it accepted a message.
type Sent struct {
	// Status is the message's delivery status (as Sender.Send returns it).
	Status router.DeliveryStatus
	// ExternalID is the provider's id of the message (an SMS's
	// MessageSid): stored as the message's ExternalID in the commit that
	// records the delivery, so that the provider's later reports of its
	// status find it (store.MessageByExternalID).
	ExternalID string
}

// IDSender is a Sender whose provider names the messages it accepts. The
// dispatcher calls SendID instead of Send; its errors mean what Send's
// do.
type IDSender interface {
	Sender
	SendID(ctx context.Context, o Outbound) (Sent, error)
}

// SenderFunc is a Sender made of a function.
type SenderFunc func(ctx context.Context, o Outbound) (router.DeliveryStatus, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, o Outbound) (router.DeliveryStatus, error) {
	return f(ctx, o)
}

// Store reads what the dispatcher delivers; *store.DB implements it.
type Store interface {
	PendingOutbox(ctx context.Context, afterID string, limit int) ([]router.OutboxEntry, error)
	Message(ctx context.Context, contactID string, seq int) (router.Message, error)
	MessageByExternalID(ctx context.Context, externalID string) (router.Message, bool, error)
	Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error)
	Contact(ctx context.Context, id string) (router.Contact, error)
	OutboxDone(ctx context.Context, id string) (bool, error)
}

var _ Store = (*store.DB)(nil)

// Options configure New. Router and Store are required.
type Options struct {
	Router *router.Router
	Store  Store
	// Senders deliver each channel's messages; an entry of a channel
	// without one is marked failed.
	Senders map[router.Channel]Sender
	// MinBackoff, MaxBackoff and GiveUpAfter: zero means the defaults.
	MinBackoff, MaxBackoff, GiveUpAfter time.Duration
	// Clock times the retries; nil is the wall clock. Give the router's
	// manual clock in tests.
	Clock  router.Clock
	Logger *slog.Logger
}

// Dispatcher delivers the outbox. It implements router.Notifier and is
// safe for concurrent use.
type Dispatcher struct {
	o   Options
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// queues holds the entries of each contact not yet done, by Seq: a
	// contact's messages are delivered in order, a later one waiting
	// while an earlier one waits for its retry. Guarded by mu.
	queues map[string]*contactQueue
	// known are the ids in queues, so that the store's scan and a
	// notification never queue one twice. Guarded by mu.
	known   map[string]bool
	started bool // guarded by mu
	// scanning is set while Start reads the store: entries are queued,
	// none delivered, so that a contact's come in order. Guarded by mu.
	scanning bool
	closed   bool // guarded by mu

	// The receipts waiting (receipts.go): the marks of each contact, the
	// contacts in the order they came, those a worker applies now, and
	// how many workers run. Guarded by mu.
	receipts       map[string]marks
	receiptOrder   []string
	applying       map[string]bool
	receiptWorkers int
	// appliedMu guards applied: per contact and status, the seq every
	// outbound message up to which has that status already.
	appliedMu sync.Mutex
	applied   map[receiptKey]int
}

// Backlog counts the entries queued and not yet done: committed, not yet
// delivered or given up (a metric).
func (d *Dispatcher) Backlog() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.known)
}

// contactQueue is the outbox of one contact.
type contactQueue struct {
	entries []item       // by Seq
	running bool         // a goroutine delivers them
	timer   router.Timer // armed while the first waits for its DueAt
}

// item is an entry to deliver, with its message when the router told it
// (the first attempt then reads nothing from the store).
type item struct {
	e router.OutboxEntry
	m *router.Message
}

var _ router.Notifier = (*Dispatcher)(nil)

// New checks o and returns a dispatcher; Start it.
func New(o Options) (*Dispatcher, error) {
	if o.Router == nil || o.Store == nil {
		return nil, errors.New("outbox: options: Router and Store are required")
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.Clock == nil {
		o.Clock = router.WallClock{}
	}
	d := &Dispatcher{o: o, log: o.Logger, queues: map[string]*contactQueue{}, known: map[string]bool{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Start delivers the entries the store holds not done (those of before a
// crash or a restart), then what the router tells. It reads them all
// before delivering any, so that each contact's go in order.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.mu.Lock()
	d.started, d.scanning = true, true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.scanning = false
		for contactID := range d.queues {
			d.kickLocked(contactID)
		}
	}()
	after := ""
	for {
		page, err := d.o.Store.PendingOutbox(ctx, after, scanLimit)
		if err != nil {
			return fmt.Errorf("outbox: start: %w", err)
		}
		for _, e := range page {
			d.schedule(e, nil)
		}
		if len(page) < scanLimit {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// Resync catches up after the dispatcher missed some of the router's
// notifications (router.Follow): it reads the store's pending entries
// again, as Start does; those it knows already are not queued twice.
func (d *Dispatcher) Resync(*router.Snapshot) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.wg.Add(1) // before Close can wait: it sets closed under mu first
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		if err := d.Start(d.ctx); err != nil && d.ctx.Err() == nil {
			d.log.Error("outbox: resync", "err", err)
		}
	}()
}

// Close stops the deliveries in flight and waits for them; what is not
// done stays in the store for the next Start.
func (d *Dispatcher) Close() {
	d.mu.Lock()
	d.closed = true
	for _, q := range d.queues {
		if q.timer != nil {
			q.timer.Stop()
			q.timer = nil
		}
	}
	d.mu.Unlock()
	d.cancel()
	d.wg.Wait()
}

// Notify takes the router's outbox entries, and the customers' receipts
// (Receipt); it never blocks.
func (d *Dispatcher) Notify(ns []router.Notification) {
	for _, n := range ns {
		switch {
		case n.Kind == router.NoteOutbox && n.Outbox != nil:
			d.schedule(*n.Outbox, n.Message)
		case n.Kind == router.NoteSignal && n.Signal != nil && n.Signal.Kind == router.SignalReceipt && n.Signal.From == router.AuthorCustomer:
			d.Receipt(n.Signal.ContactID, n.Signal.DeliveredSeq, n.Signal.ReadSeq)
		}
	}
}

// schedule queues e (with its message m, if known) behind the earlier
// entries of its contact.
func (d *Dispatcher) schedule(e router.OutboxEntry, m *router.Message) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || !d.started || d.known[e.ID] {
		// Before Start, the store's scan finds it; while it scans, it is
		// queued once.
		return
	}
	d.known[e.ID] = true
	q := d.queues[e.ContactID]
	if q == nil {
		q = &contactQueue{}
		d.queues[e.ContactID] = q
	}
	i, _ := slices.BinarySearchFunc(q.entries, e.Seq, func(x item, seq int) int { return x.e.Seq - seq })
	q.entries = slices.Insert(q.entries, i, item{e: e, m: m})
	if !d.scanning {
		d.kickLocked(e.ContactID)
	}
}

// kickLocked starts delivering a contact's entries if none is in flight
// and the first is due, or arms a timer for when it is. d.mu is held.
func (d *Dispatcher) kickLocked(contactID string) {
	q := d.queues[contactID]
	if q == nil || q.running || q.timer != nil || d.closed {
		return
	}
	if len(q.entries) == 0 {
		delete(d.queues, contactID)
		return
	}
	if wait := q.entries[0].e.DueAt.Sub(d.o.Clock.Now()); wait > 0 {
		q.timer = d.o.Clock.AfterFunc(wait, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			q.timer = nil
			d.kickLocked(contactID)
		})
		return
	}
	q.running = true
	d.wg.Add(1)
	go d.deliverContact(contactID, q)
}

// deliverContact delivers q's entries in order while the first is due.
func (d *Dispatcher) deliverContact(contactID string, q *contactQueue) {
	defer d.wg.Done()
	for {
		d.mu.Lock()
		if d.closed || len(q.entries) == 0 || q.entries[0].e.DueAt.After(d.o.Clock.Now()) {
			q.running = false
			d.kickLocked(contactID)
			d.mu.Unlock()
			return
		}
		it := q.entries[0]
		e := it.e
		d.mu.Unlock()
		if d.doneInStore(e) {
			d.forgetFirst(q, e)
			continue
		}
		next, delivery, ok := d.attempt(e, it.m)
		if !ok {
			continue // closing
		}
		if d.doneInStore(e) {
			// Cancelled while the attempt was under way: nothing of it
			// is recorded, nor told.
			d.forgetFirst(q, e)
			continue
		}
		if !next.Done {
			// It stays first, the later ones waiting, and its retry is
			// armed before the attempt is recorded.
			d.mu.Lock()
			q.entries[0] = item{e: next}
			if q.timer == nil && !d.closed {
				q.timer = d.o.Clock.AfterFunc(next.DueAt.Sub(d.o.Clock.Now()), func() {
					d.mu.Lock()
					defer d.mu.Unlock()
					q.timer = nil
					d.kickLocked(contactID)
				})
			}
			d.mu.Unlock()
		}
		if err := d.o.Router.RecordDelivery(d.ctx, next, delivery); err != nil && d.ctx.Err() == nil {
			// The router stopped: the entry stays as the store has it.
			d.log.Error("outbox: record delivery", "entry", e.ID, "err", err)
		}
		if next.Done {
			// Forgotten only once the store says it is done, so that a
			// scan of the pending entries (Start, after a resync) in
			// between cannot find it pending and unknown, and send it
			// again.
			d.forgetFirst(q, e)
		}
	}
}

// forgetFirst drops e, the first of q, which the store holds done. No
// one else takes from q while it runs.
func (d *Dispatcher) forgetFirst(q *contactQueue, e router.OutboxEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(q.entries) > 0 && q.entries[0].e.ID == e.ID {
		q.entries = q.entries[1:]
	}
	delete(d.known, e.ID)
}

// doneInStore says whether the store holds e done although the
// dispatcher has not made it so: its customer was erased
// (store.EraseCustomer cancels what is pending). Only a contact that
// has ended can have been erased: for a live one nothing is read. An
// error reading is logged and taken as not done.
func (d *Dispatcher) doneInStore(e router.OutboxEntry) bool {
	if _, live := d.o.Router.Snapshot().Contact(e.ContactID); live {
		return false
	}
	ctx, cancel := context.WithTimeout(d.ctx, sendTimeout)
	defer cancel()
	done, err := d.o.Store.OutboxDone(ctx, e.ID)
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Warn("outbox: whether an entry was cancelled", "entry", e.ID, "err", err)
		}
		return false
	}
	return done
}

// attempt delivers e once. It returns the entry as the attempt leaves
// it (Done, or due again after its backoff) and the message's delivery;
// ok is false when the dispatcher is closing.
func (d *Dispatcher) attempt(e router.OutboxEntry, m *router.Message) (_ router.OutboxEntry, _ *router.Delivery, ok bool) {
	e.Attempts++
	sent, err := d.send(e, m)
	now := d.o.Clock.Now()
	switch {
	case errors.Is(err, context.Canceled) && d.ctx.Err() != nil:
		return e, nil, false // the store keeps it for the next start
	case err == nil:
		e.Done, e.LastError = true, ""
		return e, &router.Delivery{Status: sent.Status, Attempts: e.Attempts, At: now, ExternalID: sent.ExternalID}, true
	case errors.Is(err, ErrPermanent) || now.Sub(e.CreatedAt) >= d.o.GiveUpAfter:
		e.Done, e.LastError = true, err.Error()
		d.log.Warn("outbox: delivery failed", "entry", e.ID, "channel", e.Channel, "attempts", e.Attempts, "err", err)
		return e, &router.Delivery{Status: router.DeliveryFailed, Reason: err.Error(), Attempts: e.Attempts, At: now}, true
	}
	e.LastError, e.DueAt = err.Error(), now.Add(backoff.Delay(e.Attempts, d.o.MinBackoff, d.o.MaxBackoff))
	return e, &router.Delivery{Status: router.DeliveryQueued, Reason: err.Error(), Attempts: e.Attempts, At: now}, true
}

// checkExternalID returns id, the provider's id of e's message, unless
// the store holds it already for another message (a provider's bug): the
// store's unique key would then fail the commit, and with it the router.
// Such an id is dropped and logged; the delivery is recorded without it.
func (d *Dispatcher) checkExternalID(ctx context.Context, e router.OutboxEntry, id string) string {
	other, found, err := d.o.Store.MessageByExternalID(ctx, id)
	switch {
	case err != nil:
		d.log.Warn("outbox: the provider's id of a message not checked; not kept", "entry", e.ID, "err", err)
		return ""
	case found && (other.ContactID != e.ContactID || other.Seq != e.Seq):
		d.log.Error("outbox: the provider named a message with another message's id; not kept", "entry", e.ID,
			"id", id, "other_contact", other.ContactID, "other_seq", other.Seq)
		return ""
	}
	return id
}

// send hands e's message (m, or read from the store) and contact to the
// channel's sender.
func (d *Dispatcher) send(e router.OutboxEntry, m *router.Message) (Sent, error) {
	s, ok := d.o.Senders[e.Channel]
	if !ok {
		return Sent{}, fmt.Errorf("%w: channel %s has no sender", ErrPermanent, e.Channel)
	}
	ctx, cancel := context.WithTimeout(d.ctx, sendTimeout)
	defer cancel()
	if m == nil {
		stored, err := d.o.Store.Message(ctx, e.ContactID, e.Seq)
		if errors.Is(err, store.ErrNotFound) {
			return Sent{}, fmt.Errorf("%w: message %d of %s is not stored", ErrPermanent, e.Seq, e.ContactID)
		}
		if err != nil {
			return Sent{}, fmt.Errorf("outbox: read message: %w", err)
		}
		m = &stored
	}
	c, ok := d.o.Router.Snapshot().Contact(e.ContactID)
	if !ok {
		var err error
		if c, err = d.o.Store.Contact(ctx, e.ContactID); err != nil {
			return Sent{}, fmt.Errorf("outbox: read contact: %w", err)
		}
	}
	o := Outbound{ID: e.ID, Contact: c, Message: *m, Attempt: e.Attempts}
	var sent Sent
	var err error
	if ids, ok := s.(IDSender); ok {
		sent, err = ids.SendID(ctx, o)
		if err == nil && sent.ExternalID != "" {
			sent.ExternalID = d.checkExternalID(ctx, e, sent.ExternalID)
		}
	} else {
		sent.Status, err = s.Send(ctx, o)
	}
	if err == nil && sent.Status == "" {
		sent.Status = router.DeliverySent
	}
	return sent, err
}
