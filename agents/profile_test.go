package agents

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

func TestScreenPopProfile(t *testing.T) {
	e := newEnv(t)
	yes, no := true, false
	ada := store.Customer{
		ID: "cu-ada", Name: "Ada Lovelace", Segment: "premium", Value: 12000, Language: "en",
		Consent: consent.Flags{Marketing: &yes, Profiling: &no}, Products: []string{"credit_card", "mortgage"},
	}
	ids := []store.Identity{
		{Kind: store.IdentityEmail, Value: "ada@example.com", Verified: true},
		{Kind: store.IdentityPhone, Value: "+15551234567"}, // a claim
		{Kind: store.IdentityChat, Value: "tok-ada", Verified: true},
	}
	if _, err := e.db.PutCustomer(e.ctx, ada, ids, "test"); err != nil {
		t.Fatal(err)
	}
	c := e.submit(router.NewContact{Channel: "chat", Customer: router.Customer{
		ID: "cu-ada", Verified: true, Email: "Ada@Example.com", Phone: "+15551234567",
	}})
	stranger := e.submit(router.NewContact{Channel: "chat", Customer: router.Customer{ID: "cu-nobody", Name: "Nemo", Email: "nemo@example.com"}})

	p := &Popper{Router: e.rt, Store: e.db, Profiles: e.db}
	pop, err := p.ScreenPop(e.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	cu := pop.Customer
	if cu.Name != "Ada Lovelace" || cu.Segment == nil || *cu.Segment != "premium" || cu.Value != 12000 ||
		cu.Language == nil || *cu.Language != "en" {
		t.Errorf("got %+v, want Ada's profile", cu)
	}
	if cu.Consent.Marketing == nil || !*cu.Consent.Marketing || cu.Consent.Profiling == nil || *cu.Consent.Profiling {
		t.Errorf("got consent %+v, want marketing true, profiling false", cu.Consent)
	}
	if got, want := fmt.Sprint(cu.Products), "[credit_card mortgage]"; got != want {
		t.Errorf("got products %s, want %s", got, want)
	}
	// The contact's own identities are as verified as its customer; the
	// profile's other identities show as the store holds them.
	want := "[{email Ada@Example.com true} {phone +15551234567 true} {chat tok-ada true}]"
	if got := fmt.Sprint(cu.Identities); got != want {
		t.Errorf("got identities %s, want %s (the contact's first, then the profile's as stored)", got, want)
	}

	// A contact whose customer has no profile keeps what it carried.
	pop, err = p.ScreenPop(e.ctx, stranger.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cu := pop.Customer; cu.Name != "Nemo" || cu.Segment != nil || len(cu.Identities) != 1 || cu.Identities[0].Verified {
		t.Errorf("got %+v, want the contact's customer, unverified", cu)
	}
}

func TestScreenPopHistoryOfTheProfile(t *testing.T) {
	e := newEnv(t)
	put := func(id, email string) {
		t.Helper()
		if _, err := e.db.PutCustomer(e.ctx, store.Customer{ID: id}, []store.Identity{{Kind: store.IdentityEmail, Value: email}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	put("cu-ada", "ada@example.com")
	put("cu-old", "old@example.com")
	put("cu-older", "older@example.com")
	// cu-older into cu-old, then cu-old into cu-ada: a chain of merges.
	if err := e.db.MergeCustomers(e.ctx, store.Merge{FromID: "cu-older", IntoID: "cu-old", IdentityKind: store.IdentityEmail, IdentityValue: "older@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.MergeCustomers(e.ctx, store.Merge{FromID: "cu-old", IntoID: "cu-ada", IdentityKind: store.IdentityEmail, IdentityValue: "old@example.com"}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, cu := range []router.Customer{
		{ID: "cu-old"},                              // the merged customer's
		{ID: "cu-older"},                            // the customer merged into the merged one's
		{Email: "old@example.com"},                  // by an identity the merge moved to her
		{Email: "stranger@example.com"},             // somebody else's
		{Phone: "+15550001111"},                     // by the contact's own claim below
		{ID: "cu-ada", Name: "Ada", Verified: true}, // hers
	} {
		e.clock.Advance(time.Minute)
		c := e.submit(router.NewContact{Channel: "email", Customer: cu})
		if cu.Email != "stranger@example.com" {
			want = append([]string{c.ID}, want...)
		}
	}
	e.clock.Advance(time.Minute)
	now := e.submit(router.NewContact{Channel: "chat", Customer: router.Customer{ID: "cu-older", Verified: true, Phone: "+15550001111"}})

	p := &Popper{Router: e.rt, Store: e.db, Profiles: e.db}
	pop, err := p.ScreenPop(e.ctx, now.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range pop.History {
		got = append(got, h.ID)
	}
	if pop.Customer.ID != "cu-ada" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got customer %s, history %v; want cu-ada, %v (the profile's, its merged customers', by its identities and the contact's claims, newest first)",
			pop.Customer.ID, got, want)
	}
}
