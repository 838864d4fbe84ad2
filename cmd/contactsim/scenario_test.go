package main

import (
	"strings"
	"testing"
	"time"
)

func TestShippedScenariosParse(t *testing.T) {
	names := shippedScenarios()
	if len(names) < 3 {
		t.Fatalf("got shipped scenarios %v, want bank, demo and retailer", names)
	}
	for _, name := range names {
		sc, err := LoadScenario(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if sc.Name != name {
			t.Errorf("%s: got name %q, want the file's", name, sc.Name)
		}
	}
	bank, err := LoadScenario("bank")
	if err != nil {
		t.Fatal(err)
	}
	// The bank plays the demo's agents (config/demo.yaml).
	var ids []string
	for _, a := range bank.agentIDs() {
		ids = append(ids, a.id)
	}
	if got, want := strings.Join(ids, ","), "alice,bob,carol,dave,erin"; got != want {
		t.Errorf("bank's agents: got %s, want %s", got, want)
	}
}

const minimal = `
name: t
rate: 5
streams:
  - {queue: billing, channel: api, share: 1}
agents:
  password: "{id}-pw"
  staff: [{id: alice}]
`

func TestParseScenarioDefaults(t *testing.T) {
	sc, err := ParseScenario("t.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Day.D() != 24*time.Hour || sc.Customers.Patience.Mean.D() != time.Minute || sc.Agents.Disposition != "solved" {
		t.Errorf("got day %v, patience %v, disposition %q; want the defaults 24h, 1m, solved",
			sc.Day.D(), sc.Customers.Patience.Mean.D(), sc.Agents.Disposition)
	}
}

func TestParseScenarioRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown-field", minimal + "ratee: 3\n", `line 9: field ratee not found`},
		{"unknown-nested-field", strings.Replace(minimal, "share: 1}", "share: 1, sahre: 2}", 1), `field sahre not found`},
		{"wrong-type", strings.Replace(minimal, "rate: 5", "rate: fast", 1), `cannot unmarshal`},
		{"bad-duration", minimal + "day: 1 day\n", `want a duration such as 30s`},
		{"short-day", minimal + "day: 10s\n", `day: 10s, want 1m or more`},
		{"profile-length", minimal + "profile: [1, 2]\n", `profile: 2 factors, want 24`},
		{"bad-channel", strings.Replace(minimal, "channel: api", "channel: fax", 1), `streams[0].channel: "fax", want api, chat, sms or email`},
		{"chat-without-topic", strings.Replace(minimal, "channel: api", "channel: chat", 1), `streams[0].topic: required for chat`},
		{"no-share", strings.Replace(minimal, "share: 1", "share: 0", 1), `every share is 0`},
		{"share-out-of-range", minimal + "customers: {complaints: 1.5}\n", `customers.complaints: 1.5, want a share from 0 to 1`},
		{"known-without-ids", minimal + "customers: {known: 0.5}\n", `customers.known_ids: give format and count`},
		{"staff-both", strings.Replace(minimal, "{id: alice}", "{id: alice, prefix: a, count: 2}", 1), `agents.staff[0]: id, or prefix with count, not both`},
		{"no-staff", strings.Replace(minimal, "[{id: alice}]", "[]", 1), `agents.staff: 0 agents`},
		{"bad-truth", minimal + "offers: {truth: oracle}\n", `offers.truth: "oracle"`},
		{"empty", "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScenario("t.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("got no error, want one saying %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "t.yaml") {
				t.Errorf("got %q, want it to name t.yaml and say %q", err, tc.want)
			}
		})
	}
}

func TestStaffShifts(t *testing.T) {
	sc, err := ParseScenario("t.yaml", []byte(strings.Replace(minimal, "[{id: alice}]", "[{prefix: n, count: 2, from: 22, to: 6}, {id: day, from: 9, to: 17}]", 1)))
	if err != nil {
		t.Fatal(err)
	}
	got := sc.agentIDs()
	if len(got) != 3 || got[0].id != "n001" || got[1].id != "n002" || got[2].id != "day" {
		t.Fatalf("got %+v, want n001, n002, day", got)
	}
	for _, tc := range []struct {
		agent int
		hour  float64
		on    bool
	}{{0, 23, true}, {0, 3, true}, {0, 6, false}, {0, 12, false}, {2, 9, true}, {2, 16.9, true}, {2, 17, false}, {2, 2, false}} {
		if on := got[tc.agent].on(tc.hour); on != tc.on {
			t.Errorf("%s at %v: got on %v, want %v", got[tc.agent].id, tc.hour, on, tc.on)
		}
	}
}

func TestAcceptanceTruth(t *testing.T) {
	sc := &Scenario{Offers: OfferTruth{Acceptance: map[string]map[string]float64{
		"savings": {"premium": 0.4, "*": 0.1},
		"*":       {"*": 0.05},
	}}}
	demo := func(id, seg string) float64 { return 0.99 }
	for _, tc := range []struct {
		id, seg string
		want    float64
	}{{"savings", "premium", 0.4}, {"savings", "standard", 0.1}, {"fiber", "premium", 0.05}} {
		if got := sc.acceptance(tc.id, tc.seg, demo); got != tc.want {
			t.Errorf("%s in %s: got %v, want %v", tc.id, tc.seg, got, tc.want)
		}
	}
	sc.Offers.Truth = truthDemo
	if got := sc.acceptance("savings", "premium", demo); got != 0.99 {
		t.Errorf("truth demo: got %v, want the demo's 0.99", got)
	}
}
