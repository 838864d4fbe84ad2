// Package backoff is the one rule of how long to wait before retrying a
// delivery (the outbox's messages, the webhooks' events): capped
// exponential backoff with jitter, so that many retries started together
// spread out instead of arriving at once.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Delay is the wait before retry n (n ≥ 1): lo doubled n-1 times, capped
// at hi, then ±20 % jitter.
func Delay(n int, lo, hi time.Duration) time.Duration {
	b := lo
	for i := 1; i < n && b < hi; i++ {
		b *= 2
	}
	b = min(b, hi)
	jitter := time.Duration(rand.Int64N(int64(b)/5*2+1)) - b/5
	return b + jitter
}
