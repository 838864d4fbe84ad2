// Package clientaddr resolves who sent an HTTP request: the client's
// address and whether it came over HTTPS, believing the forwarding
// headers (X-Forwarded-For, X-Forwarded-Proto, Forwarded) only from
// trusted proxies.
//
//	trusted, _ := clientaddr.ParsePrefix("10.0.0.0/8") // the load balancers
//	res := clientaddr.New([]netip.Prefix{trusted})
//	addr := res.Addr(r)   // "203.0.113.9": the client, not the proxy
//	https := res.HTTPS(r) // over TLS to us, or to the trusted proxy
//
// A request whose peer (RemoteAddr) is not a trusted proxy is its own
// client: its headers are ignored. From a trusted proxy, the hops of the
// forwarding header are read from right to left, nearest first; trusted
// proxies are skipped and the first hop that is not one is the client.
// What lies to its left was written by the client itself, or by proxies
// nobody vouches for, and is never believed. When every hop is trusted,
// the left-most is the client. A hop that is not an IP address
// ("unknown", an obfuscated node, garbage) stops the walk: the client is
// then the nearest address known, the trusted hop that reported it.
//
// X-Forwarded-For is read when a request has it, Forwarded (RFC 7239)
// only when it has no X-Forwarded-For: a proxy that appends to one of
// them and passes the other through from the client must not let the
// client choose which is read. Put a proxy that writes only Forwarded
// in front of routerd only if it removes X-Forwarded-For from what
// clients send.
//
// A Resolver is safe for concurrent use.
package clientaddr

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Client is who sent a request, as resolved by a Resolver.
type Client struct {
	// Addr is the client's IP address as text ("203.0.113.9",
	// "2001:db8::1"); RemoteAddr as it is when that holds no IP address.
	// Never empty for a request from net/http's server.
	Addr string
	// HTTPS reports whether the client's connection was HTTPS: the
	// request came over TLS, or a trusted proxy says the client's
	// connection to it was https.
	HTTPS bool
}

// Resolver resolves clients behind a set of trusted proxies. A nil
// *Resolver trusts no proxy. It is safe for concurrent use.
type Resolver struct {
	// trusted are the proxies' networks, masked; never changed after New.
	trusted []netip.Prefix
}

// New returns a Resolver that believes the forwarding headers of the
// peers within trusted.
func New(trusted []netip.Prefix) *Resolver {
	r := &Resolver{}
	for _, p := range trusted {
		if p.IsValid() {
			r.trusted = append(r.trusted, p.Masked())
		}
	}
	return r
}

// ParsePrefix reads a trusted proxy's network: a CIDR ("10.0.0.0/8",
// "2001:db8::/32") or a single address ("192.0.2.7", "::1").
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("clientaddr: %q is not a CIDR such as 10.0.0.0/8", s)
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("clientaddr: %q: a network has no zone", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("clientaddr: %q is not an IP address or a CIDR such as 10.0.0.0/8", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Trusted reports whether a is the address of a trusted proxy.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Addr returns the client's address; see Resolve.
func (r *Resolver) Addr(req *http.Request) string { return r.Resolve(req).Addr }

// HTTPS reports whether the client's connection was HTTPS; see Resolve.
func (r *Resolver) HTTPS(req *http.Request) bool { return r.Resolve(req).HTTPS }

// LimitKey is what a per-client limit counts addr (an Addr) under: an
// IPv4 address itself, an IPv6 address its /64. One subscriber, one
// host even, holds a whole /64 and may send from any address in it:
// counted per address, its limits would be no limit.
func LimitKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	switch {
	case err != nil || a.Is4():
		return addr
	case a.Is4In6():
		return a.Unmap().String()
	}
	return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
}

// Peer returns the host of req.RemoteAddr, the peer of the connection:
// what Resolve returns when no proxy is trusted.
func Peer(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

// Resolve returns the client of req, by the rule of the package comment.
func (r *Resolver) Resolve(req *http.Request) Client {
	c := Client{Addr: Peer(req), HTTPS: req.TLS != nil}
	peer, ok := parseNode(c.Addr)
	if !ok {
		return c
	}
	c.Addr = peer.String()
	if !r.Trusted(peer) {
		return c
	}
	var proto string
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		c.Addr, proto = r.forwardedFor(peer, splitList(xff), splitList(req.Header.Values("X-Forwarded-Proto")))
	} else if fwd := req.Header.Values("Forwarded"); len(fwd) > 0 {
		els, err := ParseForwarded(fwd)
		if err != nil {
			return c // a malformed header says nothing
		}
		c.Addr, proto = r.forwarded(peer, els)
	} else if xfp := splitList(req.Header.Values("X-Forwarded-Proto")); len(xfp) > 0 {
		proto = xfp[len(xfp)-1]
	}
	c.HTTPS = c.HTTPS || strings.EqualFold(proto, "https")
	return c
}

// forwardedFor applies the rule to the hops of X-Forwarded-For, peer
// being trusted, and returns the client and its X-Forwarded-Proto: the
// one value, the one aligned with the client's hop when there are as many
// as hops, or else the nearest.
func (r *Resolver) forwardedFor(peer netip.Addr, hops, protos []string) (addr, proto string) {
	i, a := r.walk(peer, len(hops), func(i int) string { return hops[i] })
	switch {
	case len(protos) == 1:
		proto = protos[0]
	case len(protos) == len(hops) && i >= 0:
		proto = protos[i]
	case len(protos) > 0:
		proto = protos[len(protos)-1]
	}
	return a.String(), proto
}

// forwarded applies the rule to the elements of Forwarded, peer being
// trusted, and returns the client and the proto its proxy reported.
func (r *Resolver) forwarded(peer netip.Addr, els []Element) (addr, proto string) {
	i, a := r.walk(peer, len(els), func(i int) string { return els[i].For })
	if i >= 0 {
		proto = els[i].Proto
	}
	return a.String(), proto
}

// walk reads n hops from right to left, peer being trusted, and returns
// the index of the client's hop (-1 for none: n is 0) and its address.
func (r *Resolver) walk(peer netip.Addr, n int, hop func(i int) string) (int, netip.Addr) {
	known := peer // the nearest address known, trusted so far
	for i := n - 1; i >= 0; i-- {
		a, ok := parseNode(hop(i))
		if !ok {
			return i, known
		}
		if !r.Trusted(a) || i == 0 {
			return i, a
		}
		known = a
	}
	return -1, known
}

// parseNode reads a hop: an IP address, possibly with a port, IPv6 in
// brackets or not ("192.0.2.1", "192.0.2.1:80", "[2001:db8::1]:80",
// "2001:db8::1"). The address is unmapped (::ffff:192.0.2.1 is 192.0.2.1)
// and its zone dropped.
func parseNode(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
				return netip.Addr{}, false
			}
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil || !a.Is6() {
				return netip.Addr{}, false
			}
		} else {
			a = ap.Addr()
		}
	}
	return a.Unmap().WithZone(""), true
}

// splitList splits the comma-separated values of a header's lines, in
// order, trimming spaces and dropping empty elements.
func splitList(lines []string) []string {
	var out []string
	for _, l := range lines {
		for _, v := range strings.Split(l, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}
