package hours

import (
	"errors"
	"testing"
	"time"
)

func TestParseSpan(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Span
		ok       bool
	}{
		{"office", "09:00-17:30", Span{9 * time.Hour, 17*time.Hour + 30*time.Minute}, true},
		{"whole-day", "00:00-24:00", Span{0, 24 * time.Hour}, true},
		{"to-midnight", "22:00-24:00", Span{22 * time.Hour, 24 * time.Hour}, true},
		{"no-minutes", "9-17", Span{}, false},
		{"one-digit-hour", "9:00-17:00", Span{}, false},
		{"crosses-midnight", "22:00-02:00", Span{}, false},
		{"empty-span", "10:00-10:00", Span{}, false},
		{"hour-25", "00:00-25:00", Span{}, false},
		{"24:30", "00:00-24:30", Span{}, false},
		{"starts-at-24", "24:00-24:00", Span{}, false},
		{"minute-60", "09:60-10:00", Span{}, false},
		{"letters", "aa:bb-cc:dd", Span{}, false},
		{"spaces", " 09:00-17:00", Span{}, false},
		{"signs", "+9:00-17:00", Span{}, false},
		{"empty", "", Span{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSpan(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("ParseSpan(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Date
		ok       bool
	}{
		{"dated", "2026-12-24", Date{2026, time.December, 24}, true},
		{"yearly", "12-25", Date{0, time.December, 25}, true},
		{"yearly-leap-day", "02-29", Date{0, time.February, 29}, true},
		{"leap-day-of-leap-year", "2028-02-29", Date{2028, time.February, 29}, true},
		{"leap-day-of-other-year", "2027-02-29", Date{}, false},
		{"no-such-day", "04-31", Date{}, false},
		{"month-13", "2026-13-01", Date{}, false},
		{"day-0", "2026-01-00", Date{}, false},
		{"year-0", "0000-01-01", Date{}, false},
		{"slashes", "2026/12/24", Date{}, false},
		{"short", "2026-1-2", Date{}, false},
		{"timestamp", "2026-12-24T00:00:00Z", Date{}, false},
		{"empty", "", Date{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDate(tc.in)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("ParseDate(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if err == nil && got.String() != tc.in {
				t.Fatalf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}
