package chat

import (
	"errors"

	"github.com/switchboard/switchboard/router"
)

// Errors returned by New and by the token checks.
var (
	// ErrOptions: New was given options it cannot work with.
	ErrOptions = errors.New("chat: invalid options")
	// ErrToken: a conversation token is malformed, forged, expired or for
	// another conversation.
	ErrToken = errors.New("chat: invalid conversation token")
)

// Error codes of the protocol's "error" frames, as in the HTTP API where
// one exists there.
const (
	codeInvalid      = "invalid"
	codeUnauthorized = "unauthorized"
	codeNotFound     = "not_found"
	codeConflict     = "conflict"
	codeUnavailable  = "unavailable"
	codeRateLimited  = "rate_limited"
	codeLimitReached = "limit_reached"
	codeInternal     = "internal"
)

// refusal returns the message of err, a refusal of the router (it wraps
// one of the router's sentinels), for the customer: the *router.Error's
// own, never err's text with the packages it went through.
func refusal(err error) string {
	if e, ok := router.AsError(err); ok {
		return e.Detail()
	}
	return "the request was refused"
}
