package router

import (
	"container/heap"
	"time"
)

type timerKind uint8

const (
	// timerContact: look at a contact (offer expiry, relaxation step,
	// preferred-agent timeout, maximum wait).
	timerContact timerKind = iota
	// timerAgent: look at an agent (end of wrap-up).
	timerAgent
	// timerKey: forget an idempotency key.
	timerKey
	// timerExternal: forget a message's external id (the store keeps it).
	timerExternal
)

// timerEntry asks the router to look at one object at a time. Entries are
// never cancelled: one that comes due when nothing is due any more does
// nothing, which keeps every state change free of timer bookkeeping.
type timerEntry struct {
	at   time.Time
	kind timerKind
	id   string
}

// timerHeap is a min-heap of entries by time. Owned by the loop goroutine.
type timerHeap struct{ h entries }

type entries []timerEntry

func (e entries) Len() int           { return len(e) }
func (e entries) Less(i, j int) bool { return e[i].at.Before(e[j].at) }
func (e entries) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *entries) Push(x any)        { *e = append(*e, x.(timerEntry)) }
func (e *entries) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

func (t *timerHeap) push(e timerEntry) { heap.Push(&t.h, e) }

func (t *timerHeap) peek() (time.Time, bool) {
	if len(t.h) == 0 {
		return time.Time{}, false
	}
	return t.h[0].at, true
}

// popDue removes and returns the earliest entry due at now.
func (t *timerHeap) popDue(now time.Time) (timerEntry, bool) {
	if len(t.h) == 0 || t.h[0].at.After(now) {
		return timerEntry{}, false
	}
	return heap.Pop(&t.h).(timerEntry), true
}
