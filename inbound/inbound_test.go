package inbound

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain-ascii", "Ada Lovelace", "Ada Lovelace"},
		{"accents-kept", "Zoë Ångström", "Zoë Ångström"},
		{"right-to-left-override", "invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"every-embedding-and-override", "a\u202Ab\u202Bc\u202Cd\u202De\u202Ef", "abcdef"},
		{"isolates", "\u2066x\u2067y\u2068z\u2069", "xyz"},
		{"implicit-marks", "\u200Ea\u200Fb\u061Cc", "abc"},
		{"zero-width-space-in-word", "pay\u200Bpal", "paypal"},
		{"word-joiner-and-bom", "\uFEFFbank\u2060ing", "banking"},
		{"invisible-operators", "1\u20612\u20623\u20634\u20645", "12345"},
		{"soft-hyphen", "ac\u00ADcount", "account"},
		{"hangul-filler-name", "\u3164", ""},
		{"zwj-between-latin-letters", "pay\u200Dpal", "paypal"},
		{"zwj-at-the-end", "👩\u200D", "👩"},
		{"zwj-emoji-sequence-kept", "👩\u200D💻", "👩\u200D💻"},
		{"zwj-after-skin-tone-kept", "👩🏽\u200D💻", "👩🏽\u200D💻"},
		{"zwj-after-presentation-selector-kept", "❤\uFE0F\u200D🔥", "❤\uFE0F\u200D🔥"},
		{"double-zwj", "👩\u200D\u200D💻", "👩\u200D💻"},
		{"zwnj-in-persian-kept", "می\u200Cخواهم", "می\u200Cخواهم"},
		{"zwnj-in-latin", "Auf\u200Clage", "Auflage"},
		{"tag-characters-smuggled", "hi\U000E0069\U000E0067\U000E006E", "hi"},
		{"subdivision-flag-kept", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F!", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F!"},
		{"tags-after-flag-ended", "🏴\U000E0067\U000E007Fx\U000E0067", "🏴\U000E0067\U000E007Fx"},
		{"newlines-and-tabs-kept", "line 1\n\tline 2", "line 1\n\tline 2"},
		{"invalid-utf8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%+q) = %+q, want %+q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTextDoesNotAllocateForCleanText(t *testing.T) {
	s := strings.Repeat("Grüße, Ada! ", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

// FuzzText holds Text to its promises on any input: valid UTF-8 out, no
// removed character left, nothing added, and a second pass changes
// nothing.
func FuzzText(f *testing.F) {
	for _, s := range []string{
		"",                         // empty
		"Ada",                      // nothing to do
		"abc\u202Efdp.exe",         // an override
		"\u2067\u2069\u200E\u061C", // isolates and marks only
		"👩\u200D💻",                 // an emoji sequence
		"👩\u200D\u200B💻",           // a joiner before a removed space
		"می\u200Cخواهم",            // a non-joiner in Persian
		"🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", // a subdivision flag
		"\U000E0041\U000E0042", // tags alone
		"a\xffb\xc3",           // invalid UTF-8
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%+q) = %+q: not UTF-8", s, got)
		}
		for _, r := range got {
			if removed(r) {
				t.Fatalf("Text(%+q) = %+q: kept %U", s, got, r)
			}
		}
		if utf8.ValidString(s) && len(got) > len(s) {
			t.Fatalf("Text(%+q) = %+q: longer than its input", s, got)
		}
		if again := Text(got); again != got {
			t.Fatalf("Text(Text(%+q)) = %+q, want %+q", s, again, got)
		}
	})
}
