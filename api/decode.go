package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard/switchboard/strictjson"
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
	if err := strictjson.Decode(body, dst); err != nil {
		se := err.(*strictjson.Error)
		he := invalidf("%s", se.Message("request body"))
		he.field = se.Path
		return he
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
