package customers

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkReader reads every row of r, from input, and checks what holds
// for any input: the reader ends, lines only grow and stay within the
// input, a row is either an input or a *FieldError, and Profile on an
// input answers a profile or a *FieldError. It returns the rows.
func checkReader(t *testing.T, input string, r RowReader) []Row {
	t.Helper()
	lines := strings.Count(input, "\n") + 1
	var rows []Row
	last := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v (a strings.Reader never fails)", err)
		}
		if row.Line <= last || row.Line > lines {
			t.Fatalf("got line %d after line %d, in an input of %d lines", row.Line, last, lines)
		}
		last = row.Line
		rows = append(rows, row)
		if row.Err != nil {
			var fe *FieldError
			if !errors.As(row.Err, &fe) || fe.Message == "" {
				t.Fatalf("line %d: got error %v, want a *FieldError with a message", row.Line, row.Err)
			}
			continue
		}
		p, err := row.Input.Profile(false, time.Unix(0, 0))
		var fe *FieldError
		switch {
		case err != nil && !errors.As(err, &fe):
			t.Fatalf("line %d: Profile: got %v, want a *FieldError", row.Line, err)
		case err == nil && p.Customer.ID != row.Input.ID:
			t.Fatalf("line %d: Profile: got id %q, want %q", row.Line, p.Customer.ID, row.Input.ID)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add("id,name,emails,phones\nada,Ada,ada@example.com,+15551234567\n")            // a plain row
	f.Add("\ufeffid,name\r\nada,\"Lovelace, Ada\"\r\n")                               // BOM, CRLF, quoted comma
	f.Add("id,name\nada,\"Ada\nLovelace\"\nbob,Bob\n")                                // a quoted newline
	f.Add("id,name\nada,Ada \"the\" L\nbob,\"open\n")                                 // a bare quote, an unclosed quote
	f.Add("id,consent_marketing,value,sms_opt_out\nada,maybe,12k,\nbob,,1e400,yes\n") // bad cells
	f.Add("id,tags\nada,;;a; b ;\n\n\nbob\n")                                         // empty list values, blank lines, too few cells
	f.Add("id,emial\n")                                                               // unknown column
	f.Fuzz(func(t *testing.T, s string) {
		r, err := NewCSVReader(strings.NewReader(s))
		if err != nil {
			return
		}
		checkReader(t, s, r)
	})
}

func FuzzJSONLReader(f *testing.F) {
	f.Add(`{"id":"ada","emails":["ada@example.com"],"consent":{"marketing":true,"profiling":null}}` + "\n") // a plain row
	f.Add("\ufeff{\"id\":\"ada\"}\r\n\r\n{\"id\":\"bob\"}")                                                 // BOM, CRLF, blank line, no final newline
	f.Add(`{"id":"ada","email":"x"}` + "\n" + `{"id":"bob","verified":true}`)                               // unknown fields
	f.Add(`{"id":"ada","value":"12"}` + "\n" + `{"id":1}` + "\n[1]\n")                                      // wrong types, not an object
	f.Add(`{"id":"ada"} {"id":"bob"}` + "\n" + `{"id":"ad`)                                                 // two objects, a broken one
	f.Fuzz(func(t *testing.T, s string) {
		for _, row := range checkReader(t, s, NewJSONLReader(strings.NewReader(s))) {
			if row.Err != nil {
				continue
			}
			// What was read, written back as a line, reads the same.
			b, err := json.Marshal(row.Input)
			if err != nil {
				t.Fatalf("line %d: marshal %+v: %v", row.Line, row.Input, err)
			}
			again := readAll(t, NewJSONLReader(strings.NewReader(string(b))))
			if len(again) != 1 || again[0].Err != nil || !reflect.DeepEqual(again[0].Input, row.Input) {
				t.Fatalf("line %d: got %+v written as %s, read back as %+v", row.Line, row.Input, b, again)
			}
		}
	})
}
