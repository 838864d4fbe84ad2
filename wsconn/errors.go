package wsconn

import "errors"

// Sentinel errors. Errors returned by this package wrap them; test with
// errors.Is.
var (
	// ErrOptions is returned by New when Options cannot work.
	ErrOptions = errors.New("wsconn: invalid options")
	// ErrClosed is returned by a send on a connection that has ended or
	// whose Close is already queued.
	ErrClosed = errors.New("wsconn: connection closed")
	// ErrTooSlow is returned by the send that found the connection's
	// buffer full: that send dropped the connection.
	ErrTooSlow = errors.New("wsconn: client too slow, dropped")
)
