package sms

import "unicode/utf16"

// Encodings of an SMS (Segments.Encoding).
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segment sizes: a message that fits one segment takes up to 160 GSM-7
// septets or 70 UCS-2 code units; a longer one is split into parts of
// 153 or 67, the rest of each part carrying the header that joins them.
const (
	gsm7Single, gsm7Part = 160, 153
	ucs2Single, ucs2Part = 70, 67
)

// Segments is how a body travels as SMS.
type Segments struct {
	// Encoding is GSM7 when every character is in the GSM 03.38 basic
	// set or its extension (which count two septets each), else UCS2.
	Encoding string `json:"encoding"`
	// Units are the septets (GSM-7) or UTF-16 code units (UCS-2) of the
	// body.
	Units int `json:"units"`
	// Count is how many segments it takes (0 for an empty body).
	Count int `json:"count"`
}

// gsm7Basic is the GSM 03.38 default alphabet; gsm7Ext its extension
// table, each character of which takes an escape and itself (two
// septets).
var (
	gsm7Basic = setOf("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
	gsm7Ext = setOf("\f^{}\\[~]|€")
)

func setOf(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Count returns how body travels as SMS: its encoding, its units and
// how many segments it takes. This is the one rule; the agent desktop's
// composer mirrors it (agents/web/static/segments.js, held to the same
// table of cases by a test). A part never splits an extension
// character's two septets nor a surrogate pair, as the carriers' split
// does not.
func Count(body string) Segments {
	if body == "" {
		return Segments{Encoding: GSM7}
	}
	var sizes []int // the units of each character
	gsm := true
	for _, r := range body {
		switch {
		case gsm7Basic[r]:
			sizes = append(sizes, 1)
		case gsm7Ext[r]:
			sizes = append(sizes, 2)
		default:
			gsm = false
		}
		if !gsm {
			break
		}
	}
	single, part := gsm7Single, gsm7Part
	s := Segments{Encoding: GSM7}
	if !gsm {
		single, part = ucs2Single, ucs2Part
		s.Encoding = UCS2
		sizes = sizes[:0]
		for _, r := range body {
			sizes = append(sizes, utf16.RuneLen(max(r, 0)))
		}
	}
	for _, n := range sizes {
		s.Units += n
	}
	if s.Units <= single {
		s.Count = 1
		return s
	}
	s.Count = 1
	room := part
	for _, n := range sizes {
		if n > room {
			s.Count++
			room = part
		}
		room -= n
	}
	return s
}
