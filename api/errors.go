package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
)

// Error codes, the "code" of an error response. docs/api.md lists them
// with their status.
const (
	codeInvalid          = "invalid"                // 400
	codeUnauthorized     = "unauthorized"           // 401
	codeForbidden        = "forbidden"              // 403
	codeNotFound         = "not_found"              // 404
	codeMethodNotAllowed = "method_not_allowed"     // 405
	codeConflict         = "conflict"               // 409
	codeLimitReached     = "limit_reached"          // 409
	codeTooManyRequests  = "too_many_requests"      // 429
	codeTooLarge         = "too_large"              // 413
	codeUnsupportedMedia = "unsupported_media_type" // 415
	codeIdempotency      = "idempotency_mismatch"   // 422
	codeInternal         = "internal"               // 500
	codeUnavailable      = "unavailable"            // 503
)

// ErrUnauthorized is wrapped by the error of Authenticate when a request
// carries no valid token or session.
var ErrUnauthorized = errors.New("api: unauthorized")

// internalMessage is all a client learns about a 500; the log has the rest.
const internalMessage = "internal error; the server log has the details"

// httpError is an error with the status and code it is answered with.
// Message and field are written to the client; cause, if any, only to
// the log.
type httpError struct {
	status int
	code   string
	// field is the JSON path of the field at fault, or empty.
	field   string
	message string
	cause   error
}

// Error returns the message, prefixed for logs.
func (e *httpError) Error() string {
	if e.cause != nil {
		return "api: " + e.message + ": " + e.cause.Error()
	}
	return "api: " + e.message
}

// Unwrap returns the cause.
func (e *httpError) Unwrap() error { return e.cause }

// Is makes every 401 match ErrUnauthorized.
func (e *httpError) Is(target error) bool {
	return target == ErrUnauthorized && e.status == http.StatusUnauthorized
}

func errorf(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) *httpError {
	return errorf(http.StatusBadRequest, codeInvalid, format, args...)
}

func notFoundf(format string, args ...any) *httpError {
	return errorf(http.StatusNotFound, codeNotFound, format, args...)
}

func conflictf(format string, args ...any) *httpError {
	return errorf(http.StatusConflict, codeConflict, format, args...)
}

// internal wraps an unexpected error: the client sees a generic message.
func internal(step string, err error) *httpError {
	return &httpError{status: http.StatusInternalServerError, code: codeInternal, message: internalMessage,
		cause: fmt.Errorf("%s: %w", step, err)}
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the JSON path of the request's field at fault
	// ("priority", "preferred_agents[2]"), when the error is about one.
	Field string `json:"field,omitempty"`
}

// routerCodes are the status and code of each router.Code a command
// refuses with; the message is the router's, the field its Field.
var routerCodes = map[router.Code]struct {
	status int
	code   string
}{
	router.CodeInvalid:   {http.StatusBadRequest, codeInvalid},
	router.CodeNoAgent:   {http.StatusNotFound, codeNotFound},
	router.CodeNoContact: {http.StatusNotFound, codeNotFound},
	router.CodeNoQueue:   {http.StatusNotFound, codeNotFound},
	router.CodeConflict:  {http.StatusConflict, codeConflict},
	router.CodeNotYours:  {http.StatusConflict, codeConflict},
	router.CodeLimit:     {http.StatusConflict, codeLimitReached},
}

// routerError maps an error of a router command to its answer: a
// *router.Error by its code, with its field and message.
func routerError(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	switch {
	case errors.Is(err, intake.ErrRefused):
		// A new contact (or a follow-up of an ended one) while the disk
		// is nearly full: nothing was written.
		return &httpError{status: http.StatusServiceUnavailable, code: codeUnavailable,
			message: "new contacts are refused for now: the daemon's disk is nearly full; retry later", cause: err}
	case errors.Is(err, router.ErrFailed):
		return &httpError{status: http.StatusServiceUnavailable, code: codeUnavailable,
			message: "the router stopped after a store failure; the daemon must restart", cause: err}
	case errors.Is(err, router.ErrClosed), errors.Is(err, router.ErrNotStarted):
		return &httpError{status: http.StatusServiceUnavailable, code: codeUnavailable,
			message: "the router is not running; retry later", cause: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &httpError{status: http.StatusServiceUnavailable, code: codeUnavailable,
			message: "the request was cancelled before the router answered", cause: err}
	}
	re, ok := router.AsError(err)
	if !ok {
		return internal("router", err)
	}
	if re.Code == router.CodeIdempotency {
		return errorf(http.StatusUnprocessableEntity, codeIdempotency,
			"Idempotency-Key was already used with a different request body; use a new key for a new contact")
	}
	m, ok := routerCodes[re.Code]
	if !ok {
		return internal("router", err)
	}
	return &httpError{status: m.status, code: m.code, field: re.Field, message: re.Detail()}
}

// notRunning says, for /readyz, why the router does not answer.
func notRunning(err error) string {
	switch {
	case errors.Is(err, router.ErrNotStarted):
		return "not running: not started"
	case errors.Is(err, router.ErrClosed):
		return "not running: shut down"
	case errors.Is(err, router.ErrFailed):
		return "not running: stopped after a store failure"
	}
	return "not answering"
}
