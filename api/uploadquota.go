package api

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultUploadBytesPerHour is Options.UploadBytesPerHour's default.
const DefaultUploadBytesPerHour = 1 << 30

// uploadQuota bounds the bytes each caller uploads (POST
// /api/v1/attachments): a token bucket per caller (its principal's name)
// that holds perHour bytes and refills at perHour an hour. An upload
// starts while the caller's bucket is not empty, and its size is debited
// once read (it is known only then), into debt if need be; a caller's
// uploads go one at a time, so the bucket is passed by one file at most.
// A caller in debt waits until the bucket refills. Files nobody sends
// are swept after attachments.sweep_after: this bounds what one caller
// piles up meanwhile.
type uploadQuota struct {
	perHour int64
	now     func() time.Time

	mu      sync.Mutex
	callers map[string]*uploader // guarded by mu
}

// uploader is one caller's bucket and turn.
type uploader struct {
	bucket *rate.Limiter
	turn   chan struct{} // holds a token while the caller uploads
}

func newUploadQuota(perHour int64, now func() time.Time) *uploadQuota {
	return &uploadQuota{perHour: perHour, now: now, callers: map[string]*uploader{}}
}

func (q *uploadQuota) uploader(caller string) *uploader {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.callers[caller]
	if u == nil {
		// The burst is the hour's bytes (capped at what an int holds).
		u = &uploader{
			bucket: rate.NewLimiter(rate.Limit(float64(q.perHour)/3600), int(min(q.perHour, math.MaxInt32))),
			turn:   make(chan struct{}, 1),
		}
		q.callers[caller] = u
	}
	return u
}

// begin waits for caller's turn and admits the upload: done debits the
// bytes read and ends the turn. Over the quota, done is nil and wait
// says how long until the caller may upload again.
func (q *uploadQuota) begin(ctx context.Context, caller string) (done func(n int64), wait time.Duration, err error) {
	u := q.uploader(caller)
	select {
	case u.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	now := q.now()
	if tokens := u.bucket.TokensAt(now); tokens < 1 {
		<-u.turn
		return nil, time.Duration((1 - tokens) / float64(u.bucket.Limit()) * float64(time.Second)), nil
	}
	return func(n int64) {
		for n > 0 {
			// ReserveN takes at most the burst at once, into debt.
			k := min(n, int64(u.bucket.Burst()))
			u.bucket.ReserveN(q.now(), int(k))
			n -= k
		}
		<-u.turn
	}, 0, nil
}
