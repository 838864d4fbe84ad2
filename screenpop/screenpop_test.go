package screenpop

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

func TestScreenPopHistoryAcrossChannels(t *testing.T) {
	e := newEnv(t)
	ada := router.Customer{ID: "cu-ada", Verified: true, Name: "Ada", Email: "ada@example.com"}
	emailed := e.submit(router.NewContact{Channel: "email", Subject: "invoice", Customer: ada})
	if _, err := e.rt.CloseContact(e.ctx, emailed.ID, "", "resolved", ""); err != nil {
		t.Fatalf("close: %v", err)
	}
	e.clock.Advance(time.Hour)
	texted := e.submit(router.NewContact{Channel: "sms", Customer: router.Customer{Phone: "+3312345678", Email: "ada@example.com"}})
	e.clock.Advance(time.Hour)
	byID := e.submit(router.NewContact{Channel: "api", Customer: router.Customer{ID: "cu-ada"}})
	e.clock.Advance(time.Hour)
	e.submit(router.NewContact{Channel: "chat", Customer: router.Customer{Email: "grace@example.com"}})
	e.clock.Advance(time.Hour)
	now := e.submit(router.NewContact{Channel: "chat", Body: "hi again", Customer: router.Customer{ID: "cu-ada", Verified: true, Name: "Ada", Email: "ada@example.com", Phone: "+3312345678"}})
	e.clock.Advance(90 * time.Second)

	p := &Builder{Router: e.rt, Store: e.db}
	pop, err := p.Build(e.ctx, now.ID)
	if err != nil {
		t.Fatalf("screen pop: %v", err)
	}
	var got []string
	for _, h := range pop.History {
		got = append(got, h.ID+"/"+h.Channel+"/"+string(h.State))
	}
	want := []string{byID.ID + "/api/queued", texted.ID + "/sms/queued", emailed.ID + "/email/closed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got history %v, want %v (newest first, every channel, not this contact, not grace's)", got, want)
	}
	if pop.History[2].Disposition != "resolved" {
		t.Fatalf("got disposition %q, want resolved", pop.History[2].Disposition)
	}
	if pop.Contact.WaitedSeconds != 90 || pop.Contact.State != router.ContactQueued || pop.Contact.RoutedBecause != "" {
		t.Fatalf("got contact %+v, want queued for 90s, never routed", pop.Contact)
	}
	if len(pop.Contact.FirstMessages) != 1 || pop.Contact.FirstMessages[0].Body != "hi again" {
		t.Fatalf("got first messages %+v, want hi again", pop.Contact.FirstMessages)
	}

	// An ended contact comes from the store; it shows the profile within
	// the grace after its end (4 h here), then no more.
	p.ProfileGrace = 5 * time.Hour
	ended, err := p.Build(e.ctx, emailed.ID)
	if err != nil {
		t.Fatalf("screen pop of an ended contact: %v", err)
	}
	if ended.Contact.State != router.ContactClosed || len(ended.History) != 3 || ended.History[0].ID != now.ID || !ended.Customer.Identified {
		t.Fatalf("got %+v, want closed with the 3 later contacts of cu-ada as history", ended)
	}
	p.ProfileGrace = 0 // DefaultProfileGrace, 15 minutes
	ended, err = p.Build(e.ctx, emailed.ID)
	if err != nil {
		t.Fatalf("screen pop of an ended contact: %v", err)
	}
	if cu := ended.Customer; cu.Identified || cu.ID != "" || len(ended.History) != 0 || cu.Notice == "" || ended.OffersWithheld != WithheldEnded {
		t.Fatalf("4 h after its end: got %+v, want no profile, no history, a notice", ended)
	}

	if _, err := p.Build(e.ctx, "no-such-contact"); !errors.Is(err, router.ErrNoContact) {
		t.Fatalf("got %v, want router.ErrNoContact", err)
	}
}

