package outbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// waitTimeout bounds every wait for a delivery: a failure bound, never a
// synchronisation.
const waitTimeout = 10 * time.Second

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// recorder is a Sender that fails each message's first attempts as told
// and tells every attempt on a channel.
type recorder struct {
	mu       sync.Mutex
	failures map[string]error // by body: the error of its attempts until it is removed
	times    map[string]int   // by body: how many attempts fail
	got      []Outbound
	attempts chan Outbound
}

func newRecorder() *recorder {
	return &recorder{failures: map[string]error{}, times: map[string]int{}, attempts: make(chan Outbound, 100)}
}

func (r *recorder) Send(_ context.Context, o Outbound) (router.DeliveryStatus, error) {
	r.mu.Lock()
	defer func() { r.mu.Unlock(); r.attempts <- o }()
	if n := r.times[o.Message.Body]; n > 0 {
		r.times[o.Message.Body] = n - 1
		return "", r.failures[o.Message.Body]
	}
	r.got = append(r.got, o)
	return router.DeliveryDelivered, nil
}

func (r *recorder) next(t *testing.T) Outbound {
	t.Helper()
	select {
	case o := <-r.attempts:
		return o
	case <-time.After(waitTimeout):
		t.Fatal("no delivery attempt")
		return Outbound{}
	}
}

type env struct {
	ctx   context.Context
	db    *store.DB
	rt    *router.Router
	clock *router.ManualClock
	fan   *fanout
	c     router.Contact
}

// fanout lets the dispatcher join the router's notifications after both
// exist, and tells the test each time a delivery was recorded.
type fanout struct {
	mu sync.Mutex
	n  router.Notifier
	// recorded gets a token when a delivery was committed (buffered 1: a
	// token not yet taken stands for every record since).
	recorded chan struct{}
}

func (f *fanout) Notify(ns []router.Notification) {
	f.mu.Lock()
	n := f.n
	f.mu.Unlock()
	if n != nil {
		n.Notify(ns)
	}
	for _, note := range ns {
		if note.Kind == router.NoteDelivery {
			select {
			case f.recorded <- struct{}{}:
			default:
			}
		}
	}
}

func (f *fanout) set(n router.Notifier) { f.mu.Lock(); f.n = n; f.mu.Unlock() }

