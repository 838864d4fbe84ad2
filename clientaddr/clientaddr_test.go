package clientaddr

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"testing"
)

// proxies are the trusted proxies of the tests: a load balancer network
// and one IPv6 address.
var proxies = New([]netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:1::5/128"),
})

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name    string
		noProxy bool // a nil Resolver instead of proxies
		peer    string
		tls     bool
		headers [][2]string // name, value; repeated names are several lines
		want    Client
	}{
		{name: "no-proxy-trusted", noProxy: true, peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}},
			want:    Client{Addr: "10.1.1.1"}},
		{name: "untrusted-peer-headers-ignored", peer: "198.51.100.4:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=203.0.113.9;proto=https"}, {"X-Forwarded-Proto", "https"}},
			want:    Client{Addr: "198.51.100.4"}},
		{name: "untrusted-peer-over-tls", peer: "198.51.100.4:5000", tls: true,
			want: Client{Addr: "198.51.100.4", HTTPS: true}},
		{name: "trusted-peer-without-headers", peer: "10.1.1.1:5000",
			want: Client{Addr: "10.1.1.1"}},
		{name: "xff-one-hop", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}},
			want:    Client{Addr: "203.0.113.9", HTTPS: true}},
		{name: "xff-forged-left-ignored", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "1.2.3.4, 203.0.113.9"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "xff-right-most-untrusted-through-two-proxies", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "1.2.3.4, 203.0.113.9, 10.2.2.2"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "xff-several-lines", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "1.2.3.4"}, {"X-Forwarded-For", "203.0.113.9, 10.2.2.2"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "xff-all-trusted-left-most", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "10.3.3.3, 10.2.2.2"}},
			want:    Client{Addr: "10.3.3.3"}},
		{name: "xff-garbage-stops-at-reporting-proxy", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9, nonsense, 10.2.2.2"}},
			want:    Client{Addr: "10.2.2.2"}},
		{name: "xff-garbage-first-hop-is-peer", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "unknown"}},
			want:    Client{Addr: "10.1.1.1"}},
		{name: "xff-with-port-and-mapped", peer: "[::ffff:10.1.1.1]:5000",
			headers: [][2]string{{"X-Forwarded-For", "[2001:db8::9]:443, ::ffff:10.2.2.2"}},
			want:    Client{Addr: "2001:db8::9"}},
		{name: "xff-ipv6-proxy", peer: "[2001:db8:1::5]:5000",
			headers: [][2]string{{"X-Forwarded-For", "2001:db8:2::7"}},
			want:    Client{Addr: "2001:db8:2::7"}},
		{name: "xff-ipv6-proxy-prefix-is-exact", peer: "[2001:db8:1::6]:5000",
			headers: [][2]string{{"X-Forwarded-For", "2001:db8:2::7"}},
			want:    Client{Addr: "2001:db8:1::6"}},
		{name: "xfp-aligned-with-client-hop", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "1.2.3.4, 203.0.113.9, 10.2.2.2"}, {"X-Forwarded-Proto", "http, https, http"}},
			want:    Client{Addr: "203.0.113.9", HTTPS: true}},
		{name: "xfp-forged-left-ignored", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https, http"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "xfp-without-xff", peer: "10.1.1.1:5000",
			headers: [][2]string{{"X-Forwarded-Proto", "https"}},
			want:    Client{Addr: "10.1.1.1", HTTPS: true}},
		{name: "forwarded", peer: "10.1.1.1:5000",
			headers: [][2]string{{"Forwarded", `for="[2001:db8::17]:4711";proto=https;by=10.1.1.1`}},
			want:    Client{Addr: "2001:db8::17", HTTPS: true}},
		{name: "forwarded-forged-left-ignored", peer: "10.1.1.1:5000",
			headers: [][2]string{{"Forwarded", "for=1.2.3.4;proto=https, for=203.0.113.9;proto=http"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "forwarded-through-two-proxies", peer: "10.1.1.1:5000",
			headers: [][2]string{{"Forwarded", "for=203.0.113.9;proto=https"}, {"Forwarded", "For=10.2.2.2;Proto=http"}},
			want:    Client{Addr: "203.0.113.9", HTTPS: true}},
		{name: "forwarded-unknown-is-the-reporting-proxy", peer: "10.1.1.1:5000",
			headers: [][2]string{{"Forwarded", "for=unknown, for=10.2.2.2"}},
			want:    Client{Addr: "10.2.2.2"}},
		{name: "forwarded-malformed-ignored", peer: "10.1.1.1:5000",
			headers: [][2]string{{"Forwarded", `for="203.0.113.9`}},
			want:    Client{Addr: "10.1.1.1"}},
		{name: "xff-wins-over-forwarded", peer: "10.1.1.1:5000",
			headers: [][2]string{{"Forwarded", "for=1.2.3.4"}, {"X-Forwarded-For", "203.0.113.9"}},
			want:    Client{Addr: "203.0.113.9"}},
		{name: "remote-addr-not-an-ip", peer: "@",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}},
			want:    Client{Addr: "@"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, h := range tc.headers {
				r.Header.Add(h[0], h[1])
			}
			res := proxies
			if tc.noProxy {
				res = nil
			}
			if got := res.Resolve(r); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParsePrefix(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" for an error
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::1", "::1/128"},
		{"10.0.0.0/33", ""},
		{"fe80::1%eth0", ""},
		{"example.com", ""},
		{"", ""},
	} {
		got, err := ParsePrefix(tc.in)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParsePrefix(%q): got %v, want an error", tc.in, got)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("ParsePrefix(%q): got %v, %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestParseForwarded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  []Element // nil with wantErr
		err   bool
	}{
		{name: "rfc-example", lines: []string{`for="_gazonk"`}, want: []Element{{For: "_gazonk"}}},
		{name: "pairs-and-case", lines: []string{`For="[2001:db8:cafe::17]:4711"; proto=HTTPS ;BY=203.0.113.43;host=example.com`},
			want: []Element{{For: "[2001:db8:cafe::17]:4711", Proto: "HTTPS", By: "203.0.113.43", Host: "example.com"}}},
		{name: "list-and-lines", lines: []string{"for=192.0.2.43, for=198.51.100.17", "for=10.2.2.2"},
			want: []Element{{For: "192.0.2.43"}, {For: "198.51.100.17"}, {For: "10.2.2.2"}}},
		{name: "empty-elements-skipped", lines: []string{" , for=192.0.2.43,, "}, want: []Element{{For: "192.0.2.43"}}},
		{name: "quoted-pair", lines: []string{`for="a\"b\\c"`}, want: []Element{{For: `a"b\c`}}},
		{name: "extension-ignored", lines: []string{"for=192.0.2.43;secret=x"}, want: []Element{{For: "192.0.2.43"}}},
		{name: "empty-header", lines: []string{""}, want: nil},
		{name: "unterminated-quote", lines: []string{`for="192.0.2.43`}, err: true},
		{name: "missing-value", lines: []string{"for="}, err: true},
		{name: "missing-equals", lines: []string{"for"}, err: true},
		{name: "twice-in-element", lines: []string{"for=1.2.3.4;FOR=5.6.7.8"}, err: true},
		{name: "space-inside-token", lines: []string{"for=1.2.3.4 5.6.7.8"}, err: true},
		{name: "unquoted-ipv6", lines: []string{"for=[2001:db8::1]"}, err: true},
		{name: "control-in-quote", lines: []string{"for=\"a\x01\""}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseForwarded(tc.lines)
			if tc.err {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestLimitKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"203.0.113.9", "203.0.113.9"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::ffff:203.0.113.9", "203.0.113.9"}, // an IPv4 client, as IPv6 writes it
		{"not an address", "not an address"},
	} {
		if got := LimitKey(tc.addr); got != tc.want {
			t.Errorf("LimitKey(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