func TestScreenPopLimits(t *testing.T) {
	e := newEnv(t)
	cu := router.Customer{Email: "busy@example.com"}
	for range MaxHistory + 3 {
		e.submit(router.NewContact{Channel: "email", Customer: cu})
		e.clock.Advance(time.Minute)
	}
	c := e.submit(router.NewContact{Channel: "chat", Customer: router.Customer{ID: "cu-busy", Verified: true, Email: cu.Email}})
	for i := range MaxFirstMessages + 2 {
		if _, _, err := e.rt.AddMessage(e.ctx, c.ID, router.Message{Direction: "in", Body: fmt.Sprint("line ", i)}); err != nil {
			t.Fatalf("add message: %v", err)
		}
	}
	p := &Builder{Router: e.rt, Store: e.db, Offers: fixedOffers{
		{ID: "o1", Title: "Gold card", Reason: "spends abroad"}, {ID: "o2"}, {ID: "o3"}, {ID: "o4"},
	}}
	pop, err := p.Build(e.ctx, c.ID)
	if err != nil {
		t.Fatalf("screen pop: %v", err)
	}
	if len(pop.History) != MaxHistory || len(pop.Contact.FirstMessages) != MaxFirstMessages || len(pop.Offers) != MaxOffers {
		t.Fatalf("got %d history, %d messages, %d offers, want %d, %d, %d",
			len(pop.History), len(pop.Contact.FirstMessages), len(pop.Offers), MaxHistory, MaxFirstMessages, MaxOffers)
	}
	if pop.Contact.FirstMessages[0].Body != "line 0" || pop.Offers[0].Title != "Gold card" {
		t.Fatalf("got first message %q, offer %+v, want the first ones", pop.Contact.FirstMessages[0].Body, pop.Offers[0])
	}
}

type fixedOffers []Offer

func (f fixedOffers) PopOffers(context.Context, OfferRequest) ([]Offer, string, error) {
	return f, "", nil
}

// recordingOffers keeps the requests it gets.
type recordingOffers struct {
	mu  sync.Mutex
	got []OfferRequest // guarded by mu
}

func (r *recordingOffers) PopOffers(_ context.Context, req OfferRequest) ([]Offer, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
	if req.Profile == nil {
		return nil, "no profile", nil
	}
	return nil, "", nil
}

