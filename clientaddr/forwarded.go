package clientaddr

import (
	"errors"
	"fmt"
	"strings"
)

// maxForwardedElements bounds how many elements ParseForwarded reads;
// a real chain of proxies has a handful.
const maxForwardedElements = 64

// ErrForwarded is wrapped by every error of ParseForwarded.
var ErrForwarded = errors.New("clientaddr: malformed Forwarded header")

// Element is one element of a Forwarded header (RFC 7239): what one
// proxy saw of the request it forwarded. Values are unquoted; a
// parameter the element lacks is empty.
type Element struct {
	// For is the node that made the request to the proxy: an address,
	// possibly with a port ("192.0.2.60", "[2001:db8::17]:4711"),
	// "unknown" or an obfuscated identifier ("_hidden").
	For string
	// By is the proxy's own interface that received the request.
	By string
	// Host is the Host header the proxy received.
	Host string
	// Proto is the scheme of the request the proxy received ("https").
	Proto string
}

// ParseForwarded reads the Forwarded header's lines, in order, into its
// elements (comma-separated; empty ones skipped), each a list of
// name=value pairs separated by semicolons. Names are case-insensitive;
// a value is a token or a quoted string; a name may not appear twice in
// one element; names other than for, by, host and proto are ignored.
func ParseForwarded(lines []string) ([]Element, error) {
	var els []Element
	for _, l := range lines {
		p := &fwdParser{s: l}
		for {
			p.skipSpace()
			if p.done() {
				break
			}
			if p.peek() == ',' {
				p.i++
				continue
			}
			if len(els) == maxForwardedElements {
				return nil, fmt.Errorf("%w: more than %d elements", ErrForwarded, maxForwardedElements)
			}
			el, err := p.element()
			if err != nil {
				return nil, err
			}
			els = append(els, el)
		}
	}
	return els, nil
}

// fwdParser reads one line of a Forwarded header.
type fwdParser struct {
	s string
	i int // next byte to read
}

func (p *fwdParser) done() bool { return p.i >= len(p.s) }
func (p *fwdParser) peek() byte { return p.s[p.i] }

func (p *fwdParser) skipSpace() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

func (p *fwdParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrForwarded, p.i, fmt.Sprintf(format, args...))
}

// element reads pairs up to the end of the line or a comma, which it
// consumes.
func (p *fwdParser) element() (Element, error) {
	var el Element
	seen := map[string]bool{}
	for {
		p.skipSpace()
		if p.done() {
			return el, nil
		}
		switch p.peek() {
		case ',':
			p.i++
			return el, nil
		case ';':
			p.i++
			continue
		}
		name := strings.ToLower(p.token())
		if name == "" {
			return el, p.errorf("want a parameter name, got %q", p.peek())
		}
		if p.done() || p.peek() != '=' {
			return el, p.errorf("want \"=\" after %q", name)
		}
		p.i++
		var val string
		if !p.done() && p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return el, err
			}
			val = v
		} else if val = p.token(); val == "" {
			return el, p.errorf("want a value for %q", name)
		}
		if seen[name] {
			return el, p.errorf("%q twice in one element", name)
		}
		seen[name] = true
		switch name {
		case "for":
			el.For = val
		case "by":
			el.By = val
		case "host":
			el.Host = val
		case "proto":
			el.Proto = val
		}
		p.skipSpace()
		if !p.done() && p.peek() != ';' && p.peek() != ',' {
			return el, p.errorf("want \";\" or \",\" after the value of %q, got %q", name, p.peek())
		}
	}
}

// token reads a run of token characters (RFC 9110 tchar).
func (p *fwdParser) token() string {
	start := p.i
	for !p.done() && isTchar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted string, the opening quote next, and returns its
// content with quoted pairs undone.
func (p *fwdParser) quoted() (string, error) {
	p.i++ // the opening quote
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		p.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.done() {
				return "", p.errorf("a backslash ends the header")
			}
			c = p.peek()
			p.i++
			if !isQuotable(c) {
				return "", p.errorf("%q may not be escaped", c)
			}
		case !isQdtext(c):
			return "", p.errorf("%q in a quoted string", c)
		}
		b.WriteByte(c)
	}
	return "", p.errorf("unterminated quoted string")
}

// isTchar reports whether c may appear in a token (RFC 9110, 5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQdtext reports whether c may appear unescaped in a quoted string.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e) || c >= 0x80
}

// isQuotable reports whether c may follow a backslash in a quoted string.
func isQuotable(c byte) bool {
	return c == '\t' || (0x20 <= c && c <= 0x7e) || c >= 0x80
}
