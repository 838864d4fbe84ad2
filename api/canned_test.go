package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/canned"
)

// TestCannedResponses: the configuration's and the API's, filtered by
// queue; admins put and delete the API's, not the configuration's; bad
// input names its field.
func TestCannedResponses(t *testing.T) {
	e := newEnvWith(t, envOptions{canned: []canned.Response{{ID: "greeting", Title: "Greeting", Text: "Hello {first_name}"}}})
	e.seed() // queue billing
	type list struct {
		CannedResponses []canned.Response `json:"canned_responses"`
	}
	put := `{"title":"Refund","text":"Refunded, {first_name} (ref {reference}).","queues":["billing"]}`
	if res := e.do("PUT", "/api/v1/canned-responses/refund", adminToken, put); res.status != http.StatusCreated {
		t.Fatalf("put: %d %s", res.status, res.body)
	}
	if res := e.do("PUT", "/api/v1/canned-responses/refund", adminToken, put); res.status != http.StatusOK {
		t.Errorf("put again: %d, want 200", res.status)
	}
	all := decodeAs[list](t, e.do("GET", "/api/v1/canned-responses", supervisorToken, ""))
	if len(all.CannedResponses) != 2 || all.CannedResponses[0].ID != "greeting" || all.CannedResponses[0].Source != "config" || all.CannedResponses[1].Source != "api" {
		t.Errorf("list: %+v", all.CannedResponses)
	}
	if other := decodeAs[list](t, e.do("GET", "/api/v1/canned-responses?queue=sales", supervisorToken, "")); len(other.CannedResponses) != 1 {
		t.Errorf("in queue sales: %+v, want the global one only", other.CannedResponses)
	}
	for _, tt := range []struct {
		name, method, path, body string
		want                     int
		field                    string
	}{
		{"fixed", "PUT", "/api/v1/canned-responses/greeting", `{"title":"x","text":"y"}`, http.StatusConflict, ""},
		{"fixed-delete", "DELETE", "/api/v1/canned-responses/greeting", "", http.StatusConflict, ""},
		{"unknown-placeholder", "PUT", "/api/v1/canned-responses/x", `{"title":"x","text":"Dear {name}"}`, http.StatusBadRequest, "text"},
		{"empty-title", "PUT", "/api/v1/canned-responses/x", `{"title":" ","text":"y"}`, http.StatusBadRequest, "title"},
		{"unknown-queue", "PUT", "/api/v1/canned-responses/x", `{"title":"x","text":"y","queues":["nowhere"]}`, http.StatusBadRequest, "queues[0]"},
		{"bad-id", "PUT", "/api/v1/canned-responses/a%20b", `{"title":"x","text":"y"}`, http.StatusBadRequest, "id"},
		{"unknown-field", "PUT", "/api/v1/canned-responses/x", `{"title":"x","text":"y","colour":"red"}`, http.StatusBadRequest, ""},
		{"missing", "DELETE", "/api/v1/canned-responses/nothing", "", http.StatusNotFound, ""},
	} {
		res := e.do(tt.method, tt.path, adminToken, tt.body)
		if res.status != tt.want || (tt.field != "" && !strings.Contains(string(res.body), tt.field)) {
			t.Errorf("%s: %d %s, want %d naming %q", tt.name, res.status, res.body, tt.want, tt.field)
		}
	}
	if res := e.do("DELETE", "/api/v1/canned-responses/refund", adminToken, ""); res.status != http.StatusNoContent {
		t.Errorf("delete: %d", res.status)
	}
	if res := e.do("PUT", "/api/v1/canned-responses/x", supervisorToken, put); res.status != http.StatusForbidden {
		t.Errorf("a supervisor's put: %d, want 403", res.status)
	}
}
