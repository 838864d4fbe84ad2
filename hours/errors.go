package hours

import "errors"

// ErrInvalid is wrapped by every parse and validation error.
var ErrInvalid = errors.New("hours: invalid")

// Error is a problem with one field of a Calendar, as Validate reports
// it; it wraps ErrInvalid.
type Error struct {
	// Field names the field as the configuration spells it: "monday[1]",
	// "holidays[2].date", "holidays[0].hours[1]".
	Field string
	// Msg says what is wrong and what would be valid.
	Msg string
}

func (e *Error) Error() string { return "hours: invalid: " + e.Field + ": " + e.Msg }

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }
