package agents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
)

func TestSnapshotOnConnect(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, snap := e.connect("alice", "s1")
	if snap.Agent.ID != "alice" || snap.Agent.State != router.AgentOffline {
		t.Fatalf("got agent %+v, want alice offline", snap.Agent)
	}
	if snap.Offer != nil || len(snap.Contacts) != 0 {
		t.Fatalf("got offer %+v, contacts %v, want none", snap.Offer, snap.Contacts)
	}
	if len(snap.Dispositions) != 2 || snap.Dispositions[0].Code != "resolved" || len(snap.AwayReasons) != 2 {
		t.Fatalf("got dispositions %v, away reasons %v, want the configured ones", snap.Dispositions, snap.AwayReasons)
	}

	// An offer and an assigned contact show in the next snapshot.
	c.ok(reqSetState, map[string]any{"state": "available"})
	first := e.submit(router.NewContact{Body: "my bill is wrong", Customer: router.Customer{Name: "Ada", Email: "ada@example.com"}})
	c.expectFor(msgOffer, first.ID)
	c.ok(reqAccept, map[string]any{"contact_id": first.ID})
	e.clock.Advance(time.Second)
	second := e.submit(router.NewContact{Body: "and another thing"})
	c.expectFor(msgOffer, second.ID)

	_, snap = e.connect("alice", "s2")
	if len(snap.Contacts) != 1 || snap.Contacts[0].Contact.ID != first.ID || snap.Contacts[0].Contact.State != router.ContactAssigned {
		t.Fatalf("got contacts %+v, want %s assigned", snap.Contacts, first.ID)
	}
	if ms := snap.Contacts[0].Messages; len(ms) != 1 || ms[0].Body != "my bill is wrong" {
		t.Fatalf("got messages %+v, want the customer's first", ms)
	}
	if snap.Contacts[0].ScreenPop.Customer.Name != "Ada" {
		t.Fatalf("got screen pop customer %+v, want Ada", snap.Contacts[0].ScreenPop.Customer)
	}
	if snap.Offer == nil || snap.Offer.ContactID != second.ID || snap.Offer.Reason == "" || snap.Offer.ScreenPop.Contact.ID != second.ID {
		t.Fatalf("got offer %+v, want %s with a reason and a screen pop", snap.Offer, second.ID)
	}
}

