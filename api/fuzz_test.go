package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
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
