package nextbest

import (
	"reflect"
	"testing"
	"time"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/store"
)

func TestSyntheticOutcomes(t *testing.T) {
	cat, err := offers.NewCatalog(offers.Demo())
	if err != nil {
		t.Fatal(err)
	}
	var custs []store.Customer
	for _, p := range customers.Synthetic(200, 3) {
		custs = append(custs, p.Customer)
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	outs, err := SyntheticOutcomes(cat, DefaultRules(), custs, "billing", []string{"alice", "bob"}, 7, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) == 0 || len(outs)%2 != 0 {
		t.Fatalf("got %d outcomes, want pairs of a presentation and a decision", len(outs))
	}
	byID := map[string]store.Customer{}
	for _, c := range custs {
		byID[c.ID] = c
	}
	for i := 0; i < len(outs); i += 2 {
		p, d := outs[i], outs[i+1]
		cu := byID[p.CustomerID]
		if p.Outcome != store.OutcomePresented || d.Outcome == store.OutcomePresented || p.OfferID != d.OfferID || p.ContactID != d.ContactID {
			t.Fatalf("outcomes %d and %d: got %+v, %+v; want a presentation then its decision", i, i+1, p, d)
		}
		if age := now.Sub(p.At); age < syntheticMinAge || age > syntheticMaxAge {
			t.Errorf("outcome %d: %s old, want within the bounds", i, age)
		}
		if cu.Consent.Marketing == nil || !*cu.Consent.Marketing || p.Segment != cu.Segment || (p.AgentID != "alice" && p.AgentID != "bob") {
			t.Errorf("outcome %d: %+v for customer %+v: want only consenting customers, their segment, a given agent", i, p, cu)
		}
	}
	again, err := SyntheticOutcomes(cat, DefaultRules(), custs, "billing", []string{"alice", "bob"}, 7, now)
	if err != nil || !reflect.DeepEqual(again, outs) {
		t.Errorf("a second run with the same seed differs")
	}
	if _, err := SyntheticOutcomes(cat, DefaultRules(), custs, "billing", nil, 7, now); err == nil {
		t.Errorf("no agents: got no error")
	}
	for _, seg := range []string{"premium", "standard"} {
		if a := SyntheticAcceptance("savings", seg); a < 0.10 || a > 0.60 {
			t.Errorf("SyntheticAcceptance(savings, %s) = %v, want 10 %% to 60 %%", seg, a)
		}
	}
}
