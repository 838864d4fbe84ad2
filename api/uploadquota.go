package api

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultUploadBytesPerHour is Options.UploadBytesPerHour's default.
const DefaultUploadBytesPerHour = 1 << 30

// uploadQuota bounds the bytes each caller uploads (POST
// /api/v1/attachments) in an hour: a token bucket per caller (its
// principal's name) of perHour bytes, refilled continuously. An upload
// is taken while the caller's bucket is not empty, and its size is then
// debited, into debt if need be (the size is known only once it is
// read): a caller uploads at most perHour plus one file's limit in any
// hour, and, in debt, waits until the bucket refills. Files nobody sends
// are swept after attachments.sweep_after, so this bounds what one
// caller can pile up on the disk meanwhile.
type uploadQuota struct {
	perHour int64
	now     func() time.Time

	mu      sync.Mutex
	callers map[string]*rate.Limiter // guarded by mu
}

func newUploadQuota(perHour int64, now func() time.Time) *uploadQuota {
	return &uploadQuota{perHour: perHour, now: now, callers: map[string]*rate.Limiter{}}
}

func (q *uploadQuota) limiter(caller string) *rate.Limiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.callers[caller]
	if l == nil {
		// The burst is the whole hour's bytes (capped at what an int
		// holds): a caller may upload it at once, then at the hour's rate.
		l = rate.NewLimiter(rate.Limit(float64(q.perHour)/3600), int(min(q.perHour, math.MaxInt32)))
		q.callers[caller] = l
	}
	return l
}

// admit reports whether caller may upload now, and if not, how long
// until they may.
func (q *uploadQuota) admit(caller string) (time.Duration, bool) {
	l := q.limiter(caller)
	now := q.now()
	if tokens := l.TokensAt(now); tokens < 1 {
		return time.Duration((1 - tokens) / float64(l.Limit()) * float64(time.Second)), false
	}
	return 0, true
}

// debit takes n uploaded bytes from caller's bucket.
func (q *uploadQuota) debit(caller string, n int64) {
	l := q.limiter(caller)
	for n > 0 {
		// ReserveN takes at most the burst at once, into debt.
		k := min(n, int64(l.Burst()))
		l.ReserveN(q.now(), int(k))
		n -= k
	}
}
