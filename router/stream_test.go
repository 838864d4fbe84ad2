package router

import (
	"context"
	"sync"
	"testing"
	"time"
)

// waitBound bounds every wait for a batch: a failure bound, never a
// synchronisation.
const waitBound = 10 * time.Second

func next(t *testing.T, sub *Subscription) Published {
	t.Helper()
	select {
	case p, ok := <-sub.C:
		if !ok {
			t.Fatalf("subscription ended: %v", sub.Err())
		}
		return p
	case <-time.After(waitBound):
		t.Fatal("no batch published")
		return Published{}
	}
}

func TestSubscribeSnapshotThenBatches(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	sub, snap := h.r.Subscribe(16)
	defer sub.Close()
	if _, ok := snap.Queue("q"); !ok {
		t.Fatal("the snapshot lacks what was committed before")
	}
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	var got []NoteKind
	last := snap.Seq()
	for len(got) < 2 {
		p := next(t, sub)
		if p.Seq <= last {
			t.Fatalf("batch %d after %d: out of order", p.Seq, last)
		}
		last = p.Seq
		for _, n := range p.Notes {
			if n.Contact != nil && n.Contact.ID == c.ID {
				got = append(got, n.Kind)
			}
		}
	}
	if got[0] != NoteContact || got[1] != NoteMessage {
		t.Errorf("got %v, want the contact then its message", got)
	}
	if s := h.r.Snapshot(); s.Seq() < last {
		t.Errorf("a later snapshot's seq %d is below the batch %d it reflects", s.Seq(), last)
	}
}

// A subscriber that does not read is dropped; the router goes on.
func TestSlowSubscriberDropped(t *testing.T) {
	h := newHarness(t, nil)
	sub, _ := h.r.Subscribe(1)
	for i := range 3 {
		h.queue(Queue{Name: string(rune('a' + i))})
	}
	deadline := time.After(waitBound)
	for {
		select {
		case _, ok := <-sub.C:
			if !ok {
				if sub.Err() != ErrSlow {
					t.Fatalf("got %v, want ErrSlow", sub.Err())
				}
				return
			}
		case <-deadline:
			t.Fatal("the slow subscription was not dropped")
		}
	}
}

// Follow resubscribes a dropped subscriber and lets it catch up from a
// snapshot that holds what it missed.
func TestFollowResyncs(t *testing.T) {
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	var once sync.Once
	blocked := make(chan struct{})
	n := NotifierFunc(func([]Notification) {
		once.Do(func() { close(blocked); <-release })
	})
	resynced := make(chan *Snapshot, 1)
	done := make(chan error, 1)
	h.agent("alice", sk(), nil, AgentAway)
	sub, snap := h.r.Subscribe(1)
	go func() { done <- h.r.Follow(ctx, sub, snap, n, func(s *Snapshot) { resynced <- s }) }()
	h.state("alice", AgentAvailable, "")
	select {
	case <-blocked:
	case <-time.After(waitBound):
		t.Fatal("the notifier was not called")
	}
	for _, st := range []AgentState{AgentAway, AgentAvailable, AgentAway} {
		h.state("alice", st, "") // fills the buffer of 1 while the notifier blocks
	}
	h.queue(Queue{Name: "z"})
	close(release)
	select {
	case s := <-resynced:
		if _, ok := s.Queue("z"); !ok {
			t.Error("the resync snapshot lacks what the dropped subscriber missed")
		}
	case <-time.After(waitBound):
		t.Fatal("no resync after the drop")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Follow: got %v, want context.Canceled", err)
	}
}

// Notifications carry the objects as they stood when decided, not as the
// rest of the batch left them.
func TestNotificationsDoNotAlias(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{Queue: "q", Body: "hi"})
	if got := h.live(c.ID).State; got != ContactOffered {
		t.Fatalf("got %s, want offered in the same batch", got)
	}
	for _, n := range h.notesOf(NoteMessage, "") {
		if n.Contact.ID == c.ID && n.Contact.State != ContactQueued {
			t.Errorf("the message's contact: got %s, want queued as when the message was added", n.Contact.State)
		}
	}
}

// A signal reaches every subscriber at once, also one whose snapshot is
// ahead of the last batch, and changes nothing.
func TestAnnounce(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	sub, snap := h.r.Subscribe(4)
	defer sub.Close()
	h.r.Announce(Signal{Kind: SignalTyping, ContactID: "c1", From: AuthorCustomer})
	p := next(t, sub)
	if !p.Ephemeral || len(p.Notes) != 1 || p.Notes[0].Kind != NoteSignal || p.Notes[0].Signal.ContactID != "c1" {
		t.Fatalf("got %+v, want the signal", p)
	}
	got := make(chan *Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub2, snap2 := h.r.Subscribe(4)
	go h.r.Follow(ctx, sub2, snap2, NotifierFunc(func(ns []Notification) {
		for _, n := range ns {
			if n.Kind == NoteSignal {
				got <- n.Signal
			}
		}
	}), nil)
	h.r.Announce(Signal{Kind: SignalRead, ContactID: "c1", From: AuthorAgent, UpToSeq: 3})
	select {
	case s := <-got:
		if s.Kind != SignalRead || s.UpToSeq != 3 {
			t.Errorf("got %+v", s)
		}
	case <-time.After(waitBound):
		t.Fatal("Follow skipped the signal")
	}
	if h.r.Snapshot().Seq() != snap.Seq() {
		t.Error("a signal made a batch")
	}
}
