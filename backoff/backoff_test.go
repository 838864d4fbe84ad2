package backoff

import (
	"testing"
	"time"
)

// Each retry waits twice as long as the one before, up to the cap, give or
// take a fifth.
func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {9, 256 * time.Second},
		{10, 5 * time.Minute}, {1000, 5 * time.Minute},
	} {
		for range 200 {
			got := Delay(tc.n, time.Second, 5*time.Minute)
			if got < tc.want-tc.want/5 || got > tc.want+tc.want/5 {
				t.Fatalf("Delay(%d) = %s, want %s ± 20 %%", tc.n, got, tc.want)
			}
		}
	}
}
