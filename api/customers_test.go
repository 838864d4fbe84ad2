package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/router"
)

const adaBody = `{"name":"Ada","emails":["Ada@Example.com"],"phones":["+1 555 123 4567"],"segment":"premium","value":1200,"consent":{"marketing":true,"profiling":true}}`

func TestCustomerPutGet(t *testing.T) {
	e := newEnv(t)
	res := e.do("PUT", "/api/v1/customers/ada", integrationToken, adaBody)
	if res.status != http.StatusCreated || res.header.Get("Location") != "/api/v1/customers/ada" {
		t.Fatalf("create: got %d Location %q, want 201 /api/v1/customers/ada; %s", res.status, res.header.Get("Location"), res.body)
	}
	got := decodeAs[customerView](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada", ""))
	if got.Name != "Ada" || got.Segment != "premium" || got.Value != 1200 || got.Consent.Marketing == nil || !*got.Consent.Marketing || got.ErasedAt != nil {
		t.Errorf("profile: got %+v", got)
	}
	want := []identityView{{Kind: "email", Value: "ada@example.com"}, {Kind: "phone", Value: "+15551234567"}}
	if len(got.Identities) != len(want) {
		t.Fatalf("identities: got %+v, want %+v", got.Identities, want)
	}
	for i, w := range want {
		if g := got.Identities[i]; g.Kind != w.Kind || g.Value != w.Value || g.Verified {
			t.Errorf("identity %d: got %+v, want %s %s claimed", i, g, w.Kind, w.Value)
		}
	}

	// An admin may record them as verified; a replace answers 200.
	res = e.must(http.StatusOK, "PUT", "/api/v1/customers/ada", `{"name":"Ada L.","emails":["ada@example.com"],"verified":true}`)
	again := decodeAs[customerView](t, res)
	if again.Name != "Ada L." || !again.Identities[0].Verified || again.Identities[1].Verified || !again.CreatedAt.Equal(got.CreatedAt) {
		t.Errorf("replace: got %+v, want the email verified, the phone claimed, created_at kept", again)
	}

	for _, tok := range []string{adminToken, supervisorToken, integrationToken} {
		if res := e.do("GET", "/api/v1/customers/ada", tok, ""); res.status != http.StatusOK {
			t.Errorf("GET with %s: got %d, want 200", tok, res.status)
		}
	}
}

func TestCustomerBadInput(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada", adaBody)
	tests := []struct {
		name   string
		path   string
		token  string
		body   string
		status int
		want   string // in the error message
	}{
		{"unknown-field", "/api/v1/customers/bob", adminToken, `{"name":"Bob","email":"b@example.com"}`, http.StatusBadRequest, "email"},
		{"bad-email", "/api/v1/customers/bob", adminToken, `{"emails":["ok@example.com","nope"]}`, http.StatusBadRequest, `"emails[1]"`},
		{"bad-phone", "/api/v1/customers/bob", adminToken, `{"phones":["5551234567"]}`, http.StatusBadRequest, `"phones[0]"`},
		{"negative-value", "/api/v1/customers/bob", adminToken, `{"value":-1}`, http.StatusBadRequest, `"value"`},
		{"wrong-type", "/api/v1/customers/bob", adminToken, `{"consent":{"marketing":"yes"}}`, http.StatusBadRequest, "consent.marketing"},
		{"id-mismatch", "/api/v1/customers/bob", adminToken, `{"id":"eve"}`, http.StatusBadRequest, `"id"`},
		{"taken-identity", "/api/v1/customers/bob", adminToken, `{"phones":["+15551234567"]}`, http.StatusConflict, `"phones[0]"`},
		{"verified-by-integration", "/api/v1/customers/bob", integrationToken, `{"emails":["b@example.com"],"verified":true}`, http.StatusForbidden, `"verified"`},
		{"supervisor-cannot-write", "/api/v1/customers/bob", supervisorToken, `{"name":"Bob"}`, http.StatusForbidden, "supervisor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("PUT", tt.path, tt.token, tt.body)
			if res.status != tt.status {
				t.Fatalf("got %d, want %d; %s", res.status, tt.status, res.body)
			}
			if msg := decodeAs[apiError](t, res).Error.Message; !strings.Contains(msg, tt.want) {
				t.Errorf("message: got %q, want it to name %s", msg, tt.want)
			}
		})
	}
	if res := e.do("GET", "/api/v1/customers/bob", adminToken, ""); res.status != http.StatusNotFound {
		t.Errorf("bob after refused puts: got %d, want 404", res.status)
	}
	for _, m := range []string{"GET", "DELETE"} {
		for _, p := range []string{"/api/v1/customers/nobody", "/api/v1/customers/nobody/export"} {
			if m == "DELETE" && strings.HasSuffix(p, "export") {
				continue
			}
			if res := e.do(m, p, adminToken, ""); res.status != http.StatusNotFound {
				t.Errorf("%s %s: got %d, want 404", m, p, res.status)
			}
		}
	}
}

