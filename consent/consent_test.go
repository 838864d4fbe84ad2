package consent

import "testing"

func TestFlags(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		f                             Flags
		marketing, profiling, refused bool
	}{
		{Flags{}, false, false, false},
		{Flags{Marketing: &yes, Profiling: &yes}, true, true, false},
		{Flags{Marketing: &no, Profiling: &no}, false, false, true},
		{Flags{Marketing: &yes}, true, false, false},
	} {
		if tc.f.MarketingGiven() != tc.marketing || tc.f.ProfilingGiven() != tc.profiling || tc.f.ProfilingRefused() != tc.refused {
			t.Errorf("%+v: got marketing %v profiling %v refused %v", tc.f, tc.f.MarketingGiven(), tc.f.ProfilingGiven(), tc.f.ProfilingRefused())
		}
	}
	yes2, no2 := true, false
	if !(Flags{Marketing: &yes}).Equal(Flags{Marketing: &yes2}) || (Flags{Marketing: &yes}).Equal(Flags{Marketing: &no2}) ||
		(Flags{}).Equal(Flags{Profiling: &no}) || !(Flags{}).Equal(Flags{}) {
		t.Error("Equal compares the values, nil only with nil")
	}
}
