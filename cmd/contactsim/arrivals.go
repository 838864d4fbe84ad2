package main

import (
	"math"
	"math/rand/v2"
	"time"
)

// Arrivals draws the arrival times of a non-homogeneous Poisson process
// whose rate follows an hourly profile, by thinning (Lewis and Shedler):
// candidates come at the profile's peak rate and each is kept with the
// ratio of the rate at its time to the peak. Not safe for concurrent use.
type Arrivals struct {
	rng *rand.Rand
	// rate is the arrivals per second at factor 1.
	rate float64
	// profile holds 24 hourly factors (never empty).
	profile []float64
	// startHour is the simulated hour at offset 0; hoursPerSecond how
	// many simulated hours one real second lasts.
	startHour, hoursPerSecond float64
	// peak is rate × the largest factor; t the last arrival, in seconds.
	peak, t float64
}

// NewArrivals returns the arrivals of rate per second at factor 1 over
// profile (24 factors; empty means 1 all day), a simulated day lasting
// day, starting at startHour.
func NewArrivals(rng *rand.Rand, rate float64, profile []float64, day time.Duration, startHour float64) *Arrivals {
	if len(profile) == 0 {
		profile = []float64{1}
	}
	peak := 0.0
	for _, f := range profile {
		peak = max(peak, f)
	}
	return &Arrivals{
		rng: rng, rate: rate, profile: profile, startHour: startHour,
		hoursPerSecond: hoursInDay / day.Seconds(), peak: rate * peak,
	}
}

// HourAt is the simulated hour of the day (0 ≤ h < 24) at offset t.
func (a *Arrivals) HourAt(t time.Duration) float64 {
	return math.Mod(a.startHour+t.Seconds()*a.hoursPerSecond, hoursInDay)
}

// RateAt is the arrival rate per second at offset t.
func (a *Arrivals) RateAt(t time.Duration) float64 {
	h := a.HourAt(t)
	if len(a.profile) == 1 {
		return a.rate * a.profile[0]
	}
	return a.rate * a.profile[int(h)%len(a.profile)]
}

// Next returns the offset of the next arrival from the start; false when
// nothing ever arrives (a rate of 0).
func (a *Arrivals) Next() (time.Duration, bool) {
	if a.peak <= 0 {
		return 0, false
	}
	for {
		a.t += a.rng.ExpFloat64() / a.peak
		at := time.Duration(a.t * float64(time.Second))
		if a.rng.Float64()*a.peak <= a.RateAt(at) {
			return at, true
		}
	}
}

// pickStream returns the index of a stream drawn by share.
func pickStream(rng *rand.Rand, streams []Stream) int {
	total := 0.0
	for _, s := range streams {
		total += s.Share
	}
	x := rng.Float64() * total
	for i, s := range streams {
		if x < s.Share {
			return i
		}
		x -= s.Share
	}
	return len(streams) - 1
}
