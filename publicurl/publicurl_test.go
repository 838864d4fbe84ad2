package publicurl

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"https://contact.example.com":        "https://contact.example.com",
		"https://contact.example.com/":       "https://contact.example.com",
		"http://127.0.0.1:8080":              "http://127.0.0.1:8080",
		"https://contact.example.com/chat":   "",
		"https://contact.example.com?x=1":    "",
		"https://contact.example.com#top":    "",
		"https://user@contact.example.com":   "",
		"ftp://contact.example.com":          "",
		"contact.example.com":                "",
		"https://":                           "",
		"mailto:support@contact.example.com": "",
		"":                                   "",
	} {
		got, err := Parse(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
