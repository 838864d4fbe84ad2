package agents

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap them; test with
// errors.Is.
var (
	// ErrMissingOption is returned by NewHub when a required option is
	// not set.
	ErrMissingOption = errors.New("agents: missing option")
)

// errUnavailable says that a request needs something this hub was not
// given (Options.Verify); it is answered unavailable.
var errUnavailable = errors.New("agents: unavailable")

// refusal is a request the hub refuses itself: the protocol's code and
// the message the agent reads, wrapping the sentinel that says why
// (errInvalidFrame, errNotMine, errUnavailable).
type refusal struct {
	code, msg string
	err       error
}

// Error returns the message with the package's prefix.
func (r *refusal) Error() string { return "agents: " + r.msg }

// Unwrap returns the sentinel.
func (r *refusal) Unwrap() error { return r.err }

// notMine says that contactID is not the agent's, whether it exists or
// not.
func notMine(contactID string) error {
	return &refusal{code: codeNotFound, msg: fmt.Sprintf("%s: %q", errNotMine, contactID), err: errNotMine}
}
