package customers

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

func TestProfile(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	yes := true
	long := strings.Repeat("x", MaxText+1)
	many := func(n int, v string) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	tests := []struct {
		name      string
		in        ProfileInput
		wantField string // empty: valid
		wantMsg   string // in the message
	}{
		{"minimal", ProfileInput{ID: "ada"}, "", ""},
		{"full", ProfileInput{ID: "ada", Name: "Ada", Emails: []string{"Ada@Example.com"}, Phones: []string{"+1 555 123 4567"},
			CRMID: "SF-1", Value: 12, Consent: consent.Flags{Marketing: &yes}, Products: []string{"card"}, Tags: []string{"vip"}}, "", ""},
		{"empty-id", ProfileInput{}, "id", `field "id": is empty`},
		{"long-id", ProfileInput{ID: long}, "id", "customer id is longer than 200 bytes"},
		// A contact's customer's name, one rule (router.Customer.Validate).
		{"long-name", ProfileInput{ID: "a", Name: strings.Repeat("x", 101)}, "name", `customer name of 101 characters (want at most 100)`},
		{"name-of-100-characters", ProfileInput{ID: "a", Name: strings.Repeat("é", 100)}, "", ""},
		{"name-on-two-lines", ProfileInput{ID: "a", Name: "Ada\nLovelace"}, "name", `control character`},
		{"name-of-invisible-bytes", ProfileInput{ID: "a", Name: "Ada" + strings.Repeat("\u200b", 200)}, "name", `longer than 400 bytes`},
		{"long-manager", ProfileInput{ID: "a", RelationshipManager: long}, "relationship_manager", `"relationship_manager" is longer`},
		{"negative-value", ProfileInput{ID: "a", Value: -1}, "value", `field "value": -1 is negative`},
		{"too-many-products", ProfileInput{ID: "a", Products: many(MaxList+1, "p")}, "products", "has 101 entries"},
		{"empty-tag", ProfileInput{ID: "a", Tags: []string{"vip", ""}}, "tags[1]", `field "tags[1]": want 1 to 200 bytes`},
		{"too-many-identities", ProfileInput{ID: "a", Emails: many(15, "a@x.io"), Phones: many(6, "+15551234567")}, "emails", "hold 21 identities"},
		{"bad-email", ProfileInput{ID: "a", Emails: []string{"ok@x.io", "nope"}}, "emails[1]", `field "emails[1]": email "nope": want local@domain`},
		{"bad-phone", ProfileInput{ID: "a", Phones: []string{"5551234567"}}, "phones[0]", `field "phones[0]": phone "5551234567": want E.164`},
		{"bad-crm-id", ProfileInput{ID: "a", CRMID: "SF\x01"}, "crm_id", `field "crm_id": external id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.in.Profile(false, at)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if p.Customer.ID != tt.in.ID || !p.Customer.CreatedAt.Equal(at) || !p.Customer.UpdatedAt.Equal(at) {
					t.Errorf("got %+v, want id %q at %v", p.Customer, tt.in.ID, at)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalidProfile) {
				t.Fatalf("got %v, want a *FieldError", err)
			}
			if fe.Field != tt.wantField || !strings.Contains(fe.Message, tt.wantMsg) || strings.HasPrefix(fe.Message, "customers:") {
				t.Errorf("got field %q message %q, want field %q and a message with %q", fe.Field, fe.Message, tt.wantField, tt.wantMsg)
			}
		})
	}
}

func TestProfileIdentities(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	in := ProfileInput{ID: "ada", Emails: []string{"Ada@Example.com", "ada@example.com "}, Phones: []string{"+1 (555) 123-4567"}, CRMID: " SF-1 "}
	p, err := in.Profile(true, at)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Identity{
		{Kind: KindEmail, Value: "ada@example.com", Verified: true, CreatedAt: at},
		{Kind: KindPhone, Value: "+15551234567", Verified: true, CreatedAt: at},
		{Kind: KindExternal, Value: "SF-1", Verified: true, CreatedAt: at},
	}
	if !reflect.DeepEqual(p.Identities, want) {
		t.Errorf("identities: got %+v, want %+v", p.Identities, want)
	}
	for _, c := range []struct{ kind, value, field string }{
		{KindEmail, "ada@example.com", "emails[0]"},
		{KindPhone, "+15551234567", "phones[0]"},
		{KindExternal, "SF-1", "crm_id"},
		{KindEmail, "bob@example.com", ""},
	} {
		if got := in.FieldOf(c.kind, c.value); got != c.field {
			t.Errorf("FieldOf(%s, %s): got %q, want %q", c.kind, c.value, got, c.field)
		}
	}
}

// TestProfileFitsItsContacts: what a verified contact takes from its
// profile (the id, the segment) is bounded by the router's limits of a
// contact's customer, so that a profile the API or the import accepts
// never makes its customer's contacts refused, and one the router would
// refuse is refused here first.
func TestProfileFitsItsContacts(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, extra := range []int{0, 1} {
		in := ProfileInput{ID: strings.Repeat("i", router.MaxCustomerIDLen+extra), Segment: strings.Repeat("s", router.MaxSegmentLen+extra)}
		_, err := in.Profile(true, at)
		cu := router.Customer{ID: in.ID, Verified: true, Segment: in.Segment}
		if routerTakes := len(cu.Validate()) == 0; (err == nil) != routerTakes {
			t.Errorf("%d bytes over: the profile %v, the router takes it %v", extra, err, routerTakes)
		}
	}
	in := ProfileInput{ID: "a", Segment: strings.Repeat("s", router.MaxSegmentLen+1)}
	if _, err := in.Profile(true, at); err == nil {
		t.Errorf("a segment the router refuses: got no error")
	}
}

// TestEmailLimitIsTheRouters: an address that identifies a customer is
// one a contact may carry.
func TestEmailLimitIsTheRouters(t *testing.T) {
	at := "@example.com"
	for _, n := range []int{router.MaxEmailLen, router.MaxEmailLen + 1} {
		email := strings.Repeat("a", n-len(at)) + at
		cu := router.Customer{Email: email}
		if got, want := CheckEmail(email) == nil, len(cu.Validate()) == 0; got != want {
			t.Errorf("%d bytes: customers take it %v, the router %v", n, got, want)
		}
	}
}

// A profile's name is kept as the router keeps a contact's customer's:
// a bidirectional override or an invisible character goes.
func TestProfileNameKeptAsContactsAre(t *testing.T) {
	p, err := (&ProfileInput{ID: "a", Name: "Ada\u202Egnp.exe\u200b"}).Profile(false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if want := (router.Customer{Name: "Ada\u202Egnp.exe\u200b"}).Fitted().Name; p.Customer.Name != want || strings.ContainsAny(p.Customer.Name, "\u202E\u200b") {
		t.Errorf("stored name %q, want %q", p.Customer.Name, want)
	}
}
