package strictjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// A value refused by its own decoder (router.Duration) is named by its
// path, however deep; encoding/json's error does not say where it was.
func TestFindUnmarshalError(t *testing.T) {
	type step struct {
		After router.Duration `json:"after"`
	}
	type body struct {
		Name  string                     `json:"name"`
		Wait  *router.Duration           `json:"wait"`
		Steps []step                     `json:"steps"`
		ByKey map[string]router.Duration `json:"by_key"`
	}
	tests := []struct {
		body, wantPath, wantErr string
	}{
		{`{"name":"x","wait":"soon"}`, "wait", `invalid duration "soon"`},
		{`{"steps":[{"after":"1m"},{"after":"later"}]}`, "steps[1].after", `invalid duration "later"`},
		{`{"by_key":{"a":"1s","b":5}}`, "by_key.b", `invalid duration 5`},
		{`{"name":"x","other":{"wait":"soon"},"wait":"2s"}`, "", ""},
	}
	for _, tt := range tests {
		var dst body
		if err := json.Unmarshal([]byte(tt.body), &dst); (err == nil) != (tt.wantErr == "") {
			t.Fatalf("%s: json.Unmarshal: %v", tt.body, err)
		}
		path, err := findUnmarshalError([]byte(tt.body), reflect.TypeOf(&dst))
		if path != tt.wantPath || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %q, %v; want %q, %q", tt.body, path, err, tt.wantPath, tt.wantErr)
		}
	}
}

type item struct {
	Skill string `json:"skill"`
	Min   int    `json:"min"`
}

type inner struct {
	Email string `json:"email"`
}

type doc struct {
	Name   string                     `json:"name"`
	Count  int                        `json:"count"`
	Items  []item                     `json:"items"`
	Who    *inner                     `json:"who"`
	Levels map[string]int             `json:"levels"`
	Waits  map[string]router.Duration `json:"waits"`
}

// Every refusal has its kind, names the field at fault by its path and
// says what was wanted; a fault of the whole document takes the caller's
// subject.
func TestDecodeRefusals(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		path    string
		message string
	}{
		{"{\"name\":\"\xff\"}", NotUTF8, "", "frame is not valid UTF-8"},
		{"   ", NotObject, "", "frame is empty; want a JSON object ({...})"},
		{`[1]`, NotObject, "", "frame must be a JSON object ({...}), got an array"},
		{`null`, NotObject, "", "frame must be a JSON object ({...}), got null"},
		{`{"name":}`, Syntax, "", "frame is not valid JSON: invalid character '}' looking for beginning of value (at byte 9)"},
		{`{"name":"x"`, Truncated, "", "frame ends in the middle of a JSON value"},
		{`{"count":"3"}`, WrongType, "count", `field "count": got string, want an integer`},
		{`{"items":[{"skill":"a","min":"high"}]}`, WrongType, "items.min", `field "items.min": got string, want an integer`},
		{`{"items":[1]}`, WrongType, "items", `field "items": each element must be an object, got number`},
		{`{"levels":{"a":"x"}}`, WrongType, "levels", `field "levels": each value must be an integer, got string`},
		{`{"colour":"red"}`, Unknown, "colour", `unknown field "colour"; valid fields there: count, items, levels, name, waits, who`},
		{`{"who":{"mail":"x"}}`, Unknown, "who.mail", `unknown field "who.mail"; valid fields there: email`},
		{`{"items":[{"skill":"a"},{"level":3}]}`, Unknown, "items[1].level", `unknown field "items[1].level"; valid fields there: min, skill`},
		{`{"waits":{"a":"1s","b":"soon"}}`, Refused, "waits.b", `field "waits.b": invalid duration "soon" (want e.g. "20s", "4h")`},
		{`{"name":"x"} {}`, Trailing, "", "frame has data after the JSON object, at byte 13; send exactly one object"},
		{`{"name":"x"} x`, Trailing, "", "frame has data after the JSON object, at byte 13; send exactly one object"},
	}
	for _, tt := range tests {
		var d doc
		err := Decode([]byte(tt.in), &d)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: got %v, want an *Error", tt.in, err)
			continue
		}
		if e.Kind != tt.kind || e.Path != tt.path || e.Message("frame") != tt.message {
			t.Errorf("%q: got kind %d path %q %q\nwant kind %d path %q %q", tt.in, e.Kind, e.Path, e.Message("frame"), tt.kind, tt.path, tt.message)
		}
	}
}

// What is accepted decodes as encoding/json decodes it; white space
// around the object is allowed.
func TestDecodeAccepts(t *testing.T) {
	in := " \n{\"name\":\"ada\",\"count\":2,\"items\":[{\"skill\":\"billing\",\"min\":3}],\"who\":{\"email\":\"a@example.com\"},\"levels\":{\"x\":1},\"waits\":{\"a\":\"2s\"}}\r\n"
	var got, want doc
	if err := Decode([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got.Name != "ada" || got.Who == nil || got.Waits["a"] != router.Duration(2*time.Second) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// Whatever the bytes, Decode never panics, refuses with an *Error, and
// accepts only what encoding/json accepts, into the same value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"x","count":1}`, `{"items":[{"skill":"a","min":2}]}`, `{"who":{"email":"e"}}`,
		`{"waits":{"a":"1m"}}`, `{"colour":1}`, `[1]`, `{"name":"x"}{}`, "{\"name\":\"\xff\"}", ``, `{"count":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got doc
		err := Decode(b, &got)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind == 0 || e.Message("x") == "" {
				t.Fatalf("%q: got %#v, want an *Error with a kind and a message", b, err)
			}
			return
		}
		var want doc
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: accepted, but encoding/json refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %+v, encoding/json %+v", b, got, want)
		}
	})
}