// newEnv opens a store in dir and a router on it with a chat contact
// assigned to alice (or finds it again, after a restart).
func newEnv(t *testing.T, dir string) *env {
	t.Helper()
	e := &env{ctx: context.Background(), clock: router.NewManualClock(epoch), fan: &fanout{recorded: make(chan struct{}, 1)}}
	var err error
	if e.db, err = store.Open(e.ctx, &store.Options{Path: filepath.Join(dir, "sb.db"), Synchronous: "normal"}); err != nil {
		t.Fatal(err)
	}
	if e.rt, err = router.New(e.db, &router.Options{Clock: e.clock, Notifier: e.fan, Outbound: []router.Channel{router.ChannelChat}}); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.rt.Close(); e.db.Close() })
	if _, ok := e.rt.Snapshot().Agent("alice"); ok {
		return e
	}
	if _, err := e.rt.PutQueue(e.ctx, router.Queue{Name: "q"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: "alice", Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.SetAgentState(e.ctx, "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	if e.c, _, err = e.rt.Submit(e.ctx, router.NewContact{Channel: router.ChannelChat, Queue: "q", Body: "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.Accept(e.ctx, e.c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) dispatcher(t *testing.T, s Sender) *Dispatcher {
	t.Helper()
	return e.dispatcherOn(t, s, e.db)
}

// dispatcherOn is dispatcher over st (e.db, or a Store wrapping it).
func (e *env) dispatcherOn(t *testing.T, s Sender, st Store) *Dispatcher {
	t.Helper()
	d, err := New(Options{Router: e.rt, Store: st, Senders: map[router.Channel]Sender{router.ChannelChat: s},
		MinBackoff: time.Second, MaxBackoff: 8 * time.Second, GiveUpAfter: time.Hour, Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.fan.set(d)
	if err := d.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func (e *env) reply(t *testing.T, body string) router.Message {
	t.Helper()
	m, _, err := e.rt.AddMessage(e.ctx, e.c.ID, router.Message{Direction: "out", Author: "alice", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// delivery waits until the stored delivery of message seq is status
// after attempts attempts.
func (e *env) delivery(t *testing.T, seq int, status router.DeliveryStatus, attempts int) router.Delivery {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		m, err := e.db.Message(e.ctx, e.c.ID, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Delivery != nil && m.Delivery.Status == status && m.Delivery.Attempts == attempts {
			return *m.Delivery
		}
		select {
		case <-e.fan.recorded: // the router committed another delivery record: look again
		case <-timeout:
			t.Fatalf("message %d: delivery %+v, want %s after %d attempts", seq, m.Delivery, status, attempts)
		}
	}
}

func TestDeliversAndRetries(t *testing.T) {
	e := newEnv(t, t.TempDir())
	s := newRecorder()
	s.times["flaky"], s.failures["flaky"] = 2, errors.New("connection reset")
	s.times["doomed"], s.failures["doomed"] = 1, fmt.Errorf("%w: no such customer", ErrPermanent)
	e.dispatcher(t, s)

	ok := e.reply(t, "hello")
	if o := s.next(t); o.Message.Body != "hello" || o.ID != router.OutboxID(e.c.ID, ok.Seq) || o.Attempt != 1 || o.Contact.ID != e.c.ID {
		t.Fatalf("first delivery: got %+v", o)
	}
	if d := e.delivery(t, ok.Seq, router.DeliveryDelivered, 1); d.Attempts != 1 {
		t.Errorf("hello: got %+v, want delivered at the first attempt", d)
	}

	flaky := e.reply(t, "flaky")
	s.next(t)
	d := e.delivery(t, flaky.Seq, router.DeliveryQueued, 1)
	if d.Attempts != 1 || d.Reason != "connection reset" {
		t.Errorf("after a failed attempt: got %+v, want queued, 1 attempt, the reason", d)
	}
	// Retries wait their backoff: 1 s ±20 %, then 2 s ±20 %.
	e.clock.Advance(1300 * time.Millisecond)
	if o := s.next(t); o.Attempt != 2 {
		t.Errorf("second attempt: got %d", o.Attempt)
	}
	e.delivery(t, flaky.Seq, router.DeliveryQueued, 2)
	e.clock.Advance(2500 * time.Millisecond)
	if o := s.next(t); o.Attempt != 3 {
		t.Errorf("third attempt: got %d", o.Attempt)
	}
	if d := e.delivery(t, flaky.Seq, router.DeliveryDelivered, 3); d.Attempts != 3 || d.Reason != "" {
		t.Errorf("flaky: got %+v, want delivered at the third attempt", d)
	}

	doomed := e.reply(t, "doomed")
	s.next(t)
	if d := e.delivery(t, doomed.Seq, router.DeliveryFailed, 1); d.Reason != "outbox: permanent failure: no such customer" {
		t.Errorf("doomed: got %+v, want failed with the reason", d)
	}
	if pending, err := e.db.PendingOutbox(e.ctx, "", 10); err != nil || len(pending) != 0 {
		t.Errorf("pending: got %+v %v, want none", pending, err)
	}
}

// An entry committed but not delivered before a crash is delivered after
// the restart, once.
func TestDeliversAfterARestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	m := e.reply(t, "before the crash") // no dispatcher: nothing delivers it
	contact := e.c
	e.rt.Close()
	e.db.Close()

	e = newEnv(t, dir)
	e.c = contact
	s := newRecorder()
	e.dispatcher(t, s)
	if o := s.next(t); o.Message.Body != "before the crash" || o.ID != router.OutboxID(contact.ID, m.Seq) {
		t.Fatalf("after the restart: got %+v", o)
	}
	e.delivery(t, m.Seq, router.DeliveryDelivered, 1)
	select {
	case o := <-s.attempts:
		t.Errorf("a second delivery: %+v", o)
	default:
	}
}

// A contact's messages are delivered in order: a later one waits while an
// earlier one is retried.
func TestInOrderPerContact(t *testing.T) {
	e := newEnv(t, t.TempDir())
	s := newRecorder()
	s.times["first"], s.failures["first"] = 1, errors.New("busy")
	e.dispatcher(t, s)
	first := e.reply(t, "first")
	if o := s.next(t); o.Message.Body != "first" {
		t.Fatalf("got %+v, want first", o)
	}
	second := e.reply(t, "second")
	e.delivery(t, first.Seq, router.DeliveryQueued, 1)
	e.clock.Advance(2 * time.Second)
	var order []string
	for range 2 {
		order = append(order, s.next(t).Message.Body)
	}
	e.delivery(t, second.Seq, router.DeliveryDelivered, 1)
	if fmt.Sprint(order) != "[first second]" {
		t.Errorf("got %v, want first then second", order)
	}
}

// After a restart, a contact's messages still go in order: a later one
// due now waits for an earlier one waiting for its retry.
func TestInOrderAfterARestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	first := e.reply(t, "first")
	second := e.reply(t, "second")
	// The first was tried once and waits for its retry, due in a minute.
	retry := router.OutboxEntry{ID: router.OutboxID(e.c.ID, first.Seq), Channel: router.ChannelChat, ContactID: e.c.ID, Seq: first.Seq,
		CreatedAt: epoch, DueAt: epoch.Add(time.Minute), Attempts: 1, LastError: "busy"}
	if err := e.rt.RecordDelivery(e.ctx, retry, &router.Delivery{Status: router.DeliveryQueued, Attempts: 1, Reason: "busy"}); err != nil {
		t.Fatal(err)
	}
	contact := e.c
	e.rt.Close()
	e.db.Close()

	e = newEnv(t, dir)
	e.c = contact
	s := newRecorder()
	e.dispatcher(t, s)
	select {
	case o := <-s.attempts:
		t.Fatalf("delivered %q before the first's retry was due", o.Message.Body)
	default:
	}
	e.clock.Advance(time.Minute)
	var order []string
	for range 2 {
		order = append(order, s.next(t).Message.Body)
	}
	if fmt.Sprint(order) != "[first second]" {
		t.Errorf("got %v, want first then second", order)
	}
	e.delivery(t, second.Seq, router.DeliveryDelivered, 1)
}

// The customer's receipts raise the delivery of the agent's messages:
// delivered, then read, never back, never a failed one.
func TestReceiptsRaiseDeliveries(t *testing.T) {
	e := newEnv(t, t.TempDir())
	s := newRecorder()
	s.times["lost"], s.failures["lost"] = 1, fmt.Errorf("%w: gone", ErrPermanent)
	d := e.dispatcher(t, s)
	var seqs []int
	for _, body := range []string{"one", "lost", "two"} {
		m := e.reply(t, body)
		s.next(t)
		seqs = append(seqs, m.Seq)
	}
	e.delivery(t, seqs[1], router.DeliveryFailed, 1)
	e.delivery(t, seqs[2], router.DeliveryDelivered, 1) // the recorder says delivered
	d.Receipt(e.c.ID, seqs[2], seqs[0])
	e.delivery(t, seqs[0], router.DeliveryRead, 1)
	// A receipt that came late moves nothing back.
	d.Receipt(e.c.ID, seqs[2], 0)
	d.Receipt(e.c.ID, seqs[2], seqs[2])
	e.delivery(t, seqs[2], router.DeliveryRead, 1)
	e.delivery(t, seqs[0], router.DeliveryRead, 1)
	if m, _ := e.db.Message(e.ctx, e.c.ID, seqs[1]); m.Delivery.Status != router.DeliveryFailed {
		t.Errorf("the failed message: got %+v, want it failed still", m.Delivery)
	}
}

// idSender is a Sender whose provider names each message it accepts.
type idSender struct{ n int }

func (s *idSender) Send(ctx context.Context, o Outbound) (router.DeliveryStatus, error) {
	sent, err := s.SendID(ctx, o)
	return sent.Status, err
}

func (s *idSender) SendID(_ context.Context, o Outbound) (Sent, error) {
	s.n++ // one contact's messages go one at a time
	return Sent{Status: router.DeliveryQueued, ExternalID: fmt.Sprintf("PROVIDER-%d", s.n)}, nil
}

// An IDSender's id of a message is stored as its external id with its
// delivery, by which the provider's later reports find it.
func TestIDSenderNamesTheMessage(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.dispatcher(t, &idSender{})
	m := e.reply(t, "hello")
	e.delivery(t, m.Seq, router.DeliveryQueued, 1)
	got, found, err := e.db.MessageByExternalID(e.ctx, "PROVIDER-1")
	if err != nil || !found || got.ContactID != e.c.ID || got.Seq != m.Seq {
		t.Fatalf("by the provider's id: %+v %v %v, want message %d of %s", got, found, err, m.Seq, e.c.ID)
	}
}

// dupSender names every message with the same id, as a broken provider
// would.
type dupSender struct{}

func (dupSender) Send(ctx context.Context, o Outbound) (router.DeliveryStatus, error) {
	return router.DeliverySent, nil
}

func (dupSender) SendID(context.Context, Outbound) (Sent, error) {
	return Sent{Status: router.DeliverySent, ExternalID: "SAME"}, nil
}

// A provider that names a second message with the first one's id does
// not take the router down (the store's unique key would fail the
// commit): the second delivery is recorded without the id.
func TestIDSenderDuplicateIDDropped(t *testing.T) {
	e := newEnv(t, t.TempDir())
	e.dispatcher(t, dupSender{})
	m1 := e.reply(t, "one")
	e.delivery(t, m1.Seq, router.DeliverySent, 1)
	m2 := e.reply(t, "two")
	e.delivery(t, m2.Seq, router.DeliverySent, 1)
	got, found, err := e.db.MessageByExternalID(e.ctx, "SAME")
	if err != nil || !found || got.Seq != m1.Seq {
		t.Fatalf("SAME names %+v (%v %v), want the first message", got, found, err)
	}
	select {
	case <-e.rt.Failed():
		t.Fatalf("the router stopped: %v", e.rt.Err())
	default:
	}
}

// readsAfter is a Store that records the afterSeq of each Messages read.
type readsAfter struct {
	Store
	mu    sync.Mutex
	after []int
}

func (s *readsAfter) Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error) {
	s.mu.Lock()
	s.after = append(s.after, afterSeq)
	s.mu.Unlock()
	return s.Store.Messages(ctx, id, afterSeq, limit)
}

// A receipt reads only the messages after those an earlier receipt
// raised to its status, not the conversation from its start.
func TestReceiptsReadOnlyWhatIsNew(t *testing.T) {
	e := newEnv(t, t.TempDir())
	s := newRecorder()
	reads := &readsAfter{Store: e.db}
	d := e.dispatcherOn(t, s, reads)
	var seqs []int
	for _, body := range []string{"one", "two"} {
		m := e.reply(t, body)
		s.next(t)
		// Its attempt recorded before the receipt: a read first would
		// leave the record of the send behind it, a status back.
		e.delivery(t, m.Seq, router.DeliveryDelivered, 1)
		seqs = append(seqs, m.Seq)
	}
	d.Receipt(e.c.ID, 0, seqs[0])
	e.delivery(t, seqs[0], router.DeliveryRead, 1)
	d.Receipt(e.c.ID, 0, seqs[1])
	e.delivery(t, seqs[1], router.DeliveryRead, 1)
	d.Receipt(e.c.ID, 0, seqs[1]) // nothing new: nothing read
	d.Close()
	reads.mu.Lock()
	defer reads.mu.Unlock()
	// The three receipts: from the start, after the first, not at all.
	if fmt.Sprint(reads.after) != fmt.Sprint([]int{0, seqs[0]}) {
		t.Errorf("the receipts read after %v, want 0 then %d", reads.after, seqs[0])
	}
}

// blockedReads is a Store whose Messages wait until released, and say
// when the first began.
type blockedReads struct {
	Store
	began   chan struct{}
	once    sync.Once
	release chan struct{}
}

func (s *blockedReads) Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error) {
	s.once.Do(func() { close(s.began) })
	<-s.release
	return s.Store.Messages(ctx, id, afterSeq, limit)
}

// A burst of receipts while the store is slow costs a few goroutines
// and one entry per contact, not a goroutine per receipt: the soak at
// 200 contacts a second had 20,000 receipts waiting, each on its own
// goroutine. The receipts of a contact that wait are merged, and still
// raise its messages.
func TestReceiptsBurstIsBounded(t *testing.T) {
	e := newEnv(t, t.TempDir())
	s := newRecorder()
	reads := &blockedReads{Store: e.db, began: make(chan struct{}), release: make(chan struct{})}
	d := e.dispatcherOn(t, s, reads)
	m := e.reply(t, "one")
	s.next(t)
	before := runtime.NumGoroutine()
	for i := range 2000 {
		d.Receipt(fmt.Sprintf("other-%03d", i%200), 1, 1)
		d.Receipt(e.c.ID, m.Seq, 0)
	}
	d.Receipt(e.c.ID, m.Seq, m.Seq)
	<-reads.began
	if grew := runtime.NumGoroutine() - before; grew > receiptWorkers {
		t.Errorf("%d goroutines more for 4,001 receipts, want at most %d", grew, receiptWorkers)
	}
	d.mu.Lock()
	waiting := len(d.receipts)
	d.mu.Unlock()
	if waiting > 201 {
		t.Errorf("%d receipts waiting, want one per contact (201 at most)", waiting)
	}
	close(reads.release)
	e.delivery(t, m.Seq, router.DeliveryRead, 1)
}

// gate is a Sender whose attempts each wait for a release, and fail
// with a retryable error naming the customer's address.
type gate struct {
	started chan Outbound
	release chan struct{}
}

func (g *gate) Send(ctx context.Context, o Outbound) (router.DeliveryStatus, error) {
	g.started <- o
	select {
	case <-g.release:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return "", errors.New("452 <ada@example.com>: mailbox full")
}

// erasable makes e's contact Ada's (a stored customer) and returns the
// dispatcher over s, with a reply to Ada on its way.
func (e *env) erasable(t *testing.T, s Sender) (*Dispatcher, router.Message) {
	t.Helper()
	if _, err := e.rt.CloseContact(e.ctx, e.c.ID, "alice", "resolved", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.PutCustomer(e.ctx, store.Customer{ID: "ada", Name: "Ada", CreatedAt: epoch, UpdatedAt: epoch}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.c, _, err = e.rt.Submit(e.ctx, router.NewContact{Channel: router.ChannelChat, Queue: "q", Body: "hi",
		Customer: router.Customer{ID: "ada", Name: "Ada", Verified: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.Accept(e.ctx, e.c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	d := e.dispatcher(t, s)
	return d, e.reply(t, "for ada")
}

// erase closes the contact and erases Ada.
func (e *env) erase(t *testing.T) {
	t.Helper()
	if _, err := e.rt.CloseContact(e.ctx, e.c.ID, "alice", "resolved", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.db.EraseCustomer(e.ctx, "ada", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
}

// backlogEmpties waits until d holds nothing.
func backlogEmpties(t *testing.T, d *Dispatcher) {
	t.Helper()
	deadline := time.After(waitTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for d.Backlog() != 0 {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("backlog %d, want 0", d.Backlog())
		}
	}
}

// cancelled checks that message seq's delivery is as the erasure left
// it: failed, cancelled, nothing of the attempts' errors.
func (e *env) cancelled(t *testing.T, seq int) {
	t.Helper()
	m, err := e.db.Message(e.ctx, e.c.ID, seq)
	if err != nil {
		t.Fatal(err)
	}
	if m.Delivery == nil || m.Delivery.Status != router.DeliveryFailed || m.Delivery.Reason != store.ErasedOutboxReason {
		t.Errorf("the reply's delivery: got %+v, want failed, cancelled by the erasure", m.Delivery)
	}
}

// A customer erased while a reply to them waits for its retry: the store
// cancels it, and the dispatcher, at the retry's time, drops it unsent.
func TestErasureCancelsARetry(t *testing.T) {
	e := newEnv(t, t.TempDir())
	s := newRecorder()
	s.times["for ada"], s.failures["for ada"] = 5, errors.New("452 <ada@example.com>: mailbox full")
	d, m := e.erasable(t, s)
	s.next(t)
	e.delivery(t, m.Seq, router.DeliveryQueued, 1)
	e.erase(t)
	e.cancelled(t, m.Seq)
	e.clock.Advance(10 * time.Second) // past the retry's backoff
	backlogEmpties(t, d)
	select {
	case o := <-s.attempts:
		t.Errorf("an attempt after the erasure: %+v", o)
	default:
	}
	e.cancelled(t, m.Seq)
}

// A customer erased while an attempt to reach them is under way: its
// failure is neither recorded nor retried.
func TestErasureDuringAnAttempt(t *testing.T) {
	e := newEnv(t, t.TempDir())
	g := &gate{started: make(chan Outbound, 1), release: make(chan struct{})}
	d, m := e.erasable(t, g)
	select {
	case <-g.started:
	case <-time.After(waitTimeout):
		t.Fatal("no attempt")
	}
	e.erase(t)
	close(g.release)
	backlogEmpties(t, d)
	e.cancelled(t, m.Seq)
	e.clock.Advance(10 * time.Second)
	select {
	case o := <-g.started:
		t.Errorf("a retry after the erasure: %+v", o)
	default:
	}
}
