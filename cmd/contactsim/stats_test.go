package main

import (
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * time.Millisecond // unsorted: 100 … 1
	}
	for _, tc := range []struct {
		name string
		d    []time.Duration
		ps   []float64
		want []time.Duration
	}{
		{"empty", nil, []float64{50, 99}, []time.Duration{0, 0}},
		{"one", []time.Duration{7}, []float64{1, 50, 100}, []time.Duration{7, 7, 7}},
		{"hundred", hundred, []float64{1, 50, 95, 99, 100}, []time.Duration{1 * time.Millisecond, 50 * time.Millisecond, 95 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond}},
		// Nearest rank: p50 of 4 values is the 2nd, p51 the 3rd, p99 the 4th.
		{"four", []time.Duration{40, 10, 30, 20}, []float64{50, 51, 99}, []time.Duration{20, 30, 40}},
		{"tail", []time.Duration{1, 1, 1, 1, 1, 1, 1, 1, 1, 1000}, []float64{50, 90, 91}, []time.Duration{1, 1, 1000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Percentiles(tc.d, tc.ps...)
			for i := range tc.ps {
				if got[i] != tc.want[i] {
					t.Errorf("p%v: got %v, want %v", tc.ps[i], got[i], tc.want[i])
				}
			}
		})
	}
}

func TestLatenciesConcurrent(t *testing.T) {
	var l Latencies
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 1; i <= 250; i++ {
				l.Add(time.Duration(g*250+i) * time.Microsecond)
			}
		}()
	}
	for range 4 {
		<-done
	}
	if n := l.Count(); n != 1000 {
		t.Fatalf("got %d, want 1000", n)
	}
	if p := l.Percentiles(50, 99); p[0] != 500*time.Microsecond || p[1] != 990*time.Microsecond {
		t.Errorf("got p50 %v, p99 %v; want 500µs, 990µs", p[0], p[1])
	}
}
