package api

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	type step struct {
		name    string
		at      time.Duration
		keys    []string // begun together, max 2 each
		outcome int      // ends each begun key; -1 leaves them in flight
		ok      bool
		wait    time.Duration
	}
	const failed, passed, succeeded, inFlight = attemptFailed, attemptUncounted, attemptSucceeded, -1
	tests := []struct {
		name  string
		steps []step
	}{
		{"growing-delays", []step{
			{"first", 0, []string{"a"}, failed, true, 0},
			{"second", 10 * time.Second, []string{"a"}, failed, true, 0},
			{"waits-a-window", 11 * time.Second, []string{"a"}, failed, false, 59 * time.Second},
			{"after-the-wait", 70 * time.Second, []string{"a"}, failed, true, 0},
			{"waits-two-windows", 71 * time.Second, []string{"a"}, failed, false, 119 * time.Second},
			{"then", 190 * time.Second, []string{"a"}, failed, true, 0},
			{"waits-four-windows", 190 * time.Second, []string{"a"}, failed, false, 240 * time.Second},
			{"other-key-free", 190 * time.Second, []string{"b"}, failed, true, 0},
		}},
		{"delay-capped", []step{
			{"1", 0, []string{"a"}, failed, true, 0},
			{"2", 0, []string{"a"}, failed, true, 0},
			{"3", time.Minute, []string{"a"}, failed, true, 0},
			{"4", 3 * time.Minute, []string{"a"}, failed, true, 0},
			{"5", 7 * time.Minute, []string{"a"}, failed, true, 0},
			{"6", 15 * time.Minute, []string{"a"}, failed, true, 0},
			{"7", 31 * time.Minute, []string{"a"}, failed, true, 0},
			{"8", 63 * time.Minute, []string{"a"}, failed, true, 0},
			{"capped-at-64", 127 * time.Minute, []string{"a"}, failed, true, 0},
			{"still-64", 127 * time.Minute, []string{"a"}, failed, false, 64 * time.Minute},
		}},
		{"forgotten-after-a-quiet-window", []step{
			{"1", 0, []string{"a"}, failed, true, 0},
			{"2", 0, []string{"a"}, failed, true, 0},
			{"waits", 0, []string{"a"}, failed, false, time.Minute},
			{"quiet-until-wait-plus-window", 2 * time.Minute, []string{"a"}, failed, true, 0},
			{"counts-from-one", 2 * time.Minute, []string{"a"}, failed, true, 0},
			{"two-again", 2 * time.Minute, []string{"a"}, failed, false, time.Minute},
		}},
		{"one-key-waits-all-refused", []step{
			{"1", 0, []string{"a", "x"}, failed, true, 0},
			{"2", 0, []string{"a", "y"}, failed, true, 0},
			{"a-waits", 0, []string{"a", "z"}, failed, false, time.Minute},
			{"refused-not-counted", 0, []string{"z"}, failed, true, 0},
			{"z-second", 0, []string{"z"}, failed, true, 0},
			{"z-waits", 0, []string{"z"}, failed, false, time.Minute},
		}},
		{"success-forgets", []step{
			{"1", 0, []string{"a"}, failed, true, 0},
			{"success", 0, []string{"a"}, succeeded, true, 0},
			{"2", 0, []string{"a"}, failed, true, 0},
			{"3", 0, []string{"a"}, failed, true, 0},
			{"waits", 0, []string{"a"}, failed, false, time.Minute},
		}},
		{"uncounted", []step{
			{"1", 0, []string{"a"}, failed, true, 0},
			{"store-failed", 0, []string{"a"}, passed, true, 0},
			{"2", 0, []string{"a"}, failed, true, 0},
			{"waits", 0, []string{"a"}, failed, false, time.Minute},
		}},
		{"in-flight", []step{
			{"1", 0, []string{"a"}, failed, true, 0},
			{"2-in-flight", 0, []string{"a"}, inFlight, true, 0},
			{"no-third-while-checking", 0, []string{"a"}, failed, false, inFlightWait},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter(time.Minute)
			for _, s := range tt.steps {
				var keys []limitKey
				for _, k := range s.keys {
					keys = append(keys, l.key(2, "test", k))
				}
				at := epoch.Add(s.at)
				wait, ok := l.begin(at, keys...)
				if ok != s.ok || wait != s.wait {
					t.Fatalf("%s: got %v, %v; want %v, %v", s.name, wait, ok, s.wait, s.ok)
				}
				if ok && s.outcome != inFlight {
					for _, k := range keys {
						l.end(at, k, s.outcome)
					}
				}
			}
		})
	}
}

// TestLimiterMemory: however many keys fail, and however long they are,
// the limiter keeps at most maxLimiterKeys of fixed size, a few MiB.
func TestLimiterMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the limiter")
	}
	l := newLimiter(time.Minute)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	id := strings.Repeat("x", 1024)
	for i := range maxLimiterKeys + maxLimiterKeys/2 {
		k := l.key(5, "addr+id", "192.0.2.1", id+strconv.Itoa(i))
		if _, ok := l.begin(epoch, k); !ok {
			t.Fatalf("key %d: refused, want its first attempt", i)
		}
		l.end(epoch, k, attemptFailed)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(l.entries); n > maxLimiterKeys {
		t.Errorf("keys: got %d, want at most %d", n, maxLimiterKeys)
	}
	t.Logf("heap grew by %d bytes for %d keys", int64(after.HeapAlloc)-int64(before.HeapAlloc), len(l.entries))
	const bound = 4 << 20
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > bound {
		t.Errorf("heap grew by %d bytes with a full limiter, want at most %d", grew, bound)
	}
	runtime.KeepAlive(l)
}

func TestLimiterEvictsFewestFailures(t *testing.T) {
	l := newLimiter(time.Minute)
	// A key with failures to keep, then a flood of keys with one each.
	kept := l.key(5, "addr+id", "192.0.2.1", "alice")
	for range 3 {
		l.begin(epoch, kept)
		l.end(epoch, kept, attemptFailed)
	}
	for i := range maxLimiterKeys {
		k := l.key(5, "addr", strconv.Itoa(i))
		l.begin(epoch, k)
		l.end(epoch, k, attemptFailed)
	}
	if e, ok := l.entries[kept.hash]; !ok || e.fails != 3 {
		t.Errorf("the key with 3 failures: got %+v, %v; want kept with 3", e, ok)
	}
	if n := len(l.entries); n > maxLimiterKeys {
		t.Errorf("keys: got %d, want at most %d", n, maxLimiterKeys)
	}
}
