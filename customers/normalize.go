package customers

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Identity kinds.
const (
	KindEmail    = store.IdentityEmail
	KindPhone    = store.IdentityPhone
	KindChat     = store.IdentityChat
	KindExternal = store.IdentityExternal
)

// Limits of identity values.
const (
	// maxEmailLen is the longest address RFC 5321 allows in a path: the
	// router's limit of a customer's email.
	maxEmailLen = router.MaxEmailLen
	// minPhoneDigits and maxPhoneDigits bound an E.164 number without the
	// +: a country code and subscriber number, at most 15 digits.
	minPhoneDigits = 7
	maxPhoneDigits = 15
	// maxTokenLen bounds chat tokens and external ids.
	maxTokenLen = 256
)

// Normalize returns id with its value normalized for its kind; see
// NormalizeEmail and NormalizePhone. Chat tokens and external ids are
// trimmed and must be 1–256 bytes of printable UTF-8.
func Normalize(id Identity) (Identity, error) {
	var err error
	switch id.Kind {
	case KindEmail:
		id.Value, err = NormalizeEmail(id.Value)
	case KindPhone:
		id.Value, err = NormalizePhone(id.Value)
	case KindChat, KindExternal:
		id.Value, err = normalizeToken(id.Kind, id.Value)
	default:
		err = fmt.Errorf("%w: kind %q: want email, phone, chat or external", ErrInvalid, id.Kind)
	}
	return id, err
}

// CheckEmail checks an address by NormalizeEmail's rule.
func CheckEmail(s string) error {
	_, err := NormalizeEmail(s)
	return err
}

// NormalizeEmail trims and lowercases an address and checks its shape:
// one @ with a non-empty local part and a dotless-or-dotted domain, no
// spaces, quotes, angle brackets or control characters, at most 254 bytes.
func NormalizeEmail(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: email %q is not UTF-8", ErrInvalid, s)
	}
	e := strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(e, "@")
	switch {
	case e == "":
		return "", fmt.Errorf("%w: email is empty", ErrInvalid)
	case len(e) > maxEmailLen:
		return "", fmt.Errorf("%w: email is longer than %d bytes", ErrInvalid, maxEmailLen)
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@"):
		return "", fmt.Errorf("%w: email %q: want local@domain", ErrInvalid, s)
	case strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "", fmt.Errorf("%w: email %q: the domain has an empty label", ErrInvalid, s)
	case strings.IndexFunc(e, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`"<>(),;:\[]`, r)
	}) >= 0:
		return "", fmt.Errorf("%w: email %q has a space, control character or one of \"<>(),;:\\[]", ErrInvalid, s)
	}
	return e, nil
}

// NormalizePhone returns a number in E.164: a leading + then 7 to 15
// digits, the first not 0. Spaces, dots, dashes and parentheses between
// digits are dropped; anything else, or a number without its leading +
// (national formats are ambiguous), is refused.
func NormalizePhone(s string) (string, error) {
	digits, plus, err := phoneDigits(s)
	switch {
	case err != nil:
		return "", err
	case !plus:
		return "", fmt.Errorf("%w: phone %q: want E.164 with the country code, such as +15551234567", ErrInvalid, s)
	case digits[0] == '0':
		return "", fmt.Errorf("%w: phone %q: a country code never starts with 0", ErrInvalid, s)
	}
	return "+" + digits, nil
}

// CheckPhone checks a number a person can be called back on: what
// NormalizePhone takes, and also a national number without its country
// code ("06 12 34 56 78"), which identifies nobody (NormalizePhone
// refuses it) but can be dialled by an agent of the same country. The
// chat's form takes such numbers for a call-back.
func CheckPhone(s string) error {
	_, _, err := phoneDigits(s)
	return err
}

// phoneDigits reads a phone number: an optional leading +, then 7 to 15
// digits with spaces, dots, dashes and parentheses between them.
func phoneDigits(s string) (digits string, plus bool, err error) {
	t := strings.TrimSpace(s)
	t, plus = strings.CutPrefix(t, "+")
	var b strings.Builder
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			if b.Len() == maxPhoneDigits {
				return "", plus, fmt.Errorf("%w: phone %q has more than %d digits", ErrInvalid, s, maxPhoneDigits)
			}
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", plus, fmt.Errorf("%w: phone %q: %q is not a digit", ErrInvalid, s, r)
		}
	}
	if b.Len() < minPhoneDigits {
		return "", plus, fmt.Errorf("%w: phone %q has fewer than %d digits", ErrInvalid, s, minPhoneDigits)
	}
	return b.String(), plus, nil
}

func normalizeToken(kind, s string) (string, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return "", fmt.Errorf("%w: %s id is empty", ErrInvalid, kind)
	case len(t) > maxTokenLen:
		return "", fmt.Errorf("%w: %s id is longer than %d bytes", ErrInvalid, kind, maxTokenLen)
	case !utf8.ValidString(t) || strings.IndexFunc(t, unicode.IsControl) >= 0:
		return "", fmt.Errorf("%w: %s id %q is not printable UTF-8", ErrInvalid, kind, s)
	}
	return t, nil
}