// The offer source gets the profile the screen pop read (at the end of
// the merges) and the first messages, so that it reads neither again.
func TestScreenPopOfferRequest(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"cu-ada", "cu-old"} {
		if _, err := e.db.PutCustomer(e.ctx, store.Customer{ID: id, Segment: "premium"}, []store.Identity{{Kind: store.IdentityEmail, Value: id + "@example.com"}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.db.MergeCustomers(e.ctx, store.Merge{FromID: "cu-old", IntoID: "cu-ada", IdentityKind: store.IdentityEmail, IdentityValue: "cu-old@example.com"}); err != nil {
		t.Fatal(err)
	}
	known := e.submit(router.NewContact{Channel: "chat", Customer: router.Customer{ID: "cu-old", Verified: true}})
	if _, _, err := e.rt.AddMessage(e.ctx, known.ID, router.Message{Direction: "in", Body: "hello"}); err != nil {
		t.Fatal(err)
	}
	unknown := e.submit(router.NewContact{Channel: "chat", Customer: router.Customer{ID: "nobody", Verified: true}})
	src := &recordingOffers{}
	p := &Builder{Router: e.rt, Store: e.db, Profiles: e.db, Offers: src}
	var withheld []string
	for _, id := range []string{known.ID, unknown.ID} {
		pop, err := p.Build(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		withheld = append(withheld, pop.OffersWithheld)
	}
	if fmt.Sprint(withheld) != "[ no profile]" {
		t.Errorf("got offers withheld %q, want the source's reasons: none, then no profile", withheld)
	}
	if len(src.got) != 2 {
		t.Fatalf("got %d requests, want 2", len(src.got))
	}
	for _, r := range src.got {
		if r.Shown {
			t.Errorf("got a request shown to an agent from Builder.Build (the API's), want not shown: %+v", r)
		}
	}
	if r := src.got[0]; r.Contact.ID != known.ID || r.Profile == nil || r.Profile.ID != "cu-ada" || r.Profile.Segment != "premium" ||
		len(r.FirstMessages) != 1 || r.FirstMessages[0].Body != "hello" {
		t.Errorf("got request %+v, want contact %s with the profile cu-ada and the message hello", r, known.ID)
	}
	if r := src.got[1]; r.Contact.ID != unknown.ID || r.Profile != nil {
		t.Errorf("got request %+v, want contact %s without a profile", r, unknown.ID)
	}
}

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

	p := &Builder{Router: e.rt, Store: e.db, Profiles: e.db}
	pop, err := p.Build(e.ctx, c.ID)
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
	pop, err = p.Build(e.ctx, stranger.ID)
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

	p := &Builder{Router: e.rt, Store: e.db, Profiles: e.db}
	pop, err := p.Build(e.ctx, now.ID)
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

// TestWhyYou: the agent reads why the contact is theirs in their own
// words: the relationship manager, the agent of the earlier or the last
// contact, then their level in each skill the contact needs; a claim
// names nobody.
func TestWhyYou(t *testing.T) {
	e := newEnv(t)
	yes := true
	if _, err := e.db.PutCustomer(e.ctx, store.Customer{ID: "cu-ada", Name: "Ada Lovelace", RelationshipManager: "alice",
		Consent: consent.Flags{Marketing: &yes, Profiling: &yes}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alice", "bob"} {
		if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: id, Name: id, Skills: map[string]int{"billing": 5}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.AgentConnected(e.ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	ada := router.Customer{ID: "cu-ada", Verified: true, Name: "Ada Lovelace"}
	p := &Builder{Router: e.rt, Store: e.db, Profiles: e.db}
	whyOf := func(c router.Contact) string {
		t.Helper()
		pop, err := p.Build(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return pop.Contact.WhyYou
	}
	available := func(id string) {
		t.Helper()
		if _, err := e.rt.SetAgentState(e.ctx, id, router.AgentAvailable, ""); err != nil {
			t.Fatal(err)
		}
	}
	offline := func(id string) {
		t.Helper()
		if _, err := e.rt.SetAgentState(e.ctx, id, router.AgentOffline, ""); err != nil {
			t.Fatal(err)
		}
	}

	available("alice")
	managed := e.submit(router.NewContact{Customer: ada, Preferred: []string{"alice"}})
	if got, want := whyOf(managed), "Ada's relationship manager · billing 5 (needs 1)"; got != want {
		t.Errorf("the manager: got %q, want %q", got, want)
	}
	if _, err := e.rt.CloseContact(e.ctx, managed.ID, "", "solved", ""); err != nil {
		t.Fatal(err)
	}
	offline("alice")
	available("bob")
	last := e.submit(router.NewContact{Customer: ada, Queue: "sales"})
	if got, want := whyOf(last), "next in line"; got != want {
		t.Errorf("no preference, no skills: got %q, want %q", got, want)
	}
	if _, err := e.rt.Accept(e.ctx, last.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.CloseContact(e.ctx, last.ID, "bob", "solved", ""); err != nil {
		t.Fatal(err)
	}
	again := e.submit(router.NewContact{Customer: ada, Preferred: []string{"bob"}})
	if got, want := whyOf(again), "you handled Ada's last contact · billing 5 (needs 1)"; got != want {
		t.Errorf("the last agent: got %q, want %q", got, want)
	}
	if _, err := e.rt.CloseContact(e.ctx, again.ID, "", "solved", ""); err != nil {
		t.Fatal(err)
	}
	claim := e.submit(router.NewContact{Customer: router.Customer{Name: "Ada Lovelace", Email: "ada@example.com"}, Preferred: []string{"bob"}})
	if got, want := whyOf(claim), "preferred agent · billing 5 (needs 1)"; got != want {
		t.Errorf("a claim: got %q, want %q (no name, no profile)", got, want)
	}
}

// timelineReads counts the screen pop's reads of a contact's timeline.
type timelineReads struct {
	Store
	n int
}

func (s *timelineReads) Timeline(ctx context.Context, id string) ([]router.Event, error) {
	s.n++
	return s.Store.Timeline(ctx, id)
}

// The reason a contact was offered comes from the router while it keeps
// it (Contact.OfferReason), else from the contact's timeline: the same.
func TestRoutedBecauseWithoutTheTimeline(t *testing.T) {
	e := newEnv(t)
	if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: "alice", Name: "Alice", Skills: map[string]int{"billing": 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.SetAgentState(e.ctx, "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	c := e.submit(router.NewContact{Body: "hello"})
	if c.State != router.ContactOffered || c.OfferReason == "" {
		t.Fatalf("contact %s with reason %q, want offered with one", c.State, c.OfferReason)
	}
	reads := &timelineReads{Store: e.db}
	p := &Builder{Router: e.rt, Store: reads}
	live, err := p.BuildFor(e.ctx, c, "", c.OfferedAt, false)
	if err != nil || live.Contact.RoutedBecause != c.OfferReason || reads.n != 0 {
		t.Fatalf("from the router: %q (%v), %d timeline reads; want %q and none", live.Contact.RoutedBecause, err, reads.n, c.OfferReason)
	}
	restored := c
	restored.OfferReason = ""
	stored, err := p.BuildFor(e.ctx, restored, "", c.OfferedAt, false)
	if err != nil || stored.Contact.RoutedBecause != c.OfferReason || reads.n != 1 {
		t.Fatalf("from the timeline: %q (%v), %d timeline reads; want %q and one", stored.Contact.RoutedBecause, err, reads.n, c.OfferReason)
	}
}
