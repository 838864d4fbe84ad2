package canned

import (
	"errors"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// TestValidate: the one rule of a canned response, each refusal naming
// its field.
func TestValidate(t *testing.T) {
	good := Response{ID: "greeting", Title: "Greeting", Text: "Hello {first_name}, this is {agent} ({reference}).", Queues: []string{"billing"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good response: %v", err)
	}
	many := make([]string, MaxQueues+1)
	for i := range many {
		many[i] = "q"
	}
	for _, tt := range []struct {
		name, field string
		mod         func(*Response)
	}{
		{"no id", "id", func(r *Response) { r.ID = "" }},
		{"bad id", "id", func(r *Response) { r.ID = "a b" }},
		{"blank title", "title", func(r *Response) { r.Title = "  " }},
		{"long title", "title", func(r *Response) { r.Title = strings.Repeat("é", MaxTitleLen+1) }},
		{"blank text", "text", func(r *Response) { r.Text = "\n" }},
		{"long text", "text", func(r *Response) { r.Text = strings.Repeat("a", MaxTextLen+1) }},
		{"not UTF-8", "text", func(r *Response) { r.Text = "\xff" }},
		{"unknown placeholder", "text", func(r *Response) { r.Text = "Hi {name}" }},
		{"too many queues", "queues", func(r *Response) { r.Queues = many }},
		{"bad queue", "queues[0]", func(r *Response) { r.Queues = []string{"no way"} }},
	} {
		r := good
		tt.mod(&r)
		var e *router.Error
		if err := r.Validate(); !errors.As(err, &e) || e.Field != tt.field {
			t.Errorf("%s: got %v, want an error on %s", tt.name, err, tt.field)
		}
	}
	// A brace that closes no placeholder is text.
	if err := (Response{ID: "x", Title: "x", Text: "a { b"}).Validate(); err != nil {
		t.Errorf("an open brace: %v", err)
	}
}

func TestFor(t *testing.T) {
	if !(Response{}).For("any") || !(Response{Queues: []string{"billing"}}).For("billing") || (Response{Queues: []string{"billing"}}).For("sales") {
		t.Error("For: want every queue without queues, else only those")
	}
}
