package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes
// is zero.
const DefaultMaxBodyBytes = 1 << 20

// decodeBody reads r's JSON object body into dst, which must point to a
// struct. It refuses (with the answer to give) a body over the limit, an
// empty body, a Content-Type other than application/json, unknown fields,
// wrong types and data after the object.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	return s.decode(w, r, dst, true)
}

// decodeOptionalBody is decodeBody for routes whose fields are all
// optional: an empty body (with any or no Content-Type) leaves dst as is.
func (s *Server) decodeOptionalBody(w http.ResponseWriter, r *http.Request, dst any) error {
	return s.decode(w, r, dst, false)
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, dst any, required bool) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !isJSON(ct) && (required || r.ContentLength != 0) {
		return unsupportedMedia(ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errorf(http.StatusRequestEntityTooLarge, codeTooLarge,
				"request body is larger than %d bytes", tooLarge.Limit)
		}
		return invalidf("reading the request body: %v", err)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		if !required {
			return nil
		}
		return invalidf("request body is empty; want a JSON object")
	}
	if ct == "" {
		return unsupportedMedia(ct)
	}
	if trimmed[0] != '{' {
		return invalidf("request body must be a JSON object ({...}), got %s", jsonKindOf(trimmed))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, body, reflect.TypeOf(dst))
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidf("request body has data after the JSON object, at byte %d; send exactly one object", dec.InputOffset())
	}
	return nil
}

func unsupportedMedia(ct string) *httpError {
	if ct == "" {
		return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"Content-Type is missing; want application/json")
	}
	return errorf(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
		"Content-Type %q is not supported; want application/json", ct)
}

// isJSON reports whether a Content-Type is application/json (any
// parameters, such as charset=utf-8, are accepted).
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// jsonKindOf names the kind of the JSON value b starts with.
func jsonKindOf(b []byte) string {
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

// decodeError turns a json.Decoder error into an answer that names the
// field, what it got and what it wants.
func decodeError(err error, body []byte, t reflect.Type) *httpError {
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return invalidf("request body is not valid JSON: %s (at byte %d)", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidf("request body ends in the middle of a JSON value")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return invalidf("request body must be a JSON object, got %s", typeErr.Value)
		}
		if ft := fieldType(t, typeErr.Field); ft != nil && ft != typeErr.Type {
			switch ft.Kind() {
			case reflect.Map:
				return invalidf("field %q: each value must be %s, got %s", typeErr.Field, wantKind(typeErr.Type), typeErr.Value)
			case reflect.Slice, reflect.Array:
				return invalidf("field %q: each element must be %s, got %s", typeErr.Field, wantKind(typeErr.Type), typeErr.Value)
			}
		}
		return invalidf("field %q: got %s, want %s", typeErr.Field, typeErr.Value, wantKind(typeErr.Type))
	}
	if name, ok := strings.CutPrefix(err.Error(), `json: unknown field "`); ok {
		name = strings.TrimSuffix(name, `"`)
		path, valid, found := findUnknown(body, t)
		if !found {
			return invalidf("unknown field %q", name)
		}
		return invalidf("unknown field %q; valid fields there: %s", path, strings.Join(valid, ", "))
	}
	if path, uerr := findUnmarshalError(body, t); uerr != nil {
		return invalidf("field %q: %v", path, uerr)
	}
	return invalidf("request body: %v", err)
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

// wantKind names the JSON a Go type decodes from.
func wantKind(t reflect.Type) string {
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
		return "an object whose values are each " + wantKind(t.Elem())
	case reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return wantKind(t.Elem())
	}
	return t.String()
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
					return join(path, key), jsonFields(t), true, nil
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

// jsonFields lists the JSON names of struct t's fields, those of structs
// it embeds included, sorted.
func jsonFields(t reflect.Type) []string {
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		if name, ok := jsonName(f); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
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

// parseDuration reads an optional duration field ("30s", "2m"); field
// names it in the error.
func parseDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, invalidf("field %q: %q is not a duration; want e.g. \"30s\", \"2m\", \"1h30m\"", field, s)
	}
	if d < 0 {
		return 0, invalidf("field %q: %q is negative; want 0 or more", field, s)
	}
	return d, nil
}

// missing returns a 400 naming the required fields that are empty, or
// nil. fields alternates names and values.
func missing(fields ...string) error {
	var names []string
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			names = append(names, fmt.Sprintf("%q", fields[i]))
		}
	}
	switch len(names) {
	case 0:
		return nil
	case 1:
		return invalidf("field %s is required", names[0])
	}
	return invalidf("fields %s are required", strings.Join(names, ", "))
}
