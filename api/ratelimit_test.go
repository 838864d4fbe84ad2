package api

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(2, time.Minute)
	t0 := epoch
	steps := []struct {
		name string
		at   time.Duration
		keys []string
		ok   bool
		wait time.Duration
	}{
		{"first", 0, []string{"a", "x"}, true, 0},
		{"second", 10 * time.Second, []string{"a", "y"}, true, 0},
		{"a-full", 20 * time.Second, []string{"a", "z"}, false, 40 * time.Second},
		{"refused-attempt-not-counted", 20 * time.Second, []string{"z"}, true, 0},
		{"x-has-room", 30 * time.Second, []string{"x"}, true, 0},
		{"x-full", 31 * time.Second, []string{"x"}, false, 29 * time.Second},
		{"a-first-expired", time.Minute, []string{"a"}, true, 0},
	}
	for _, s := range steps {
		wait, ok := l.begin(t0.Add(s.at), s.keys...)
		if ok != s.ok || wait != s.wait {
			t.Errorf("%s: got %v, %v; want %v, %v", s.name, wait, ok, s.wait, s.ok)
		}
	}
	// A success is forgiven: it does not count.
	l2 := newLimiter(1, time.Minute)
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Second)
		if _, ok := l2.begin(at, "k"); !ok {
			t.Fatalf("attempt %d: refused, want allowed after forgiving the last", i+1)
		}
		l2.forgive(at, "k")
	}
	if n := len(l2.attempts); n != 0 {
		t.Errorf("forgiven keys kept: got %d, want 0", n)
	}
}
