package staffing

import (
	"errors"
	"math"
	"testing"
	"time"
)

// golden is the textbook example: 100 contacts per 30 minutes, 180 s
// handle time (10 Erlangs), answered within 20 s.
var golden = Load{Arrivals: 100, Period: 30 * time.Minute, HandleTime: 180 * time.Second}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s: got %.4f, want %.4f (±%g)", what, got, want, tol)
	}
}

func TestErlangCGolden(t *testing.T) {
	if a := golden.Traffic(); math.Abs(a-10) > 1e-9 {
		t.Fatalf("traffic %v, want 10 Erlangs", a)
	}
	for _, tt := range []struct {
		agents             int
		pwait, sl, occ     float64
		closedFormPWaitTol float64
	}{
		{13, 0.285, 0.796, 10.0 / 13, 0.0005},
		{14, 0.174, 0.888, 0.714, 0.0005},
	} {
		r, err := Evaluate(golden, tt.agents, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "P(wait)", r.PWait, tt.pwait, 0.0005)
		near(t, "service level", r.ServiceLevel, tt.sl, 0.0005)
		near(t, "occupancy", r.Occupancy, tt.occ, 0.0005)
		if r.PAbandon != 0 {
			t.Errorf("Erlang C abandons %v", r.PAbandon)
		}
		// The numeric chain agrees with the closed form.
		c, err := ErlangC(tt.agents, 10)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "closed-form P(wait)", r.PWait, c, 1e-9)
		// And the service level with its closed form.
		sl := 1 - c*math.Exp(-float64(tt.agents-10)*20/180)
		near(t, "closed-form service level", r.ServiceLevel, sl, 1e-6)
	}
}

// More Erlang C values, computed independently (by the closed form with
// the factorial sums written out).
func TestErlangCIndependent(t *testing.T) {
	direct := func(n int, a float64) float64 {
		sum, term := 0.0, 1.0 // a^k/k!
		for k := 0; k < n; k++ {
			sum += term
			term *= a / float64(k+1)
		}
		top := term * float64(n) / (float64(n) - a) // a^n/n! · n/(n−a)
		return top / (sum + top)
	}
	for _, tt := range []struct {
		n int
		a float64
	}{{1, 0.5}, {2, 1}, {5, 3.7}, {30, 25}, {120, 110}} {
		got, err := ErlangC(tt.n, tt.a)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "Erlang C", got, direct(tt.n, tt.a), 1e-9)
		l := Load{Arrivals: tt.a, Period: time.Second, HandleTime: time.Second}
		r, err := Evaluate(l, tt.n, 0)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "numeric P(wait)", r.PWait, got, 1e-9)
		near(t, "service level within 0 s", r.ServiceLevel, 1-got, 1e-9)
	}
	// M/M/1: P(wait) is ρ, and P(W > t) = ρ·e^{−(μ−λ)t}.
	r, err := Evaluate(Load{Arrivals: 0.5, Period: time.Second, HandleTime: time.Second}, 1, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "M/M/1 service level", r.ServiceLevel, 1-0.5*math.Exp(-0.5*2), 1e-6)
	if _, err := ErlangC(10, 10); !errors.Is(err, ErrUnstable) {
		t.Errorf("10 servers for 10 Erlangs: got %v, want ErrUnstable", err)
	}
}

func TestErlangAGolden(t *testing.T) {
	l := golden
	l.Patience = 5 * time.Minute
	r, err := Evaluate(l, 14, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Erlang A P(abandon)", r.PAbandon, 0.014, 0.0005)
	// Abandonment makes waiting shorter: it does at least as well as C.
	c, _ := Evaluate(golden, 14, 20*time.Second)
	if r.PWait > c.PWait || r.ServiceLevel < c.ServiceLevel {
		t.Errorf("Erlang A %+v does worse than Erlang C %+v", r, c)
	}
	// Erlang A is stable at any load: 5 agents for 10 Erlangs abandon a lot.
	over, err := Evaluate(l, 5, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if over.PAbandon < 0.3 || over.PAbandon > 0.7 || over.Occupancy > 1+1e-9 {
		t.Errorf("5 agents for 10 Erlangs, 5 min patience: %+v", over)
	}
	// M/M/1+M with μ = θ: the number in system is Poisson(λ/μ), so
	// P(wait) = 1 − e^{−a}, and P(abandon) = θ·E[queue]/λ.
	a := 0.8
	r, err = Evaluate(Load{Arrivals: a, Period: time.Second, HandleTime: time.Second, Patience: time.Second}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "M/M/1+M P(wait)", r.PWait, 1-math.Exp(-a), 1e-9)
	eq := a - (1 - math.Exp(-a)) // E[N] − P(N ≥ 1)
	near(t, "M/M/1+M P(abandon)", r.PAbandon, eq/a, 1e-9)
}

func TestAdvise(t *testing.T) {
	adv, err := Advise(golden, 0.8, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if adv.Agents != 14 || !adv.Met {
		t.Errorf("80/20 for 10 Erlangs: %+v, want 14 agents", adv)
	}
	adv, err = Advise(golden, 0.79, 20*time.Second)
	if err != nil || adv.Agents != 13 {
		t.Errorf("79/20 for 10 Erlangs: %+v %v, want 13 agents", adv, err)
	}
	// Chat: 3 slots an agent count as 3 servers.
	chat := golden
	chat.Slots = 3
	adv, err = Advise(chat, 0.8, 20*time.Second)
	if err != nil || adv.Agents != 5 || adv.Servers != 15 {
		t.Errorf("80/20 with 3 chats an agent: %+v %v, want 5 agents (15 slots)", adv, err)
	}
	for _, bad := range []Load{{}, {Arrivals: 1, Period: time.Hour}, {Arrivals: -1, Period: time.Hour, HandleTime: time.Minute}} {
		if _, err := Advise(bad, 0.8, 20*time.Second); err == nil {
			t.Errorf("Advise(%+v): no error", bad)
		}
	}
	if _, err := Advise(golden, 1.2, 20*time.Second); err == nil {
		t.Error("a service level of 1.2: no error")
	}
}
