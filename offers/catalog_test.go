package offers

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestNewCatalogErrors(t *testing.T) {
	tests := []struct {
		name   string
		offers []Offer
		want   string // exact error
	}{
		{"unknown-name", []Offer{{Title: "T", ID: "savings", Eligible: `custmer.segment == "premium"`}},
			`offers: offer "savings": eligible: unknown name custmer (1:1)`},
		{"unknown-field", []Offer{{Title: "T", ID: "a", Eligible: `customer.segmnt == "x"`}},
			`offers: offer "a": eligible: type offers.CustomerView has no field segmnt (1:10)`},
		{"not-bool", []Offer{{Title: "T", ID: "a", Eligible: `customer.value + 1`}},
			`offers: offer "a": eligible: expected bool, but got float64`},
		{"syntax", []Offer{{Title: "T", ID: "a", Eligible: `customer.value >`}},
			`offers: offer "a": eligible: unexpected token EOF (1:16)`},
		{"type-mismatch", []Offer{{Title: "T", ID: "a", Eligible: `customer.segment > 3`}},
			`offers: offer "a": eligible: invalid operation: > (mismatched types string and int) (1:18)`},
		{"empty-id", []Offer{{Title: "T", ID: " "}},
			`offers: offer " ": id: empty (want a name such as "savings")`},
		{"duplicate-id", []Offer{{Title: "T", ID: "a"}, {Title: "T", ID: "a"}},
			`offers: offer "a": id: duplicate`},
		{"negative-value", []Offer{{Title: "T", ID: "a", Value: -1}},
			`offers: offer "a": value: -1 is negative (want ≥ 0)`},
		{"value-not-a-number", []Offer{{Title: "T", ID: "a", Value: math.NaN()}},
			`offers: offer "a": value: NaN is not a finite number (want ≥ 0)`},
		{"negative-cooldown", []Offer{{Title: "T", ID: "a", Cooldown: -time.Second}},
			`offers: offer "a": cooldown: -1s is negative (want ≥ 0)`},
		{"negative-cap", []Offer{{Title: "T", ID: "a", CapPerContact: -1}},
			`offers: offer "a": cap_per_contact: -1 is negative (want ≥ 0, 0 for no cap)`},
		{"no-title", []Offer{{ID: "a"}},
			`offers: offer "a": title: empty or over 200 bytes (want what the agent reads, e.g. "Platinum card upgrade")`},
		{"long-why", []Offer{{Title: "T", ID: "a", Why: strings.Repeat("w", MaxText+1)}},
			`offers: offer "a": why: longer than 500 bytes (want one line the agent reads)`},
		{"many-talking-points", []Offer{{Title: "T", ID: "a", TalkingPoints: make([]string, MaxTalkingPoints+1)}},
			`offers: offer "a": talking_points: 21 entries (want at most 20)`},
		{"second-offer-named", []Offer{{Title: "T", ID: "ok", Eligible: "true"}, {Title: "T", ID: "bad", Eligible: "nope"}},
			`offers: offer "bad": eligible: unknown name nope (1:1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCatalog(tt.offers)
			if err == nil {
				t.Fatalf("got catalog %v, want error %q", c, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got %q, want %q", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidOffer) {
				t.Errorf("got %v, want it to wrap ErrInvalidOffer", err)
			}
			var oe *OfferError
			if !errors.As(err, &oe) || !strings.Contains(tt.want, `"`+oe.ID+`"`) {
				t.Errorf("got %#v, want an *OfferError naming the offer", err)
			}
		})
	}
}

func TestEligible(t *testing.T) {
	cat, err := NewCatalog([]Offer{
		{Title: "T", ID: "always"},
		{Title: "T", ID: "premium", Eligible: `customer.segment == "premium"`},
		{Title: "T", ID: "no-savings", Eligible: `"savings" not in customer.products`},
		{Title: "T", ID: "chat-only", Channels: []string{"chat"}},
		{Title: "T", ID: "tagged", Eligible: `"vip" in customer.tags && contact.queue == "sales"`},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  Env
		want string
	}{
		{"premium-on-chat", Env{Customer: CustomerView{Segment: "premium"}, Contact: ContactView{Channel: "chat"}},
			"always premium no-savings chat-only"},
		{"has-savings-on-email", Env{Customer: CustomerView{Segment: "basic", Products: []string{"savings"}}, Contact: ContactView{Channel: "email"}},
			"always"},
		{"vip-in-sales", Env{Customer: CustomerView{Tags: []string{"vip"}, Products: []string{"savings"}}, Contact: ContactView{Channel: "sms", Queue: "sales"}},
			"always tagged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cat.Eligible(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if ids := ids(got); ids != tt.want {
				t.Errorf("got %q, want %q", ids, tt.want)
			}
		})
	}
}

func TestDemoCatalog(t *testing.T) {
	demo := Demo()
	if len(demo) < 5 || len(demo) > 6 {
		t.Errorf("got %d demo offers, want 5 or 6", len(demo))
	}
	cat, err := NewCatalog(demo)
	if err != nil {
		t.Fatal(err)
	}
	env := Env{
		Customer: CustomerView{Segment: "premium", Value: 2500, Products: []string{"credit_card", "mortgage", "broadband", "mobile"}, Tags: []string{"traveller", "paper_statements"}},
		Contact:  ContactView{Channel: "chat", Queue: "sales"},
	}
	got, err := cat.Eligible(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(demo) {
		t.Errorf("got eligible %q, want every demo offer for a customer holding every trigger", ids(got))
	}
}

func ids(os []Offer) string {
	var s []string
	for _, o := range os {
		s = append(s, o.ID)
	}
	return strings.Join(s, " ")
}

func TestMaxCooldown(t *testing.T) {
	cat, err := NewCatalog(Demo())
	if err != nil {
		t.Fatal(err)
	}
	if got := cat.MaxCooldown(); got != 90*24*time.Hour {
		t.Errorf("got %v, want 2160h (home-insurance's)", got)
	}
	empty, _ := NewCatalog(nil)
	if got := empty.MaxCooldown(); got != 0 {
		t.Errorf("got %v for an empty catalog, want 0", got)
	}
}
