package store

import (
	"errors"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		at   int64
		id   string
	}{
		{"typical", 1741944413589793238, "c-01"},
		{"zero-time", 0, "x"},
		{"before-1970", -5, "old"},
		{"id-with-colon-and-unicode", 42, "a:b:ü/+="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, id, err := decodeCursor(encodeCursor(tt.at, tt.id))
			if err != nil || at != tt.at || id != tt.id {
				t.Errorf("got %d %q %v, want %d %q nil", at, id, err, tt.at, tt.id)
			}
		})
	}
}

// FuzzDecodeCursor checks that any cursor a client sends either decodes
// to a row key that encodes back to the same cursor, or fails with
// ErrBadCursor; never a panic.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(1741944413589793238, "c-01")) // a real cursor
	f.Add(encodeCursor(-1, "a:b"))                   // negative time, colon in id
	f.Add("")                                        // empty
	f.Add("!!!")                                     // not base64
	f.Add("MTIzOmMtMQ==")                            // padded standard base64
	f.Add("MTIz")                                    // "123": no separator
	f.Add("OTk5OTk5OTk5OTk5OTk5OTk5OTk6eA")          // time overflows int64
	f.Fuzz(func(t *testing.T, s string) {
		at, id, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, ErrBadCursor) {
				t.Fatalf("decodeCursor(%q): error %v does not wrap ErrBadCursor", s, err)
			}
			return
		}
		if id == "" {
			t.Fatalf("decodeCursor(%q): empty id accepted", s)
		}
		again, id2, err := decodeCursor(encodeCursor(at, id))
		if err != nil || again != at || id2 != id {
			t.Fatalf("re-encode of (%d, %q): got %d %q %v", at, id, again, id2, err)
		}
	})
}
