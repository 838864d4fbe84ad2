// Package strictjson decodes JSON that comes from outside the daemon (an
// HTTP request body, a WebSocket frame, a line of an import file) the one
// way every entry point does: exactly one JSON object, in valid UTF-8, no
// field the Go type does not have, nothing after the object. Its errors
// name the offending field by its path ("requirements[0].level") and say
// what was wanted, so that each entry point can answer the sender in its
// own shape with the same words.
//
// encoding/json does the decoding; this package adds what it is missing:
// the path of an unknown field or of a value refused by its own decoder
// (encoding/json names neither), the fields valid where an unknown one
// was, UTF-8 refusal (encoding/json silently replaces bad bytes) and
// trailing-data refusal.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says what is wrong with a document.
type Kind int

const (
	// NotUTF8: the document is not valid UTF-8.
	NotUTF8 Kind = iota + 1
	// NotObject: the document is empty or is JSON but not an object.
	NotObject
	// Syntax: the document is not valid JSON.
	Syntax
	// Truncated: the document ends in the middle of a value.
	Truncated
	// WrongType: a field's value has the wrong JSON type.
	WrongType
	// Unknown: a key names no field of the Go type.
	Unknown
	// Refused: a field's value has the right JSON type but its own
	// decoder refuses it (a duration such as "soon").
	Refused
	// Trailing: there is data after the object.
	Trailing
)

// Error is a refused document.
type Error struct {
	Kind Kind
	// Path is the field at fault ("customer.mail", "steps[1].after"), ""
	// when the fault is the document's.
	Path string
	// Problem says what is wrong, without the path or a subject: "got
	// string, want an integer", "is not valid JSON: ... (at byte 7)".
	Problem string
	// Valid lists, for an unknown field, the fields valid where it was.
	Valid []string
}

// Message is the error as a sentence whose subject, for a fault of the
// whole document, is subject ("request body", "frame").
func (e *Error) Message(subject string) string {
	switch {
	case e.Kind == Unknown && len(e.Valid) > 0:
		return fmt.Sprintf("unknown field %q; valid fields there: %s", e.Path, strings.Join(e.Valid, ", "))
	case e.Kind == Unknown:
		return fmt.Sprintf("unknown field %q", e.Path)
	case e.Path != "":
		return fmt.Sprintf("field %q: %s", e.Path, e.Problem)
	}
	return subject + " " + e.Problem
}

// In is Message for a document that is a part of something larger,
// named by subject: "send data: field \"body\": got number, want a
// string", "send data must be a JSON object ({...}), got an array".
func (e *Error) In(subject string) string {
	if e.Path == "" {
		return e.Message(subject)
	}
	return subject + ": " + e.Message(subject)
}

func (e *Error) Error() string { return e.Message("document") }

// Decode decodes the one JSON object b holds into v, a pointer to a
// struct (or to anything encoding/json decodes an object into). The error
// is an *Error. Leading and trailing white space is allowed.
func Decode(b []byte, v any) error {
	if !utf8.Valid(b) {
		return &Error{Kind: NotUTF8, Problem: "is not valid UTF-8"}
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return &Error{Kind: NotObject, Problem: "is empty; want a JSON object ({...})"}
	}
	if trimmed[0] != '{' {
		return &Error{Kind: NotObject, Problem: "must be a JSON object ({...}), got " + kindOf(trimmed)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, b, reflect.TypeOf(v))
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		at := end + int64(len(b[end:])-len(bytes.TrimLeft(b[end:], " \t\r\n")))
		return &Error{Kind: Trailing, Problem: fmt.Sprintf("has data after the JSON object, at byte %d; send exactly one object", at)}
	}
	return nil
}

// kindOf names the kind of the JSON value b starts with.
func kindOf(b []byte) string {
	switch b[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "something that is not JSON"
}

// decodeError turns a json.Decoder error into an *Error that names the
// field, what it got and what it wants.
func decodeError(err error, body []byte, t reflect.Type) *Error {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return &Error{Kind: Syntax, Problem: fmt.Sprintf("is not valid JSON: %s (at byte %d)", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: Truncated, Problem: "ends in the middle of a JSON value"}
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &Error{Kind: NotObject, Problem: "must be a JSON object, got " + typeErr.Value}
		}
		e := &Error{Kind: WrongType, Path: typeErr.Field}
		if ft := fieldType(t, typeErr.Field); ft != nil && ft != typeErr.Type {
			switch ft.Kind() {
			case reflect.Map:
				e.Problem = fmt.Sprintf("each value must be %s, got %s", Want(typeErr.Type), typeErr.Value)
				return e
			case reflect.Slice, reflect.Array:
				e.Problem = fmt.Sprintf("each element must be %s, got %s", Want(typeErr.Type), typeErr.Value)
				return e
			}
		}
		e.Problem = fmt.Sprintf("got %s, want %s", typeErr.Value, Want(typeErr.Type))
		return e
	}
	if name, ok := strings.CutPrefix(err.Error(), `json: unknown field "`); ok {
		path, valid, found := findUnknown(body, t)
		if !found {
			path = strings.TrimSuffix(name, `"`)
		}
		return &Error{Kind: Unknown, Path: path, Problem: "unknown field", Valid: valid}
	}
	if path, uerr := findUnmarshalError(body, t); uerr != nil {
		return &Error{Kind: Refused, Path: path, Problem: uerr.Error()}
	}
	return &Error{Kind: Refused, Problem: "is refused: " + strings.TrimPrefix(err.Error(), "json: ")}
}

