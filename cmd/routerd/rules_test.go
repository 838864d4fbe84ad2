package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
)

// TestOneQueueRule feeds the same queues through the configuration file,
// the HTTP API and the router, and expects the same verdict from each,
// naming the same field: a queue's rules live in one place
// (router.Queue.Validate).
func TestOneQueueRule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon in process")
	}
	srv, in := startMatrixDaemon(t)
	tests := []struct {
		name  string
		yaml  string // the queue's fields, in the configuration
		json  string // the same, as PUT /api/v1/queues/{name} takes them
		queue router.Queue
		field string // "" when valid
	}{
		{"segment boosts", "segment_boosts: {premium: 20}", `{"segment_boosts":{"premium":20}}`,
			router.Queue{SegmentBoosts: map[string]int{"premium": 20}}, ""},
		{"segment boost too high", "segment_boosts: {premium: 5000}", `{"segment_boosts":{"premium":5000}}`,
			router.Queue{SegmentBoosts: map[string]int{"premium": 5000}}, "segment_boosts.premium"},
		{"steps at the same time", "relaxation: [{name: a, after: 30s, drop: [x]}, {name: b, after: 30s, drop: [y]}]",
			`{"relaxation":[{"name":"a","after":"30s","drop":["x"]},{"name":"b","after":"30s","drop":["y"]}]}`,
			router.Queue{Relaxation: []router.RelaxStep{{Name: "a", After: router.Duration(30e9), Drop: []string{"x"}}, {Name: "b", After: router.Duration(30e9), Drop: []string{"y"}}}},
			"relaxation[1].after"},
		{"a step named twice", "relaxation: [{name: a, after: 10s, drop: [x]}, {name: a, after: 20s, drop: [y]}]",
			`{"relaxation":[{"name":"a","after":"10s","drop":["x"]},{"name":"a","after":"20s","drop":["y"]}]}`,
			router.Queue{Relaxation: []router.RelaxStep{{Name: "a", After: router.Duration(10e9), Drop: []string{"x"}}, {Name: "a", After: router.Duration(20e9), Drop: []string{"y"}}}},
			"relaxation[1].name"},
		{"a step that changes nothing", "relaxation: [{name: a, after: 10s}]", `{"relaxation":[{"name":"a","after":"10s"}]}`,
			router.Queue{Relaxation: []router.RelaxStep{{Name: "a", After: router.Duration(10e9)}}}, "relaxation[0]"},
		{"short abandon", "service_level: {target: 0.8, within: 20s, short_abandon: 5s}", `{"service_level":{"target":0.8,"within":"20s","short_abandon":"5s"}}`,
			router.Queue{ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20e9), ShortAbandon: router.Duration(5e9)}}, ""},
		{"short abandon too long", "service_level: {target: 0.8, within: 20s, short_abandon: 10m}", `{"service_level":{"target":0.8,"within":"20s","short_abandon":"10m"}}`,
			router.Queue{ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20e9), ShortAbandon: router.Duration(600e9)}}, "service_level.short_abandon"},
		{"max wait without overflow", "max_wait: 5m", `{"max_wait":"5m"}`,
			router.Queue{MaxWait: router.Duration(300e9)}, "max_wait"},
		{"tiers out of order", "value_tiers: [{min: 100, boost: 1}, {min: 50, boost: 2}]", `{"value_tiers":[{"min":100,"boost":1},{"min":50,"boost":2}]}`,
			router.Queue{ValueTiers: []router.ValueTier{{Min: 100, Boost: 1}, {Min: 50, Boost: 2}}}, "value_tiers[1].min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The configuration file.
			yaml := "queues:\n  - name: rules\n    " + tt.yaml + "\n"
			_, err := config.Parse("x.yaml", []byte(yaml))
			if tt.field == "" && err != nil {
				t.Errorf("config: %v", err)
			}
			if tt.field != "" && (err == nil || !strings.Contains(err.Error(), "queues[0]."+tt.field+": ")) {
				t.Errorf("config: got %v, want an error naming queues[0].%s", err, tt.field)
			}
			// The HTTP API.
			status, body, apiErr := adminPut(t, srv.URL+"/api/v1/queues/rules-api", tt.json)
			switch {
			case tt.field == "" && status >= 300:
				t.Errorf("api: got %d %s", status, body)
			case tt.field != "" && (status != http.StatusBadRequest || apiErr.Field != tt.field):
				t.Errorf("api: got %d %s, want 400 naming %s", status, body, tt.field)
			}
			// The router.
			q := tt.queue
			q.Name = "rules-router"
			_, err = in.rt.PutQueue(context.Background(), q)
			if _, problem := routerVerdict(err, tt.field); problem != "" {
				t.Error(problem)
			}
		})
	}
}

