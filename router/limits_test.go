package router

import (
	"fmt"
	"strings"
	"testing"
)

// storedMessages returns the bodies of the messages the store holds for id.
func (h *harness) storedMessages(id string) []string {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	var out []string
	for _, m := range h.store.messages[id] {
		out = append(out, m.Direction+":"+m.Body)
	}
	return out
}

func TestCustomerLimits(t *testing.T) {
	type send struct {
		dir, body, clientID string
		wantLimit           bool
	}
	in := func(body string) send { return send{dir: "in", body: body} }
	over := func(body string) send { return send{dir: "in", body: body, wantLimit: true} }
	tests := []struct {
		name  string
		opts  Options
		first string
		sends []send
	}{
		{"messages-limit-counts-the-first-body", Options{CustomerMessages: 3}, "hello",
			[]send{in("a"), in("b"), over("c"), over("d")}},
		{"messages-limit-without-a-first-body", Options{CustomerMessages: 2}, "",
			[]send{in("a"), in("b"), over("c")}},
		{"agent-messages-do-not-count", Options{CustomerMessages: 2}, "",
			[]send{in("a"), {dir: "out", body: "x"}, {dir: "out", body: "y"}, in("b"), over("c"), {dir: "out", body: "still ok"}}},
		{"bytes-limit", Options{CustomerBytes: 10}, "12345",
			[]send{in("1234"), over("12"), in("1")}},
		{"a-resend-is-not-counted", Options{CustomerMessages: 2}, "",
			[]send{{dir: "in", body: "a", clientID: "c1"}, {dir: "in", body: "a", clientID: "c1"}, in("b"), over("c")}},
		{"default-messages-limit", Options{}, "",
			append(repeat(in("m"), DefaultCustomerMessages), over("one too many"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, &tt.opts)
			h.queue(Queue{Name: "q"})
			h.agent("alice", sk(), nil, AgentAvailable)
			c := h.submit(NewContact{Queue: "q", Body: tt.first})
			if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			var want []string
			if tt.first != "" {
				want = append(want, "in:"+tt.first)
			}
			for i, s := range tt.sends {
				m := Message{Direction: s.dir, Body: s.body, ClientID: s.clientID}
				if s.dir == "out" {
					m.Author = "alice"
				}
				_, dup, err := h.r.AddMessage(h.ctx, c.ID, m)
				switch {
				case s.wantLimit && !isErr(err, ErrLimit):
					t.Fatalf("send %d (%q): got %v, want ErrLimit", i, s.body, err)
				case !s.wantLimit && err != nil:
					t.Fatalf("send %d (%q): %v", i, s.body, err)
				case !s.wantLimit && !dup:
					want = append(want, s.dir+":"+s.body)
				}
			}
			if err := h.r.Sync(h.ctx); err != nil {
				t.Fatal(err)
			}
			if got := h.storedMessages(c.ID); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("stored: got %q, want %q", got, want)
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestCustomerLimitsNamed(t *testing.T) {
	tests := []struct {
		name, first string
		opts        Options
		body, want  string
	}{
		{"messages", "first", Options{CustomerMessages: 1}, "x", "at most 1 messages from the customer"},
		{"bytes", "", Options{CustomerBytes: 4}, "xxxxx", "at most 4 bytes of messages from the customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, &tt.opts)
			h.queue(Queue{Name: "q"})
			c := h.submit(NewContact{Queue: "q", Body: tt.first})
			_, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: tt.body})
			if !isErr(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrLimit saying %q", err, tt.want)
			}
		})
	}
}

func TestCustomerLimitsRefuseAnOversizedFirstBody(t *testing.T) {
	h := newHarness(t, &Options{CustomerBytes: 4})
	h.queue(Queue{Name: "q"})
	nc := NewContact{Channel: ChannelChat, Queue: "q", Body: "12345"}
	if err := h.r.Check(nc); !isErr(err, ErrLimit) {
		t.Errorf("Check: got %v, want ErrLimit", err)
	}
	if _, _, err := h.r.Submit(h.ctx, nc); !isErr(err, ErrLimit) {
		t.Errorf("Submit: got %v, want ErrLimit", err)
	}
}

func TestCustomerLimitsSurviveARestart(t *testing.T) {
	st, clk := newMemStore(), NewManualClock(epoch)
	opts := func() *Options { return &Options{CustomerMessages: 3, CustomerBytes: 100} }
	h := startHarness(t, st, clk, opts())
	h.queue(Queue{Name: "q"})
	c := h.submit(NewContact{Queue: "q", Body: "first"})
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "second"}); err != nil {
		t.Fatal(err)
	}
	h.r.Close()

	h = startHarness(t, st, clk, opts())
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "third"}); err != nil {
		t.Fatalf("third message after a restart: %v", err)
	}
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "fourth"}); !isErr(err, ErrLimit) {
		t.Errorf("fourth message after a restart: got %v, want ErrLimit", err)
	}
}

