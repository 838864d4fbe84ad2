package screenpop

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is a router over a store in a temporary directory, on a manual
// clock, with the queues billing and sales: what a screen pop reads.
type env struct {
	t     testing.TB
	ctx   context.Context
	db    *store.DB
	rt    *router.Router
	clock *router.ManualClock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	e := &env{t: t, ctx: ctx, db: db, clock: router.NewManualClock(epoch)}
	e.rt, err = router.New(db, &router.Options{Clock: e.clock})
	if err != nil {
		t.Fatalf("new router: %v", err)
	}
	if err := e.rt.Start(ctx); err != nil {
		t.Fatalf("start router: %v", err)
	}
	t.Cleanup(func() {
		e.rt.Close()
		db.Close()
	})
	for _, q := range []router.Queue{{Name: "billing", Requirements: []router.Requirement{{Skill: "billing", Min: 1}}}, {Name: "sales"}} {
		if _, err := e.rt.PutQueue(ctx, q); err != nil {
			t.Fatalf("put queue: %v", err)
		}
	}
	return e
}

// submit submits nc, on chat in billing unless it says otherwise.
func (e *env) submit(nc router.NewContact) router.Contact {
	e.t.Helper()
	if nc.Channel == "" {
		nc.Channel = "chat"
	}
	if nc.Queue == "" {
		nc.Queue = "billing"
	}
	c, _, err := e.rt.Submit(e.ctx, nc)
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	return c
}