// TestOneOfferRule: an offer's rules (offers.Offer.Validate) are the same
// in the configuration file and over the HTTP API.
func TestOneOfferRule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon in process")
	}
	srv, _ := startMatrixDaemon(t)
	long := strings.Repeat("w", 600)
	points := `["` + strings.Repeat(`p", "`, 24) + `p"]`
	tests := []struct {
		name, yaml, json, field string
	}{
		{"a long why", "why: " + long, `"why":"` + long + `"`, "why"},
		{"25 talking points", "talking_points: " + points, `"talking_points":` + points, "talking_points"},
		{"no title", "", `"title":""`, "title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "offers:\n  catalog:\n    - id: o1\n      title: T\n      value: 1\n"
			if tt.field == "title" {
				yaml = "offers:\n  catalog:\n    - id: o1\n      value: 1\n"
			}
			if tt.yaml != "" {
				yaml += "      " + tt.yaml + "\n"
			}
			_, err := config.Parse("x.yaml", []byte(yaml))
			if err == nil || !strings.Contains(err.Error(), "offers.catalog[0]."+tt.field+": ") {
				t.Errorf("config: got %v, want an error naming offers.catalog[0].%s", err, tt.field)
			}
			body := `{"title":"T","value":1,"eligible":"",` + tt.json + `}`
			status, b, _ := adminPut(t, srv.URL+"/api/v1/offers/o1", body)
			if status != http.StatusBadRequest || !strings.Contains(b, `field \"`+tt.field+`\"`) {
				t.Errorf("api: got %d %s, want 400 naming %s", status, b, tt.field)
			}
		})
	}
}

// TestOneAgentRule feeds the same agents through the configuration file,
// the HTTP API and the router, and expects the same verdict from each,
// naming the same field in the same words: an agent's rules live in one
// place (router.Agent.Validate).
func TestOneAgentRule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon in process")
	}
	srv, in := startMatrixDaemon(t)
	manySkills := map[string]int{}
	for i := range router.MaxSkills + 1 {
		manySkills["s"+strconv.Itoa(i)] = 1
	}
	many, _ := json.Marshal(manySkills)
	long := strings.Repeat("n", router.MaxAgentNameLen+1)
	tests := []struct {
		name  string
		yaml  string // the agent's fields besides its id, in the configuration
		json  string // the same, as PUT /api/v1/agents/{id} takes them
		agent router.Agent
		field string // "" when valid
	}{
		{"valid", "name: Rule, skills: {billing: 3}, capacity: {chat: 2}", `{"name":"Rule","skills":{"billing":3},"capacity":{"chat":2}}`,
			router.Agent{Name: "Rule", Skills: map[string]int{"billing": 3}, Capacity: map[string]int{"chat": 2}}, ""},
		{"skill level too high", "name: Rule, skills: {billing: 101}", `{"name":"Rule","skills":{"billing":101}}`,
			router.Agent{Name: "Rule", Skills: map[string]int{"billing": 101}}, "skills.billing"},
		{"skill that is not a name", `name: Rule, skills: {"a b": 1}`, `{"name":"Rule","skills":{"a b":1}}`,
			router.Agent{Name: "Rule", Skills: map[string]int{"a b": 1}}, `skills["a b"]`},
		{"too many skills", "name: Rule, skills: " + string(many), `{"name":"Rule","skills":` + string(many) + `}`,
			router.Agent{Name: "Rule", Skills: manySkills}, "skills"},
		{"negative capacity", "name: Rule, capacity: {chat: -1}", `{"name":"Rule","capacity":{"chat":-1}}`,
			router.Agent{Name: "Rule", Capacity: map[string]int{"chat": -1}}, "capacity.chat"},
		{"long name", "name: " + long, `{"name":"` + long + `"}`,
			router.Agent{Name: long}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The router.
			a := tt.agent
			a.ID = "rules-router"
			_, _, err := in.rt.PutAgent(context.Background(), a)
			msg, problem := routerVerdict(err, tt.field)
			if problem != "" {
				t.Fatal(problem)
			}
			// The configuration file.
			yaml := "agents:\n  - {id: rules, " + tt.yaml + "}\n"
			_, err = config.Parse("x.yaml", []byte(yaml))
			if tt.field == "" && err != nil {
				t.Errorf("config: %v", err)
			}
			if tt.field != "" && (err == nil || !strings.Contains(err.Error(), "agents[0]."+tt.field+": "+msg)) {
				t.Errorf("config: got %v, want an error naming agents[0].%s: %s", err, tt.field, msg)
			}
			// The HTTP API.
			status, body, apiErr := adminPut(t, srv.URL+"/api/v1/agents/rules-api", tt.json)
			switch {
			case tt.field == "" && status >= 300:
				t.Errorf("api: got %d %s", status, body)
			case tt.field != "" && (status != http.StatusBadRequest || apiErr.Field != tt.field || apiErr.Message != msg):
				t.Errorf("api: got %d %s, want 400 naming %s: %s", status, body, tt.field, msg)
			}
		})
	}
}

