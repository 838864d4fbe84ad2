package chat

import (
	"sync"
	"time"
)

// maxLimiterKeys is how many keys a limiter holds before it forgets the
// expired ones.
const maxLimiterKeys = 10000

// limiter allows at most n events per key in each fixed window. It is
// safe for concurrent use.
type limiter struct {
	n      int
	window time.Duration

	mu   sync.Mutex
	keys map[string]*bucket // guarded by mu
}

type bucket struct {
	start time.Time
	used  int
}

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, keys: map[string]*bucket{}}
}

// allow counts one event of key at now and reports whether it is within
// the limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.keys[key]
	if b == nil || now.Sub(b.start) >= l.window || now.Before(b.start) {
		if b == nil && len(l.keys) >= maxLimiterKeys {
			for k, o := range l.keys {
				if now.Sub(o.start) >= l.window {
					delete(l.keys, k)
				}
			}
		}
		b = &bucket{start: now}
		l.keys[key] = b
	}
	if b.used >= l.n {
		return false
	}
	b.used++
	return true
}
