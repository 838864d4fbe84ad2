package customers

import "errors"

// Sentinel errors. Errors returned by this package wrap them; test with
// errors.Is.
var (
	// ErrInvalid is returned for an identity that cannot be normalized.
	ErrInvalid = errors.New("customers: invalid identity")
	// ErrHeld is returned by Attach when the identity is verified for
	// another customer: proofs on both sides are left for a person to
	// reconcile.
	ErrHeld = errors.New("customers: identity is verified for another customer")
	// ErrInvalidProfile is matched by every *FieldError: a profile field
	// breaks a rule.
	ErrInvalidProfile = errors.New("customers: invalid profile")
)