func TestNewRefusesNegativeCustomerLimits(t *testing.T) {
	for _, o := range []Options{{CustomerMessages: -1}, {CustomerBytes: -1}} {
		if _, err := New(newMemStore(), &o); err == nil {
			t.Errorf("New(%+v): got nil error, want one", o)
		}
	}
}

func TestInboundTextIsCleaned(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	c := h.submit(NewContact{
		Queue:    "q",
		Customer: Customer{Name: "Ada\u202Egnp.exe", Email: "ada@example.com"},
		Subject:  "Invoice\u200B 1042",
		Body:     "pay\u2066 me\u2069",
	})
	if got, want := fmt.Sprint(c.Customer.Name, "|", c.Subject), "Adagnp.exe|Invoice 1042"; got != want {
		t.Errorf("contact: got %q, want %q", got, want)
	}
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	m, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Author: "A\u200Fda", Body: "refund\uFEFF please"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Author != "Ada" || m.Body != "refund please" {
		t.Errorf("message: got author %q body %q, want \"Ada\" and \"refund please\"", m.Author, m.Body)
	}
	if _, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "\u200B\u202E"}); !isErr(err, ErrInvalid) {
		t.Errorf("a message of invisible characters only: got %v, want ErrInvalid", err)
	}
	if err := h.r.Sync(h.ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"in:pay me", "in:refund please"}
	if got := h.storedMessages(c.ID); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("stored: got %q, want %q", got, want)
	}
	if got := h.store.stored(c.ID).Customer.Name; got != "Adagnp.exe" {
		t.Errorf("stored name: got %q, want %q", got, "Adagnp.exe")
	}
}

func TestAgentMessagesOnlyWhileAssigned(t *testing.T) {
	h := newHarness(t, nil)
	h.queue(Queue{Name: "q"})
	h.agent("alice", sk(), nil, AgentAvailable)
	h.agent("bob", sk(), nil, AgentAway)
	c := h.submit(NewContact{Queue: "q"})
	out := func(author string) error {
		_, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "out", Author: author, Body: "hi"})
		return err
	}
	h.wantState(c.ID, ContactOffered, "alice")
	if err := out("alice"); !isErr(err, ErrConflict) {
		t.Errorf("offered: got %v, want ErrConflict", err)
	}
	if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := out("alice"); err != nil {
		t.Errorf("assigned: %v", err)
	}
	if err := out("bob"); !isErr(err, ErrNotYours) {
		t.Errorf("another agent: got %v, want ErrNotYours", err)
	}
	if _, err := h.r.WrapUp(h.ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := out("alice"); !isErr(err, ErrConflict) {
		t.Errorf("wrap-up: got %v, want ErrConflict", err)
	}
	// Staff and integrations that write as no agent keep doing so.
	if err := out(""); err != nil {
		t.Errorf("no author in wrap-up: %v", err)
	}
	if err := out("the bot"); err != nil {
		t.Errorf("an author who is no agent, in wrap-up: %v", err)
	}
}
