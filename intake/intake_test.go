package intake

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

func newIntake(t *testing.T) (*Intake, *router.Router, *router.ManualClock) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	clock := router.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	rt, err := router.New(db, &router.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(); db.Close() })
	if _, err := rt.PutQueue(ctx, router.Queue{Name: "q"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alice", "bob"} {
		if _, _, err := rt.PutAgent(ctx, router.Agent{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	return &Intake{Router: rt, Store: db}, rt, clock
}

func TestContactResolvesOnlyWhatTheRouterTakes(t *testing.T) {
	in, _, _ := newIntake(t)
	ctx := context.Background()
	resolved := 0
	in.Resolve = func(_ context.Context, nc router.NewContact) (router.NewContact, error) {
		resolved++
		nc.Customer.Name = "resolved"
		return nc, nil
	}
	if _, _, err := in.Contact(ctx, router.NewContact{Channel: "sms", Queue: "nowhere", Body: "hi"}); !errors.Is(err, router.ErrNoQueue) {
		t.Fatalf("unknown queue: got %v, want ErrNoQueue", err)
	}
	c, created, err := in.Contact(ctx, router.NewContact{Channel: "sms", Queue: "q", Body: "hi"})
	if err != nil || !created || c.Customer.Name != "resolved" || resolved != 1 {
		t.Fatalf("got %+v created %v (%v), resolved %d times; want one resolved contact", c, created, err, resolved)
	}
}

// A customer's message on an ended contact starts a follow-up contact,
// linked to it and offered to the agent who handled it first.
func TestMessageFollowsAnEndedContact(t *testing.T) {
	in, rt, clock := newIntake(t)
	in.PreferredTimeout = 45 * time.Second
	ctx := context.Background()
	if _, err := rt.SetAgentState(ctx, "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	c, _, err := in.Contact(ctx, router.NewContact{Channel: "email", Queue: "q", Subject: "Invoice",
		Customer: router.Customer{ID: "ada", Verified: true, Email: "ada@example.com"}, Body: "My invoice is wrong"})
	if err != nil || c.AgentID != "alice" {
		t.Fatalf("first contact: %+v %v", c, err)
	}
	if _, err := rt.Accept(ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	// While it lives, a message joins it.
	m, to, created, err := in.Message(ctx, c.ID, router.Message{Direction: "in", Body: "Any news?", ExternalID: "<2@example.com>"})
	if err != nil || created || to.ID != c.ID || m.Seq != 2 {
		t.Fatalf("live: got %+v on %s created %v (%v)", m, to.ID, created, err)
	}
	if _, err := rt.CloseContact(ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	// alice is busy elsewhere: bob is available, but alice is preferred.
	if _, err := rt.SetAgentState(ctx, "alice", router.AgentAway, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.SetAgentState(ctx, "bob", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(7 * 24 * time.Hour)
	m, to, created, err = in.Message(ctx, c.ID, router.Message{Direction: "in", Body: "Thanks, one more thing", ExternalID: "<3@example.com>"})
	if err != nil || !created || to.ID == c.ID || to.Follows != c.ID {
		t.Fatalf("a week later: got contact %+v created %v (%v), want a new one following %s", to, created, err, c.ID)
	}
	if m.ContactID != to.ID || m.Seq != 1 || m.Body != "Thanks, one more thing" || m.ExternalID != "<3@example.com>" {
		t.Errorf("follow-up's first message: got %+v", m)
	}
	live, _ := rt.Snapshot().Contact(to.ID)
	if !live.PreferredUntil.Equal(clock.Now().Add(45 * time.Second)) {
		t.Errorf("follow-up preferred until %v, want %v (Intake.PreferredTimeout)", live.PreferredUntil, clock.Now().Add(45*time.Second))
	}
	if !slices.Equal(live.Preferred, []string{"alice"}) || live.State != router.ContactQueued || live.Subject != "Invoice" ||
		live.Customer.ID != "ada" || !live.Customer.Verified {
		t.Errorf("follow-up: got %+v, want queued for alice, Ada's, about the invoice", live)
	}
	// The same message again: the stored copy, no third contact.
	again, at, created, err := in.Message(ctx, c.ID, router.Message{Direction: "in", Body: "Thanks, one more thing", ExternalID: "<3@example.com>"})
	if err != nil || created || at.ID != to.ID || again.Seq != 1 {
		t.Errorf("the same message again: got %+v on %s created %v (%v), want the first copy on %s", again, at.ID, created, err, to.ID)
	}
	if _, _, _, err := in.Message(ctx, "01NOSUCHCONTACT0000000000", router.Message{Direction: "in", Body: "hi"}); !errors.Is(err, router.ErrNoContact) {
		t.Errorf("unknown contact: got %v, want ErrNoContact", err)
	}
}

// While Admit refuses, no new contact is written (a follow-up neither),
// and a live contact still takes the customer's messages.
func TestAdmitRefusesNewContactsOnly(t *testing.T) {
	in, rt, _ := newIntake(t)
	ctx := context.Background()
	live, _, err := in.Contact(ctx, router.NewContact{Channel: "sms", Queue: "q", Body: "first"})
	if err != nil {
		t.Fatal(err)
	}
	full := errors.New("disk nearly full")
	in.Admit = func() error { return full }
	if _, _, err := in.Contact(ctx, router.NewContact{Channel: "sms", Queue: "q", Body: "second"}); !errors.Is(err, ErrRefused) || !errors.Is(err, full) {
		t.Fatalf("a new contact while refused: %v, want ErrRefused and the reason", err)
	}
	if _, _, _, err := in.Message(ctx, live.ID, router.Message{Direction: "in", Body: "still there?"}); err != nil {
		t.Fatalf("a message on a live contact: %v", err)
	}
	if n := len(rt.Snapshot().Contacts()); n != 1 {
		t.Errorf("%d contacts, want the live one alone", n)
	}
	// A message on an ended contact would start a follow-up: refused too.
	if _, err := rt.Abandon(ctx, live.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := in.Message(ctx, live.ID, router.Message{Direction: "in", Body: "a week later"}); !errors.Is(err, ErrRefused) {
		t.Errorf("a follow-up while refused: %v, want ErrRefused", err)
	}
	if n := len(rt.Snapshot().Contacts()); n != 0 {
		t.Errorf("%d live contacts, want none", n)
	}
	in.Admit = func() error { return nil }
	if _, created, err := in.Contact(ctx, router.NewContact{Channel: "sms", Queue: "q", Body: "second"}); err != nil || !created {
		t.Fatalf("admitted again: created %v, %v", created, err)
	}
}

// The follow-up of a contact stored before the router's rule of a
// customer (a name of 150 characters, an email of 300 bytes, taken over
// the API then) is taken, the customer fitted to the rule: a customer's
// answer is never refused for what their ended contact holds.
func TestFollowUpOfAContactStoredBeforeTheRule(t *testing.T) {
	in, _, clock := newIntake(t)
	ctx := context.Background()
	long := strings.Repeat("Ada ", 37) + "Lovelace"
	email := strings.Repeat("a", 300) + "@example.com"
	prev := router.Contact{ID: "01OLDCONTACT00000000000000", Channel: "api", Queue: "q", State: router.ContactClosed,
		Customer:  router.Customer{Name: long, Email: email, Phone: "+15551234567"},
		CreatedAt: clock.Now(), EnqueuedAt: clock.Now(), QueuedAt: clock.Now(), EndedAt: clock.Now()}
	if err := in.Store.(*store.DB).Commit(ctx, &router.Batch{Contacts: []router.Contact{prev}}); err != nil {
		t.Fatal(err)
	}
	_, to, created, err := in.Message(ctx, prev.ID, router.Message{Direction: "in", Body: "Hello again"})
	if err != nil || !created || to.Follows != prev.ID {
		t.Fatalf("got %+v created %v (%v), want a follow-up of %s", to, created, err, prev.ID)
	}
	want := router.FitCustomerName(long)
	if cu := to.Customer; cu.Name != want || cu.Email != "" || cu.Phone != "+15551234567" || len(cu.Validate()) > 0 {
		t.Errorf("follow-up's customer: got %+v, want the name %q, no email, the phone", cu, want)
	}
}
