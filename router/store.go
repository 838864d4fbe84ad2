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
	// MessageByExternalID finds the message stored with a channel's
	// external id (Message.ExternalID), with its ContactID; found is
	// false when there is none. Submit and AddMessage ask it first, so
	// that a message stored long ago is never stored again.
	MessageByExternalID(ctx context.Context, externalID string) (m Message, found bool, err error)
}
