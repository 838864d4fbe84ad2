package intake

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// BenchmarkNewCustomerContact: one caller at a time, a contact from a
// customer nobody knows yet, with a verified email (an email or SMS
// channel's first contact): the profile is created, then the contact
// submitted, on SQLite with synchronous full. ns/op is the latency.
//
//	go test -run=NONE -bench=NewCustomerContact -benchtime=2000x ./intake/
func BenchmarkNewCustomerContact(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(b.TempDir(), "sb.db")})
	if err != nil {
		b.Fatal(err)
	}
	rt, err := router.New(db, &router.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(); db.Close() })
	if _, err := rt.PutQueue(ctx, router.Queue{Name: "q"}); err != nil {
		b.Fatal(err)
	}
	in := &Intake{Router: rt, Store: db, Resolve: func(ctx context.Context, nc router.NewContact) (router.NewContact, error) {
		return customers.Intake(ctx, db, nc, customers.Routing{})
	}}
	b.ResetTimer()
	for i := range b.N {
		nc := router.NewContact{Channel: router.ChannelEmail, Queue: "q", Body: "Hello",
			Customer: router.Customer{Name: "Ada", Email: fmt.Sprintf("ada%d@example.com", i), Verified: true}}
		c, created, err := in.Contact(ctx, nc)
		if err != nil || !created || c.Customer.ID == "" {
			b.Fatalf("contact %d: %+v created %v: %v", i, c, created, err)
		}
	}
}
