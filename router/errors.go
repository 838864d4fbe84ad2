package router

import "errors"

// Errors returned by the router's commands. Callers match them with
// errors.Is; the HTTP API maps them to status codes.
var (
	ErrNoAgent   = errors.New("router: no such agent")
	ErrNoContact = errors.New("router: no such contact")
	ErrNoQueue   = errors.New("router: no such queue")
	ErrInvalid   = errors.New("router: invalid request")
	ErrConflict  = errors.New("router: conflicts with the current state")
	ErrNotYours  = errors.New("router: contact is not with this agent")
	// ErrLimit: the contact holds as many messages, or bytes, from its
	// customer as Options.CustomerMessages and CustomerBytes allow.
	ErrLimit       = errors.New("router: conversation limit reached")
	ErrIdempotency = errors.New("router: idempotency key reused with a different request")
	ErrClosed      = errors.New("router: shut down")
	ErrNotStarted  = errors.New("router: not started")
	// ErrFailed: the store failed a commit and the router stopped; the
	// process should restart.
	ErrFailed = errors.New("router: stopped after a store failure")
)
