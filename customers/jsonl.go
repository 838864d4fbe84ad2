package customers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/switchboard/switchboard/strictjson"
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
	err := strictjson.Decode(line, in)
	if err == nil {
		return nil
	}
	se := err.(*strictjson.Error)
	switch se.Kind {
	case strictjson.NotUTF8:
		return &FieldError{Message: "not valid UTF-8 (a file saved in another encoding?)"}
	case strictjson.NotObject:
		return &FieldError{Message: "want a JSON object ({...}) on each line"}
	case strictjson.Truncated:
		return &FieldError{Message: "the JSON object is not closed on its line"}
	case strictjson.Trailing:
		return &FieldError{Message: "want one object per line: " + se.Message("the line")}
	case strictjson.Unknown:
		if se.Path == "verified" {
			return fieldErrorf(se.Path, "is not accepted in a row: whether identities are verified is chosen for the whole import")
		}
		return fieldErrorf(se.Path, "unknown field; valid fields: %s", strings.Join(se.Valid, ", "))
	}
	if se.Path != "" {
		return fieldErrorf(se.Path, "%s", se.Problem)
	}
	return &FieldError{Message: se.Message("the line")}
}
