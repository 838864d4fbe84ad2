package sms_test

import (
	"context"
	"net/http"

	"github.com/switchboard/switchboard/channels/sms"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// The channel takes Twilio's webhooks, sends agents' replies for the
// outbox, and follows the router's event stream.
func Example() {
	var (
		rt *router.Router // started, with Options.Outbound naming router.ChannelSMS
		db *store.DB
	)
	in := &intake.Intake{Router: rt, Store: db,
		Resolve: func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
			return customers.Intake(ctx, db, nc, customers.Routing{})
		}}
	ch, err := sms.New(sms.Options{Router: rt, Store: db, Intake: in,
		AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef",
		PublicURL: "https://contact.example.com",
		Routes:    []sms.Route{{Queue: "support", From: "+15550001111"}}})
	if err != nil {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+sms.InboundPath, ch.Handler())
	mux.Handle("POST "+sms.StatusPath, ch.Handler())
	d, err := outbox.New(outbox.Options{Router: rt, Store: db,
		Senders: map[router.Channel]outbox.Sender{router.ChannelSMS: ch}})
	if err != nil {
		return
	}
	sub, snap := rt.Subscribe(0)
	go rt.Follow(context.Background(), sub, snap, router.Notifiers(d, ch), func(s *router.Snapshot) { d.Resync(s); ch.Resync(s) })
	_ = d.Start(context.Background())
}
