package agents

import (
	"fmt"
	"testing"
)

func TestRing(t *testing.T) {
	var r ring
	for seq := uint64(1); seq <= ringMessages+10; seq++ {
		r.add(seq, []byte(fmt.Sprint(seq)))
	}
	last := uint64(ringMessages + 10)
	for _, tc := range []struct {
		name  string
		after uint64
		ok    bool
		n     int
	}{
		{"evicted", 5, false, 0},
		{"oldest-kept", 10, true, ringMessages},
		{"recent", last - 3, true, 3},
		{"up-to-date", last, true, 0},
		{"future", last + 1, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames, ok := r.after(tc.after, last)
			if ok != tc.ok || len(frames) != tc.n {
				t.Fatalf("got %d frames, ok %v, want %d, %v", len(frames), ok, tc.n, tc.ok)
			}
			if tc.n > 0 && string(frames[0]) != fmt.Sprint(tc.after+1) {
				t.Fatalf("got first frame %s, want %d", frames[0], tc.after+1)
			}
		})
	}
	var big ring
	for seq := uint64(1); seq <= 10; seq++ {
		big.add(seq, make([]byte, ringBytes/4))
	}
	if big.bytes > ringBytes || len(big.frames) != 4 {
		t.Fatalf("got %d frames of %d bytes, want at most %d bytes", len(big.frames), big.bytes, ringBytes)
	}
}
