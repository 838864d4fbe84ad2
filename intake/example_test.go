package intake_test

import (
	"context"
	"fmt"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// A channel hands what arrives to the one intake: a new contact, or a
// customer's message on a contact it knows (a follow-up if that one
// ended).
func Example() {
	var (
		rt *router.Router // started
		db *store.DB
	)
	in := &intake.Intake{Router: rt, Store: db,
		Resolve: func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
			return customers.Intake(ctx, db, nc, customers.Routing{PreferLastAgent: true})
		}}
	ctx := context.Background()
	c, _, err := in.Contact(ctx, router.NewContact{Channel: router.ChannelSMS, Queue: "support",
		Customer: router.Customer{Phone: "+15551234567", Verified: true}, // an SMS proves its number
		First:    router.Message{Body: "My card is blocked", ExternalID: "SM0123"}})
	if err != nil {
		return
	}
	_, to, followUp, err := in.Message(ctx, c.ID, router.Message{Direction: "in", Body: "Hello?", ExternalID: "SM0124"})
	if err != nil {
		return
	}
	fmt.Println(to.ID, followUp)
}
