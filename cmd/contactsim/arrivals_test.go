package main

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The arrivals in each simulated hour are Poisson with the profile's
// rate: over 40 simulated days (a day lasting 24 s), each hour's count is
// within 5 standard deviations of rate × factor × 40 s, and an hour whose
// factor is 0 gets none.
func TestArrivalsFollowTheProfile(t *testing.T) {
	profile := make([]float64, 24)
	for h := range profile {
		profile[h] = []float64{0, 0.5, 1, 2, 3}[h%5]
	}
	const (
		rate = 20.0
		days = 40
	)
	a := NewArrivals(rand.New(rand.NewPCG(1, 2)), rate, profile, 24*time.Second, 0)
	counts := make([]int, 24)
	end := time.Duration(days*24) * time.Second
	for {
		at, ok := a.Next()
		if !ok {
			t.Fatal("got no arrival at a positive rate")
		}
		if at >= end {
			break
		}
		counts[int(a.HourAt(at))]++
	}
	for h, n := range counts {
		want := rate * profile[h] * days // each hour lasts 1 s, once a day
		tol := 5 * math.Sqrt(want)
		if math.Abs(float64(n)-want) > tol {
			t.Errorf("hour %d (factor %v): got %d arrivals, want %.0f ± %.0f", h, profile[h], n, want, tol)
		}
		if want == 0 && n != 0 {
			t.Errorf("hour %d: got %d arrivals in an hour of factor 0", h, n)
		}
	}
}

// At a constant rate the gaps are exponential: mean 1/rate and a
// coefficient of variation of 1.
func TestArrivalsConstantRateGaps(t *testing.T) {
	const rate, n = 50.0, 20000
	a := NewArrivals(rand.New(rand.NewPCG(3, 4)), rate, nil, 24*time.Hour, 0)
	var prev time.Duration
	var sum, sumSq float64
	for range n {
		at, _ := a.Next()
		g := (at - prev).Seconds()
		prev = at
		sum += g
		sumSq += g * g
	}
	mean := sum / n
	sd := math.Sqrt(sumSq/n - mean*mean)
	if want := 1 / rate; math.Abs(mean-want) > 0.03*want {
		t.Errorf("got mean gap %.5fs, want %.5fs ± 3 %%", mean, want)
	}
	if cv := sd / mean; math.Abs(cv-1) > 0.03 {
		t.Errorf("got a coefficient of variation of %.3f, want 1 ± 0.03 (exponential gaps)", cv)
	}
}

func TestArrivalsZeroRate(t *testing.T) {
	a := NewArrivals(rand.New(rand.NewPCG(1, 1)), 0, nil, time.Hour, 0)
	if at, ok := a.Next(); ok {
		t.Errorf("got an arrival at %v at rate 0", at)
	}
}

func TestPickStreamByShare(t *testing.T) {
	streams := []Stream{{Share: 1}, {Share: 0}, {Share: 3}}
	rng := rand.New(rand.NewPCG(5, 6))
	counts := make([]int, len(streams))
	const n = 40000
	for range n {
		counts[pickStream(rng, streams)]++
	}
	if counts[1] != 0 {
		t.Errorf("got %d picks of a stream of share 0", counts[1])
	}
	if got := float64(counts[2]) / n; math.Abs(got-0.75) > 0.015 {
		t.Errorf("got %.3f of the picks for the stream of share 3 in 4, want 0.75 ± 0.015", got)
	}
}

func TestParseTag(t *testing.T) {
	for _, tc := range []struct {
		body, contact, msg string
		ok                 bool
	}{
		{"[sim abc12-7.0] Can I pay?", "abc12-7", "abc12-7.0", true},
		{"x [sim abc12-7.r3] Thanks", "abc12-7", "abc12-7.r3", true},
		{"[sim ABC-7.0]", "", "", false},
		{"no tag", "", "", false},
	} {
		c, m, ok := parseTag(tc.body)
		if c != tc.contact || m != tc.msg || ok != tc.ok {
			t.Errorf("%q: got %q, %q, %v; want %q, %q, %v", tc.body, c, m, ok, tc.contact, tc.msg, tc.ok)
		}
	}
}
