package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

func TestLifecycle(t *testing.T) {
	e := newEnv(t)

	// Queue and agents: 201 when created, 200 when updated.
	e.must(http.StatusCreated, "PUT", "/api/v1/queues/billing", `{"name":"billing","requirements":[{"skill":"billing","min":3}],"strategy":"longest_idle","service_level":{"target":0.8,"within":"20s"},"wrapup":"45s"}`)
	q := decodeAs[router.Queue](t, e.must(http.StatusOK, "PUT", "/api/v1/queues/billing", `{"requirements":[{"skill":"billing","min":3}],"service_level":{"target":0.8,"within":"20s"},"wrapup":"45s"}`))
	if got, want := q.WrapUp.D(), 45*time.Second; got != want {
		t.Errorf("queue wrapup: got %v, want %v", got, want)
	}
	res := e.must(http.StatusCreated, "PUT", "/api/v1/agents/alice", `{"name":"Alice","skills":{"billing":4,"fr":5},"capacity":{"chat":3,"email":5}}`)
	if got, want := res.header.Get("Location"), "/api/v1/agents/alice"; got != want {
		t.Errorf("Location: got %q, want %q", got, want)
	}
	e.must(http.StatusCreated, "PUT", "/api/v1/agents/bob", `{"name":"Bob","skills":{"billing":3}}`)
	a := decodeAs[router.Agent](t, e.must(http.StatusOK, "PUT", "/api/v1/agents/alice", `{"name":"Alice Martin","skills":{"billing":4,"fr":5},"capacity":{"chat":3,"email":5,"api":1}}`))
	if a.Name != "Alice Martin" || a.State != router.AgentOffline {
		t.Errorf("updated agent: got name %q state %q, want \"Alice Martin\" offline", a.Name, a.State)
	}
	e.available("alice", "bob")
	list := decodeAs[struct{ Agents []router.Agent }](t, e.must(http.StatusOK, "GET", "/api/v1/agents", ""))
	if got := len(list.Agents); got != 2 {
		t.Fatalf("agents: got %d, want 2", got)
	}

	// A contact needing billing≥4 can only go to alice.
	c := e.create(`{"channel":"api","queue":"billing","customer":{"email":"x@example.com","name":"Xavier"},"subject":"Invoice","body":"My invoice is wrong","requirements":[{"skill":"billing","min":4}]}`)
	if c.State != router.ContactOffered || c.AgentID != "alice" {
		t.Fatalf("created contact: got %s to %q, want offered to alice", c.State, c.AgentID)
	}
	d := e.contact(c.ID)
	if got, want := events(d.Timeline), []string{"created", "offered"}; !slices.Equal(got, want) {
		t.Fatalf("timeline: got %v, want %v", got, want)
	}
	if off := d.Timeline[1]; off.AgentID != "alice" || !strings.Contains(off.Reason, "billing 4≥4") {
		t.Errorf("offered event: got agent %q reason %q, want alice with a reason naming billing 4≥4", off.AgentID, off.Reason)
	}
	if d.Waiting != nil {
		t.Errorf("waiting of an offered contact: got %+v, want none", d.Waiting)
	}

	c = decodeAs[router.Contact](t, e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`))
	if c.State != router.ContactAssigned {
		t.Fatalf("accepted: got %s, want assigned", c.State)
	}
	m := decodeAs[router.Message](t, e.must(http.StatusCreated, "POST", "/api/v1/contacts/"+c.ID+"/messages", `{"direction":"out","author":"alice","body":"Let me check."}`))
	if m.Seq != 2 || m.Direction != "out" {
		t.Errorf("message: got seq %d direction %q, want 2 out", m.Seq, m.Direction)
	}
	c = decodeAs[router.Contact](t, e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/wrapup", `{"agent_id":"alice","disposition":"refund","notes":"credited 10 EUR"}`))
	if c.State != router.ContactWrapUp || c.Disposition != "refund" {
		t.Fatalf("wrapped up: got %s %q, want wrapup \"refund\"", c.State, c.Disposition)
	}
	c = decodeAs[router.Contact](t, e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/close", `{"agent_id":"alice"}`))
	if c.State != router.ContactClosed {
		t.Fatalf("closed: got %s, want closed", c.State)
	}

	d = e.contact(c.ID)
	if got, want := events(d.Timeline), []string{"created", "offered", "assigned", "wrapup", "closed"}; !slices.Equal(got, want) {
		t.Errorf("timeline: got %v, want %v", got, want)
	}
	for i, ev := range d.Timeline {
		if ev.Seq != i+1 {
			t.Errorf("timeline[%d].seq: got %d, want %d", i, ev.Seq, i+1)
		}
	}
	if got, want := len(d.Messages), 2; got != want {
		t.Errorf("messages: got %d, want %d", got, want)
	} else if d.Messages[0].Body != "My invoice is wrong" || d.Messages[0].Direction != "in" {
		t.Errorf("first message: got %q %q, want the body of the create, in", d.Messages[0].Body, d.Messages[0].Direction)
	}
	if d.State != router.ContactClosed || d.Notes != "credited 10 EUR" {
		t.Errorf("stored contact: got %s %q, want closed with the notes", d.State, d.Notes)
	}

	// The contact is over: actions on it are conflicts, not 404s.
	res = e.do("POST", "/api/v1/contacts/"+c.ID+"/accept", adminToken, `{"agent_id":"alice"}`)
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), "is closed") {
		t.Errorf("accept after close: got %d %s, want 409 \"is closed\"", res.status, res.body)
	}
	a = decodeAs[router.Agent](t, e.must(http.StatusOK, "GET", "/api/v1/agents/alice", ""))
	if a.State != router.AgentAvailable || len(a.Contacts) != 0 {
		t.Errorf("alice after close: got %s holding %v, want available holding nothing", a.State, a.Contacts)
	}
}

func TestDeclineGoesToNextAgent(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.available("alice", "bob") // alice idle longest
	c := e.create(`{"channel":"api","queue":"billing"}`)
	if c.AgentID != "alice" {
		t.Fatalf("first offer: got %q, want alice", c.AgentID)
	}

	// Only the agent offered may decline.
	before := e.state()
	res := e.do("POST", "/api/v1/contacts/"+c.ID+"/decline", supervisorToken, `{"agent_id":"bob"}`)
	if res.status != http.StatusConflict {
		t.Errorf("decline by bob: got %d %s, want 409", res.status, res.body)
	}
	if e.state() != before {
		t.Errorf("a refused decline changed the state")
	}

	c = decodeAs[router.Contact](t, e.do("POST", "/api/v1/contacts/"+c.ID+"/decline", supervisorToken, `{"agent_id":"alice","reason":"not my language"}`))
	if c.State != router.ContactOffered || c.AgentID != "bob" {
		t.Fatalf("after decline: got %s to %q, want offered to bob", c.State, c.AgentID)
	}
	d := e.contact(c.ID)
	if got, want := events(d.Timeline), []string{"created", "offered", "declined", "offered"}; !slices.Equal(got, want) {
		t.Fatalf("timeline: got %v, want %v", got, want)
	}
	if dec := d.Timeline[2]; dec.AgentID != "alice" || dec.Reason != "not my language" {
		t.Errorf("declined event: got %q %q, want alice \"not my language\"", dec.AgentID, dec.Reason)
	}
	if got, want := d.Declined, []string{"alice"}; !slices.Equal(got, want) {
		t.Errorf("declined_by: got %v, want %v", got, want)
	}
}

func TestOfferTimeoutGoesToNextAgent(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.available("alice", "bob")
	c := e.create(`{"channel":"api","queue":"billing"}`)
	if c.AgentID != "alice" {
		t.Fatalf("first offer: got %q, want alice", c.AgentID)
	}
	e.clock.Advance(router.DefaultOfferTimeout[router.ChannelAPI])
	if err := e.router.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	d := e.contact(c.ID)
	if d.State != router.ContactOffered || d.AgentID != "bob" {
		t.Fatalf("after the timeout: got %s to %q, want offered to bob", d.State, d.AgentID)
	}
	if got, want := events(d.Timeline), []string{"created", "offered", "offer_timeout", "offered"}; !slices.Equal(got, want) {
		t.Errorf("timeline: got %v, want %v", got, want)
	}
}

func TestWaitingContactExplainsWhy(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.available("alice", "bob")
	first := e.create(`{"channel":"api","queue":"billing","requirements":[{"skill":"de","min":1}]}`)
	second := e.create(`{"channel":"api","queue":"billing","requirements":[{"skill":"de","min":1}]}`)
	if first.State != router.ContactQueued || second.State != router.ContactQueued {
		t.Fatalf("contacts nobody can take: got %s and %s, want queued", first.State, second.State)
	}
	for i, id := range []string{first.ID, second.ID} {
		d := e.contact(id)
		if d.Waiting == nil {
			t.Fatalf("contact %d: no waiting section", i+1)
		}
		if got, want := d.Waiting.Position, i+1; got != want {
			t.Errorf("contact %d position: got %d, want %d", i+1, got, want)
		}
		want := []router.Eligibility{{AgentID: "alice", Why: "no de"}, {AgentID: "bob", Why: "no de"}}
		if !slices.Equal(d.Waiting.Explain, want) {
			t.Errorf("contact %d explain: got %v, want %v", i+1, d.Waiting.Explain, want)
		}
	}

	// The built-in queue view counts them and the oldest wait.
	e.clock.Advance(90 * time.Second)
	if err := e.router.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	type view struct {
		Name              string  `json:"name"`
		Waiting           int     `json:"waiting"`
		OldestWaitSeconds float64 `json:"oldest_wait_seconds"`
	}
	list := decodeAs[struct{ Queues []view }](t, e.do("GET", "/api/v1/queues", integrationToken, ""))
	if want := []view{{Name: "billing", Waiting: 2, OldestWaitSeconds: 90}}; !slices.Equal(list.Queues, want) {
		t.Errorf("queues: got %+v, want %+v", list.Queues, want)
	}
	one := decodeAs[view](t, e.must(http.StatusOK, "GET", "/api/v1/queues/billing", ""))
	if want := (view{Name: "billing", Waiting: 2, OldestWaitSeconds: 90}); one != want {
		t.Errorf("queue: got %+v, want %+v", one, want)
	}
}

func TestTransferToAgent(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.must(http.StatusCreated, "PUT", "/api/v1/queues/tech", `{}`)
	e.available("alice", "bob")
	c := e.create(`{"channel":"api","queue":"billing"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	c = decodeAs[router.Contact](t, e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/transfer", `{"agent_id":"alice","queue":"tech","to_agent":"bob"}`))
	if c.State != router.ContactOffered || c.AgentID != "bob" || c.Queue != "tech" {
		t.Errorf("transferred: got %s to %q in %q, want offered to bob in tech", c.State, c.AgentID, c.Queue)
	}
}

func TestDeleteAgentHoldingContacts(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing"}`)
	before := e.state()
	res := e.do("DELETE", "/api/v1/agents/alice", adminToken, "")
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), "holds 1 contact") {
		t.Errorf("delete alice: got %d %s, want 409 naming the contact she holds", res.status, res.body)
	}
	if e.state() != before {
		t.Errorf("a refused delete changed the state")
	}
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/close", "")
	e.must(http.StatusNoContent, "DELETE", "/api/v1/agents/alice", "")
	e.must(http.StatusNotFound, "GET", "/api/v1/agents/alice", "")
}

func TestAbandonAndClosedContact(t *testing.T) {
	e := newEnv(t)
	e.seed()
	c := e.create(`{"channel":"api","queue":"billing"}`)
	res := e.do("POST", "/api/v1/contacts/"+c.ID+"/abandon", integrationToken, `{"reason":"hung up"}`)
	got := decodeAs[router.Contact](t, res)
	if res.status != http.StatusOK || got.State != router.ContactAbandoned {
		t.Fatalf("abandon: got %d %s, want 200 abandoned", res.status, got.State)
	}
	for _, path := range []string{"/abandon", "/messages", "/close"} {
		body := `{"direction":"out","body":"hello?"}`
		if path != "/messages" {
			body = ""
		}
		res := e.do("POST", "/api/v1/contacts/"+c.ID+path, adminToken, body)
		if res.status != http.StatusConflict || !strings.Contains(string(res.body), "is closed (state abandoned)") {
			t.Errorf("%s after abandon: got %d %s, want 409 \"is closed\"", path, res.status, res.body)
		}
	}
	// The customer writing again starts a contact that follows it.
	res = e.do("POST", "/api/v1/contacts/"+c.ID+"/messages", adminToken, `{"direction":"in","body":"hello?"}`)
	m := decodeAs[messageView](t, res)
	if res.status != http.StatusCreated || m.Follows != c.ID || m.ContactID == c.ID || m.Seq != 1 ||
		res.header.Get("Location") != "/api/v1/contacts/"+m.ContactID {
		t.Fatalf("a customer's message after abandon: got %d %s, want 201 on a follow-up of %s", res.status, res.body, c.ID)
	}
	if f := e.contact(m.ContactID); f.Follows != c.ID || f.State != router.ContactQueued || len(f.Messages) != 1 {
		t.Errorf("follow-up: got %+v, want it queued, following %s, with the message", f.Contact, c.ID)
	}
}

func TestQueuesProvider(t *testing.T) {
	tests := []struct {
		name       string
		provider   func() (any, error)
		wantStatus int
		wantBody   string
	}{
		{"result", func() (any, error) { return []map[string]int{{"billing": 3}}, nil }, http.StatusOK, `{"queues":[{"billing":3}]}` + "\n"},
		{"error", func() (any, error) { return nil, errTest }, http.StatusInternalServerError, `{"error":{"code":"internal","message":"` + internalMessage + `"}}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, envOptions{queues: func(ctx context.Context) (any, error) { return tt.provider() }})
			res := e.do("GET", "/api/v1/queues", integrationToken, "")
			if res.status != tt.wantStatus || string(res.body) != tt.wantBody {
				t.Errorf("got %d %s, want %d %s", res.status, res.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

var errTest = errors.New("dashboards: test failure detail")
