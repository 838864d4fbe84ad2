package hours

import (
	"testing"
	"time"
)

func FuzzParseSpan(f *testing.F) {
	f.Add("09:00-17:30") // an office day
	f.Add("00:00-24:00") // the whole day
	f.Add("22:00-02:00") // crosses midnight: refused
	f.Add("24:00-24:00") // starts at the end of the day
	f.Add("9:00-17:00")  // one-digit hour
	f.Add("٠٩:٠٠-١٧:٠٠") // non-ASCII digits
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpan(s)
		if err != nil {
			return
		}
		if sp.Start < 0 || sp.Start >= sp.End || sp.End > 24*time.Hour || sp.Start%time.Minute != 0 || sp.End%time.Minute != 0 {
			t.Fatalf("ParseSpan(%q) = %v, out of range", s, sp)
		}
		if sp.String() != s {
			t.Fatalf("ParseSpan(%q).String() = %q", s, sp.String())
		}
		if err := checkSpans("monday", []Span{sp}); err != nil {
			t.Fatalf("parsed span %v fails validation: %v", sp, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	f.Add("2026-12-24") // one date
	f.Add("12-25")      // every year
	f.Add("02-29")      // every leap year
	f.Add("2027-02-29") // no such day
	f.Add("2026-13-01") // no such month
	f.Add("99999-01-01")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
		}
		if again, err := ParseDate(d.String()); err != nil || again != d {
			t.Fatalf("ParseDate(%q) again = %v, %v; want %v", d.String(), again, err, d)
		}
	})
}
