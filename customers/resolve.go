package customers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard/switchboard/store"
)

// maxAttempts bounds the retries when a concurrent writer takes an
// identity between the lookup and the write, and the merged_into hops
// Attach follows.
const maxAttempts = 4

// Store is what resolution needs of the durable store; *store.DB
// implements it.
type Store interface {
	IdentityOwner(ctx context.Context, kind, value string) (store.Identity, error)
	Customer(ctx context.Context, id string) (store.Customer, error)
	CreateCustomer(ctx context.Context, c store.Customer, id store.Identity) error
	AddIdentity(ctx context.Context, id store.Identity) error
	MergeCustomers(ctx context.Context, m store.Merge) error
}

var _ Store = (*store.DB)(nil)

// Identity is an identity a contact arrived with.
type Identity struct {
	// Kind is KindEmail, KindPhone, KindChat or KindExternal.
	Kind string
	// Value is normalized by Resolve and Attach.
	Value string
	// Verified is true when the channel proved the identity, false when
	// it was only claimed.
	Verified bool
}

// Resolve returns the customer that holds id, creating one named name
// (with id, verified or claimed as given) when nobody does. A verified id
// held as a claim becomes verified. id is normalized first; a value that
// cannot be fails with ErrInvalid.
func Resolve(ctx context.Context, s Store, id Identity, name string) (customerID string, created bool, err error) {
	if id, err = Normalize(id); err != nil {
		return "", false, err
	}
	for range maxAttempts {
		owner, err := s.IdentityOwner(ctx, id.Kind, id.Value)
		switch {
		case err == nil:
			if id.Verified && !owner.Verified {
				if err := s.AddIdentity(ctx, storeIdentity(id, owner.CustomerID)); err != nil {
					return "", false, fmt.Errorf("customers: resolve: verify: %w", err)
				}
			}
			return owner.CustomerID, false, nil
		case !errors.Is(err, store.ErrNotFound):
			return "", false, fmt.Errorf("customers: resolve: %w", err)
		}
		now := time.Now().UTC()
		c := store.Customer{ID: NewID(), Name: name, CreatedAt: now, UpdatedAt: now}
		err = s.CreateCustomer(ctx, c, storeIdentity(id, c.ID))
		switch {
		case err == nil:
			return c.ID, true, nil
		case !errors.Is(err, store.ErrConflict):
			return "", false, fmt.Errorf("customers: resolve: create: %w", err)
		}
		// Someone took the identity since the lookup: look again.
	}
	return "", false, fmt.Errorf("customers: resolve %s %q: the identity kept changing hands", id.Kind, id.Value)
}

// Attach gives id to the customer customerID (or to the customer it was
// merged into) and returns that customer:
//   - nobody holds id: it is attached, verified or claimed as given;
//   - the customer holds it: a verified id upgrades a claim;
//   - another customer holds it and id is only claimed: nothing changes
//     (a claim never merges);
//   - another customer holds it as a claim and id is verified: that
//     customer is merged into this one, with an audit record, and merged
//     is true;
//   - another customer holds it verified: ErrHeld.
func Attach(ctx context.Context, s Store, customerID string, id Identity) (into string, merged bool, err error) {
	if id, err = Normalize(id); err != nil {
		return "", false, err
	}
	if customerID, err = live(ctx, s, customerID); err != nil {
		return "", false, err
	}
	for range maxAttempts {
		owner, err := s.IdentityOwner(ctx, id.Kind, id.Value)
		switch {
		case errors.Is(err, store.ErrNotFound):
			err = s.AddIdentity(ctx, storeIdentity(id, customerID))
			if errors.Is(err, store.ErrConflict) {
				continue // someone took it since the lookup
			}
			if err != nil {
				return "", false, fmt.Errorf("customers: attach: %w", err)
			}
			return customerID, false, nil
		case err != nil:
			return "", false, fmt.Errorf("customers: attach: %w", err)
		case owner.CustomerID == customerID:
			if id.Verified && !owner.Verified {
				if err := s.AddIdentity(ctx, storeIdentity(id, customerID)); err != nil {
					return "", false, fmt.Errorf("customers: attach: verify: %w", err)
				}
			}
			return customerID, false, nil
		case !id.Verified:
			return customerID, false, nil
		case owner.Verified:
			return "", false, fmt.Errorf("%w: %s %q", ErrHeld, id.Kind, id.Value)
		}
		m := store.Merge{
			FromID: owner.CustomerID, IntoID: customerID,
			IdentityKind: id.Kind, IdentityValue: id.Value, At: time.Now().UTC(),
			Reason: fmt.Sprintf("verified %s %s was claimed by %s", id.Kind, id.Value, owner.CustomerID),
		}
		if err := s.MergeCustomers(ctx, m); err != nil {
			return "", false, fmt.Errorf("customers: attach: merge %q into %q: %w", m.FromID, m.IntoID, err)
		}
		return customerID, true, nil
	}
	return "", false, fmt.Errorf("customers: attach %s %q: the identity kept changing hands", id.Kind, id.Value)
}

// live follows merged_into from customerID to the customer that remains;
// an erased customer is a conflict.
func live(ctx context.Context, s Store, customerID string) (string, error) {
	c, err := Current(ctx, s, customerID)
	if err != nil {
		return "", fmt.Errorf("customers: attach: %w", err)
	}
	if !c.ErasedAt.IsZero() {
		return "", fmt.Errorf("customers: attach: customer %q was erased: %w", c.ID, store.ErrConflict)
	}
	return c.ID, nil
}

// maxMergeDepth bounds the merged_into hops Current follows. Each merge
// joins two live customers, so a chain grows only when a customer that
// absorbed others is itself merged; a longer chain is a loop in a
// damaged store.
const maxMergeDepth = 64

// ProfileReader reads one customer profile (store.DB does).
type ProfileReader interface {
	Customer(ctx context.Context, id string) (store.Customer, error)
}

// Current returns the profile customerID now lives in: its own, or, when
// it was merged, that of the customer it was merged into, following a
// chain of merges (A into B, then B into C, gives C). The profile may be
// erased; an unknown id wraps store.ErrNotFound.
func Current(ctx context.Context, s ProfileReader, customerID string) (store.Customer, error) {
	id := customerID
	for range maxMergeDepth {
		c, err := s.Customer(ctx, id)
		if err != nil {
			return store.Customer{}, err
		}
		if c.MergedInto == "" {
			return c, nil
		}
		id = c.MergedInto
	}
	return store.Customer{}, fmt.Errorf("customers: customer %q: merges nested deeper than %d", customerID, maxMergeDepth)
}

func storeIdentity(id Identity, customerID string) store.Identity {
	return store.Identity{Kind: id.Kind, Value: id.Value, CustomerID: customerID, Verified: id.Verified, CreatedAt: time.Now().UTC()}
}

// NewID returns a new random customer id: 26 lowercase base32 characters.
func NewID() string { return strings.ToLower(rand.Text()) }
