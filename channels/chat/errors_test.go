package chat

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
)

// TestRefusal holds the customer's message for a refusal of the router
// to the router's own words, however the error was wrapped.
func TestRefusal(t *testing.T) {
	limit := router.Errorf(router.CodeLimit, "", "a conversation holds at most 2 messages from the customer")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"typed", router.Errorf(router.CodeInvalid, "body", "body longer than 65536 bytes"), "body longer than 65536 bytes"},
		{"typed-wrapped", fmt.Errorf("intake: submit: %w", limit), "a conversation holds at most 2 messages from the customer"},
		{"sentinel-only", fmt.Errorf("intake: %w: contact c1 is ending", router.ErrConflict), "conflicts with the current state"},
		{"not-the-routers", errors.New("disk full"), "the request was refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusal(tt.err); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	fe := limitReached("r1", fmt.Errorf("intake: %w", limit))
	if want := "this conversation cannot take more from you (a conversation holds at most 2 messages from the customer); nothing more is kept here, but what you wrote is with us"; fe.Code != codeLimitReached || fe.Msg != want || fe.ID != "r1" {
		t.Errorf("limitReached: got %+v, want %s %q", fe, codeLimitReached, want)
	}
}

// TestStartContactDetailsOneRule: the start form's email and phone are
// checked by the customers package's rules, the same that decide
// identities (an email) and call-backs (a phone, national formats
// included): the chat refuses exactly what they refuse.
func TestStartContactDetailsOneRule(t *testing.T) {
	for _, email := range []string{"ada@example.com", "Ada@Example.COM", "a b@example.com", "ada@", "@example.com",
		"ada@example..com", `"ada"@example.com`, "ada@example.com.", "ada<x>@example.com", "ada@localhost"} {
		s := startData{Name: "Ada", Topic: "billing", Email: email}
		if got, want := s.check(1000) == nil, customers.CheckEmail(email) == nil; got != want {
			t.Errorf("email %q: the chat takes it %v, the customers' rule %v", email, got, want)
		}
	}
	for _, phone := range []string{"+33 6 12 34 56 78", "06 12 34 56 78", "(555) 123-4567", "+1 555.123.4567",
		"12345", "+1234567890123456", "555-CALL-NOW", "+0 123 4567"} {
		s := startData{Name: "Ada", Topic: "billing", Phone: phone}
		if got, want := s.check(1000) == nil, customers.CheckPhone(phone) == nil; got != want {
			t.Errorf("phone %q: the chat takes it %v, the customers' rule %v", phone, got, want)
		}
	}
}

// TestStartCustomerOneRule: the start form's name, email and phone are
// held to the router's rule of a customer (router.Customer.Validate):
// what the router would refuse, the chat refuses at once, in the
// router's words.
func TestStartCustomerOneRule(t *testing.T) {
	spaced := "+1 (555) 123-4567" + strings.Repeat(" ", router.MaxPhoneLen) // digits a call-back takes, too long
	tests := []struct {
		name string
		cu   router.Customer
		ok   bool
	}{
		{"name-at-the-limit", router.Customer{Name: strings.Repeat("é", router.MaxCustomerNameLen)}, true},
		{"name-too-long", router.Customer{Name: strings.Repeat("é", router.MaxCustomerNameLen+1)}, false},
		{"name-with-a-control-character", router.Customer{Name: "Ada\u0007"}, false},
		{"name-with-a-zero-width-space", router.Customer{Name: strings.Repeat("a", router.MaxCustomerNameLen) + "\u200b"}, true},
		{"phone-too-long", router.Customer{Name: "Ada", Phone: "+1 555 123 4567" + strings.Repeat(".", router.MaxPhoneLen)}, false},
		{"phone-spaced", router.Customer{Name: "Ada", Phone: spaced[:router.MaxPhoneLen]}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startData{Name: tt.cu.Name, Email: tt.cu.Email, Phone: tt.cu.Phone, Topic: "billing"}
			err := s.check(1000)
			errs := tt.cu.Validate()
			switch {
			case tt.ok && (err != nil || len(errs) > 0):
				t.Errorf("chat %v, router %v: want both to take it", err, errs)
			case !tt.ok && (len(errs) == 0 || err == nil || err.Error() != errs[0].Detail()):
				t.Errorf("chat %v, router %v: want the router's refusal from both", err, errs)
			}
		})
	}
}
