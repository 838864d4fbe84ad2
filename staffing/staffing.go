// Package staffing answers how many agents a queue needs: the queueing
// models contact centers plan with, Erlang C (callers wait as long as it
// takes) and Erlang A (they abandon after an exponential patience), and
// the advice built on them: the fewest agents that meet a service-level
// target for a load.
//
// Both models are the M/M/N queue, without (C) or with (A, M/M/N+M)
// abandonment. They are solved here the same way, numerically: the
// stationary distribution of the number in the system (a birth-death
// chain, truncated where what is left is below 1e-12), then, for a caller
// who finds k others waiting, the chance to be answered within the
// threshold before giving up (a small linear system of differential
// equations, integrated with Runge-Kutta). For Erlang C the closed form
// is given too (ErlangC), and the tests hold the two to each other and to
// the published golden values. No library was found that does Erlang A;
// the few Erlang C ones are unmaintained, hence our own.
package staffing

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Load is what a queue must serve.
type Load struct {
	// Arrivals is the number of contacts per Period.
	Arrivals float64
	Period   time.Duration
	// HandleTime is the mean handle time (talk plus wrap-up) of one
	// contact, on one of the agent's slots.
	HandleTime time.Duration
	// Patience is the customers' mean patience before they abandon;
	// zero means they never do (Erlang C).
	Patience time.Duration
	// Slots is how many contacts an agent handles at once (chat
	// concurrency); 0 or 1 for one.
	Slots int
}

// Result is how a queue does with a number of servers (slots).
type Result struct {
	Servers int
	// PWait is the probability that an arriving contact waits.
	PWait float64
	// PAbandon is the probability that it abandons (0 for Erlang C).
	PAbandon float64
	// ServiceLevel is the share of contacts answered within the
	// threshold: answered in time ÷ (answered + abandoned).
	ServiceLevel float64
	// Occupancy is the share of the servers' time spent handling.
	Occupancy float64
}

// ErrUnstable is returned by Erlang C when the load is at or above the
// servers: the queue grows without bound.
var ErrUnstable = errors.New("staffing: the load is at or above the servers (the queue grows without bound)")

// Traffic is the offered load in Erlangs: arrivals per second × handle
// time in seconds.
func (l Load) Traffic() float64 {
	if l.Period <= 0 {
		return 0
	}
	return l.Arrivals / l.Period.Seconds() * l.HandleTime.Seconds()
}

// ErlangC is the probability of waiting with n servers and a traffic of
// a Erlangs, by the closed form (a recurrence on the Erlang B formula,
// stable for large n). n must be above a.
func ErlangC(n int, a float64) (float64, error) {
	if n <= 0 || a < 0 || float64(n) <= a {
		return 0, ErrUnstable
	}
	b := 1.0 // Erlang B with 0 servers
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	rho := a / float64(n)
	return b / (1 - rho + rho*b), nil
}

// Evaluate is how the queue does with servers slots, answering within
// threshold. With no patience it is Erlang C (ErrUnstable at or above
// the load), else Erlang A.
func Evaluate(l Load, servers int, threshold time.Duration) (Result, error) {
	if err := l.check(); err != nil {
		return Result{}, err
	}
	if servers <= 0 {
		return Result{}, fmt.Errorf("staffing: %d servers (want 1 or more)", servers)
	}
	lambda := l.Arrivals / l.Period.Seconds()
	mu := 1 / l.HandleTime.Seconds()
	theta := 0.0
	if l.Patience > 0 {
		theta = 1 / l.Patience.Seconds()
	}
	a := lambda / mu
	if theta == 0 && float64(servers) <= a {
		return Result{Servers: servers, PWait: 1, Occupancy: 1}, ErrUnstable
	}
	pi := stationary(lambda, mu, theta, servers)
	var pwait, queued float64
	for n := servers; n < len(pi); n++ {
		pwait += pi[n]
		queued += float64(n-servers) * pi[n]
	}
	served := within(mu, theta, servers, len(pi)-servers, threshold.Seconds())
	sl := 1 - pwait
	for k := 0; servers+k < len(pi); k++ {
		sl += pi[servers+k] * served[k]
	}
	r := Result{Servers: servers, PWait: pwait, ServiceLevel: sl}
	if theta > 0 {
		// Abandonment flow: θ per waiting customer, over the arrivals.
		r.PAbandon = theta * queued / lambda
	}
	// Occupancy: the busy servers' share, from the answered traffic.
	r.Occupancy = a * (1 - r.PAbandon) / float64(servers)
	return r, nil
}

func (l Load) check() error {
	switch {
	case l.Period <= 0:
		return fmt.Errorf("staffing: period %s (want positive)", l.Period)
	case l.Arrivals <= 0 || math.IsInf(l.Arrivals, 0) || math.IsNaN(l.Arrivals):
		return fmt.Errorf("staffing: %v arrivals (want a positive number)", l.Arrivals)
	case l.HandleTime <= 0:
		return fmt.Errorf("staffing: handle time %s (want positive)", l.HandleTime)
	case l.Patience < 0:
		return fmt.Errorf("staffing: patience %s (want 0 or more)", l.Patience)
	}
	return nil
}

