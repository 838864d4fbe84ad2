package customers

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/consent"
)

// wantRow is a row a reader should return: Input when errField is
// empty and errMsg is empty, else an error naming errField (or, for a
// whole-row error, one whose message holds errMsg).
type wantRow struct {
	line     int
	input    ProfileInput
	errField string
	errMsg   string
}

// readAll reads every row of r.
func readAll(t *testing.T, r RowReader) []Row {
	t.Helper()
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, row)
	}
}

func checkRows(t *testing.T, got []Row, want []wantRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line {
			t.Errorf("row %d: got line %d, want %d", i, g.Line, w.line)
		}
		if w.errField == "" && w.errMsg == "" {
			if g.Err != nil || !reflect.DeepEqual(g.Input, w.input) {
				t.Errorf("row %d: got %+v %v, want %+v", i, g.Input, g.Err, w.input)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(g.Err, &fe) || fe.Field != w.errField || !strings.Contains(fe.Message, w.errMsg) {
			t.Errorf("row %d: got error %v, want field %q with %q", i, g.Err, w.errField, w.errMsg)
		}
	}
}

func TestCSVReader(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		in   string
		want []wantRow
	}{
		{"all-columns", "id,name,emails,phones,crm_id,segment,value,language,consent_marketing,consent_profiling,relationship_manager,sms_opt_out,products,tags\n" +
			"ada,Ada Lovelace,ada@example.com;ada@work.example,+15551234567,SF-1,premium,12000.5,en,yes,0,alice,true,card;mortgage,vip\n",
			[]wantRow{{line: 2, input: ProfileInput{ID: "ada", Name: "Ada Lovelace", Emails: []string{"ada@example.com", "ada@work.example"},
				Phones: []string{"+15551234567"}, CRMID: "SF-1", Segment: "premium", Value: 12000.5, Language: "en",
				Consent: consent.Flags{Marketing: &yes, Profiling: &no}, RelationshipManager: "alice", SMSOptOut: true,
				Products: []string{"card", "mortgage"}, Tags: []string{"vip"}}}}},
		{"columns-any-order-and-case", " Name ,ID\nAda,ada\n", []wantRow{{line: 2, input: ProfileInput{ID: "ada", Name: "Ada"}}}},
		{"bom-and-crlf", "\ufeffid,name\r\nada,Ada\r\nbob,Bob\r\n", []wantRow{
			{line: 2, input: ProfileInput{ID: "ada", Name: "Ada"}},
			{line: 3, input: ProfileInput{ID: "bob", Name: "Bob"}}}},
		{"quoting", "id,name,tags\nada,\"Lovelace, Ada \"\"the Countess\"\"\",\"a;b\"\n",
			[]wantRow{{line: 2, input: ProfileInput{ID: "ada", Name: `Lovelace, Ada "the Countess"`, Tags: []string{"a", "b"}}}}},
		{"quoted-newline-keeps-line-numbers", "id,name\nada,\"Ada\nLovelace\"\nbob,Bob\n", []wantRow{
			{line: 2, input: ProfileInput{ID: "ada", Name: "Ada\nLovelace"}},
			{line: 4, input: ProfileInput{ID: "bob", Name: "Bob"}}}},
		{"blank-lines-and-empty-list-values", "id,emails\n\nada, a@x.io ; ;b@x.io;\n", []wantRow{
			{line: 3, input: ProfileInput{ID: "ada", Emails: []string{"a@x.io", "b@x.io"}}}}},
		{"empty-consent-is-unknown", "id,consent_marketing,consent_profiling,sms_opt_out\nada,,TRUE,\n", []wantRow{
			{line: 2, input: ProfileInput{ID: "ada", Consent: consent.Flags{Profiling: &yes}}}}},
		{"bad-consent", "id,consent_marketing\nada,maybe\nbob,no\n", []wantRow{
			{line: 2, errField: "consent_marketing", errMsg: `"maybe": want true, false`},
			{line: 3, input: ProfileInput{ID: "bob", Consent: consent.Flags{Marketing: &no}}}}},
		{"bad-value", "id,value\nada,12k\nbob,NaN\ncarl,\n", []wantRow{
			{line: 2, errField: "value", errMsg: `"12k" is not a number`},
			{line: 3, errField: "value", errMsg: `"NaN" is not a number`},
			{line: 4, input: ProfileInput{ID: "carl"}}}},
		{"too-few-cells", "id,name,segment\nada,Ada\n", []wantRow{{line: 2, errMsg: "has 2 cells; the header has 3"}}},
		{"bare-quote", "id,name\nada,Ada \"the\" L\nbob,Bob\n", []wantRow{
			{line: 2, errMsg: "not valid CSV"},
			{line: 3, input: ProfileInput{ID: "bob", Name: "Bob"}}}},
		// An unclosed quote runs to the end of the file: the rows it
		// swallowed are named.
		{"unclosed-quote", "id,name\nada,Ada\nbob,\"Bob\ncy,Cy\ndee,Dee\n", []wantRow{
			{line: 2, input: ProfileInput{ID: "ada", Name: "Ada"}},
			{line: 3, errMsg: "the row runs over lines 3 to 5, which are not imported"}}},
		{"not-utf8", "id,name\nada,Ad\xe9\n", []wantRow{{line: 2, errField: "name", errMsg: "not valid UTF-8"}}},
		// The parser reads; the rules (a phone in E.164) are Profile's.
		{"bad-phone-is-read", "id,phones\nada,555-1234\n", []wantRow{{line: 2, input: ProfileInput{ID: "ada", Phones: []string{"555-1234"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewCSVReader(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("NewCSVReader: %v", err)
			}
			checkRows(t, readAll(t, r), tt.want)
		})
	}
}

func TestCSVHeader(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"unknown-column", "id,name,emial\n", `unknown column "emial" (column 3); valid columns: id, name, emails`},
		{"repeated-column", "id,name,NAME\n", `column "name" appears twice (columns 2 and 3)`},
		{"no-id", "name,emails\n", `no "id" column`},
		{"empty-file", "", "the file is empty"},
		{"bom-only", "\ufeff", "the file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCSVReader(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}