// TestOneContactRule feeds the same new contacts through the HTTP API
// (POST /api/v1/contacts), the router and, for what a customer types,
// the web chat's start, and expects the same verdict from each, naming
// the same field in the same words: a new contact's rules live in one
// place (router.NewContact.Validate). The API took the customer's fields
// unbounded and a preferred timeout of any length, where the chat and
// the configuration held them to a limit.
func TestOneContactRule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a daemon in process")
	}
	srv, in := startMatrixDaemon(t)
	long := strings.Repeat("é", router.MaxCustomerNameLen+1)
	tests := []struct {
		name string
		json string // the contact's fields besides channel, queue and body
		nc   router.NewContact
		// chat, when set, is the chat's start with the same customer
		// (what the chat form lets a customer type).
		chat  map[string]any
		field string // "" when valid
	}{
		{"valid", `"customer":{"name":"Ada Lovelace","phone":"+33 6 12 34 56 78"}`,
			router.NewContact{Customer: router.Customer{Name: "Ada Lovelace", Phone: "+33 6 12 34 56 78"}},
			map[string]any{"name": "Ada Lovelace", "phone": "+33 6 12 34 56 78"}, ""},
		{"customer name too long", `"customer":{"name":"` + long + `"}`,
			router.NewContact{Customer: router.Customer{Name: long}},
			map[string]any{"name": long}, "customer.name"},
		{"customer name with a control character", `"customer":{"name":"Ada\u0007"}`,
			router.NewContact{Customer: router.Customer{Name: "Ada\a"}},
			map[string]any{"name": "Ada\a"}, "customer.name"},
		{"phone too long", `"customer":{"name":"Ada","phone":"+33 6 12 34 56 78` + strings.Repeat(" ", 20) + `9"}`,
			router.NewContact{Customer: router.Customer{Name: "Ada", Phone: "+33 6 12 34 56 78" + strings.Repeat(" ", 20) + "9"}},
			map[string]any{"name": "Ada", "phone": "+33 6 12 34 56 78" + strings.Repeat(" ", 20) + "9"}, "customer.phone"},
		{"customer id too long", `"customer":{"id":"` + strings.Repeat("i", router.MaxCustomerIDLen+1) + `"}`,
			router.NewContact{Customer: router.Customer{ID: strings.Repeat("i", router.MaxCustomerIDLen+1)}}, nil, "customer.id"},
		{"preferred timeout over the configuration's limit", `"preferred_agents":["alice"],"preferred_timeout":"1h"`,
			router.NewContact{Preferred: []string{"alice"}, PreferredTimeout: time.Hour}, nil, "preferred_timeout"},
		{"priority out of range", `"priority":5000`, router.NewContact{Priority: 5000}, nil, "priority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The router.
			nc := tt.nc
			nc.Channel, nc.Queue, nc.Body = "api", "billing", "hi"
			_, _, err := in.rt.Submit(context.Background(), nc)
			msg, problem := routerVerdict(err, tt.field)
			if problem != "" {
				t.Fatal(problem)
			}
			// The HTTP API.
			status, body, apiErr := integrationPost(t, srv.URL+"/api/v1/contacts", `{"channel":"api","queue":"billing","body":"hi",`+tt.json+`}`)
			switch {
			case tt.field == "" && status != http.StatusCreated:
				t.Errorf("api: got %d %s", status, body)
			case tt.field != "" && (status != http.StatusBadRequest || apiErr.Field != tt.field || apiErr.Message != msg):
				t.Errorf("api: got %d %s, want 400 naming %s: %s", status, body, tt.field, msg)
			}
			// The web chat.
			if tt.chat == nil {
				return
			}
			start := map[string]any{"topic": "billing", "leave_message": true, "message": "hi", "email": "ada@example.com"}
			maps.Copy(start, tt.chat)
			typ, data := chatStart(t, srv.URL, start)
			switch {
			case tt.field == "" && typ != "started":
				t.Errorf("chat: got %s %s, want started", typ, data)
			case tt.field != "" && (typ != "error" || data["code"] != "invalid" || data["message"] != "start: "+msg):
				t.Errorf("chat: got %s %v, want invalid: start: %s", typ, data, msg)
			}
		})
	}
}