// tail is where the stationary distribution is cut: what is left beyond
// it weighs less than this.
const tail = 1e-12

// maxStates bounds the truncated chain (a load so high it would need
// more has no useful answer anyway).
const maxStates = 200_000

// stationary returns the stationary distribution of the number in an
// M/M/n+M system (θ = 0: M/M/n, which must be stable), truncated.
func stationary(lambda, mu, theta float64, n int) []float64 {
	// Unnormalised, in logs to survive large n: p[k+1] = p[k]·λ/d(k+1),
	// d(k) = μ·min(k,n) + θ·max(k−n,0).
	logp := []float64{0}
	maxLog := 0.0
	for k := 1; k < maxStates; k++ {
		d := mu*float64(min(k, n)) + theta*float64(max(k-n, 0))
		next := logp[k-1] + math.Log(lambda/d)
		logp = append(logp, next)
		maxLog = max(maxLog, next)
		// Past n the terms fall geometrically (or faster): stop once
		// they are negligible against the largest.
		if k > n && next-maxLog < math.Log(tail) && lambda < d {
			break
		}
	}
	pi := make([]float64, len(logp))
	sum := 0.0
	for k, lp := range logp {
		pi[k] = math.Exp(lp - maxLog)
		sum += pi[k]
	}
	for k := range pi {
		pi[k] /= sum
	}
	return pi
}

// within returns, for k = 0..waiting-1 others waiting ahead, the
// probability that an arriving customer is answered within t seconds,
// before its own patience runs out. Ahead of it the queue moves on at
// n·μ + j·θ with j waiting ahead; it gives up at θ. With Q_j(t) that
// probability from j ahead (Q_{-1} = 1, in service):
//
//	Q_j' = (n·μ + j·θ)·Q_{j-1} − (n·μ + (j+1)·θ)·Q_j,  Q_j(0) = 0
//
// integrated with the classic fourth-order Runge-Kutta method.
func within(mu, theta float64, n, waiting int, t float64) []float64 {
	q := make([]float64, max(waiting, 0))
	if len(q) == 0 || t <= 0 {
		return q
	}
	rateMax := float64(n)*mu + float64(len(q)+1)*theta
	steps := max(200, int(math.Ceil(t*rateMax*4)))
	steps = min(steps, 20_000)
	h := t / float64(steps)
	deriv := func(y, dy []float64) {
		prev := 1.0
		for j := range y {
			dy[j] = (float64(n)*mu+float64(j)*theta)*prev - (float64(n)*mu+float64(j+1)*theta)*y[j]
			prev = y[j]
		}
	}
	k1, k2, k3, k4 := make([]float64, len(q)), make([]float64, len(q)), make([]float64, len(q)), make([]float64, len(q))
	tmp := make([]float64, len(q))
	for s := 0; s < steps; s++ {
		deriv(q, k1)
		for j := range q {
			tmp[j] = q[j] + h/2*k1[j]
		}
		deriv(tmp, k2)
		for j := range q {
			tmp[j] = q[j] + h/2*k2[j]
		}
		deriv(tmp, k3)
		for j := range q {
			tmp[j] = q[j] + h*k3[j]
		}
		deriv(tmp, k4)
		for j := range q {
			q[j] += h / 6 * (k1[j] + 2*k2[j] + 2*k3[j] + k4[j])
		}
	}
	return q
}

// Advice is how many agents a load needs to meet a target.
type Advice struct {
	// Agents is the fewest agents that meet the target; Servers their
	// slots (Agents × Load.Slots).
	Agents int
	Result
	// Met is false when no staffing up to MaxAgents meets the target
	// (Agents is then MaxAgents).
	Met bool
}

// MaxAgents bounds the search of Advise.
const MaxAgents = 5000

// Advise returns the fewest agents that answer serviceLevel (0 to 1) of
// the load within threshold. An agent with several slots counts as that
// many servers (chat concurrency), a common approximation that runs
// slightly optimistic when agents slow down with more chats at once.
func Advise(l Load, serviceLevel float64, threshold time.Duration) (Advice, error) {
	if err := l.check(); err != nil {
		return Advice{}, err
	}
	if !(serviceLevel > 0 && serviceLevel < 1) {
		return Advice{}, fmt.Errorf("staffing: service level %v (want between 0 and 1)", serviceLevel)
	}
	slots := max(l.Slots, 1)
	start := 1
	if l.Patience == 0 {
		// Erlang C needs more servers than the traffic.
		start = int(math.Floor(l.Traffic()/float64(slots))) + 1
	}
	var last Advice
	for agents := start; agents <= MaxAgents; agents++ {
		r, err := Evaluate(l, agents*slots, threshold)
		if errors.Is(err, ErrUnstable) {
			continue
		}
		if err != nil {
			return Advice{}, err
		}
		last = Advice{Agents: agents, Result: r}
		if r.ServiceLevel >= serviceLevel {
			last.Met = true
			return last, nil
		}
	}
	return last, nil
}
