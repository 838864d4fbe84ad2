package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/offers"
)

func TestOffersValidation(t *testing.T) {
	offer := func(fields string) string {
		return "offers:\n  catalog:\n    - {id: savings, title: Savings, value: 10" + fields + "}\n"
	}
	tests := []struct {
		name, yaml string
		want       string // a line of the error, after "config: x.yaml:"
	}{
		{"bad-expression-names-the-offer", offer(", eligible: 'custmer.segment == \"x\"'"),
			`3:58: offers.catalog[0].eligible: offer "savings": unknown name custmer (1:1)`},
		{"expression-not-bool", offer(", eligible: 'customer.value + 1'"),
			`3:58: offers.catalog[0].eligible: offer "savings": expected bool, but got float64`},
		{"unknown-field-of-customer", offer(", eligible: 'customer.segmnt == \"x\"'"),
			`3:58: offers.catalog[0].eligible: offer "savings": type offers.CustomerView has no field segmnt (1:10)`},
		{"negative-value", "offers:\n  catalog:\n    - {id: a, title: A, value: -1}\n",
			`3:32: offers.catalog[0].value: offer "a": -1 is negative (want ≥ 0)`},
		{"negative-cooldown", offer(", cooldown: -1h"),
			`3:58: offers.catalog[0].cooldown: invalid duration "-1h": negative`},
		{"bad-cooldown", offer(", cooldown: 30 days"),
			`3:58: offers.catalog[0].cooldown: invalid duration "30 days" (want e.g. "20s", "4h")`},
		{"negative-cap", offer(", cap_per_contact: -2"),
			`3:65: offers.catalog[0].cap_per_contact: offer "savings": -2 is negative (want ≥ 0, 0 for no cap)`},
		{"unknown-channel", offer(", channels: [fax]"),
			`3:59: offers.catalog[0].channels[0]: channel "fax" is not in routing.capacity`},
		{"duplicate-id", "offers:\n  catalog:\n    - {id: a, title: A}\n    - {id: a, title: B}\n",
			`4:12: offers.catalog[1].id: duplicate offer id "a" (first at line 3)`},
		{"missing-title", "offers:\n  catalog:\n    - {id: a}\n",
			`3:7: offers.catalog[0].title: offer "a": empty or over 200 bytes`},
		{"bad-id", "offers:\n  catalog:\n    - {id: 'no spaces', title: A}\n",
			`3:12: offers.catalog[0].id: invalid offer id "no spaces"`},
		{"unknown-offer-field", "offers:\n  catalog:\n    - {id: a, title: A, valu: 3}\n",
			`3:25: offers.catalog[0]: unknown field "valu" (did you mean "value"?)`},
		{"zero-prior", "offers:\n  prior: {alpha: 0, beta: 1}\n",
			`2:18: offers.prior.alpha: 0 (want a positive number`},
		{"empty-keyword", "offers:\n  complaints:\n    keywords: [refund, ' ']\n",
			`3:24: offers.complaints.keywords[1]: " " (want 1 to 100 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("got a config %+v, want an error", c.Offers)
			}
			if want := "config: x.yaml:" + tt.want; !containsLine(err.Error(), want) {
				t.Errorf("got error:\n%v\nwant a line starting:\n%s", err, want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("got %T, want an *Error", err)
			}
		})
	}
}

func TestOffersConfig(t *testing.T) {
	c, err := Parse("x.yaml", []byte(`offers:
  prior: {alpha: 2, beta: 8}
  complaints: {queues: [disputes], keywords: [chargeback]}
  catalog:
    - id: fiber
      title: Fiber
      value: 90
      channels: [chat]
      eligible: '"broadband" in customer.products'
      cooldown: 720h
      cap_per_contact: 1
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []offers.Offer{{ID: "fiber", Title: "Fiber", Value: 90, Channels: []string{"chat"},
		Eligible: `"broadband" in customer.products`, Cooldown: 720 * time.Hour, CapPerContact: 1}}
	if got := c.OfferCatalog(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := c.OfferPrior(); got != (offers.Prior{Alpha: 2, Beta: 8}) {
		t.Errorf("got prior %+v, want Beta(2, 8)", got)
	}
	rules := c.OfferRules()
	// What the file names replaces the default; what it leaves out keeps it.
	if !reflect.DeepEqual(rules.ComplaintQueues, []string{"disputes"}) || !reflect.DeepEqual(rules.ComplaintKeywords, []string{"chargeback"}) ||
		!reflect.DeepEqual(rules.ComplaintDispositions, []string{"complaint"}) {
		t.Errorf("got rules %+v", rules)
	}
	if d := Default(); len(d.Offers.Catalog) != 0 || d.OfferPrior() != (offers.Prior{Alpha: 1, Beta: 1}) {
		t.Errorf("got default offers %+v, want no catalog and Beta(1, 1)", d.Offers)
	}
}

// TestDemoOffers keeps demo.yaml's catalog equal to offers.Demo(), and
// checks its complaint words catch what unhappy customers write.
func TestDemoOffers(t *testing.T) {
	c := Demo()
	if got, want := c.OfferCatalog(), offers.Demo(); !reflect.DeepEqual(got, want) {
		t.Errorf("demo.yaml's offers.catalog differs from offers.Demo():\ngot  %+v\nwant %+v", got, want)
	}
	rules := c.OfferRules()
	yes := true
	for _, msg := range []string{"I was charged twice for May", "You overcharged me", "I want a REFUND", "Please cancel my plan", "This is a formal complaint"} {
		env := offers.Env{Customer: offers.CustomerView{Consent: consent.Flags{Marketing: &yes}}, Contact: offers.ContactView{Channel: "chat", FirstMessage: msg}}
		if why, ok := rules.Suppressed(env); !ok || why != offers.Complaint {
			t.Errorf("%q: got %q, %v, want a complaint", msg, why, ok)
		}
	}
	if !strings.Contains(string(DemoYAML()), "charged twice") {
		t.Error("demo.yaml does not list \"charged twice\"")
	}
}
