// Package inbound holds the rule for text that comes from outside (a
// customer's name, a subject, a message body) before an agent sees it:
// the characters that make text read differently from what it is are
// removed.
//
//	name := inbound.Text(form.Name) // "Ada\u202Egnp.exe" becomes "Adagnp.exe"
//
// Removed are the bidirectional controls (embeddings, overrides,
// isolates and the implicit marks LRM, RLM and ALM), which reorder what
// an agent reads (a file "exe.pdf" shown as "fdp.exe", a reversed
// account number); the zero-width and invisible characters (zero-width
// space, word joiner, byte order mark, invisible operators, the soft
// hyphen, Hangul fillers, the combining grapheme joiner, the Mongolian
// vowel separator), which hide text inside a word or make a name look
// empty or identical to another; and the Unicode tag characters, which
// carry invisible ASCII. Text keeps what writing needs: the zero-width
// joiner between two emoji (👩‍💻), the zero-width non-joiner between
// two letters of a script that joins (Persian, Indic), and the tags of a
// subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
//
// The router applies Text to every contact and inbound message it
// accepts, whatever the channel, so that a channel cannot forget it.
// Text is a pure function, safe for concurrent use.
package inbound

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Characters with a rule of their own.
const (
	zwnj      = '\u200C' // zero-width non-joiner
	zwj       = '\u200D' // zero-width joiner
	vs16      = '\uFE0F' // emoji presentation selector
	blackFlag = '\U0001F3F4'
	tagFirst  = '\U000E0000'
	tagLast   = '\U000E007F'
)

// removed reports whether r is always removed.
func removed(r rune) bool {
	switch {
	case r >= '\u202A' && r <= '\u202E', // LRE, RLE, PDF, LRO, RLO
		r >= '\u2066' && r <= '\u2069',              // LRI, RLI, FSI, PDI
		r == '\u200E', r == '\u200F', r == '\u061C', // LRM, RLM, ALM
		r == '\u200B',                                              // zero-width space
		r >= '\u2060' && r <= '\u2064',                             // word joiner, invisible operators
		r == '\uFEFF',                                              // zero-width no-break space (BOM)
		r == '\u00AD',                                              // soft hyphen
		r == '\u034F',                                              // combining grapheme joiner
		r == '\u180E',                                              // Mongolian vowel separator
		r == '\u115F', r == '\u1160', r == '\u3164', r == '\uFFA0', // Hangul fillers
		r >= '\u206A' && r <= '\u206F': // deprecated format characters
		return true
	}
	return false
}

// Text returns s without the characters that the package documentation
// lists. Each byte of invalid UTF-8 becomes U+FFFD. A string with nothing to remove is
// returned as is, without allocating.
func Text(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	var prev rune = -1 // the last rune kept
	inFlag := false    // within the tags after a black flag
	for i, r := range s {
		switch {
		case removed(r):
			continue
		case r >= tagFirst && r <= tagLast:
			if !inFlag || r == tagFirst {
				continue
			}
			b.WriteRune(r)
			if r == tagLast {
				inFlag = false
			}
			prev = r
			continue
		case r == zwj:
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !emoji(prev) || !emoji(next) {
				continue
			}
		case r == zwnj:
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !joining(prev) || !joining(next) {
				continue
			}
		}
		inFlag = r == blackFlag
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// clean reports whether Text has nothing to change in s.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			goto slow
		}
	}
	return true
slow:
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return false
			}
		}
		if removed(r) || r == zwj || r == zwnj || (r >= tagFirst && r <= tagLast) {
			return false
		}
	}
	return true
}

// emoji reports whether r may stand on either side of a zero-width
// joiner of an emoji sequence: a pictograph, a skin tone, the
// presentation selector, or the Unicode symbols that emoji are.
func emoji(r rune) bool {
	return r == vs16 || (r != utf8.RuneError && unicode.Is(unicode.So, r)) || (r >= '\U0001F3FB' && r <= '\U0001F3FF')
}

// joining reports whether r belongs to a script whose letters join or
// form conjuncts, where a zero-width non-joiner changes the spelling.
func joining(r rune) bool {
	if !unicode.IsLetter(r) && !unicode.IsMark(r) {
		return false
	}
	return unicode.In(r, unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian,
		unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya,
		unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala)
}