// A long conversation shows its latest messages on the desktop, oldest
// first.
func TestSnapshotShowsTheLatestMessages(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	ct := e.submit(router.NewContact{Body: "message 1"})
	c.expectFor(msgOffer, ct.ID)
	c.ok(reqAccept, map[string]any{"contact_id": ct.ID})
	const total = conversationMessages + 5
	for i := 2; i <= total; i++ {
		if _, _, err := e.rt.AddMessage(e.ctx, ct.ID, router.Message{Direction: "in", Author: "Ada", Body: fmt.Sprintf("message %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, snap := e.connect("alice", "s2")
	if len(snap.Contacts) != 1 {
		t.Fatalf("got contacts %+v, want one", snap.Contacts)
	}
	ms := snap.Contacts[0].Messages
	if len(ms) != conversationMessages {
		t.Fatalf("got %d messages, want %d", len(ms), conversationMessages)
	}
	for i, m := range ms {
		if want := fmt.Sprintf("message %d", total-conversationMessages+1+i); m.Body != want {
			t.Fatalf("message %d is %q, want %q", i, m.Body, want)
		}
	}
}

func TestOfferAcceptConverseWrapUp(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	ack := c.ok(reqSetState, map[string]any{"state": "available"})
	var st struct{ Agent router.Agent }
	decode(t, ack, &st)
	if st.Agent.State != router.AgentAvailable {
		t.Fatalf("got state %s, want available", st.Agent.State)
	}

	ct := e.submit(router.NewContact{Subject: "refund", Body: "hello?", Customer: router.Customer{ID: "cu-1", Verified: true, Name: "Ada", Email: "ada@example.com", Phone: "+3312345678", Value: 1200}})
	var offer offerView
	decode(t, c.expectFor(msgOffer, ct.ID), &offer)
	if offer.Reason == "" || offer.ScreenPop.Contact.RoutedBecause != offer.Reason || !strings.HasPrefix(offer.Reason, "alice") {
		t.Fatalf("got reason %q, routed_because %q, want alice's decision in both", offer.Reason, offer.ScreenPop.Contact.RoutedBecause)
	}
	if !offer.ExpiresAt.Equal(epoch.Add(30 * time.Second)) {
		t.Fatalf("got expires_at %v, want %v", offer.ExpiresAt, epoch.Add(30*time.Second))
	}
	pop := offer.ScreenPop
	if pop.Contact.Subject != "refund" || pop.Contact.Channel != "chat" || pop.Contact.Queue != "billing" {
		t.Fatalf("got contact %+v, want the chat refund in billing", pop.Contact)
	}
	if len(pop.Contact.FirstMessages) != 1 || pop.Contact.FirstMessages[0].Body != "hello?" {
		t.Fatalf("got first messages %+v, want hello?", pop.Contact.FirstMessages)
	}
	want := []screenpop.Identity{{Type: "email", Value: "ada@example.com", Verified: true}, {Type: "phone", Value: "+3312345678", Verified: true}}
	if fmt.Sprint(pop.Customer.Identities) != fmt.Sprint(want) || pop.Customer.Value != 1200 || pop.Customer.ID != "cu-1" {
		t.Fatalf("got customer %+v, want identities %v (verified with the contact) and value 1200", pop.Customer, want)
	}
	if pop.Offers == nil || len(pop.Offers) != 0 || pop.History == nil {
		t.Fatalf("got offers %v, history %v, want empty lists", pop.Offers, pop.History)
	}

	e.clock.Advance(5 * time.Second)
	c.ok(reqAccept, map[string]any{"contact_id": ct.ID})
	var assigned activeView
	decode(t, c.expectFor(msgAssigned, ct.ID), &assigned)
	if assigned.Contact.State != router.ContactAssigned || len(assigned.Messages) != 1 || assigned.ScreenPop.Contact.WaitedSeconds != 5 {
		t.Fatalf("got assigned %+v, want assigned after waiting 5s with its message", assigned)
	}

	// The customer writes; the agent answers.
	if _, _, err := e.rt.AddMessage(e.ctx, ct.ID, router.Message{Direction: "in", Author: "Ada", Body: "I was charged twice"}); err != nil {
		t.Fatalf("add message: %v", err)
	}
	var in messageData
	decode(t, c.expectFor(msgMessage, ct.ID), &in)
	if in.Message.Body != "I was charged twice" || in.Message.Direction != "in" {
		t.Fatalf("got message %+v, want the customer's", in.Message)
	}
	sent := c.ok(reqSend, map[string]any{"contact_id": ct.ID, "body": "Refunded.", "client_id": "m1"})
	var out struct{ Message router.Message }
	decode(t, sent, &out)
	if out.Message.Direction != "out" || out.Message.Author != "alice" || out.Message.ClientID != "m1" {
		t.Fatalf("got message %+v, want out by alice with client id m1", out.Message)
	}
	again := c.ok(reqSend, map[string]any{"contact_id": ct.ID, "body": "Refunded.", "client_id": "m1"})
	var dup struct{ Message router.Message }
	decode(t, again, &dup)
	if dup.Message.Seq != out.Message.Seq {
		t.Fatalf("resend got seq %d, want the first copy's %d", dup.Message.Seq, out.Message.Seq)
	}
	stored, err := e.db.Messages(e.ctx, ct.ID, 0, 0)
	if err != nil {
		t.Fatalf("messages: %v", err)
	}
	if len(stored) != 3 || stored[2].Body != "Refunded." || stored[2].Author != "alice" {
		t.Fatalf("got stored %+v, want 3 messages ending with alice's reply", stored)
	}

	// Wrap-up, then the contact closes when the wrap-up time ends.
	c.fails(reqWrapUp, map[string]any{"contact_id": ct.ID, "disposition": "nonsense"}, codeInvalid)
	c.ok(reqWrapUp, map[string]any{"contact_id": ct.ID, "disposition": "resolved", "notes": "refund issued"})
	var cd contactData
	decode(t, c.expectFor(msgContact, ct.ID), &cd)
	if cd.Contact.State != router.ContactWrapUp || cd.Contact.Disposition != "resolved" {
		t.Fatalf("got contact %+v, want wrapup resolved", cd.Contact)
	}
	e.clock.Advance(30 * time.Second)
	var closed closedData
	decode(t, c.expectFor(msgContactClosed, ct.ID), &closed)
	if closed.State != "closed" {
		t.Fatalf("got closed state %q, want closed", closed.State)
	}
	var state stateData
	decode(t, c.expect(msgState), &state)
	if state.Agent.State != router.AgentAvailable {
		t.Fatalf("got agent state %s, want available after the wrap-up", state.Agent.State)
	}
	c.ok(reqOfferOutcome, map[string]any{"contact_id": mustLive(t, e, "alice"), "offer_id": "gold-card", "outcome": "presented"})
}

// mustLive makes a contact assigned to agent (already available and
// connected elsewhere) and returns its id, for requests that need one.
func mustLive(t *testing.T, e *env, agent string) string {
	t.Helper()
	c := e.submit(router.NewContact{})
	if _, err := e.rt.Accept(e.ctx, c.ID, agent); err != nil {
		t.Fatalf("accept %s as %s: %v", c.ID, agent, err)
	}
	return c.ID
}

// The screen pop of an offer goes to the agent's desktop: its offers are
// asked for as shown (recorded as presented), unlike the API's.
func TestOfferScreenPopIsShown(t *testing.T) {
	src := &recordingOffers{}
	e := newEnvWith(t, func(o *Options) { o.ScreenPops = &screenpop.Builder{Router: o.Router, Store: o.Store, Offers: src} })
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	ct := e.submit(router.NewContact{Customer: router.Customer{ID: "cu-1", Verified: true}})
	c.expectFor(msgOffer, ct.ID)
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.got) == 0 || !src.got[len(src.got)-1].Shown || src.got[len(src.got)-1].Contact.ID != ct.ID {
		t.Errorf("got requests %+v, want the offer's, shown", src.got)
	}
}

func TestOfferOutcomeRecorded(t *testing.T) {
	var mu sync.Mutex
	var heard []string // guarded by mu
	var fail error     // guarded by mu; what the hook answers next, once
	e := newEnvWith(t, func(o *Options) {
		o.OnOfferOutcome = func(_ context.Context, oo screenpop.OfferOutcome) error {
			mu.Lock()
			defer mu.Unlock()
			if fail != nil {
				err := fail
				fail = nil
				return err
			}
			if oo.OfferID == "no-such-offer" {
				return router.Errorf(router.CodeInvalid, "offer_id", "offer %q is not in the catalog", oo.OfferID)
			}
			heard = append(heard, oo.ContactID+" "+oo.OfferID+" "+oo.Outcome+" "+oo.AgentID)
			return nil
		}
	})
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	id := mustLive(t, e, "alice")
	lastEvent := func() router.Event {
		t.Helper()
		events, err := e.db.Timeline(e.ctx, id)
		if err != nil {
			t.Fatalf("timeline: %v", err)
		}
		return events[len(events)-1]
	}
	c.ok(reqOfferOutcome, map[string]any{"contact_id": id, "offer_id": "gold-card", "outcome": "declined"})
	// Recorded by the hook before the ack was written.
	mu.Lock()
	if want := []string{id + " gold-card declined alice"}; fmt.Sprint(heard) != fmt.Sprint(want) {
		t.Errorf("got outcomes heard %q at the ack, want %q", heard, want)
	}
	mu.Unlock()
	if last := lastEvent(); last.Event != "offer_outcome" || last.Reason != "gold-card: declined" || last.AgentID != "alice" {
		t.Fatalf("got last event %+v, want offer_outcome gold-card: declined by alice", last)
	}
	c.fails(reqOfferOutcome, map[string]any{"contact_id": id, "offer_id": "gold-card", "outcome": "maybe"}, codeInvalid)
	c.fails(reqOfferOutcome, map[string]any{"contact_id": "not-mine", "offer_id": "gold-card", "outcome": "accepted"}, codeNotFound)
	c.fails(reqOfferOutcome, map[string]any{"contact_id": id, "offer_id": "no-such-offer", "outcome": "accepted"}, codeInvalid)
	// A store failure: unavailable, nothing on the timeline; the retry
	// is recorded.
	mu.Lock()
	fail = fmt.Errorf("nextbest: record: %w: disk full", screenpop.ErrNotRecorded)
	mu.Unlock()
	c.fails(reqOfferOutcome, map[string]any{"contact_id": id, "offer_id": "gold-card", "outcome": "accepted"}, codeUnavailable)
	if last := lastEvent(); last.Reason != "gold-card: declined" {
		t.Errorf("got last event %+v after a failed outcome, want the timeline unchanged", last)
	}
	c.ok(reqOfferOutcome, map[string]any{"contact_id": id, "offer_id": "gold-card", "outcome": "accepted"})
	mu.Lock()
	defer mu.Unlock()
	if want := []string{id + " gold-card declined alice", id + " gold-card accepted alice"}; fmt.Sprint(heard) != fmt.Sprint(want) {
		t.Errorf("got outcomes heard %q, want %q (only what was recorded)", heard, want)
	}
}

func TestDecline(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	e.agent("bob")
	alice, _ := e.connect("alice", "a1")
	bob, _ := e.connect("bob", "b1")
	alice.ok(reqSetState, map[string]any{"state": "available"})
	e.clock.Advance(time.Second)
	bob.ok(reqSetState, map[string]any{"state": "available"})
	ct := e.submit(router.NewContact{})
	alice.expectFor(msgOffer, ct.ID)
	alice.ok(reqDecline, map[string]any{"contact_id": ct.ID, "reason": "not my area"})
	var w withdrawnData
	decode(t, alice.expectFor(msgOfferWithdrawn, ct.ID), &w)
	if w.Reason != "not my area" {
		t.Fatalf("got reason %q, want the decline's", w.Reason)
	}
	bob.expectFor(msgOffer, ct.ID)
	alice.fails(reqAccept, map[string]any{"contact_id": ct.ID}, codeNotFound)
}

func TestOfferTimeout(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	ct := e.submit(router.NewContact{})
	c.expectFor(msgOffer, ct.ID)
	e.clock.Advance(31 * time.Second)
	c.expectFor(msgOfferWithdrawn, ct.ID)
	var st stateData
	decode(t, c.expect(msgState), &st)
	if st.Agent.State != router.AgentAway || st.Agent.Reason != "missed" {
		t.Fatalf("got %s (%s), want away (missed) after a missed offer", st.Agent.State, st.Agent.Reason)
	}
}

func TestWithdrawnOnAbandon(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	ct := e.submit(router.NewContact{})
	c.expectFor(msgOffer, ct.ID)
	if _, err := e.rt.Abandon(e.ctx, ct.ID, "customer hung up"); err != nil {
		t.Fatalf("abandon: %v", err)
	}
	var w withdrawnData
	decode(t, c.expectFor(msgOfferWithdrawn, ct.ID), &w)
	if w.Reason != "customer hung up" {
		t.Fatalf("got reason %q, want the abandonment's", w.Reason)
	}
}

func TestTransferAndClose(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	moved, kept := mustLive(t, e, "alice"), mustLive(t, e, "alice")
	c.fails(reqTransfer, map[string]any{"contact_id": moved, "queue": "sales", "to_agent": "bob"}, codeInvalid)
	c.fails(reqTransfer, map[string]any{"contact_id": moved, "queue": "nowhere"}, codeNotFound)
	c.ok(reqTransfer, map[string]any{"contact_id": moved, "queue": "sales"})
	var cd closedData
	decode(t, c.expectFor(msgContactClosed, moved), &cd)
	if cd.State != "transferred" {
		t.Fatalf("got state %q, want transferred", cd.State)
	}
	c.ok(reqClose, map[string]any{"contact_id": kept, "disposition": "callback"})
	decode(t, c.expectFor(msgContactClosed, kept), &cd)
	if cd.State != "closed" {
		t.Fatalf("got state %q, want closed", cd.State)
	}
}

func TestResumeReplays(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "away", "reason": "lunch"})
	c.expect(msgState)
	last := c.last
	c.ws.Close()

	// Missed while no socket (or a dead one) holds the session.
	if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: "alice", Name: "Alice L.", Skills: map[string]int{"billing": 3}}); err != nil {
		t.Fatalf("put agent: %v", err)
	}
	r := e.dial("alice", "s1", fmt.Sprintf("?resume=%d", last))
	r.last = last
	for {
		m := r.read() // checks that seqs go on from last
		if m.Type == msgSnapshot {
			t.Fatalf("got a snapshot, want a replay after seq %d", last)
		}
		var st stateData
		if m.Type == msgState {
			decode(t, m, &st)
		}
		if st.Reason == "definition changed" {
			if st.Agent.Name != "Alice L." {
				t.Fatalf("got name %q, want the new one", st.Agent.Name)
			}
			break
		}
	}
}