func TestCustomerExportAndErase(t *testing.T) {
	var (
		mu     sync.Mutex
		erased []string // told to Options.OnCustomerErased; guarded by mu
	)
	told := func() string { mu.Lock(); defer mu.Unlock(); return fmt.Sprint(erased) }
	e := newEnvWith(t, envOptions{onErased: func(id string) { mu.Lock(); erased = append(erased, id); mu.Unlock() }})
	e.seed()
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada", adaBody)
	mine := e.create(`{"channel":"api","queue":"billing","customer":{"id":"ada","verified":true,"name":"Ada Lovelace","email":"ada@example.com"},"subject":"Invoice","body":"I was charged twice"}`)
	bobs := e.create(`{"channel":"api","queue":"billing","customer":{"email":"bob@example.com"}}`)

	if err := e.db.RecordCSAT(context.Background(), csat.Response{ContactID: mine.ID, Queue: "billing", Score: 2, Comment: "Clara, my neighbour, waited too", At: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	x := decodeAs[customerExport](t, e.do("GET", "/api/v1/customers/ada/export", supervisorToken, ""))
	if x.Customer.Name != "Ada" || len(x.Customer.Identities) != 2 || len(x.Contacts) != 1 || x.Contacts[0].ID != mine.ID || x.Merges == nil || x.Audit == nil {
		t.Errorf("export: got %+v, want Ada, 2 identities, contact %s, merges [], audit []", x, mine.ID)
	}
	if want := []csatAnswerView{{ContactID: mine.ID, Queue: "billing", Score: 2, Comment: "Clara, my neighbour, waited too", At: e.clock.Now()}}; !reflect.DeepEqual(x.CSAT, want) {
		t.Errorf("export: got survey answers %+v, want %+v", x.CSAT, want)
	}

	if res := e.do("DELETE", "/api/v1/customers/ada", supervisorToken, ""); res.status != http.StatusForbidden {
		t.Errorf("erase by a supervisor: got %d, want 403", res.status)
	}
	// Her contact still lives in the router, which would write it back:
	// refused, naming it, and nothing changes.
	before := e.state()
	res := e.do("DELETE", "/api/v1/customers/ada", integrationToken, "")
	if msg := decodeAs[apiError](t, res).Error.Message; res.status != http.StatusConflict || !strings.Contains(msg, mine.ID) || strings.Contains(msg, bobs.ID) {
		t.Fatalf("erase with a live contact: got %d %s, want 409 naming %s only", res.status, res.body, mine.ID)
	}
	if e.state() != before || told() != "[]" {
		t.Errorf("a refused erase changed the state, or was told as done (%s)", told())
	}
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+mine.ID+"/abandon", `{"reason":"Ada hung up"}`)

	e.must(http.StatusNoContent, "DELETE", "/api/v1/customers/ada", "")
	if got := told(); got != "[ada]" {
		t.Errorf("OnCustomerErased: got %s, want [ada]", got)
	}
	c := e.contact(mine.ID)
	if c.Customer != (router.Customer{ID: "ada"}) || c.Subject != "" || c.State != router.ContactAbandoned || c.Channel != "api" || c.Queue != "billing" {
		t.Errorf("contact after erase: got %+v, want the customer blanked, the statistics kept", c.Contact)
	}
	if len(c.Messages) != 1 || c.Messages[0].Body != "" || c.Messages[0].Author != "" || c.Messages[0].Direction != "in" {
		t.Errorf("messages after erase: got %+v, want one in, blank", c.Messages)
	}
	for _, ev := range c.Timeline {
		if ev.Reason != "" {
			t.Errorf("timeline after erase: event %s has reason %q, want none", ev.Event, ev.Reason)
		}
	}
	if b := e.contact(bobs.ID); b.Customer.Email != "bob@example.com" {
		t.Errorf("bob's contact: got %+v, want it untouched", b.Customer)
	}
	got := decodeAs[customerView](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada", ""))
	if got.Name != "" || len(got.Identities) != 0 || got.Consent.Marketing != nil || got.Segment != "premium" || got.Value != 1000 ||
		got.ErasedAt == nil || got.ContactCount == nil || *got.ContactCount != 1 || got.IdentityCount == nil || *got.IdentityCount != 2 {
		t.Errorf("after erase: got %s, want the anonymous remainder: premium, value 1000, 1 contact, 2 identities", e.must(http.StatusOK, "GET", "/api/v1/customers/ada", "").body)
	}
	if res := e.do("PUT", "/api/v1/customers/ada", adminToken, adaBody); res.status != http.StatusConflict {
		t.Errorf("put after erase: got %d, want 409", res.status)
	}
	x = decodeAs[customerExport](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada/export", ""))
	if len(x.CSAT) != 1 || x.CSAT[0].Score != 2 || x.CSAT[0].Comment != "" {
		t.Errorf("export after erase: got survey answers %+v, want the score without the comment", x.CSAT)
	}
	// The identities are free again.
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada2", adaBody)
}

func TestCustomerCRMIDAndUnknownFieldMessage(t *testing.T) {
	e := newEnv(t)
	got := decodeAs[customerView](t, e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada", `{"name":"Ada","crm_id":" SF-001 "}`))
	if len(got.Identities) != 1 || got.Identities[0].Kind != "external" || got.Identities[0].Value != "SF-001" {
		t.Errorf("identities: got %+v, want the external id SF-001", got.Identities)
	}
	if res := e.do("PUT", "/api/v1/customers/bob", adminToken, `{"crm_id":"SF-001"}`); res.status != http.StatusConflict ||
		!strings.Contains(decodeAs[apiError](t, res).Error.Message, `field "crm_id"`) {
		t.Errorf("taken crm_id: got %d %s, want 409 naming crm_id", res.status, res.body)
	}
	// The profile's fields are promoted from customers.ProfileInput: the
	// message lists them, not the embedded struct.
	res := e.do("PUT", "/api/v1/customers/bob", adminToken, `{"name":"Bob","email":"b@example.com"}`)
	msg := decodeAs[apiError](t, res).Error.Message
	if res.status != http.StatusBadRequest || !strings.Contains(msg, `unknown field "email"`) ||
		!strings.Contains(msg, "emails, id, language, name, phones") || strings.Contains(msg, "ProfileInput") {
		t.Errorf("unknown field: got %d %q, want 400 naming email and the valid fields", res.status, msg)
	}
}
