package customers

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/router"
)

// Intake resolves the customer of a new contact from the email address
// and phone number it carries, both claims (typed by a person or an
// integration): the email is resolved first (creating a customer when
// nobody holds it), then the phone is attached to the same customer if
// nobody holds it. When the phone belongs to another customer the
// email's wins and nothing is attached: a claim never merges. With only a
// phone, the phone is resolved. An identity that cannot be normalized is
// ignored; with none left, cu is returned unchanged.
//
// The returned customer carries the resolved id and, for routing, the
// profile's value when the customer consented to profiling, else 0 (no
// value-based priority without consent). It is safe for concurrent use
// if s is.
func Intake(ctx context.Context, s Store, cu router.Customer) (router.Customer, error) {
	var claims []Identity
	if cu.Email != "" {
		claims = append(claims, Identity{Kind: KindEmail, Value: cu.Email})
	}
	if cu.Phone != "" {
		claims = append(claims, Identity{Kind: KindPhone, Value: cu.Phone})
	}
	id := ""
	for _, claim := range claims {
		var err error
		if id == "" {
			id, _, err = Resolve(ctx, s, claim, cu.Name)
		} else {
			_, _, err = Attach(ctx, s, id, claim)
		}
		switch {
		case errors.Is(err, ErrInvalid):
			continue // a malformed claim identifies nobody
		case err != nil:
			return cu, fmt.Errorf("customers: intake: %w", err)
		}
	}
	if id == "" {
		return cu, nil
	}
	p, err := s.Customer(ctx, id)
	if err != nil {
		return cu, fmt.Errorf("customers: intake: read profile: %w", err)
	}
	cu.ID = id
	cu.Value = 0
	if p.ConsentProfiling != nil && *p.ConsentProfiling && p.Value > 0 {
		cu.Value = p.Value
	}
	return cu, nil
}
