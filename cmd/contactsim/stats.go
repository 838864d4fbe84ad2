package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Latencies collects durations and answers their percentiles. Safe for
// concurrent use.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration // guarded by mu
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Count is how many were recorded.
func (l *Latencies) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Percentiles returns the ps percentiles (0 < p ≤ 100) of what was
// recorded, by the nearest-rank method; zeros when nothing was.
func (l *Latencies) Percentiles(ps ...float64) []time.Duration {
	l.mu.Lock()
	d := slices.Clone(l.d)
	l.mu.Unlock()
	return Percentiles(d, ps...)
}

// Percentiles returns the ps percentiles of d by the nearest-rank method:
// the smallest value with at least p % of the values at or below it. It
// sorts d.
func Percentiles(d []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(d) == 0 {
		return out
	}
	slices.Sort(d)
	for i, p := range ps {
		rank := int(math.Ceil(p / 100 * float64(len(d))))
		rank = min(max(rank, 1), len(d))
		out[i] = d[rank-1]
	}
	return out
}

// ms is d in milliseconds, to 0.01 ms.
func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*100) / 100
}
