package router

import "context"

// Store persists what the router decides. The router calls Commit from a
// single goroutine; it must return only once the batch is durable, or an
// error with nothing applied.
type Store interface {
	Commit(ctx context.Context, b *Batch) error
	// Load returns the durable state to start from.
	Load(ctx context.Context) (*Loaded, error)
}