// After ForgetReplays (a customer was erased), a resume that would have
// been replayed gets a snapshot: no frame stays in memory.
func TestForgetReplays(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	before := c.last
	c.ok(reqSetState, map[string]any{"state": "away", "reason": "lunch"})
	c.expect(msgState) // in the replay buffer: frames are kept before they are sent
	e.hub.ForgetReplays()
	c.ws.Close()
	r := e.dial("alice", "s1", fmt.Sprintf("?resume=%d", before))
	if m := r.read(); m.Type != msgSnapshot {
		t.Fatalf("got %s seq %d, want a snapshot", m.Type, m.Seq)
	}
}

func TestResumeTooOldGetsSnapshot(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	first := c.last
	c.ws.Close()
	for i := range ringMessages + 20 {
		if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: "alice", Name: fmt.Sprintf("Alice %d", i), Skills: map[string]int{"billing": 3}}); err != nil {
			t.Fatalf("put agent: %v", err)
		}
	}
	for _, tc := range []struct {
		name, query string
	}{
		{"evicted", fmt.Sprintf("?resume=%d", first)},
		{"from-the-future", "?resume=1000000"},
		{"not-a-number", "?resume=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.dial("alice", "s1", tc.query)
			if m := r.read(); m.Type != msgSnapshot || m.Seq <= first {
				t.Fatalf("got %s seq %d, want a snapshot numbered after %d", m.Type, m.Seq, first)
			}
		})
	}
}

