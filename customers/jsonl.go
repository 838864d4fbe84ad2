package customers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxLineBytes bounds one line of a JSON lines import file; a longer line
// is rejected (and skipped) as a row.
const MaxLineBytes = 1 << 20

// JSONLReader reads profiles from JSON lines: one JSON object per line,
// the body of PUT /api/v1/customers/{id} with its "id". It is not safe
// for concurrent use.
type JSONLReader struct {
	r    *bufio.Reader
	line int
	buf  []byte
}

// NewJSONLReader returns a reader of the objects of r. Blank lines are
// skipped; a UTF-8 byte order mark and CRLF line ends are accepted. An
// unknown field, a value of the wrong type, or anything but one object
// on a line rejects that row.
func NewJSONLReader(r io.Reader) *JSONLReader {
	return &JSONLReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next row; see RowReader.
func (j *JSONLReader) Next() (Row, error) {
	for {
		line, tooLong, err := j.readLine()
		if err != nil {
			return Row{}, err
		}
		j.line++
		if j.line == 1 {
			line = bytes.TrimPrefix(line, []byte(utf8BOM))
		}
		row := Row{Line: j.line}
		if tooLong {
			row.Err = &FieldError{Message: fmt.Sprintf("the line is longer than %d bytes", MaxLineBytes)}
			return row, nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		row.Err = decodeLine(line, &row.Input)
		return row, nil
	}
}

// readLine returns the next line without its "\n", or io.EOF when there
// is none. A line longer than MaxLineBytes is consumed and reported as
// tooLong.
func (j *JSONLReader) readLine() (line []byte, tooLong bool, err error) {
	j.buf = j.buf[:0]
	for {
		chunk, err := j.r.ReadSlice('\n')
		if !tooLong {
			if len(j.buf)+len(chunk) > MaxLineBytes+1 { // +1: the "\n"
				tooLong, j.buf = true, j.buf[:0]
			} else {
				j.buf = append(j.buf, chunk...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(j.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return j.buf, tooLong, nil
		case err != nil:
			return nil, false, fmt.Errorf("customers: jsonl: line %d: %w", j.line+1, err)
		}
		return bytes.TrimSuffix(j.buf, []byte("\n")), tooLong, nil
	}
}

// decodeLine decodes one object into in; the error is a *FieldError.
func decodeLine(line []byte, in *ProfileInput) error {
	if line[0] != '{' {
		return &FieldError{Message: "want a JSON object ({...}) on each line"}
	}
	if !utf8.Valid(line) {
		// encoding/json would replace the bytes with U+FFFD silently.
		return &FieldError{Message: "not valid UTF-8 (a file saved in another encoding?)"}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	err := dec.Decode(in)
	var (
		syntax  *json.SyntaxError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
	case errors.As(err, &syntax):
		return &FieldError{Message: fmt.Sprintf("not valid JSON: %s (at byte %d)", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &FieldError{Message: "the JSON object is not closed on its line"}
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fieldErrorf(typeErr.Field, "got %s, want %s", typeErr.Value, jsonWant(typeErr.Type))
	default:
		if name, ok := strings.CutPrefix(err.Error(), `json: unknown field "`); ok {
			name = strings.TrimSuffix(name, `"`)
			if name == "verified" {
				return fieldErrorf(name, "is not accepted in a row: whether identities are verified is chosen for the whole import")
			}
			return fieldErrorf(name, "unknown field; valid fields: %s", strings.Join(jsonFieldNames(), ", "))
		}
		return &FieldError{Message: "not a profile: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &FieldError{Message: fmt.Sprintf("data after the JSON object, at byte %d; want one object per line", dec.InputOffset())}
	}
	return nil
}

// jsonWant names the JSON that decodes into a Go type.
func jsonWant(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "an array of " + strings.TrimPrefix(jsonWant(t.Elem()), "a ") + "s"
	case reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonWant(t.Elem())
	}
	return t.String()
}

// jsonFieldNames lists the JSON names of ProfileInput's fields, sorted.
func jsonFieldNames() []string {
	t := reflect.TypeFor[ProfileInput]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