// integrationPost POSTs body (JSON) to url as the integration and returns
// the status, the body and its error, if any.
func integrationPost(t *testing.T, url, body string) (status int, text string, e apiError) {
	t.Helper()
	return apiCall(t, "POST", url, matrixIntegration, body)
}

// chatStart sends a chat's start frame with data on a new socket and
// returns the type of the answer (started or error) and its data.
func chatStart(t *testing.T, base string, data map[string]any) (string, map[string]any) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/ws/chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	readUntil(t, ws, "welcome")
	if err := ws.WriteJSON(frame{Type: "start", ID: "1", Data: mustJSON(data)}); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second)) // bounds a failure only
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("chat: waiting for the answer to start: %v", err)
		}
		if f.Type != "started" && f.Type != "error" {
			continue
		}
		var out map[string]any
		json.Unmarshal(f.Data, &out)
		return f.Type, out
	}
}

// routerVerdict reads the router's answer err to an input whose bad
// field is field ("": none): the error's message, and the problem when
// the verdict is not the one wanted (no error for a good input, an error
// naming field for a bad one).
func routerVerdict(err error, field string) (msg, problem string) {
	var re *router.Error
	switch {
	case field == "" && err != nil:
		return "", fmt.Sprintf("router: %v", err)
	case field != "" && (!errors.As(err, &re) || re.Field != field):
		return "", fmt.Sprintf("router: got %v, want an error naming %s", err, field)
	}
	if re != nil {
		msg = re.Message
	}
	return msg, ""
}

// apiError is the error body of the HTTP API.
type apiError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// adminPut PUTs body (JSON) to url as the admin and returns the status,
// the body and its error, if any.
func adminPut(t *testing.T, url, body string) (status int, text string, e apiError) {
	t.Helper()
	return apiCall(t, "PUT", url, matrixAdmin, body)
}

// apiCall sends body (JSON) to url with method as token and returns the
// status, the body and its error, if any.
func apiCall(t *testing.T, method, url, token, body string) (status int, text string, e apiError) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var wrapped struct {
		Error apiError `json:"error"`
	}
	json.Unmarshal(b, &wrapped) // a 2xx has no error: e stays empty
	return res.StatusCode, string(b), wrapped.Error
}