// expectClose reads until the socket closes and returns the close code.
func (c *client) expectClose() int {
	c.t.Helper()
	for {
		c.ws.SetReadDeadline(time.Now().Add(readTimeout))
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("got %v, want a close frame", err)
		}
		return ce.Code
	}
}

func TestSessionReplaced(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	t.Run("second-socket-of-the-session", func(t *testing.T) {
		old, _ := e.connect("alice", "s1")
		old.ok(reqSetState, map[string]any{"state": "available"})
		ct := e.submit(router.NewContact{})
		old.expectFor(msgOffer, ct.ID)
		fresh, snap := e.connect("alice", "s1")
		old.expect(msgSessionReplaced)
		if code := old.expectClose(); code != closeReplaced {
			t.Fatalf("got close %d, want %d", code, closeReplaced)
		}
		if snap.Offer == nil || snap.Offer.ContactID != ct.ID {
			t.Fatalf("got offer %+v, want %s still ringing", snap.Offer, ct.ID)
		}
		fresh.ok(reqAccept, map[string]any{"contact_id": ct.ID})
	})
	t.Run("new-login", func(t *testing.T) {
		old, _ := e.connect("alice", "s2")
		e.hub.EndSessions("alice", []string{"s2", "unknown"})
		old.expect(msgSessionReplaced)
		if code := old.expectClose(); code != closeReplaced {
			t.Fatalf("got close %d, want %d", code, closeReplaced)
		}
	})
}

