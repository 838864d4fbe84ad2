package router

import (
	"context"
	"errors"
	"sync"
)

// ErrSlow ends a Subscription whose subscriber fell behind: its buffer
// was full when a batch was published. The subscriber resubscribes and
// starts again from the new snapshot (Follow does it).
var ErrSlow = errors.New("router: subscriber too slow; resubscribe")

// Published is what one committed batch changed, as notifications, in
// the order the router decided them. Seq numbers the batches; a snapshot
// reflects every batch up to its Seq.
type Published struct {
	Seq   uint64
	Notes []Notification
	// Touched is what the batch changed in the live state, for readers
	// that keep their own view of it (BatchNotifier).
	Touched Touched
	// Ephemeral is set on announced signals (Announce): they belong to
	// no batch and no snapshot holds them; Seq is the last batch's then.
	Ephemeral bool
}

// Touched names what one batch changed in the live state: every agent
// and contact it wrote or removed, whatever the reason, so that a reader
// keeping its own view of them (the supervisors' board) reads only
// those again from a snapshot. The router's writes record it (putAgent,
// putContact), not each command.
type Touched struct {
	// Agents are the ids of the agents changed or deleted.
	Agents []string
	// Contacts are the ids of the contacts changed or ended.
	Contacts []string
	// Definitions is set when a queue was put or deleted, or the state
	// was loaded from the store: a reader's view is to be built anew.
	Definitions bool
}

// Empty says whether t names nothing.
func (t Touched) Empty() bool {
	return len(t.Agents) == 0 && len(t.Contacts) == 0 && !t.Definitions
}

// BatchNotifier is a Notifier that also hears what each batch touched:
// the router (Options.Notifier) and Follow call NotifyBatch, instead of
// Notify, with every batch that notifies or touches something (after
// the snapshot, for Follow) and every announced signal.
type BatchNotifier interface {
	Notifier
	NotifyBatch(p Published)
}

// Announce tells every subscription of s at once, best effort: it is
// stored nowhere and a subscriber that resynchronises does not get it
// again. It never blocks.
func (r *Router) Announce(s Signal) {
	r.stream.publish(Published{Ephemeral: true, Notes: []Notification{{Kind: NoteSignal, Signal: &s}}})
}

// DefaultSubscriptionBuffer is how many batches a subscription holds
// when Subscribe is given 0.
const DefaultSubscriptionBuffer = 1024

// Subscription receives, on C, every batch committed after it began. It
// never slows the router: a subscriber whose buffer is full is dropped (C
// is closed and Err is ErrSlow). Close it when done. Safe for concurrent
// use.
type Subscription struct {
	// C delivers the batches in order; it is closed when the
	// subscription ends.
	C <-chan Published

	c  chan Published
	r  *Router
	mu sync.Mutex
	// err is why it ended; guarded by mu.
	err  error
	done bool // guarded by mu
}

// stream fans the committed batches out to the subscriptions.
type stream struct {
	mu   sync.Mutex
	subs map[*Subscription]bool // guarded by mu
}

// Subscribe returns a subscription to the batches committed from now on
// and a snapshot of the state that they follow. The snapshot may already
// reflect the first batches the subscription delivers: skip those whose
// Seq is not above the snapshot's Seq. buffer is how many batches may
// wait (0: DefaultSubscriptionBuffer).
func (r *Router) Subscribe(buffer int) (*Subscription, *Snapshot) {
	if buffer <= 0 {
		buffer = DefaultSubscriptionBuffer
	}
	s := &Subscription{c: make(chan Published, buffer), r: r}
	s.C = s.c
	r.stream.mu.Lock()
	defer r.stream.mu.Unlock()
	if r.stream.subs == nil {
		r.stream.subs = map[*Subscription]bool{}
	}
	r.stream.subs[s] = true
	// Taken with the stream locked: every batch published from now on
	// reaches s, and the snapshot holds at least every batch published
	// before.
	return s, r.Snapshot()
}

// Err says why the subscription ended: ErrSlow, ErrClosed (the router
// stopped) or nil (Close).
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.r.stream.mu.Lock()
	defer s.r.stream.mu.Unlock()
	s.endLocked(nil)
}

// endLocked closes s with err; the stream's lock is held.
func (s *Subscription) endLocked(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done, s.err = true, err
	delete(s.r.stream.subs, s)
	close(s.c)
}

// publish hands a committed batch to every subscription, dropping those
// whose buffer is full. It never waits.
func (st *stream) publish(p Published) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for s := range st.subs {
		select {
		case s.c <- p:
		default:
			s.endLocked(ErrSlow)
		}
	}
}

// closeAll ends every subscription with err: the router stopped.
func (st *stream) closeAll(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for s := range st.subs {
		s.endLocked(err)
	}
}

// Follow hands n the notifications of every batch of sub (made with
// snap by Subscribe) newer than snap, in order, until ctx ends or the
// router stops. When the subscription is dropped for being slow, it
// subscribes again (with the same buffer) and calls resync (if not nil)
// with the new snapshot, so that n catches up with what it missed, then
// goes on. It returns why it stopped. Subscribe before starting what
// must not miss a batch, then run Follow in its own goroutine:
//
//	sub, snap := rt.Subscribe(0)
//	go rt.Follow(ctx, sub, snap, hub, hub.Resync)
func (r *Router) Follow(ctx context.Context, sub *Subscription, snap *Snapshot, n Notifier, resync func(*Snapshot)) error {
	buffer := cap(sub.c)
	for {
		err := follow(ctx, sub, snap.Seq(), n)
		sub.Close()
		if !errors.Is(err, ErrSlow) {
			return err
		}
		r.log.Warn("router: a subscriber fell behind; resynchronising it")
		sub, snap = r.Subscribe(buffer)
		if resync != nil {
			resync(snap)
		}
	}
}

// follow delivers sub's batches newer than seq to n.
func follow(ctx context.Context, sub *Subscription, seq uint64, n Notifier) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p, ok := <-sub.C:
			if !ok {
				return sub.Err()
			}
			if !p.Ephemeral && p.Seq <= seq {
				continue
			}
			tell(n, p)
		}
	}
}
