package router_test

import (
	"context"
	"fmt"

	"github.com/switchboard/switchboard/router"
)

// A component follows the router's event stream: it subscribes before it
// starts anything that must not miss a batch, then runs on its own
// goroutine, and catches up from a snapshot if it ever falls behind.
func ExampleRouter_Follow() {
	var st router.Store // store.Open(…): SQLite or, later, PostgreSQL
	rt, err := router.New(st, nil)
	if err != nil {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	offers := router.NotifierFunc(func(ns []router.Notification) {
		for _, n := range ns {
			if n.Kind == router.NoteOffer {
				fmt.Println("offer of", n.Contact.ID, "to", n.AgentID)
			}
		}
	})
	sub, snap := rt.Subscribe(0)
	go rt.Follow(ctx, sub, snap, offers, func(s *router.Snapshot) {
		fmt.Println("caught up at batch", s.Seq())
	})
}
