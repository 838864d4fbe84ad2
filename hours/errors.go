package hours

import "errors"

// ErrInvalid is wrapped by every parse and validation error.
var ErrInvalid = errors.New("hours: invalid")
