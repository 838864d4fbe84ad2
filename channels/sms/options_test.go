package sms

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// TestNewHoldsTheRules: New refuses credentials, routes and URLs by the
// rules the configuration uses too (ValidCredential, ValidateRoutes,
// publicurl.Parse, ValidAPIBaseURL). It took
// a credential of any length, where the configuration stopped at 128.
func TestNewHoldsTheRules(t *testing.T) {
	base := Options{Router: &router.Router{}, Store: (*store.DB)(nil), Intake: &intake.Intake{},
		AuthToken: "token", PublicURL: "https://contact.example.com", Routes: []Route{{Queue: "q"}}}
	tests := []struct {
		name string
		tune func(o *Options)
		want string // in the error; "" when taken
	}{
		{"valid", func(*Options) {}, ""},
		{"token-at-the-limit", func(o *Options) { o.AuthToken = strings.Repeat("a", MaxCredentialLen) }, ""},
		{"token-too-long", func(o *Options) { o.AuthToken = strings.Repeat("a", MaxCredentialLen+1) }, "auth token"},
		{"account-too-long", func(o *Options) { o.AccountSID = "AC" + strings.Repeat("0", MaxCredentialLen) }, "account SID"},
		{"route-not-e164", func(o *Options) { o.Routes = []Route{{Queue: "q", From: "555"}} }, `routes[0].from: "555" is not a number in E.164`},
		{"route-without-queue", func(o *Options) { o.Routes = []Route{{From: "+15550001111"}} }, "routes[0].queue: missing"},
		{"help-text-at-the-limit", func(o *Options) { o.HelpText = strings.Repeat("h", MaxTextChars) }, ""},
		{"help-text-too-long", func(o *Options) { o.HelpText = strings.Repeat("h", MaxTextChars+1) }, "help text"},
		{"public-url-with-a-user", func(o *Options) { o.PublicURL = "https://me@contact.example.com" }, "public URL"},
		{"public-url-with-a-path", func(o *Options) { o.PublicURL = "https://contact.example.com/chat" }, "public URL"},
		{"api-base-with-a-fragment", func(o *Options) { o.APIBaseURL = "https://api.example.com#x" }, "API base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.tune(&o)
			_, err := o.resolve()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want none", err)
			case tt.want != "" && (!errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want ErrOptions with %q", err, tt.want)
			}
		})
	}
}
