package customers

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		in      Identity
		want    string
		wantErr bool
	}{
		{"email-trim-lower", Identity{Kind: KindEmail, Value: "  Ada@Example.COM "}, "ada@example.com", false},
		{"email-plus", Identity{Kind: KindEmail, Value: "ada+bill@example.com"}, "ada+bill@example.com", false},
		{"email-empty", Identity{Kind: KindEmail, Value: " "}, "", true},
		{"email-no-at", Identity{Kind: KindEmail, Value: "ada.example.com"}, "", true},
		{"email-two-at", Identity{Kind: KindEmail, Value: "a@b@example.com"}, "", true},
		{"email-display-name", Identity{Kind: KindEmail, Value: "Ada <ada@example.com>"}, "", true},
		{"email-empty-label", Identity{Kind: KindEmail, Value: "ada@example..com"}, "", true},
		{"email-too-long", Identity{Kind: KindEmail, Value: strings.Repeat("a", 250) + "@x.io"}, "", true},
		{"phone-e164", Identity{Kind: KindPhone, Value: "+15551234567"}, "+15551234567", false},
		{"phone-punctuation", Identity{Kind: KindPhone, Value: " +44 (20) 7946-0958 "}, "+442079460958", false},
		{"phone-no-plus", Identity{Kind: KindPhone, Value: "5551234567"}, "", true},
		{"phone-leading-zero", Identity{Kind: KindPhone, Value: "+0551234567"}, "", true},
		{"phone-letters", Identity{Kind: KindPhone, Value: "+1555CALLNOW"}, "", true},
		{"phone-too-short", Identity{Kind: KindPhone, Value: "+12345"}, "", true},
		{"phone-too-long", Identity{Kind: KindPhone, Value: "+1234567890123456"}, "", true},
		{"chat-trim", Identity{Kind: KindChat, Value: " tok-1 "}, "tok-1", false},
		{"external-control", Identity{Kind: KindExternal, Value: "crm\x001"}, "", true},
		{"unknown-kind", Identity{Kind: "fax", Value: "+15551234567"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("got %q, %v; want ErrInvalid", got.Value, err)
				}
				return
			}
			if err != nil || got.Value != tt.want {
				t.Errorf("got %q, %v; want %q", got.Value, err, tt.want)
			}
		})
	}
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func FuzzNormalizePhone(f *testing.F) {
	f.Add("+15551234567")        // plain E.164
	f.Add(" +44 (20) 7946-0958") // punctuation to drop
	f.Add("5551234567")          // no country code
	f.Add("+0")                  // leading zero
	f.Add("+1\u0660\u0661")      // Arabic-Indic digits are not digits here
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s)
		if err != nil {
			return
		}
		if !e164.MatchString(got) {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", s, got)
		}
		if again, err := NormalizePhone(got); err != nil || again != got {
			t.Fatalf("NormalizePhone(%q) = %q, %v; want it unchanged", got, again, err)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	f.Add("Ada@Example.com")     // mixed case
	f.Add(" ada@example.com\t")  // surrounding space
	f.Add("a@b@c")               // two @
	f.Add("\"a b\"@example.com") // quoted local part, refused
	f.Add("\u0130@example.com")  // a capital whose lowercase is longer
	f.Add("ada@\xffexample.com") // not UTF-8
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			return
		}
		if strings.Count(got, "@") != 1 || len(got) > maxEmailLen || got != strings.ToLower(got) || got != strings.TrimSpace(got) {
			t.Fatalf("NormalizeEmail(%q) = %q: not one @, too long, not lowercase or not trimmed", s, got)
		}
		if again, err := NormalizeEmail(got); err != nil || again != got {
			t.Fatalf("NormalizeEmail(%q) = %q, %v; want it unchanged", got, again, err)
		}
	})
}

// TestCheckPhone: a number to call back may be national; it is still 7
// to 15 digits with only separators between them.
func TestCheckPhone(t *testing.T) {
	for s, ok := range map[string]bool{
		"06 12 34 56 78": true, "(555) 123-4567": true, "+33 6 12 34 56 78": true, "+0 123 4567": true,
		"12345": false, "1234567890123456": false, "555-CALL-NOW": false, "": false, "+": false,
	} {
		if err := CheckPhone(s); (err == nil) != ok {
			t.Errorf("CheckPhone(%q): %v, want ok %v", s, err, ok)
		}
		if _, err := NormalizePhone(s); err == nil && !ok {
			t.Errorf("NormalizePhone(%q) takes what CheckPhone refuses", s)
		}
	}
}
