package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

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
// Message is written to the client; cause, if any, only to the log.
type httpError struct {
	status  int
	code    string
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
}

// routerError maps an error of a router command to its answer.
func routerError(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	msg := routerMessage(err)
	switch {
	case errors.Is(err, router.ErrInvalid):
		return invalidf("%s", msg)
	case errors.Is(err, router.ErrNoAgent), errors.Is(err, router.ErrNoContact), errors.Is(err, router.ErrNoQueue):
		return notFoundf("%s", msg)
	case errors.Is(err, router.ErrConflict), errors.Is(err, router.ErrNotYours):
		return conflictf("%s", msg)
	case errors.Is(err, router.ErrLimit):
		return errorf(http.StatusConflict, codeLimitReached, "%s", msg)
	case errors.Is(err, router.ErrIdempotency):
		return errorf(http.StatusUnprocessableEntity, codeIdempotency,
			"Idempotency-Key was already used with a different request body; use a new key for a new contact")
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
	return internal("router", err)
}

// routerMessage turns a router error into a message for a client: the
// package prefix and the sentinel's generic words go, the detail stays.
// "router: invalid request: agent name is missing" becomes "agent name is
// missing"; "router: no such agent: \"bob\"" becomes "no such agent: \"bob\"".
func routerMessage(err error) string {
	msg := err.Error()
	for _, generic := range []error{router.ErrInvalid, router.ErrConflict} {
		if rest, ok := strings.CutPrefix(msg, generic.Error()+": "); ok {
			return rest
		}
	}
	return strings.TrimPrefix(msg, "router: ")
}