// TestSessionExpiry: a session that expires closes its socket (the agent
// is signed out: offline, not restored on reconnect), and a later socket
// of it does not resume it.
func TestSessionExpiry(t *testing.T) {
	gone := make(chan struct{})
	var once sync.Once
	var e *env
	e = newEnv(t, router.NotifierFunc(func(ns []router.Notification) {
		for _, n := range ns {
			if n.Kind == router.NoteAgent && n.AgentID == "alice" && n.Agent.State == router.AgentOffline && n.Agent.Reason == "signed_out" {
				once.Do(func() { close(gone) })
			}
		}
		e.hub.Notify(ns)
	}))
	e.agent("alice")
	e.agent("bob")
	expires := strconv.FormatInt(epoch.Add(time.Hour).Unix(), 10)
	alice, _ := e.connect("alice", "s1:"+expires)
	alice.ok(reqSetState, map[string]any{"state": "available"})
	bob, _ := e.connect("bob", "s2") // never expires
	bob.ok(reqSetState, map[string]any{"state": "available"})

	e.clock.Advance(time.Hour - time.Second)
	bob.ok(reqSetState, map[string]any{"state": "available"})
	alice.ok(reqSetState, map[string]any{"state": "available"}) // still open
	e.clock.Advance(time.Second)
	if code := alice.expectClose(); code != closeExpired {
		t.Fatalf("alice at expiry: got close %d, want %d", code, closeExpired)
	}
	bob.ok(reqSetState, map[string]any{"state": "available"})
	select {
	case <-gone:
	case <-time.After(readTimeout):
		t.Fatal("alice still online after her session expired")
	}
}

