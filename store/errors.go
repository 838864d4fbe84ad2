package store

import "errors"

// Sentinel errors. Errors returned by this package wrap them; test with
// errors.Is.
var (
	// ErrNotFound is returned when the contact asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrBadCursor is returned by Contacts when the cursor was not made by
	// a previous page.
	ErrBadCursor = errors.New("store: invalid cursor")
	// ErrBadOptions is returned by Open when Options hold an invalid value.
	ErrBadOptions = errors.New("store: invalid options")
	// ErrConflict is returned when a customer identity belongs to another
	// customer, or a customer was erased or merged away.
	ErrConflict = errors.New("store: conflict")
	// ErrLimit is returned when a read would exceed what the store reads
	// at once (a report's range too long).
	ErrLimit = errors.New("store: limit reached")
)
