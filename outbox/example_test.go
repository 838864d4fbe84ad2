package outbox_test

import (
	"context"
	"fmt"

	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// A channel delivers what agents write by implementing Sender; routerd
// builds the dispatcher with every channel's sender, subscribes it to the
// router's event stream, then starts it.
func Example() {
	var (
		rt *router.Router // router.New(db, &router.Options{Outbound: []router.Channel{router.ChannelSMS}})
		db *store.DB      // store.Open(…)
	)
	sms := outbox.SenderFunc(func(ctx context.Context, o outbox.Outbound) (router.DeliveryStatus, error) {
		// o.ID is stable across attempts: the provider deduplicates by it.
		fmt.Println("text", o.Contact.Customer.Phone, o.Message.Body, o.ID)
		return router.DeliverySent, nil
	})
	d, err := outbox.New(outbox.Options{Router: rt, Store: db, Senders: map[router.Channel]outbox.Sender{router.ChannelSMS: sms}})
	if err != nil {
		return
	}
	ctx := context.Background()
	sub, snap := rt.Subscribe(0)
	go rt.Follow(ctx, sub, snap, d, d.Resync)
	if err := d.Start(ctx); err != nil { // what a crash left, then what the stream brings
		return
	}
	defer d.Close()
}