func TestUpgradeRefused(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	for _, tc := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"unauthenticated", http.Header{}, http.StatusUnauthorized},
		{"not-an-agent-session", http.Header{"Authorization": {"Bearer admin-token"}}, http.StatusUnauthorized},
		{"unknown-agent", http.Header{"Authorization": {"Bearer mallory:s1"}}, http.StatusForbidden},
		{"foreign-origin", http.Header{"Authorization": {"Bearer alice:s1"}, "Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"lookalike-origin", http.Header{"Authorization": {"Bearer alice:s1"}, "Origin": {"http://crm.example.com"}}, http.StatusForbidden},
		{"allowed-origin", http.Header{"Authorization": {"Bearer alice:s1"}, "Origin": {"https://crm.example.com"}}, http.StatusSwitchingProtocols},
		{"own-origin", http.Header{"Authorization": {"Bearer alice:s1"}, "Origin": {e.srv.URL}}, http.StatusSwitchingProtocols},
		{"no-origin", http.Header{"Authorization": {"Bearer alice:s1"}}, http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(""), tc.header)
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("got status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestOversizedFrameCloses(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	body := strings.Repeat("x", maxFrameSize)
	c.sendRaw([]byte(`{"type":"send","id":"big","data":{"contact_id":"c","body":"` + body + `"}}`))
	if code := c.expectClose(); code != websocket.CloseMessageTooBig {
		t.Fatalf("got close %d, want %d", code, websocket.CloseMessageTooBig)
	}
}

func TestInvalidFramesKeepTheSocket(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	for _, tc := range []struct {
		name, frame, id string
	}{
		{"malformed-json", `{"type":`, ""},
		{"not-an-object", `[1,2]`, ""},
		{"unknown-type", `{"type":"dance","id":"r1"}`, "r1"},
		{"unknown-envelope-field", `{"type":"accept","id":"r2","seq":3,"data":{"contact_id":"c"}}`, "r2"},
		{"unknown-data-field", `{"type":"accept","id":"r3","data":{"contact_id":"c","force":true}}`, "r3"},
		{"missing-contact", `{"type":"accept","id":"r4","data":{}}`, "r4"},
		{"bad-state", `{"type":"set_state","id":"r5","data":{"state":"asleep"}}`, "r5"},
		{"unconfigured-away-reason", `{"type":"set_state","id":"r6","data":{"state":"away","reason":"nap"}}`, "r6"},
		{"trailing-data", `{"type":"accept","id":"r7","data":{"contact_id":"c"}} {}`, "r7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.sendRaw([]byte(tc.frame))
			m := c.read()
			var ed errorData
			decode(t, m, &ed)
			if m.Type != msgError || ed.Code != codeInvalid || m.ID != tc.id || m.Seq != 0 {
				t.Fatalf("got %s, want error invalid with id %q and no seq", m.raw, tc.id)
			}
		})
	}
	c.ok(reqSetState, map[string]any{"state": "away", "reason": "lunch"})
}

// TestAgentsAreIsolated runs two agents side by side and checks that
// neither ever hears about the other's contacts.
func TestAgentsAreIsolated(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	e.agent("bob")
	alice, _ := e.connect("alice", "a1")
	bob, _ := e.connect("bob", "b1")
	alice.ok(reqSetState, map[string]any{"state": "available"})
	ca := e.submit(router.NewContact{Body: "alice's customer", Customer: router.Customer{Email: "a@example.com"}})
	alice.expectFor(msgOffer, ca.ID)
	bob.ok(reqSetState, map[string]any{"state": "available"})
	cb := e.submit(router.NewContact{Body: "bob's customer", Customer: router.Customer{Email: "b@example.com"}})
	bob.expectFor(msgOffer, cb.ID)

	// Each tries the other's contact: not found, as if it did not exist.
	alice.fails(reqAccept, map[string]any{"contact_id": cb.ID}, codeNotFound)
	bob.fails(reqAccept, map[string]any{"contact_id": ca.ID}, codeNotFound)

	for _, x := range []struct {
		c  *client
		id string
	}{{alice, ca.ID}, {bob, cb.ID}} {
		x.c.ok(reqAccept, map[string]any{"contact_id": x.id})
		x.c.expectFor(msgAssigned, x.id)
		if _, _, err := e.rt.AddMessage(e.ctx, x.id, router.Message{Direction: "in", Body: "hi " + x.id}); err != nil {
			t.Fatalf("add message: %v", err)
		}
		x.c.expectFor(msgMessage, x.id)
	}
	alice.fails(reqSend, map[string]any{"contact_id": cb.ID, "body": "psst"}, codeNotFound)
	alice.fails(reqClose, map[string]any{"contact_id": cb.ID}, codeNotFound)
	alice.fails(reqOfferOutcome, map[string]any{"contact_id": cb.ID, "offer_id": "o", "outcome": "presented"}, codeNotFound)
	bob.ok(reqClose, map[string]any{"contact_id": cb.ID, "disposition": "resolved"})
	alice.ok(reqClose, map[string]any{"contact_id": ca.ID, "disposition": "resolved"})

	// A fence: a change to each agent, notified after everything above.
	// What an agent reads until its fence is everything it was sent.
	for _, x := range []struct {
		c     *client
		agent string
		other string
	}{{alice, "alice", cb.ID}, {bob, "bob", ca.ID}} {
		if _, _, err := e.rt.PutAgent(e.ctx, router.Agent{ID: x.agent, Name: "fence", Skills: map[string]int{"billing": 3}}); err != nil {
			t.Fatalf("put agent: %v", err)
		}
		for {
			m := x.c.read()
			var st stateData
			if m.Type == msgState {
				decode(t, m, &st)
			}
			if st.Agent.Name == "fence" {
				break
			}
		}
		for _, raw := range x.c.all {
			// Answers to its own requests echo the id it sent.
			if bytes.HasPrefix(raw, []byte(`{"type":"error"`)) {
				continue
			}
			if bytes.Contains(raw, []byte(x.other)) {
				t.Fatalf("%s received %s, which names the other agent's contact %s", x.agent, raw, x.other)
			}
		}
	}
}

// TestDisconnect: a dropped socket withdraws the ringing offer, which
// goes to another agent at once; assigned contacts wait for the grace,
// then return to the queue.
func TestDisconnect(t *testing.T) {
	e := newEnv(t)
	e.agent("alice")
	e.agent("bob")
	alice, _ := e.connect("alice", "a1")
	alice.ok(reqSetState, map[string]any{"state": "available"})
	held := e.submit(router.NewContact{})
	alice.expectFor(msgOffer, held.ID)
	e.clock.Advance(time.Second)
	alice.ok(reqAccept, map[string]any{"contact_id": held.ID})
	e.clock.Advance(time.Second)

	bob, _ := e.connect("bob", "b1")
	bob.ok(reqSetState, map[string]any{"state": "available"})
	ringing := e.submit(router.NewContact{})
	alice.expectFor(msgOffer, ringing.ID)

	alice.ws.Close()
	bob.expectFor(msgOffer, ringing.ID)
	bob.ok(reqAccept, map[string]any{"contact_id": ringing.ID})
	if c, ok := e.rt.Snapshot().Contact(held.ID); !ok || c.AgentID != "alice" {
		t.Fatalf("got %+v, want %s still with alice during the grace", c, held.ID)
	}
	e.clock.Advance(time.Minute)
	bob.expectFor(msgOffer, held.ID)

	// Back within the session: alice is told what happened meanwhile.
	back := e.dial("alice", "a1", fmt.Sprintf("?resume=%d", alice.last))
	back.last = alice.last
	var cd closedData
	decode(t, back.expectFor(msgContactClosed, held.ID), &cd)
	if cd.State != "returned" {
		t.Fatalf("got state %q, want returned", cd.State)
	}
}

// TestSlowClientDropped: a client that stops reading is dropped rather
// than waited on, and the router hears that the agent went away.
func TestSlowClientDropped(t *testing.T) {
	gone := make(chan struct{})
	var once sync.Once
	var e *env
	e = newEnv(t, router.NotifierFunc(func(ns []router.Notification) {
		for _, n := range ns {
			if n.Kind == router.NoteAgent && n.AgentID == "alice" && n.Agent.State == router.AgentOffline {
				once.Do(func() { close(gone) })
			}
		}
		e.hub.Notify(ns)
	}))
	e.agent("alice")
	c, _ := e.connect("alice", "s1")
	c.ok(reqSetState, map[string]any{"state": "available"})
	id := mustLive(t, e, "alice")
	body := strings.Repeat("too much to read ", 3000)
	for i := 0; ; i++ {
		select {
		case <-gone:
			return
		default:
		}
		if i == 5000 {
			t.Fatalf("still connected after %d unread messages", i)
		}
		if _, _, err := e.rt.AddMessage(e.ctx, id, router.Message{Direction: "in", Body: body}); err != nil {
			t.Fatalf("add message: %v", err)
		}
	}
}

// TestTransferTargets: the desktop's transfer picker lists every queue
// with its waiting contacts, and the other agents not offline, by name.
func TestTransferTargets(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"alice", "bob", "carol", "dave"} {
		e.agent(id)
	}
	for id, st := range map[string]router.AgentState{"bob": router.AgentAvailable, "dave": router.AgentAway} {
		if _, err := e.rt.AgentConnected(e.ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rt.SetAgentState(e.ctx, id, st, ""); err != nil {
			t.Fatal(err)
		}
	}
	alice, _ := e.connect("alice", "s1")
	var got transferTargets
	decode(t, alice.ok(reqTransferTargets, nil), &got)
	var agents []string
	for _, a := range got.Agents {
		agents = append(agents, a.ID+"/"+a.Name+"/"+string(a.State))
	}
	if want := []string{"bob/Bob/available", "dave/Dave/away"}; !slices.Equal(agents, want) {
		t.Errorf("agents: got %v, want %v (not herself, not carol who is offline)", agents, want)
	}
	var queues []string
	for _, q := range got.Queues {
		queues = append(queues, q.Name)
	}
	want := []string{}
	for _, q := range e.rt.Snapshot().Queues() {
		want = append(want, q.Name)
	}
	slices.Sort(want)
	if len(queues) == 0 || !slices.Equal(queues, want) {
		t.Errorf("queues: got %v, want %v", queues, want)
	}
	alice.fails(reqTransferTargets, map[string]any{"queue": "x"}, codeInvalid)
}

// TestSessionEndedWhileConnecting: a logout that ends the session after
// the socket was authenticated but before the hub knew the session (so
// EndSessions found nothing) still closes the socket, and the agent is
// never present.
func TestSessionEndedWhileConnecting(t *testing.T) {
	var calls atomic.Int32
	e := newEnvWith(t, func(o *Options) {
		o.Authenticate = func(r *http.Request) (string, string, time.Time, error) {
			if calls.Add(1) > 1 {
				return "", "", time.Time{}, errors.New("session ended") // the logout, between the two looks
			}
			return testAuth(r)
		}
	})
	e.agent("alice")
	c := e.dial("alice", "s1", "")
	c.expect(msgSessionReplaced)
	if code := c.expectClose(); code != closeReplaced {
		t.Fatalf("close %d, want %d", code, closeReplaced)
	}
	if a, _ := e.rt.Snapshot().Agent("alice"); a.Connected {
		t.Errorf("alice is connected after her session ended while connecting")
	}
}
