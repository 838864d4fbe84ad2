package api

import (
	"hash/maphash"
	"sync"
	"time"
)

// Bounds of the login limiter.
const (
	// maxLimiterKeys bounds the keys the login limiter keeps. A key is a
	// 64-bit hash and its entry 16 bytes, whatever the address or login
	// id, so a full limiter holds about 3 MiB (TestLimiterMemory). Beyond
	// it, keys whose failures are forgotten are swept, then the keys with
	// the fewest failures.
	maxLimiterKeys = 50_000
	// maxDelayShift caps the growing delay: at most FailureWindow << 6,
	// 64 minutes by default.
	maxDelayShift = 6
	// inFlightWait is the Retry-After of an attempt refused because
	// earlier ones of its key are still being checked.
	inFlightWait = time.Second
)

// limitKey is what the limiter counts failures of: the hash of an
// address, or of an address and a login id, and how many failures it
// may have before each further one is delayed.
type limitKey struct {
	hash uint64
	max  int
}

// limitEntry is the state of one key.
type limitEntry struct {
	// fails counts the key's failures since it was last forgotten.
	fails int32
	// pending counts the attempts begun and not yet ended.
	pending int32
	// last is the time of the last failure, in Unix nanoseconds.
	last int64
}

// limiter limits failed logins per key with growing delays. A key may
// fail max times in a row, each failure within FailureWindow of the
// previous one, freely; after the max-th failure it waits FailureWindow,
// and each further failure doubles the wait (up to FailureWindow <<
// maxDelayShift). A key that has not failed for FailureWindow after its
// wait ended is forgotten. An attempt is begun before its password is
// checked and ended after, so that concurrent guesses cannot all pass the
// check before the first one fails: a key has at most max − fails
// attempts in flight, and one once it must wait. It is safe for
// concurrent use.
type limiter struct {
	window time.Duration
	seed   maphash.Seed

	mu sync.Mutex
	// entries holds the keys with failures or attempts in flight; at
	// most maxLimiterKeys (but for keys with attempts in flight when it
	// is full); guarded by mu.
	entries map[uint64]limitEntry
}

func newLimiter(window time.Duration) *limiter {
	return &limiter{window: window, seed: maphash.MakeSeed(), entries: map[uint64]limitEntry{}}
}

// key returns the key of parts (a kind, then values) that may fail max
// times before waiting. Its size does not depend on the parts'.
func (l *limiter) key(max int, parts ...string) limitKey {
	var h maphash.Hash
	h.SetSeed(l.seed)
	for _, p := range parts {
		h.WriteString(p)
		h.WriteByte(0)
	}
	return limitKey{hash: h.Sum64(), max: max}
}

// delay is how long a key must wait after its last failure.
func (l *limiter) delay(k limitKey, e limitEntry) time.Duration {
	if int(e.fails) < k.max {
		return 0
	}
	return l.window << min(int(e.fails)-k.max, maxDelayShift)
}

// forgotten reports whether e may be dropped at now.
func (l *limiter) forgotten(k limitKey, e limitEntry, now time.Time) bool {
	if e.pending > 0 {
		return false
	}
	return !now.Before(time.Unix(0, e.last).Add(l.delay(k, e) + l.window))
}

// begin starts an attempt for every key at now, unless one of them must
// wait: then it starts nothing and returns how long until it may try.
// Every begin that returns ok must be followed by one end with the same
// keys.
func (l *limiter) begin(now time.Time, keys ...limitKey) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		e, known := l.entries[k.hash]
		if !known {
			continue
		}
		if l.forgotten(k, e, now) {
			delete(l.entries, k.hash)
			continue
		}
		if until := time.Unix(0, e.last).Add(l.delay(k, e)); now.Before(until) {
			wait = max(wait, until.Sub(now))
		} else if e.pending > 0 && int(e.fails+e.pending) >= k.max {
			wait = max(wait, inFlightWait)
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, k := range keys {
		e, known := l.entries[k.hash]
		if !known && len(l.entries) >= maxLimiterKeys {
			l.evict(now)
		}
		e.pending++
		l.entries[k.hash] = e
	}
	return 0, true
}

// Outcomes of an attempt, for end.
const (
	// attemptFailed counts a failure against the key.
	attemptFailed = iota
	// attemptUncounted counts nothing: the attempt did not get to check
	// a password (the store failed).
	attemptUncounted
	// attemptSucceeded forgets the key's failures.
	attemptSucceeded
)

// end ends an attempt begun for key at now with its outcome.
func (l *limiter) end(now time.Time, k limitKey, outcome int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, known := l.entries[k.hash]
	if !known {
		return // evicted while in flight
	}
	e.pending = max(e.pending-1, 0)
	switch outcome {
	case attemptFailed:
		e.fails++
		e.last = now.UnixNano()
	case attemptSucceeded:
		e.fails = 0
	}
	if e.fails == 0 && e.pending == 0 {
		delete(l.entries, k.hash)
		return
	}
	l.entries[k.hash] = e
}

// evict makes room in a full limiter: it drops the forgotten keys, then,
// if fewer than a tenth went, the keys with the fewest failures until a
// tenth has gone. Keys with attempts in flight stay. The max of a key is
// not kept: forgotten is judged with the largest delay the key could
// have (max 1), which keeps a key too long rather than too short.
func (l *limiter) evict(now time.Time) {
	target := maxLimiterKeys - maxLimiterKeys/10
	byFails := map[int32]int{}
	for h, e := range l.entries {
		if l.forgotten(limitKey{hash: h, max: 1}, e, now) {
			delete(l.entries, h)
		} else if e.pending == 0 {
			byFails[e.fails]++
		}
	}
	if len(l.entries) <= target {
		return
	}
	// The fewest failures whose keys, with those of fewer, make room.
	excess, cut := len(l.entries)-target, int32(0)
	for n := 0; n < excess && len(byFails) > 0; cut++ {
		n += byFails[cut]
		delete(byFails, cut)
	}
	for h, e := range l.entries {
		if excess == 0 {
			break
		}
		if e.pending == 0 && e.fails < cut {
			delete(l.entries, h)
			excess--
		}
	}
}
