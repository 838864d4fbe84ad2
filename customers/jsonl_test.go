package customers

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/consent"
)

func TestJSONLReader(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		in   string
		want []wantRow
	}{
		{"put-body-with-id", `{"id":"ada","name":"Ada","emails":["ada@example.com"],"phones":["+15551234567"],"crm_id":"SF-1","segment":"premium","value":1200,"language":"en","consent":{"marketing":true,"profiling":null},"relationship_manager":"alice","sms_opt_out":true,"products":["card"],"tags":["vip"]}` + "\n",
			[]wantRow{{line: 1, input: ProfileInput{ID: "ada", Name: "Ada", Emails: []string{"ada@example.com"}, Phones: []string{"+15551234567"},
				CRMID: "SF-1", Segment: "premium", Value: 1200, Language: "en", Consent: consent.Flags{Marketing: &yes}, RelationshipManager: "alice",
				SMSOptOut: true, Products: []string{"card"}, Tags: []string{"vip"}}}}},
		{"blank-lines-bom-crlf-no-final-newline", "\ufeff{\"id\":\"ada\"}\r\n\r\n   \n{\"id\":\"bob\"}", []wantRow{
			{line: 1, input: ProfileInput{ID: "ada"}},
			{line: 4, input: ProfileInput{ID: "bob"}}}},
		{"unknown-field", `{"id":"ada","email":"ada@example.com"}` + "\n" + `{"id":"bob"}`, []wantRow{
			{line: 1, errField: "email", errMsg: "unknown field; valid fields: consent, crm_id, emails"},
			{line: 2, input: ProfileInput{ID: "bob"}}}},
		{"unknown-nested-field", `{"id":"ada","consent":{"marketting":true}}`, []wantRow{
			{line: 1, errField: "consent.marketting", errMsg: "unknown field; valid fields: marketing, profiling"}}},
		{"verified-is-per-import", `{"id":"ada","verified":true}`, []wantRow{{line: 1, errField: "verified", errMsg: "whole import"}}},
		{"wrong-type", `{"id":"ada","consent":{"marketing":"yes"}}` + "\n" + `{"id":"bob","phones":"+15551234567"}`, []wantRow{
			{line: 1, errField: "consent.marketing", errMsg: "got string, want true or false"},
			{line: 2, errField: "phones", errMsg: "got string, want an array of strings"}}},
		{"not-utf8", "{\"id\":\"ada\",\"name\":\"Ad\xe9\"}\n{\"id\":\"bob\"}\n", []wantRow{
			{line: 1, errMsg: "not valid UTF-8"}, {line: 2, input: ProfileInput{ID: "bob"}}}},
		{"not-an-object", "[1,2]\n\"ada\"\n", []wantRow{{line: 1, errMsg: "want a JSON object"}, {line: 2, errMsg: "want a JSON object"}}},
		{"broken-json", `{"id":"ada",}` + "\n" + `{"id":"ada"`, []wantRow{
			{line: 1, errMsg: "not valid JSON: invalid character '}'"},
			{line: 2, errMsg: "not closed on its line"}}},
		{"two-objects-on-a-line", `{"id":"ada"} {"id":"bob"}`, []wantRow{{line: 1, errMsg: "data after the JSON object"}}},
		{"bad-phone-is-read", `{"id":"ada","phones":["555"]}`, []wantRow{{line: 1, input: ProfileInput{ID: "ada", Phones: []string{"555"}}}}},
		{"too-long-line-skipped", `{"id":"ada","name":"` + strings.Repeat("x", MaxLineBytes) + `"}` + "\n" + `{"id":"bob"}` + "\n", []wantRow{
			{line: 1, errMsg: "longer than"},
			{line: 2, input: ProfileInput{ID: "bob"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRows(t, readAll(t, NewJSONLReader(strings.NewReader(tt.in))), tt.want)
		})
	}
}
