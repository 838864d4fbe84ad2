package sms

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// parseForm never panics; what it accepts, url.ParseQuery reads the same
// (the same keys with the same values, in order), and every key is
// non-empty UTF-8.
func FuzzParseForm(f *testing.F) {
	f.Add("")                                        // no parameters
	f.Add("Body=hi&From=%2B15551234567")             // a text
	f.Add("Tag=a&Tag=b&Tag=a")                       // a repeated key
	f.Add("Body=caf%C3%A9+%E2%82%AC")                // UTF-8, + as space
	f.Add("a=1;b=2")                                 // a semicolon
	f.Add("Body=%zz")                                // a bad escape
	f.Add("=novalue&&x")                             // empty keys
	f.Add("Body=%ff%fe")                             // not UTF-8
	f.Add(strings.Repeat("k=v&", maxParams+1) + "k") // too many
	f.Fuzz(func(t *testing.T, body string) {
		ps, err := parseForm(body)
		if err != nil {
			return
		}
		q, qerr := url.ParseQuery(body)
		if qerr != nil {
			t.Fatalf("parseForm accepted %q, url.ParseQuery refused it: %v", body, qerr)
		}
		got := map[string][]string{}
		for _, p := range ps {
			if p.Key == "" || !utf8.ValidString(p.Key) || !utf8.ValidString(p.Value) {
				t.Fatalf("parseForm(%q): bad parameter %+v", body, p)
			}
			got[p.Key] = append(got[p.Key], p.Value)
		}
		if len(got) != len(q) {
			t.Fatalf("parseForm(%q): %v, url.ParseQuery %v", body, got, q)
		}
		for k, vs := range q {
			if !slices.Equal(vs, got[k]) {
				t.Fatalf("parseForm(%q): %s=%v, url.ParseQuery %v", body, k, got[k], vs)
			}
		}
	})
}

// The signature check: our signature of any form equals the documented
// algorithm's (the test's own), does not depend on the parameters'
// order, and is refused once any parameter, the URL or the token changes.
func FuzzSignature(f *testing.F) {
	f.Add("https://sms.example.com/webhooks/twilio/sms", "Body=hi&From=%2B15551234567", "tok") // a text
	f.Add("https://sms.example.com:443/x?y=1", "Tag=b&Tag=a", "tok")                           // a repeated key, the default port
	f.Add("http://[::1]:80/x", "", "t")                                                        // no parameters, IPv6
	f.Add("not a url", "a=&b=", "token")                                                       // empty values
	f.Fuzz(func(t *testing.T, u, body, token string) {
		ps, err := parseForm(body)
		if err != nil || token == "" {
			return
		}
		var form [][2]string
		for _, p := range ps {
			form = append(form, [2]string{p.Key, p.Value})
		}
		sig := Signature(token, u, ps)
		if want := sign(token, u, form); sig != want {
			t.Fatalf("Signature(%q, %q) = %s, the documented algorithm %s", u, body, sig, want)
		}
		rev := slices.Clone(ps)
		slices.Reverse(rev)
		if !validSignature(token, u, rev, sig) {
			t.Fatalf("the signature of %q refused in another order", body)
		}
		if validSignature(token+"x", u, ps, sig) {
			t.Fatal("accepted under another token")
		}
		if validSignature(token, u, append(slices.Clone(ps), Param{"Extra", "1"}), sig) {
			t.Fatal("accepted with a parameter added")
		}
		if len(ps) > 0 {
			changed := slices.Clone(ps)
			changed[0].Value += "x"
			if validSignature(token, u, changed, sig) {
				t.Fatal("accepted with a value changed")
			}
		}
		if validSignature(token, u+"/", ps, sig) && !strings.HasSuffix(u, "/") {
			// A different URL (a path one longer) is another signature;
			// only the default-port variant may match.
			t.Fatalf("accepted for %q, signed for %q", u+"/", u)
		}
	})
}
