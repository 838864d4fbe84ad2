package offers

import (
	"errors"
	"fmt"
)

// ErrInvalidOffer is wrapped by every error of NewCatalog about one offer.
var ErrInvalidOffer = errors.New("offers: invalid offer")

// OfferError is an offer of a catalog that cannot be loaded: Field names
// what is wrong ("id", "eligible", "value", ...). It wraps ErrInvalidOffer
// and, for an expression, the expression's error.
type OfferError struct {
	ID    string
	Field string
	// Msg is the problem in one line, e.g. "unknown name custmer (1:1)".
	Msg string
	Err error
}

func (e *OfferError) Error() string {
	return fmt.Sprintf("offers: offer %q: %s: %s", e.ID, e.Field, e.Msg)
}

// Unwrap returns ErrInvalidOffer and the underlying error, if any.
func (e *OfferError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidOffer}
	}
	return []error{ErrInvalidOffer, e.Err}
}

// ErrUnknownOffer is wrapped by errors about an offer id that is not in
// the catalog.
var ErrUnknownOffer = errors.New("offers: no such offer")
