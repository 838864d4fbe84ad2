package clientaddr

import (
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// formatForwarded writes elements as a Forwarded header, every value
// quoted.
func formatForwarded(els []Element) string {
	q := func(s string) string {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	var parts []string
	for _, el := range els {
		var pairs []string
		for _, p := range [][2]string{{"for", el.For}, {"by", el.By}, {"host", el.Host}, {"proto", el.Proto}} {
			if p[1] != "" {
				pairs = append(pairs, p[0]+"="+q(p[1]))
			}
		}
		if len(pairs) > 0 {
			parts = append(parts, strings.Join(pairs, ";"))
		}
	}
	return strings.Join(parts, ", ")
}

// FuzzParseForwarded: ParseForwarded never panics, and what it accepts
// reads the same once written back with every value quoted.
func FuzzParseForwarded(f *testing.F) {
	for _, s := range []string{
		`for="_gazonk"`,                             // RFC 7239's obfuscated node
		`For="[2001:db8:cafe::17]:4711"`,            // quoted IPv6 with a port
		`for=192.0.2.60;proto=http;by=203.0.113.43`, // several pairs
		`for=192.0.2.43, for=198.51.100.17`,         // two elements
		`for="a\"b\\c"`,                             // quoted pairs
		` , ;, for=1.2.3.4 ;`,                       // empty elements and pairs
		`for="unterminated`,                         // malformed
		`for=1.2.3.4;for=5.6.7.8`,                   // a name twice
		"for=\"\x80\xff\"",                          // obs-text
		`host=example.com;proto=https;x-ext="v"`,    // an extension
		`for=`,                                      // no value
		strings.Repeat("for=1.2.3.4,", maxForwardedElements+1), // too many elements
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		els, err := ParseForwarded([]string{s})
		if err != nil {
			return
		}
		var kept []Element
		for _, el := range els {
			if el != (Element{}) {
				kept = append(kept, el)
			}
		}
		again, err := ParseForwarded([]string{formatForwarded(kept)})
		if err != nil {
			t.Fatalf("%q parsed to %+v, which written back does not parse: %v", s, kept, err)
		}
		if !reflect.DeepEqual(again, kept) {
			t.Fatalf("%q: got %+v written back, want %+v", s, again, kept)
		}
	})
}

// FuzzResolve: whatever the headers, the client is the peer or one of
// the addresses the headers name, and never one from an untrusted peer's
// headers.
func FuzzResolve(f *testing.F) {
	f.Add("10.1.1.1", "1.2.3.4, 203.0.113.9", "")                  // through a trusted proxy
	f.Add("198.51.100.4", "203.0.113.9", "for=203.0.113.9")        // from an untrusted peer
	f.Add("10.1.1.1", "", `for="[2001:db8::17]:4711";proto=https`) // Forwarded only
	f.Add("10.1.1.1", "garbage, 10.2.2.2", "")                     // a hop that is not an address
	f.Add("::ffff:10.1.1.1", "::ffff:10.2.2.2", "")                // mapped addresses
	f.Fuzz(func(t *testing.T, peer, xff, fwd string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer + ":" + strconv.Itoa(5000)
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if fwd != "" {
			r.Header.Set("Forwarded", fwd)
		}
		got := proxies.Resolve(r).Addr
		if got == "" && Peer(r) != "" {
			t.Fatalf("empty address for peer %q", peer)
		}
		p, ok := parseNode(Peer(r))
		if !ok {
			if got != Peer(r) {
				t.Fatalf("got %q, want the peer %q as it is", got, Peer(r))
			}
			return
		}
		if got == p.String() {
			return
		}
		if !proxies.Trusted(p) {
			t.Fatalf("got %q from untrusted peer %s's headers", got, p)
		}
		a, err := netip.ParseAddr(got)
		if err != nil {
			t.Fatalf("got %q, not an address", got)
		}
		named := false
		for _, h := range splitList([]string{xff}) {
			if n, ok := parseNode(h); ok && n == a {
				named = true
			}
		}
		if els, err := ParseForwarded([]string{fwd}); err == nil {
			for _, el := range els {
				if n, ok := parseNode(el.For); ok && n == a {
					named = true
				}
			}
		}
		if !named {
			t.Fatalf("got %s, which neither the peer nor the headers name", got)
		}
	})
}

// FuzzLimitKey: any client address text gets a key without panicking,
// and a key is its own key (counted once, however often it is asked).
func FuzzLimitKey(f *testing.F) {
	for _, s := range []string{"203.0.113.9", "2001:db8:1:2::1", "fe80::1%eth0", "::ffff:203.0.113.9", "", "not an address", "2001:db8::/64"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		k := LimitKey(addr)
		if again := LimitKey(k); again != k {
			t.Errorf("LimitKey(%q) = %q, whose key is %q", addr, k, again)
		}
	})
}
