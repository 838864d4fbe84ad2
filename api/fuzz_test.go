package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard/switchboard/nextbest"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/store"
)

// FuzzCreateContact posts arbitrary bytes as the body of a create to the
// handler: whatever arrives, the answer is a 2xx or a 4xx, never a 5xx
// or a panic.
func FuzzCreateContact(f *testing.F) {
	seeds := []string{
		// A valid minimal create.
		`{"channel":"api","queue":"billing"}`,
		// Every field.
		`{"channel":"chat","queue":"billing","customer":{"id":"c1","name":"Xavier","email":"x@example.com","phone":"+331234","value":1200.5},"subject":"Invoice","body":"hello","requirements":[{"skill":"billing","min":3}],"priority":5,"preferred_agents":["alice"],"preferred_timeout":"30s"}`,
		// Empty requirements: none at all, not the queue's.
		`{"channel":"api","queue":"billing","requirements":[]}`,
		// Missing required fields.
		`{}`,
		// Unknown queue and channel.
		`{"channel":"fax","queue":"nope"}`,
		// Unknown fields, top level and nested.
		`{"channel":"api","queue":"billing","colour":"red"}`,
		`{"channel":"api","queue":"billing","requirements":[{"skill":"billing","lvl":3}]}`,
		// Wrong types.
		`{"channel":1,"queue":["billing"],"priority":"high","customer":"x"}`,
		`{"channel":"api","queue":"billing","priority":1e400}`,
		// Out-of-range values the router refuses.
		`{"channel":"api","queue":"billing","priority":-99999,"requirements":[{"skill":"","min":-1}]}`,
		`{"channel":"api","queue":"billing","preferred_timeout":"-5s","preferred_agents":["a b"]}`,
		// Not an object, trailing data, truncation, nothing.
		`[1,2,3]`, `null`, `"x"`, `{"channel":"api","queue":"billing"}{}`, `{"channel":"api"`, ``,
		// Deep nesting and odd bytes.
		`{"customer":{"name":{"a":{"b":{"c":[[[[[]]]]]}}}}}`,
		"{\"channel\":\"api\",\"queue\":\"billing\",\"subject\":\"\xff\xfe\x00\"}",
		`{"channel":"api","queue":"billing","channel":"chat"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := newEnv(f)
	e.seed()
	e.available("alice", "bob")
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/contacts", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+integrationToken)
		rec := httptest.NewRecorder()
		e.api.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %q: got status %d, want < 500; %s", body, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusCreated && rec.Code/100 != 4 {
			t.Fatalf("body %q: got status %d, want 201 or a 4xx", body, rec.Code)
		}
	})
}

// FuzzPutOffer puts arbitrary bytes as an offer: the body and its
// eligibility expression (compiled by expr) are outside input. Whatever
// arrives, the answer is 200, 201 or a 4xx, never a 5xx or a panic, and
// a refused offer never reaches the live catalog.
func FuzzPutOffer(f *testing.F) {
	seeds := []string{
		// A valid offer, every field.
		`{"title":"Fiber","talking_points":["1 Gbit/s"],"value":90,"channels":["chat"],"eligible":"\"broadband\" in customer.products","why":"copper","cooldown":"720h","cap_per_contact":1}`,
		// The least: every customer.
		`{"title":"T","value":0,"eligible":""}`,
		// Expressions: unknown names, wrong type, syntax, deep nesting, builtins.
		`{"title":"T","value":1,"eligible":"custmer.segment == \"x\""}`,
		`{"title":"T","value":1,"eligible":"customer.value"}`,
		`{"title":"T","value":1,"eligible":"customer.value >"}`,
		`{"title":"T","value":1,"eligible":"((((((((((true))))))))))"}`,
		`{"title":"T","value":1,"eligible":"len(customer.products) > 2 && all(customer.tags, {# != \"x\"})"}`,
		`{"title":"T","value":1,"eligible":"customer.products[99] == \"x\""}`,
		// Out of range, wrong types, unknown fields.
		`{"title":"T","value":-1,"eligible":"","cap_per_contact":-3,"cooldown":"-1h"}`,
		`{"title":1,"value":"high","eligible":true}`,
		`{"title":"T","value":1e400,"eligible":""}`,
		`{"title":"T","value":1,"eligible":"","colour":"red"}`,
		// Not an object, truncation, nothing.
		`[]`, `null`, `{"title":"T"`, ``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := newEnvWith(f, envOptions{offers: func(db *store.DB) OfferCatalog {
		src := nextbest.NewEngine(mustCatalog(f), offers.NewLearner(offers.Prior{}), offers.Rules{}, db, nil, nil)
		f.Cleanup(src.Close)
		cat, err := nextbest.NewLiveCatalog(context.Background(), nil, db, src, nil)
		if err != nil {
			f.Fatal(err)
		}
		return cat
	}})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("PUT", "/api/v1/offers/fuzz", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		e.api.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %q: got status %d, want < 500; %s", body, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusCreated && rec.Code/100 != 4 {
			t.Fatalf("body %q: got status %d, want 200, 201 or a 4xx", body, rec.Code)
		}
	})
}

func mustCatalog(tb testing.TB) *offers.Catalog {
	tb.Helper()
	cat, err := offers.NewCatalog(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return cat
}
