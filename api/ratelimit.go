package api

import (
	"sync"
	"time"
)

// maxLimiterKeys bounds the memory of the login limiter: beyond it, keys
// whose window has passed are swept, and if that is not enough an
// arbitrary key is forgotten.
const maxLimiterKeys = 100_000

// limiter counts login attempts per key (a client address or a login id)
// in a sliding window. An attempt is counted when it starts, so that
// concurrent guesses cannot all pass the check before the first one
// fails, and forgiven if it succeeds. It is safe for concurrent use.
type limiter struct {
	max    int
	window time.Duration

	mu sync.Mutex
	// attempts holds, per key, the start times of its attempts within the
	// window, oldest first; guarded by mu.
	attempts map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, attempts: map[string][]time.Time{}}
}

// begin counts an attempt for every key at now, unless one of them has
// used up its attempts: then it counts nothing and returns how long until
// that key may try again.
func (l *limiter) begin(now time.Time, keys ...string) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := l.prune(k, now)
		if len(ts) >= l.max {
			wait = max(wait, ts[0].Add(l.window).Sub(now))
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, k := range keys {
		if _, known := l.attempts[k]; !known && len(l.attempts) >= maxLimiterKeys {
			l.sweep(now)
		}
		l.attempts[k] = append(l.attempts[k], now)
	}
	return 0, true
}

// forgive takes back the attempt begun at at for each key: it succeeded.
func (l *limiter) forgive(at time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := l.attempts[k]
		for i := len(ts) - 1; i >= 0; i-- {
			if ts[i].Equal(at) {
				ts = append(ts[:i], ts[i+1:]...)
				break
			}
		}
		if len(ts) == 0 {
			delete(l.attempts, k)
		} else {
			l.attempts[k] = ts
		}
	}
}

// prune drops k's attempts older than the window and returns the rest.
func (l *limiter) prune(k string, now time.Time) []time.Time {
	ts := l.attempts[k]
	i := 0
	for i < len(ts) && !ts[i].Add(l.window).After(now) {
		i++
	}
	if i == len(ts) {
		delete(l.attempts, k)
		return nil
	}
	if i > 0 {
		ts = append(ts[:0], ts[i:]...)
		l.attempts[k] = ts
	}
	return ts
}

// sweep forgets every key whose attempts are all older than the window,
// then, if the map is still full, one more key.
func (l *limiter) sweep(now time.Time) {
	for k := range l.attempts {
		l.prune(k, now)
	}
	for k := range l.attempts {
		if len(l.attempts) < maxLimiterKeys {
			break
		}
		delete(l.attempts, k)
	}
}
