package router

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestNewContactValidate holds the one rule of a new contact: Validate
// names the field at fault, and the router's Check and Submit refuse the
// same contact naming the same field with the same message.
func TestNewContactValidate(t *testing.T) {
	ok := NewContact{Channel: ChannelChat, Queue: "q"}
	with := func(f func(*NewContact)) NewContact {
		nc := ok
		f(&nc)
		return nc
	}
	tests := []struct {
		name  string
		nc    NewContact
		field string // "" when valid
	}{
		{"valid", ok, ""},
		{"no-channel", with(func(nc *NewContact) { nc.Channel = "" }), "channel"},
		{"no-queue", with(func(nc *NewContact) { nc.Queue = "" }), "queue"},
		{"queue-not-a-name", with(func(nc *NewContact) { nc.Queue = "a b" }), "queue"},
		{"customer-name-at-the-limit", with(func(nc *NewContact) { nc.Customer.Name = strings.Repeat("é", MaxCustomerNameLen) }), ""},
		{"customer-name-too-long", with(func(nc *NewContact) { nc.Customer.Name = strings.Repeat("é", MaxCustomerNameLen+1) }), "customer.name"},
		// The name is measured as the router keeps it: a zero-width
		// space is removed (package inbound) and does not count.
		{"customer-name-counted-as-kept", with(func(nc *NewContact) { nc.Customer.Name = strings.Repeat("a", MaxCustomerNameLen) + "\u200b" }), ""},
		{"customer-name-control", with(func(nc *NewContact) { nc.Customer.Name = "Ada\nLovelace" }), "customer.name"},
		{"customer-id-too-long", with(func(nc *NewContact) { nc.Customer.ID = strings.Repeat("i", MaxCustomerIDLen+1) }), "customer.id"},
		{"customer-email-too-long", with(func(nc *NewContact) {
			nc.Customer.Email = strings.Repeat("e", MaxEmailLen-len("@example.com")+1) + "@example.com"
		}), "customer.email"},
		{"customer-phone-too-long", with(func(nc *NewContact) { nc.Customer.Phone = "+1 " + strings.Repeat("5", MaxPhoneLen-2) }), "customer.phone"},
		{"customer-value-negative", with(func(nc *NewContact) { nc.Customer.Value = -1 }), "customer.value"},
		{"customer-value-nan", with(func(nc *NewContact) { nc.Customer.Value = math.NaN() }), "customer.value"},
		{"subject-too-long", with(func(nc *NewContact) { nc.Subject = strings.Repeat("s", MaxSubjectLen+1) }), "subject"},
		{"body-too-long", with(func(nc *NewContact) { nc.Body = strings.Repeat("b", MaxBodyLen+1) }), "body"},
		{"requirement-skill-twice", with(func(nc *NewContact) { nc.Requirements = []Requirement{{Skill: "en"}, {Skill: "en"}} }), "requirements[1].skill"},
		{"too-many-preferred", with(func(nc *NewContact) { nc.Preferred = slices.Repeat([]string{"alice"}, MaxPreferred+1) }), "preferred_agents"},
		{"preferred-timeout-at-the-limit", with(func(nc *NewContact) { nc.PreferredTimeout = MaxPreferredTimeout }), ""},
		{"preferred-timeout-too-long", with(func(nc *NewContact) { nc.PreferredTimeout = MaxPreferredTimeout + time.Second }), "preferred_timeout"},
		{"preferred-timeout-negative", with(func(nc *NewContact) { nc.PreferredTimeout = -time.Second }), "preferred_timeout"},
		{"idempotency-key-with-a-space", with(func(nc *NewContact) { nc.IdempotencyKey = "order 1" }), "idempotency_key"},
		{"idempotency-key-too-long", with(func(nc *NewContact) { nc.IdempotencyKey = strings.Repeat("k", MaxIdempotencyKeyLen+1) }), "idempotency_key"},
		{"follows-too-long", with(func(nc *NewContact) { nc.Follows = strings.Repeat("f", maxIDLen+1) }), "follows"},
		{"first-message-too-many-files", with(func(nc *NewContact) { nc.Body, nc.First.Attachments = "hi", make([]Attachment, MaxAttachments+1) }), "attachments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.nc.Validate()
			switch {
			case tt.field == "" && len(errs) > 0:
				t.Fatalf("Validate: got %v, want none", errs)
			case tt.field != "" && (len(errs) == 0 || errs[0].Field != tt.field):
				t.Fatalf("Validate: got %v, want an error naming %s", errs, tt.field)
			}
			h := newHarness(t, nil)
			h.queue(Queue{Name: "q"})
			for name, err := range map[string]error{"Check": h.r.Check(tt.nc), "Submit": submitErr(h, tt.nc)} {
				var re *Error
				switch {
				case tt.field == "" && err != nil:
					t.Errorf("%s: got %v, want none", name, err)
				case tt.field != "" && (!errors.As(err, &re) || re.Field != tt.field || re.Message != errs[0].Message):
					t.Errorf("%s: got %v, want %s: %s", name, err, tt.field, errs[0].Message)
				}
			}
		})
	}
}

func submitErr(h *harness, nc NewContact) error {
	_, _, err := h.r.Submit(h.ctx, nc)
	return err
}

// TestNewContactValidateEveryProblem: Validate returns every problem, in
// the order of the fields.
func TestNewContactValidateEveryProblem(t *testing.T) {
	nc := NewContact{Channel: ChannelChat, Queue: "q", Customer: Customer{Name: "a\tb", Segment: strings.Repeat("s", MaxSegmentLen+1)},
		Priority: MaxPriority + 1, PreferredTimeout: time.Hour}
	var got []string
	for _, e := range nc.Validate() {
		got = append(got, e.Field)
	}
	want := []string{"customer.name", "customer.segment", "priority", "preferred_timeout"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestKeyPath: the one spelling of a field path through a map, for the
// router's errors, the HTTP API's and the configuration's.
func TestKeyPath(t *testing.T) {
	for _, tt := range []struct{ path, key, want string }{
		{"skills", "billing", "skills.billing"},
		{"capacity", "web chat", `capacity["web chat"]`},
		{"", "queues", "queues"},
		{"", "a.b", `["a.b"]`},
		{"relaxation[1].min", "en-GB", "relaxation[1].min.en-GB"},
	} {
		if got := KeyPath(tt.path, tt.key); got != tt.want {
			t.Errorf("KeyPath(%q, %q): got %q, want %q", tt.path, tt.key, got, tt.want)
		}
	}
}

// TestCustomerFitted: what was stored before the rule of a customer is
// fitted to it, keeping what it can.
func TestCustomerFitted(t *testing.T) {
	long := strings.Repeat("x", 300)
	cu := Customer{ID: long, Name: "Ada\tLovelace " + strings.Repeat("é", MaxCustomerNameLen), Email: long + "@example.com",
		Phone: "+1 555 0100", Verified: true, Value: math.NaN(), Segment: long, ClaimedID: "c1"}
	got := cu.Fitted()
	if errs := got.Validate(); len(errs) > 0 {
		t.Fatalf("fitted %+v breaks the rule: %v", got, errs)
	}
	want := Customer{Name: FitCustomerName(cu.Name), Phone: cu.Phone, Verified: true, ClaimedID: "c1"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !strings.HasPrefix(got.Name, "Ada Lovelace é") || utf8.RuneCountInString(got.Name) != MaxCustomerNameLen {
		t.Errorf("name %q: want the control character a space, cut at %d characters", got.Name, MaxCustomerNameLen)
	}
}
