package api

import (
	"strings"
	"testing"
)

// TestBadInput sends every kind of malformed request and checks the
// status, the message, and that nothing changed.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.available("alice")
	offered := e.create(`{"channel":"api","queue":"billing"}`).ID // offered to alice
	queued := e.create(`{"channel":"chat","queue":"billing"}`).ID // alice is ringing: queued

	const json = "application/json"
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		header  []string // name, value pairs
		status  int
		message string // a substring of the error message
		field   string // the field of the error body: set by the router's checks and the decoder
		allow   string // a method the Allow header must list (405)
	}{
		// The body itself.
		{name: "too-large", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"` + strings.Repeat("x", testMaxBody) + `"}`, status: 413, message: "larger than 4096 bytes"},
		{name: "empty-body", method: "PUT", path: "/api/v1/agents/carol", status: 400, message: "request body is empty"},
		{name: "blank-body", method: "POST", path: "/api/v1/contacts", body: "  \n ", status: 400, message: "request body is empty"},
		{name: "not-an-object", method: "PUT", path: "/api/v1/agents/carol", body: `["Carol"]`, status: 400, message: "must be a JSON object ({...}), got an array"},
		{name: "null", method: "PUT", path: "/api/v1/agents/carol", body: `null`, status: 400, message: "got null"},
		{name: "not-json", method: "PUT", path: "/api/v1/agents/carol", body: `{name: "Carol"}`, status: 400, message: "not valid JSON"},
		{name: "not-utf8", method: "PUT", path: "/api/v1/agents/carol", body: "{\"name\":\"Carol\xff\"}", status: 400, message: "request body is not valid UTF-8"},
		{name: "truncated", method: "PUT", path: "/api/v1/agents/carol", body: `{"name": "Carol"`, status: 400, message: "ends in the middle"},
		{name: "trailing-object", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"Carol"} {"name":"Dave"}`, status: 400, message: "data after the JSON object"},
		{name: "trailing-garbage", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing"}x`, status: 400, message: "data after the JSON object"},
		{name: "unknown-field", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"Carol","skill":{"billing":3}}`, status: 400, message: `unknown field "skill"; valid fields there: capacity, id, name, skills`, field: "skill"},
		{name: "unknown-nested-field", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","customer":{"mail":"x@example.com"}}`, status: 400, message: `unknown field "customer.mail"; valid fields there: email, id, name, phone, segment, value`, field: "customer.mail"},
		{name: "unknown-field-in-array", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","requirements":[{"skill":"billing","level":3}]}`, status: 400, message: `unknown field "requirements[0].level"; valid fields there: min, skill`, field: "requirements[0].level"},
		{name: "state-on-agent", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"Carol","state":"available"}`, status: 400, message: `unknown field "state"`, field: "state"},
		{name: "wrong-type-string", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":5}`, status: 400, message: `field "name": got number, want a string`, field: "name"},
		{name: "wrong-type-map", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"Carol","skills":["billing"]}`, status: 400, message: `field "skills": got array, want an object whose values are each an integer`, field: "skills"},
		{name: "wrong-type-map-value", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"Carol","capacity":{"chat":"3"}}`, status: 400, message: `field "capacity": each value must be an integer, got string`, field: "capacity"},
		{name: "wrong-type-fraction", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","requirements":[{"skill":"billing","min":2.5}]}`, status: 400, message: `field "requirements.min": got number 2.5, want an integer`, field: "requirements.min"},
		{name: "wrong-type-object", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","customer":"x@example.com"}`, status: 400, message: `field "customer": got string, want an object`, field: "customer"},
		{name: "wrong-type-element", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","preferred_agents":["bob",7]}`, status: 400, message: `field "preferred_agents": each element must be a string, got number`, field: "preferred_agents"},
		{name: "wrong-type-overflow", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","priority":1e40}`, status: 400, message: `field "priority": got number 1e40, want an integer`, field: "priority"},
		{name: "wrong-type-duration", method: "PUT", path: "/api/v1/queues/tech", body: `{"max_wait":300}`, status: 400, message: `field "max_wait": got number, want a string`, field: "max_wait"},

		// Content-Type.
		{name: "text-plain", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"Carol"}`, header: []string{"Content-Type", "text/plain"}, status: 415, message: `Content-Type "text/plain" is not supported; want application/json`},
		{name: "form", method: "POST", path: "/api/v1/contacts", body: `channel=api&queue=billing`, header: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, message: "want application/json"},
		{name: "no-content-type", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing"}`, header: []string{"Content-Type", ""}, status: 415, message: "Content-Type is missing"},
		{name: "optional-body-text", method: "POST", path: "/api/v1/contacts/" + queued + "/close", body: `{}`, header: []string{"Content-Type", "text/plain"}, status: 415, message: "want application/json"},

		// Required fields and values.
		{name: "agent-name-missing", method: "PUT", path: "/api/v1/agents/carol", body: `{"skills":{"billing":3}}`, status: 400, message: `field "name" is required`},
		{name: "agent-id-mismatch", method: "PUT", path: "/api/v1/agents/carol", body: `{"id":"dave","name":"Dave"}`, status: 400, message: `field "id" is "dave" but the path says "carol"`},
		{name: "agent-bad-id", method: "PUT", path: "/api/v1/agents/carol%20x", body: `{"name":"Carol"}`, status: 400, message: `agent id "carol x"`, field: "id"},
		{name: "agent-skill-level", method: "PUT", path: "/api/v1/agents/carol", body: `{"name":"Carol","skills":{"billing":101}}`, status: 400, message: "skill level 101 is too high (want 0 to 100)", field: "skills.billing"},
		{name: "state-missing", method: "PUT", path: "/api/v1/agents/alice/state", body: `{"reason":"lunch"}`, status: 400, message: `field "state" is required`},
		{name: "state-unknown", method: "PUT", path: "/api/v1/agents/alice/state", body: `{"state":"wrapup"}`, status: 400, message: `field "state": "wrapup" is not a state you can set; want available, away or offline`},
		{name: "state-reason-not-away", method: "PUT", path: "/api/v1/agents/bob/state", body: `{"state":"available","reason":"lunch"}`, status: 400, message: `field "reason" is only for state "away"`},
		{name: "state-bad-reason", method: "PUT", path: "/api/v1/agents/alice/state", body: `{"state":"away","reason":"long lunch"}`, status: 400, message: `away reason "long lunch"`, field: "reason"},
		{name: "contact-fields-missing", method: "POST", path: "/api/v1/contacts", body: `{"subject":"hi"}`, status: 400, message: `empty channel (want up to 64 letters`, field: "channel"},
		{name: "contact-queue-missing", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api"}`, status: 400, message: `empty queue name (want up to 64 letters`, field: "queue"},
		{name: "contact-channel-unknown", method: "POST", path: "/api/v1/contacts", body: `{"channel":"fax","queue":"billing"}`, status: 400, message: `channel "fax" is not configured`, field: "channel"},
		{name: "contact-queue-unknown", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"nope"}`, status: 404, message: `field "queue": queue "nope" does not exist`, field: "queue"},
		{name: "contact-priority", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","priority":5000}`, status: 400, message: "priority 5000: want -1000 to 1000", field: "priority"},
		{name: "contact-preferred-agent", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","preferred_agents":["bob","no one"]}`, status: 400, message: `invalid agent id "no one" (want up to 64 letters`, field: "preferred_agents[1]"},
		{name: "contact-requirement-level", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","requirements":[{"skill":"billing","min":101}]}`, status: 400, message: "level 101 is too high (want 0 to 100)", field: "requirements[0].min"},
		{name: "contact-timeout", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing","preferred_agents":["bob"],"preferred_timeout":"soon"}`, status: 400, message: `field "preferred_timeout": "soon" is not a duration`},
		{name: "contact-key-too-long", method: "POST", path: "/api/v1/contacts", body: `{"channel":"api","queue":"billing"}`, header: []string{"Idempotency-Key", strings.Repeat("k", 201)}, status: 400, message: "Idempotency-Key is 201 bytes long; want at most 200"},
		{name: "queue-name-mismatch", method: "PUT", path: "/api/v1/queues/tech", body: `{"name":"sales"}`, status: 400, message: `field "name" is "sales" but the path says "tech"`},
		{name: "queue-duration", method: "PUT", path: "/api/v1/queues/tech", body: `{"max_wait":"5 minutes","overflow":"billing"}`, status: 400, message: `field "max_wait": "5 minutes" is not a duration`},
		{name: "queue-relax-duration", method: "PUT", path: "/api/v1/queues/tech", body: `{"relaxation":[{"name":"wider","after":"-1s"}]}`, status: 400, message: `field "relaxation[0].after": "-1s" is negative`},
		{name: "queue-strategy", method: "PUT", path: "/api/v1/queues/tech", body: `{"strategy":"fastest"}`, status: 400, message: `unknown strategy "fastest" (want longest_idle, least_occupied, best_skill or round_robin)`, field: "strategy"},
		{name: "queue-overflow", method: "PUT", path: "/api/v1/queues/tech", body: `{"overflow":"nope"}`, status: 400, message: `unknown queue "nope"`, field: "overflow"},
		{name: "accept-agent-missing", method: "POST", path: "/api/v1/contacts/" + offered + "/accept", body: `{}`, status: 400, message: `field "agent_id" is required`},
		{name: "accept-not-yours", method: "POST", path: "/api/v1/contacts/" + offered + "/accept", body: `{"agent_id":"bob"}`, status: 409, message: "is not with bob"},
		{name: "accept-queued", method: "POST", path: "/api/v1/contacts/" + queued + "/accept", body: `{"agent_id":""}`, status: 400, message: `field "agent_id" is required`},
		{name: "wrapup-offered", method: "POST", path: "/api/v1/contacts/" + offered + "/wrapup", body: `{"agent_id":"alice"}`, status: 409, message: "is offered"},
		{name: "transfer-nowhere", method: "POST", path: "/api/v1/contacts/" + offered + "/transfer", body: `{"agent_id":"alice"}`, status: 400, message: `give field "queue"`},
		{name: "message-direction", method: "POST", path: "/api/v1/contacts/" + queued + "/messages", body: `{"direction":"sideways","body":"hi"}`, status: 400, message: `field "direction": "sideways": want "in"`},
		{name: "message-body-missing", method: "POST", path: "/api/v1/contacts/" + queued + "/messages", body: `{"direction":"in"}`, status: 400, message: `field "body" is required`},
		{name: "message-client-id", method: "POST", path: "/api/v1/contacts/" + queued + "/messages", body: `{"direction":"in","body":"hi","client_id":"m1"}`, status: 400, message: `unknown field "client_id"`, field: "client_id"},

		// Query parameters.
		{name: "list-limit-zero", method: "GET", path: "/api/v1/contacts?limit=0", status: 400, message: `query parameter "limit": "0": want an integer from 1 to 500`},
		{name: "list-limit-text", method: "GET", path: "/api/v1/contacts?limit=ten", status: 400, message: `query parameter "limit": "ten"`},
		{name: "list-limit-big", method: "GET", path: "/api/v1/contacts?limit=501", status: 400, message: "from 1 to 500"},
		{name: "list-state", method: "GET", path: "/api/v1/contacts?state=open", status: 400, message: `query parameter "state": "open" is not a state`},
		{name: "list-cursor", method: "GET", path: "/api/v1/contacts?cursor=bm9wZQ", status: 400, message: `query parameter "cursor": "bm9wZQ" is not a cursor`},
		{name: "list-unknown", method: "GET", path: "/api/v1/contacts?status=queued", status: 400, message: `unknown query parameter "status"; valid: state, channel`},
		{name: "list-twice", method: "GET", path: "/api/v1/contacts?queue=a&queue=b", status: 400, message: `query parameter "queue" is given 2 times`},
		{name: "get-messages-after", method: "GET", path: "/api/v1/contacts/" + queued + "?messages_after=-1", status: 400, message: `"messages_after": "-1"`},

		// Unknown ids.
		{name: "get-agent", method: "GET", path: "/api/v1/agents/zed", status: 404, message: `agent "zed" does not exist`},
		{name: "delete-agent", method: "DELETE", path: "/api/v1/agents/zed", status: 404, message: `no such agent: "zed"`},
		{name: "state-agent", method: "PUT", path: "/api/v1/agents/zed/state", body: `{"state":"available"}`, status: 404, message: `no such agent: "zed"`},
		{name: "get-queue", method: "GET", path: "/api/v1/queues/nope", status: 404, message: `queue "nope" does not exist`},
		{name: "delete-queue", method: "DELETE", path: "/api/v1/queues/nope", status: 404, message: `no such queue: "nope"`},
		{name: "get-contact", method: "GET", path: "/api/v1/contacts/nope", status: 404, message: `contact "nope" does not exist`},
		{name: "accept-contact", method: "POST", path: "/api/v1/contacts/nope/accept", body: `{"agent_id":"alice"}`, status: 404, message: `contact "nope" does not exist`},
		{name: "abandon-contact", method: "POST", path: "/api/v1/contacts/nope/abandon", status: 404, message: `contact "nope" does not exist`},
		{name: "message-contact", method: "POST", path: "/api/v1/contacts/nope/messages", body: `{"direction":"in","body":"hi"}`, status: 404, message: `contact "nope" does not exist`},
		{name: "transfer-to-nobody", method: "POST", path: "/api/v1/contacts/" + offered + "/transfer", body: `{"agent_id":"alice","to_agent":"zed"}`, status: 409, message: "is offered"},
		{name: "unknown-path", method: "GET", path: "/api/v1/agent", status: 404, message: "no endpoint at /api/v1/agent"},
		{name: "unknown-public-path", method: "GET", path: "/metrics", status: 404, message: "no endpoint at /metrics"},

		// Methods.
		{name: "method-contacts", method: "DELETE", path: "/api/v1/contacts", status: 405, message: "method DELETE is not allowed on /api/v1/contacts", allow: "POST"},
		{name: "method-agent", method: "PATCH", path: "/api/v1/agents/alice", body: `{"name":"A"}`, status: 405, message: "method PATCH is not allowed", allow: "PUT"},
		{name: "method-accept", method: "GET", path: "/api/v1/contacts/" + offered + "/accept", status: 405, message: "allowed: POST", allow: "POST"},
		{name: "method-healthz", method: "POST", path: "/healthz", status: 405, message: "allowed: GET", allow: "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state()
			res := e.do(tt.method, tt.path, adminToken, tt.body, tt.header...)
			if res.status != tt.status {
				t.Errorf("status: got %d, want %d; body %s", res.status, tt.status, res.body)
			}
			if got := res.header.Get("Content-Type"); got != json {
				t.Errorf("Content-Type: got %q, want %q", got, json)
			}
			body := decodeAs[apiError](t, res).Error
			if !strings.Contains(body.Message, tt.message) {
				t.Errorf("message: got %q, want it to contain %q", body.Message, tt.message)
			}
			if strings.Contains(body.Message, "router:") {
				t.Errorf("message: got %q, want no package prefix", body.Message)
			}
			if body.Field != tt.field {
				t.Errorf("field: got %q, want %q", body.Field, tt.field)
			}
			if tt.allow != "" && !strings.Contains(res.header.Get("Allow"), tt.allow) {
				t.Errorf("Allow: got %q, want it to list %s", res.header.Get("Allow"), tt.allow)
			}
			if e.state() != before {
				t.Errorf("a refused request changed the state")
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	e := newEnv(t)
	e.seed()
	tests := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"PUT", "/api/v1/agents/carol", `{}`, 400, "invalid"},
		{"GET", "/api/v1/agents/zed", "", 404, "not_found"},
		{"POST", "/api/v1/agents", "", 405, "method_not_allowed"},
		{"PUT", "/api/v1/agents/carol", `{"name":"` + strings.Repeat("x", testMaxBody) + `"}`, 413, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			res := e.do(tt.method, tt.path, adminToken, tt.body)
			if got := decodeAs[apiError](t, res).Error.Code; res.status != tt.status || got != tt.code {
				t.Errorf("got %d %q, want %d %q", res.status, got, tt.status, tt.code)
			}
		})
	}
}
