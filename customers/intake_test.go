package customers

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// intakeEnv is a router over a store with queue q and agents alice, bob
// and rm, and the clock both share.
type intakeEnv struct {
	ctx   context.Context
	db    *store.DB
	rt    *router.Router
	clock *router.ManualClock
}

func newIntakeEnv(t *testing.T) *intakeEnv {
	t.Helper()
	e := &intakeEnv{ctx: context.Background(), db: openStore(t), clock: router.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
	rt, err := router.New(e.db, &router.Options{Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	e.rt = rt
	if _, err := rt.PutQueue(e.ctx, router.Queue{Name: "q"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alice", "bob", "rm"} {
		if _, _, err := rt.PutAgent(e.ctx, router.Agent{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *intakeEnv) put(t *testing.T, c store.Customer, emails ...string) {
	t.Helper()
	c.CreatedAt, c.UpdatedAt = e.clock.Now(), e.clock.Now()
	var ids []store.Identity
	for _, m := range emails {
		ids = append(ids, store.Identity{Kind: store.IdentityEmail, Value: m, Verified: true})
	}
	if _, err := e.db.PutCustomer(e.ctx, c, ids, "test"); err != nil {
		t.Fatal(err)
	}
}

// handled makes agent handle and close a contact of customerID.
func (e *intakeEnv) handled(t *testing.T, customerID, agent string) {
	t.Helper()
	c, _, err := e.rt.Submit(e.ctx, router.NewContact{Channel: "chat", Queue: "q", Customer: router.Customer{ID: customerID},
		Preferred: []string{agent}, PreferredTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.SetAgentState(e.ctx, agent, router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.Accept(e.ctx, c.ID, agent); err != nil {
		t.Fatalf("accept %s by %s: %v", c.ID, agent, err)
	}
	if _, err := e.rt.CloseContact(e.ctx, c.ID, agent, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rt.SetAgentState(e.ctx, agent, router.AgentAway, ""); err != nil {
		t.Fatal(err)
	}
}

func TestIntakeRouting(t *testing.T) {
	e := newIntakeEnv(t)
	yes, no := true, false
	e.put(t, store.Customer{ID: "ada", Segment: "premium", Value: 12000, Consent: consent.Flags{Profiling: &yes}, RelationshipManager: "rm"}, "ada@example.com")
	e.put(t, store.Customer{ID: "bob", Segment: "premium", Value: 12000, Consent: consent.Flags{Profiling: &no}}, "bob@example.com")
	e.put(t, store.Customer{ID: "cy", Segment: "gold", Value: 500, RelationshipManager: "gone"}, "cy@example.com")
	e.put(t, store.Customer{ID: "old", Segment: "basic", Value: 10, Consent: consent.Flags{Profiling: &yes}})
	e.put(t, store.Customer{ID: "dup", Segment: "basic"}, "dup@example.com")
	e.put(t, store.Customer{ID: "dup2", Segment: "basic"}, "dup2@example.com")
	// dup2 into dup, then dup into ada: a chain of two merges.
	if err := e.db.MergeCustomers(e.ctx, store.Merge{FromID: "dup2", IntoID: "dup", IdentityKind: store.IdentityEmail,
		IdentityValue: "dup2@example.com", At: e.clock.Now(), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.MergeCustomers(e.ctx, store.Merge{FromID: "dup", IntoID: "ada", IdentityKind: store.IdentityEmail,
		IdentityValue: "dup@example.com", At: e.clock.Now(), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	e.handled(t, "old", "bob") // 40 days before the contacts below
	e.clock.Advance(40 * 24 * time.Hour)
	e.handled(t, "ada", "alice")
	e.handled(t, "cy", "bob")

	all := Routing{
		PreferManager: true, PreferLastAgent: true, LastAgentWithin: 30 * 24 * time.Hour, PreferredTimeout: 20 * time.Second,
		IsAgent: func(id string) bool { _, ok := e.rt.Snapshot().Agent(id); return ok },
		Now:     e.clock.Now,
	}
	tests := []struct {
		name        string
		nc          router.NewContact
		r           Routing
		wantID      string // "new" for a customer created
		wantClaim   string
		wantValue   float64
		wantSegment string
		wantPref    []string
		wantTimeout time.Duration
	}{
		{"consent: value, segment, manager then last agent", router.NewContact{Customer: router.Customer{Email: "ADA@example.com", Verified: true}}, all,
			"ada", "", 12000, "premium", []string{"rm", "alice"}, 20 * time.Second},
		{"profiling refused: no value, no segment", router.NewContact{Customer: router.Customer{Email: "bob@example.com", Verified: true, Value: 99, Segment: "x"}}, all,
			"bob", "", 0, "", nil, 0},
		{"consent unknown; manager not an agent; last agent", router.NewContact{Customer: router.Customer{Email: "cy@example.com", Verified: true}}, all,
			"cy", "", 0, "", []string{"bob"}, 20 * time.Second},
		{"last agent too long ago", router.NewContact{Customer: router.Customer{ID: "old", Verified: true}}, all,
			"old", "", 10, "basic", nil, 0},
		{"the contact's own preferred agents win", router.NewContact{Customer: router.Customer{ID: "ada", Verified: true}, Preferred: []string{"bob"}}, all,
			"ada", "", 12000, "premium", []string{"bob"}, 0},
		{"merged: the surviving profile", router.NewContact{Customer: router.Customer{ID: "dup", Verified: true}}, all,
			"ada", "", 12000, "premium", []string{"rm", "alice"}, 20 * time.Second},
		{"merged twice: the end of the chain", router.NewContact{Customer: router.Customer{ID: "dup2", Verified: true}}, all,
			"ada", "", 12000, "premium", []string{"rm", "alice"}, 20 * time.Second},
		{"nothing preferred by configuration", router.NewContact{Customer: router.Customer{ID: "ada", Verified: true}}, Routing{},
			"ada", "", 12000, "premium", nil, 0},
		{"last agent only", router.NewContact{Customer: router.Customer{ID: "ada", Verified: true}}, Routing{PreferLastAgent: true, LastAgentWithin: time.Hour, Now: e.clock.Now},
			"ada", "", 12000, "premium", []string{"alice"}, 0},
		{"unknown verified id: as given", router.NewContact{Customer: router.Customer{ID: "nobody", Verified: true, Value: 7, Segment: "s"}}, all,
			"nobody", "", 7, "s", nil, 0},
		{"new verified email: a new customer without a profile to route by", router.NewContact{Customer: router.Customer{Email: "new@example.com", Verified: true, Value: 5}}, all,
			"new", "", 0, "", nil, 0},

		// Claims select no profile, no value, no segment; they may pick
		// the claimed customer's preferred agents.
		{"claimed email: preferred agents only", router.NewContact{Customer: router.Customer{Email: "ADA@example.com"}}, all,
			"", "ada", 0, "", []string{"rm", "alice"}, 20 * time.Second},
		{"claimed id: preferred agents only", router.NewContact{Customer: router.Customer{ID: "dup2", Value: 99, Segment: "premium"}}, all,
			"", "ada", 0, "", []string{"rm", "alice"}, 20 * time.Second},
		{"claimed unknown email: nobody, nothing created", router.NewContact{Customer: router.Customer{Email: "stranger@example.com", Value: 5}}, all,
			"", "", 0, "", nil, 0},
		{"claimed unknown id: nobody", router.NewContact{Customer: router.Customer{ID: "nobody", Value: 7, Segment: "s"}}, all,
			"", "", 0, "", nil, 0},
		{"a claimed_id from outside is ignored", router.NewContact{Customer: router.Customer{ClaimedID: "ada"}}, all,
			"", "", 0, "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.nc.Channel, tt.nc.Queue = "chat", "q"
			got, err := Intake(e.ctx, e.db, tt.nc, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			cu := got.Customer
			if tt.wantID == "new" && (cu.ID == "" || cu.ID == tt.nc.Customer.ID) || tt.wantID != "new" && cu.ID != tt.wantID {
				t.Errorf("customer id: got %q, want %q", cu.ID, tt.wantID)
			}
			if cu.ClaimedID != tt.wantClaim {
				t.Errorf("claimed id: got %q, want %q", cu.ClaimedID, tt.wantClaim)
			}
			if cu.Verified != tt.nc.Customer.Verified {
				t.Errorf("verified: got %v, want it kept as %v", cu.Verified, tt.nc.Customer.Verified)
			}
			if cu.Value != tt.wantValue || cu.Segment != tt.wantSegment {
				t.Errorf("value, segment: got %v %q, want %v %q", cu.Value, cu.Segment, tt.wantValue, tt.wantSegment)
			}
			if !slices.Equal(got.Preferred, tt.wantPref) || got.PreferredTimeout != tt.wantTimeout {
				t.Errorf("preferred: got %v for %v, want %v for %v", got.Preferred, got.PreferredTimeout, tt.wantPref, tt.wantTimeout)
			}
		})
	}
	// A claim wrote nothing: the stranger's email still belongs to nobody.
	if _, err := e.db.IdentityOwner(e.ctx, store.IdentityEmail, "stranger@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a claimed email made an identity: %v", err)
	}
}

// TestIntakePreferredRoutes checks, through the router, that the
// relationship manager gets the contact first and that after the
// preferred timeout another agent may take it.
func TestIntakePreferredRoutes(t *testing.T) {
	e := newIntakeEnv(t)
	yes := true
	e.put(t, store.Customer{ID: "ada", Segment: "premium", Value: 12000, Consent: consent.Flags{Profiling: &yes}, RelationshipManager: "rm"}, "ada@example.com")
	if _, err := e.rt.SetAgentState(e.ctx, "alice", router.AgentAvailable, ""); err != nil {
		t.Fatal(err)
	}
	nc, err := Intake(e.ctx, e.db, router.NewContact{Channel: "chat", Queue: "q", Customer: router.Customer{Email: "ada@example.com"}},
		Routing{PreferManager: true, PreferredTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := e.rt.Submit(e.ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.rt.Snapshot().Contact(c.ID); got.State != router.ContactQueued {
		t.Fatalf("with rm away and alice available: got %s to %q, want queued for rm", got.State, got.AgentID)
	}
	e.clock.Advance(21 * time.Second)
	if err := e.rt.Sync(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.rt.Snapshot().Contact(c.ID); got.State != router.ContactOffered || got.AgentID != "alice" {
		t.Fatalf("after the preferred timeout: got %s to %q, want offered to alice", got.State, got.AgentID)
	}
}

// A profile that a verified contact creates is named as the router shows
// the contact: without bidi overrides or invisible characters.
func TestIntakeCleansTheName(t *testing.T) {
	e := newIntakeEnv(t)
	nc, err := Intake(e.ctx, e.db, router.NewContact{Channel: "chat", Queue: "q",
		Customer: router.Customer{Name: "Ada\u202e ecilA\u200b", Email: "new@example.com", Verified: true}}, Routing{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.db.Customer(e.ctx, nc.Customer.ID)
	if err != nil || p.Name != "Ada ecilA" || nc.Customer.Name != "Ada ecilA" {
		t.Errorf("got profile %q (%v), contact %q; want both \"Ada ecilA\"", p.Name, err, nc.Customer.Name)
	}
}

// A verified contact whose phone another customer proved keeps the
// email's customer and drops the phone (it is not theirs: kept, it would
// show as theirs and bring the other's history into their screen pop),
// unless the phone is the address its channel answers on.
func TestIntakeDropsAnIdentityAnotherHolds(t *testing.T) {
	e := newIntakeEnv(t)
	e.put(t, store.Customer{ID: "ada"}, "ada@example.com")
	bob := store.Customer{ID: "bob", CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if _, err := e.db.PutCustomer(e.ctx, bob, []store.Identity{{Kind: store.IdentityPhone, Value: "+15550001111", Verified: true}}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		channel   router.Channel
		wantPhone string
	}{{router.ChannelChat, ""}, {router.ChannelSMS, "+15550001111"}} {
		nc, err := Intake(e.ctx, e.db, router.NewContact{Channel: tc.channel, Queue: "q",
			Customer: router.Customer{Email: "ada@example.com", Phone: "+15550001111", Verified: true}}, Routing{})
		if err != nil {
			t.Fatal(err)
		}
		if cu := nc.Customer; cu.ID != "ada" || cu.Email != "ada@example.com" || cu.Phone != tc.wantPhone {
			t.Errorf("%s: customer %+v, want ada with phone %q", tc.channel, cu, tc.wantPhone)
		}
	}
	if owner, err := e.db.IdentityOwner(e.ctx, store.IdentityPhone, "+15550001111"); err != nil || owner.CustomerID != "bob" {
		t.Errorf("bob's phone: held by %+v %v, want bob still", owner, err)
	}
}
