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

// textOf never panics on what a signed form may hold, and what it takes
// is a text as the channel promises: a Twilio message SID, a sender in
// E.164, at most ten media with http(s) URLs, a body or media.
func FuzzTextOf(f *testing.F) {
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B15551234567&To=%2B15550001111&Body=hi")                // a text
	f.Add("MessageSid=MM0123456789abcdef0123456789abcdef&From=%2B15551234567&NumMedia=1&MediaUrl0=https%3A%2F%2Fx%2Fm") // an MMS
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&From=5551234567&Body=hi")                                      // not E.164
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B15551234567&From=%2B15559999999&Body=hi")              // From twice
	f.Add("MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B15551234567&NumMedia=-1")                              // a bad count
	f.Fuzz(func(t *testing.T, body string) {
		ps, err := parseForm(body)
		if err != nil {
			return
		}
		tx, err := textOf(paramsOf(ps))
		if err != nil {
			return
		}
		if !sidRE.MatchString(tx.sid) || !strings.HasPrefix(tx.from, "+") || len(tx.media) > maxMedia {
			t.Fatalf("textOf(%q) took %+v", body, tx)
		}
		if strings.TrimSpace(tx.body) == "" && len(tx.media) == 0 {
			t.Fatalf("textOf(%q) took a text with nothing in it", body)
		}
		for _, m := range tx.media {
			if !strings.HasPrefix(m.URL, "http://") && !strings.HasPrefix(m.URL, "https://") {
				t.Fatalf("textOf(%q) took the medium %+v", body, m)
			}
		}
	})
}

// jsonParams never panics, and takes only an object of strings.
func FuzzJSONParams(f *testing.F) {
	f.Add([]byte(`{"MessageSid":"SM0","Body":"hi"}`)) // a JSON webhook
	f.Add([]byte(`{"Body":7}`))                       // not a string
	f.Add([]byte(`[1,2]`))                            // not an object
	f.Add([]byte("{\"Body\":\"\xff\"}"))              // not UTF-8
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := jsonParams(body)
		if err != nil {
			return
		}
		for k, vs := range p {
			if len(vs) != 1 || !utf8.ValidString(k) || !utf8.ValidString(vs[0]) {
				t.Fatalf("jsonParams(%q): %q=%q", body, k, vs)
			}
		}
	})
}