// Want names the JSON a Go type decodes from ("an integer", "an array").
func Want(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Map:
		return "an object whose values are each " + Want(t.Elem())
	case reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		if of := plural(t.Elem()); of != "" {
			return "an array of " + of
		}
		return "an array"
	case reflect.Pointer:
		return Want(t.Elem())
	}
	return t.String()
}

// plural names the elements of an array of Go type t ("strings"), or ""
// when a short name would mislead.
func plural(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "strings"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integers"
	case reflect.Float32, reflect.Float64:
		return "numbers"
	case reflect.Bool:
		return "booleans"
	case reflect.Struct:
		return "objects"
	}
	return ""
}

// Fields lists the JSON names of struct t's fields, those of structs it
// embeds included, sorted.
func Fields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		if name, ok := jsonName(f); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// findUnmarshalError walks body along the Go type t to find the first
// value whose own decoder refuses it (a duration such as "soon"): its
// dotted path and the decoder's error, nil if none. encoding/json returns
// such errors without saying where they came from.
func findUnmarshalError(body []byte, t reflect.Type) (path string, err error) {
	return walkUnmarshal(json.NewDecoder(bytes.NewReader(body)), t, "")
}

// walkUnmarshal reads one value of dec, of Go type t (nil: unknown), at
// path; it stops at the first value refused by its decoder, or when dec
// fails (the body was decoded once already: it does not).
func walkUnmarshal(dec *json.Decoder, t reflect.Type, path string) (string, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)) {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", nil
		}
		v := reflect.New(t).Interface()
		var uerr error
		if u, ok := v.(json.Unmarshaler); ok {
			uerr = u.UnmarshalJSON(raw)
		} else if s := ""; json.Unmarshal(raw, &s) == nil {
			uerr = v.(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		}
		return path, uerr
	}
	tok, err := dec.Token()
	if err != nil {
		return "", nil
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return "", nil // a scalar
	}
	switch delim {
	case '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", nil
			}
			key, _ := kt.(string)
			var elem reflect.Type
			switch {
			case t != nil && t.Kind() == reflect.Struct:
				if f, ok := jsonField(t, key); ok {
					elem = f.Type
				}
			case t != nil && t.Kind() == reflect.Map:
				elem = t.Elem()
			}
			if p, uerr := walkUnmarshal(dec, elem, join(path, key)); uerr != nil {
				return p, uerr
			}
		}
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p, uerr := walkUnmarshal(dec, elem, path+"["+strconv.Itoa(i)+"]"); uerr != nil {
				return p, uerr
			}
		}
	}
	_, _ = dec.Token() // the closing delimiter
	return "", nil
}

// fieldType returns the Go type of the field at a dotted path of
// encoding/json ("requirements.min": array indexes are not in it), or nil.
func fieldType(t reflect.Type, path string) reflect.Type {
	for _, name := range strings.Split(path, ".") {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		f, ok := jsonField(t, name)
		if !ok {
			return nil
		}
		t = f.Type
	}
	return t
}

// findUnknown walks body along the Go type t to find the first object key
// that names no field: its dotted path and the fields valid there. It
// matches keys case-insensitively, as encoding/json does.
func findUnknown(body []byte, t reflect.Type) (path string, valid []string, found bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	path, valid, found, _ = walkUnknown(dec, t, "")
	return path, valid, found
}

func walkUnknown(dec *json.Decoder, t reflect.Type, path string) (string, []string, bool, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return "", nil, false, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return "", nil, false, nil // a scalar
	}
	switch delim {
	case '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", nil, false, err
			}
			key, _ := kt.(string)
			var elem reflect.Type
			switch {
			case t != nil && t.Kind() == reflect.Struct:
				f, ok := jsonField(t, key)
				if !ok {
					return join(path, key), Fields(t), true, nil
				}
				elem = f.Type
			case t != nil && t.Kind() == reflect.Map:
				elem = t.Elem()
			}
			if p, v, found, err := walkUnknown(dec, elem, join(path, key)); found || err != nil {
				return p, v, found, err
			}
		}
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p, v, found, err := walkUnknown(dec, elem, path+"["+strconv.Itoa(i)+"]"); found || err != nil {
				return p, v, found, err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return "", nil, false, err
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonField finds the field of struct t that key decodes into, among
// its own fields and those of structs it embeds.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if name, ok := jsonName(f); ok && strings.EqualFold(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// jsonName is the JSON name of a field; an embedded struct without a
// name in its tag has none (encoding/json decodes its fields in place).
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if f.Anonymous && f.Type.Kind() == reflect.Struct && (tag == "" || strings.HasPrefix(tag, ",")) {
		return "", false
	}
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}
