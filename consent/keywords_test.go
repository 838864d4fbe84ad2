package consent

import "testing"

func TestKeywordOf(t *testing.T) {
	for _, tc := range []struct {
		body string
		want Keyword
	}{
		{"STOP", KeywordStop}, {" stop\n", KeywordStop}, {"StopAll", KeywordStop}, {"unsubscribe", KeywordStop},
		{"cancel", KeywordStop}, {"END", KeywordStop}, {"quit", KeywordStop}, {"Revoke", KeywordStop}, {"optout", KeywordStop},
		{"start", KeywordStart}, {"Yes", KeywordStart}, {"UNSTOP", KeywordStart},
		{"help", KeywordHelp}, {"INFO ", KeywordHelp},
		{"stop please", NoKeyword}, {"STOP.", NoKeyword}, {"", NoKeyword}, {"st op", NoKeyword}, {"hello", NoKeyword},
	} {
		if got, _ := KeywordOf(tc.body); got != tc.want {
			t.Errorf("KeywordOf(%q): got %v, want %v", tc.body, got, tc.want)
		}
	}
}
