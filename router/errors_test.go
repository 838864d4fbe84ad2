package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestRefusalsAreTyped holds every kind of refusal to an *Error that
// carries its code, the field at fault and a message without the
// package's prefix or the sentinel's words, and that still matches its
// sentinel with errors.Is.
func TestRefusalsAreTyped(t *testing.T) {
	tests := []struct {
		name      string
		do        func(h *harness, c Contact) error
		code      Code
		sentinel  error
		field     string
		message   string // contained in the message
		wantError string // err.Error() exactly, when given
	}{
		{"priority-out-of-range", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "q", Priority: 5000})
			return err
		}, CodeInvalid, ErrInvalid, "priority", "priority 5000: want -1000 to 1000", "router: priority 5000: want -1000 to 1000"},
		{"preferred-agent-malformed", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "q", Preferred: []string{"alice", "bob", "no spaces"}})
			return err
		}, CodeInvalid, ErrInvalid, "preferred_agents[2]", `invalid agent id "no spaces" (want up to 64 letters`, ""},
		{"customer-segment-too-long", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "q", Customer: Customer{Segment: strings.Repeat("s", maxSegmentLen+1)}})
			return err
		}, CodeInvalid, ErrInvalid, "customer.segment", "customer segment longer than 200 bytes", ""},
		{"requirement-level-out-of-range", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "q", Requirements: []Requirement{{Skill: "en", Min: 1}, {Skill: "billing", Min: 101}}})
			return err
		}, CodeInvalid, ErrInvalid, "requirements[1].min", "level 101 is too high (want 0 to 100)", ""},
		{"reference-empty", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "q", Body: "hi", First: Message{References: []string{""}}})
			return err
		}, CodeInvalid, ErrInvalid, "references[0]", "references[0]: want 1 to 1000 bytes", ""},
		{"recipient-empty", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "q", Body: "hi", First: Message{To: []string{"a@example.com"}, Cc: []string{""}}})
			return err
		}, CodeInvalid, ErrInvalid, "recipients[1]", "recipients[1]: want 1 to 1000 bytes", ""},
		{"recipients-too-many", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "q", Body: "hi", First: Message{Cc: make([]string, MaxReferences+1)}})
			return err
		}, CodeInvalid, ErrInvalid, "cc", "at most 100 recipients", ""},
		{"channel-not-configured", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: "fax", Queue: "q"})
			return err
		}, CodeInvalid, ErrInvalid, "channel", `channel "fax" is not configured`, ""},
		{"unknown-queue-on-submit", func(h *harness, _ Contact) error {
			_, _, err := h.r.Submit(h.ctx, NewContact{Channel: ChannelChat, Queue: "nowhere"})
			return err
		}, CodeNoQueue, ErrNoQueue, "queue", `no such queue: "nowhere"`, `router: no such queue: "nowhere"`},
		{"agent-skill-level", func(h *harness, _ Contact) error {
			_, _, err := h.r.PutAgent(h.ctx, Agent{ID: "carol", Name: "Carol", Skills: map[string]int{"billing": 200}})
			return err
		}, CodeInvalid, ErrInvalid, "skills.billing", "skill level 200 is too high (want 0 to 100)", ""},
		{"queue-relaxation-level", func(h *harness, _ Contact) error {
			_, err := h.r.PutQueue(h.ctx, Queue{Name: "q2", Relaxation: []RelaxStep{{Name: "wider", Min: map[string]int{"en": -1}}}})
			return err
		}, CodeInvalid, ErrInvalid, "relaxation[0].min.en", "negative level -1 (want 0 to 100)", ""},
		{"queue-unknown-calendar", func(h *harness, _ Contact) error {
			_, err := h.r.PutQueue(h.ctx, Queue{Name: "q2", Hours: "lunar"})
			return err
		}, CodeInvalid, ErrInvalid, "hours", `no calendar "lunar"`, ""},
		{"state-unknown", func(h *harness, _ Contact) error {
			_, err := h.r.SetAgentState(h.ctx, "alice", "asleep", "")
			return err
		}, CodeInvalid, ErrInvalid, "state", `state "asleep": want available, away or offline`, ""},
		{"notes-too-long", func(h *harness, c Contact) error {
			_, err := h.r.WrapUp(h.ctx, c.ID, "alice", "", strings.Repeat("n", maxTextLen+1))
			return err
		}, CodeInvalid, ErrInvalid, "notes", "notes over 4000 bytes", ""},
		{"message-direction", func(h *harness, c Contact) error {
			_, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "sideways", Body: "x"})
			return err
		}, CodeInvalid, ErrInvalid, "direction", `direction "sideways": want in, out or note`, ""},
		{"no-such-agent", func(h *harness, _ Contact) error {
			_, err := h.r.SetAgentState(h.ctx, "zed", AgentAvailable, "")
			return err
		}, CodeNoAgent, ErrNoAgent, "", `no such agent: "zed"`, `router: no such agent: "zed"`},
		{"no-such-contact", func(h *harness, _ Contact) error {
			_, err := h.r.Abandon(h.ctx, "c-none", "")
			return err
		}, CodeNoContact, ErrNoContact, "", `no such contact: "c-none"`, ""},
		{"transfer-to-unknown-agent", func(h *harness, c Contact) error {
			_, err := h.r.Transfer(h.ctx, c.ID, "alice", "", "zed")
			return err
		}, CodeNoAgent, ErrNoAgent, "to_agent", `no such agent: "zed"`, ""},
		{"transfer-to-unknown-queue", func(h *harness, c Contact) error {
			_, err := h.r.Transfer(h.ctx, c.ID, "alice", "nowhere", "")
			return err
		}, CodeNoQueue, ErrNoQueue, "queue", `no such queue: "nowhere"`, ""},
		{"accept-not-offered", func(h *harness, c Contact) error {
			_, err := h.r.Accept(h.ctx, c.ID, "alice")
			return err
		}, CodeConflict, ErrConflict, "", "contact {id} is assigned", ""},
		{"delete-agent-holding-contacts", func(h *harness, _ Contact) error {
			return h.r.DeleteAgent(h.ctx, "alice")
		}, CodeConflict, ErrConflict, "", `agent "alice" holds 1 contact(s); close or transfer them first`, ""},
		{"not-yours", func(h *harness, c Contact) error {
			_, err := h.r.CloseContact(h.ctx, c.ID, "bob", "", "")
			return err
		}, CodeNotYours, ErrNotYours, "", "is not with bob", ""},
		{"customer-limit", func(h *harness, c Contact) error {
			_, _, err := h.r.AddMessage(h.ctx, c.ID, Message{Direction: "in", Body: "one too many"})
			return err
		}, CodeLimit, ErrLimit, "", "a conversation holds at most 1 messages from the customer", ""},
		{"idempotency-key-reused", func(h *harness, _ Contact) error {
			nc := NewContact{Channel: ChannelChat, Queue: "q", IdempotencyKey: "k1", IdempotencyHash: "a"}
			if _, _, err := h.r.Submit(h.ctx, nc); err != nil {
				return fmt.Errorf("first submit: %w", err)
			}
			nc.IdempotencyHash = "b"
			_, _, err := h.r.Submit(h.ctx, nc)
			return err
		}, CodeIdempotency, ErrIdempotency, "", "idempotency key reused with a different request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, &Options{CustomerMessages: 1})
			h.queue(Queue{Name: "q"})
			h.agent("alice", sk(), nil, AgentAvailable)
			h.agent("bob", sk(), nil, AgentOffline)
			c := h.submit(NewContact{Queue: "q", Body: "hello"})
			if _, err := h.r.Accept(h.ctx, c.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			err := tt.do(h, c)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *Error", err, err)
			}
			message := strings.ReplaceAll(tt.message, "{id}", c.ID)
			if e.Code != tt.code || e.Field != tt.field || !strings.Contains(e.Message, message) {
				t.Errorf("got code %q, field %q, message %q; want code %q, field %q, a message containing %q", e.Code, e.Field, e.Message, tt.code, tt.field, message)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.sentinel)
			}
			if got := CodeOf(err); got != tt.code {
				t.Errorf("CodeOf: got %q, want %q", got, tt.code)
			}
			if strings.Contains(e.Message, "router:") || strings.Contains(e.Message, "invalid request") || strings.Contains(e.Message, "conflicts with the current state") {
				t.Errorf("message %q carries the package prefix or a sentinel's words", e.Message)
			}
			if tt.wantError != "" && err.Error() != tt.wantError {
				t.Errorf("Error(): got %q, want %q", err.Error(), tt.wantError)
			}
		})
	}
}

