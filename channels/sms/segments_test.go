package sms

import (
	"strings"
	"testing"
)

// segmentCases are the composer's table: the desktop's segments.js must
// count each the same (agents/web, TestComposerSegmentsAgreeWithGo).
var segmentCases = []struct {
	name string
	body string
	want Segments
}{
	{"empty", "", Segments{GSM7, 0, 0}},
	{"one-gsm", "Hello", Segments{GSM7, 5, 1}},
	{"gsm-160", strings.Repeat("a", 160), Segments{GSM7, 160, 1}},
	{"gsm-161", strings.Repeat("a", 161), Segments{GSM7, 161, 2}},
	{"gsm-306", strings.Repeat("a", 306), Segments{GSM7, 306, 2}},
	{"gsm-307", strings.Repeat("a", 307), Segments{GSM7, 307, 3}},
	{"extension-counts-two", strings.Repeat("€", 80), Segments{GSM7, 160, 1}},
	{"extension-past-160", strings.Repeat("€", 81), Segments{GSM7, 162, 2}},
	{"extension-not-split", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 10), Segments{GSM7, 164, 2}},
	{"extension-pushed-to-next-part", strings.Repeat("a", 152) + "[" + strings.Repeat("a", 152), Segments{GSM7, 306, 3}},
	{"gsm-accents", "àèéìòù ÄÖÑÜ äöñü Ç ß ¿¡ £¥§ ΔΦΓΛΩΠΨΣΘΞ", Segments{GSM7, 38, 1}},
	{"newlines", "a\nb\rc", Segments{GSM7, 5, 1}},
	{"ucs2-one-char", "Hello ✓", Segments{UCS2, 7, 1}},
	{"ucs2-70", strings.Repeat("ж", 70), Segments{UCS2, 70, 1}},
	{"ucs2-71", strings.Repeat("ж", 71), Segments{UCS2, 71, 2}},
	{"ucs2-134", strings.Repeat("ж", 134), Segments{UCS2, 134, 2}},
	{"ucs2-135", strings.Repeat("ж", 135), Segments{UCS2, 135, 3}},
	{"emoji-two-units", "😀", Segments{UCS2, 2, 1}},
	{"emoji-not-split", strings.Repeat("a", 66) + "😀" + strings.Repeat("a", 10), Segments{UCS2, 78, 2}},
	{"ucs2-extension-counts-one", strings.Repeat("€", 70), Segments{GSM7, 140, 1}},
	{"ucs2-with-euro", "€ж", Segments{UCS2, 2, 1}},
	{"backtick-is-not-gsm", "`", Segments{UCS2, 1, 1}},
}

func TestCount(t *testing.T) {
	for _, tc := range segmentCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Count(tc.body); got != tc.want {
				t.Errorf("Count: got %+v, want %+v", got, tc.want)
			}
		})
	}
}
