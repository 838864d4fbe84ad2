package router

import "context"

// Store persists what the router decides. The router calls Commit from a
// single goroutine; it must return only once the batch is durable, or an
// error with nothing applied.
type Store interface {
	Commit(ctx context.Context, b *Batch) error
	// Load returns the durable state to start from.
	Load(ctx context.Context) (*Loaded, error)
	// ContactByKey finds the contact created with an idempotency key;
	// found is false when there is none. Submit asks it before anything
	// else, so that a key remembered only by the store is never reused.
	ContactByKey(ctx context.Context, key string) (c Contact, found bool, err error)
}