// TestCodeOf holds CodeOf and AsError to the code of errors that carry
// no *Error: sentinels wrapped by other packages and the router's
// not-running errors.
func TestCodeOf(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    Code
		message string // of AsError; never the text of err
	}{
		{"typed-wrapped-by-another-package", fmt.Errorf("customers: verify: %w", Errorf(CodeConflict, "", "the customer of c1 is already verified")), CodeConflict, "the customer of c1 is already verified"},
		{"sentinel-wrapped-by-another-package", fmt.Errorf("intake: %w: contact c1 is ending", ErrConflict), CodeConflict, "conflicts with the current state"},
		{"bare-sentinel", ErrNotYours, CodeNotYours, "contact is not with this agent"},
		{"closed", ErrClosed, CodeUnavailable, "the router is not running"},
		{"not-started", ErrNotStarted, CodeUnavailable, "the router is not running"},
		{"failed", fmt.Errorf("%w: %w", ErrFailed, errors.New("disk full")), CodeUnavailable, "the router is not running"},
		{"not-the-routers", context.Canceled, "", ""},
		{"nil", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.code {
				t.Errorf("CodeOf: got %q, want %q", got, tt.code)
			}
			e, ok := AsError(tt.err)
			if ok != (tt.code != "") {
				t.Fatalf("AsError: got ok %v, want %v", ok, tt.code != "")
			}
			if ok && (e.Code != tt.code || e.Message != tt.message) {
				t.Errorf("AsError: got %q %q, want %q %q", e.Code, e.Message, tt.code, tt.message)
			}
		})
	}
}

// TestErrorUnwrap holds each code's *Error to its sentinel.
func TestErrorUnwrap(t *testing.T) {
	for _, s := range sentinels {
		t.Run(string(s.code), func(t *testing.T) {
			err := error(Errorf(s.code, "", "x"))
			if !errors.Is(err, s.err) {
				t.Errorf("errors.Is(%v, %v) is false", err, s.err)
			}
			for _, o := range sentinels {
				if o.code != s.code && errors.Is(err, o.err) {
					t.Errorf("an *Error of %s matches %v too", s.code, o.err)
				}
			}
		})
	}
}
