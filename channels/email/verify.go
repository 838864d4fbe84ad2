package email

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Verified reports whether m's sender address is proven: the first
// Authentication-Results header of authservID (the firm's own receiving
// server, which must remove such headers that arrive from outside, RFC
// 8601 section 5) says dmarc=pass for the From domain, or dkim=pass for
// a signing domain aligned with it, or spf=pass for an aligned envelope
// sender. Anything else, an empty authservID included, leaves the
// address a claim.
func Verified(m *Mail, authservID string) bool {
	if authservID == "" || m.From.Address == "" {
		return false
	}
	_, fromDomain, ok := strings.Cut(m.From.Address, "@")
	if !ok || fromDomain == "" {
		return false
	}
	for _, h := range m.Header["Authentication-Results"] {
		id, results, _ := strings.Cut(h, ";")
		if f := strings.Fields(id); len(f) == 0 || !strings.EqualFold(f[0], authservID) {
			continue
		}
		// Only the first of our server's headers counts: it added it on
		// top of the ones below.
		for _, r := range strings.Split(results, ";") {
			method, props := parseResult(r)
			switch method {
			case "dmarc=pass":
				if d := props["header.from"]; d == "" || strings.EqualFold(d, fromDomain) {
					return true
				}
			case "dkim=pass":
				d := props["header.d"]
				if d == "" {
					if _, dom, ok := strings.Cut(props["header.i"], "@"); ok {
						d = dom
					}
				}
				if aligned(d, fromDomain) {
					return true
				}
			case "spf=pass":
				d := props["smtp.mailfrom"]
				if _, dom, ok := strings.Cut(d, "@"); ok {
					d = dom
				}
				if aligned(d, fromDomain) {
					return true
				}
			}
		}
		return false
	}
	return false
}

// parseResult reads "dkim=pass (comment) header.d=example.com" into its
// method=result, lowercased, and its properties.
func parseResult(r string) (string, map[string]string) {
	var b strings.Builder
	depth := 0
	for _, c := range r {
		switch {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	f := strings.Fields(b.String())
	if len(f) == 0 {
		return "", nil
	}
	props := map[string]string{}
	for _, p := range f[1:] {
		if k, v, ok := strings.Cut(p, "="); ok {
			props[strings.ToLower(k)] = strings.ToLower(strings.Trim(v, "\""))
		}
	}
	return strings.ToLower(f[0]), props
}

// aligned reports relaxed alignment (RFC 7489 section 3.1): d and the
// From domain have the same organizational domain (by the public suffix
// list).
func aligned(d, from string) bool {
	d, from = strings.ToLower(strings.TrimSuffix(d, ".")), strings.ToLower(strings.TrimSuffix(from, "."))
	if d == "" {
		return false
	}
	if d == from {
		return true
	}
	od, err1 := publicsuffix.EffectiveTLDPlusOne(d)
	of, err2 := publicsuffix.EffectiveTLDPlusOne(from)
	return err1 == nil && err2 == nil && od == of
}
