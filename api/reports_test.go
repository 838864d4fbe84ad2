package api

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestQueueReport: a contact answered after 12 s and one abandoned, as
// JSON and as CSV; bad parameters are refused, and only staff may read.
func TestQueueReport(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Ada"},"body":"hello"}`)
	e.clock.Advance(12 * time.Second)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	left := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Bea"},"body":"hi"}`)
	e.clock.Advance(30 * time.Second)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+left.ID+"/abandon", `{}`)

	from := epoch.Add(-time.Hour).Format(time.RFC3339)
	to := epoch.Add(time.Hour).Format(time.RFC3339)
	path := "/api/v1/reports/queues?from=" + from + "&to=" + to + "&interval=1h"
	rep := decodeAs[queueReport](t, e.do("GET", path, supervisorToken, ""))
	if len(rep.Rows) != 2 || rep.Interval != "1h0m0s" {
		t.Fatalf("got %+v, want 2 hourly rows of billing", rep)
	}
	r := rep.Rows[1] // the hour from epoch
	if r.Queue != "billing" || r.Offered != 2 || r.Answered != 1 || r.AnsweredWithin != 1 || r.Abandoned != 1 ||
		r.ServiceLevel == nil || *r.ServiceLevel != 0.5 || r.ASASeconds == nil || *r.ASASeconds != 12 {
		t.Errorf("the hour: got %+v, want 2 offered, 1 answered in 12 s, 1 abandoned, service level 0.5", r)
	}

	res := e.do("GET", path+"&format=csv", adminToken, "")
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", res.status, res.header.Get("Content-Type"))
	}
	records, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil || len(records) != 3 {
		t.Fatalf("csv: %v %q", err, res.body)
	}
	if strings.Join(records[0], ",") != strings.Join(reportColumns, ",") || records[2][2] != "billing" || records[2][8] != "0.5" || records[1][8] != "" {
		t.Errorf("csv rows: %q", records)
	}
	if res := e.do("GET", path, supervisorToken, "", "Accept", "text/csv"); !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
		t.Errorf("Accept: text/csv: got %s", res.header.Get("Content-Type"))
	}

	for _, bad := range []string{
		"/api/v1/reports/queues",
		"/api/v1/reports/queues?from=" + from,
		"/api/v1/reports/queues?from=yesterday&to=" + to,
		"/api/v1/reports/queues?from=" + to + "&to=" + from,
		path + "&colour=red",
		strings.Replace(path, "interval=1h", "interval=1m", 1),
		path + "&format=xml",
	} {
		if res := e.do("GET", bad, adminToken, ""); res.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", bad, res.status, res.body)
		}
	}
	if res := e.do("GET", path+"&queue=nowhere", adminToken, ""); res.status != http.StatusNotFound {
		t.Errorf("an unknown queue: %d, want 404", res.status)
	}
	if rep := decodeAs[queueReport](t, e.do("GET", path+"&queue=billing", adminToken, "")); len(rep.Rows) != 2 || rep.Rows[0].Queue != "billing" {
		t.Errorf("queue=billing: %+v", rep.Rows)
	}
	if res := e.do("GET", path, integrationToken, ""); res.status != http.StatusForbidden {
		t.Errorf("an integration: %d, want 403", res.status)
	}
}

// TestAgentReport: alice, available for a minute then away, takes a
// contact for 40 s: the hour's row says so, as JSON and CSV; an agent
// filter, bad parameters and an integration are handled.
func TestAgentReport(t *testing.T) {
	e := newEnv(t)
	e.seed()
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing","customer":{"name":"Ada"},"body":"hello"}`)
	e.clock.Advance(10 * time.Second)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	e.clock.Advance(40 * time.Second)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/close", `{"agent_id":"alice"}`)
	e.clock.Advance(10 * time.Second)
	e.must(http.StatusOK, "PUT", "/api/v1/agents/alice/state", `{"state":"away","reason":"lunch"}`)
	e.clock.Advance(2 * time.Minute)

	from := epoch.Add(-time.Hour).Format(time.RFC3339)
	to := epoch.Add(time.Hour).Format(time.RFC3339)
	path := "/api/v1/reports/agents?from=" + from + "&to=" + to + "&interval=1h"
	rep := decodeAs[agentReport](t, e.do("GET", path, supervisorToken, ""))
	if len(rep.Rows) != 1 {
		t.Fatalf("got %+v, want alice's hour", rep.Rows)
	}
	r := rep.Rows[0]
	if r.Agent != "alice" || r.Handled != 1 || r.AHTSeconds == nil || *r.AHTSeconds != 40 || r.BusySeconds != 40 ||
		r.StaffedSeconds != 60 || r.Occupancy == nil || *r.Occupancy != 40.0/60 || r.AwaySeconds <= 0 {
		t.Errorf("alice's hour: %+v", r)
	}
	res := e.do("GET", path+"&format=csv", adminToken, "")
	records, err := csv.NewReader(strings.NewReader(string(res.body))).ReadAll()
	if err != nil || len(records) != 2 || strings.Join(records[0], ",") != strings.Join(agentReportColumns, ",") || records[1][2] != "alice" || records[1][3] != "1" {
		t.Errorf("csv: %v %q", err, records)
	}
	if rep := decodeAs[agentReport](t, e.do("GET", path+"&agent=bob", adminToken, "")); len(rep.Rows) != 0 {
		t.Errorf("agent=bob: %+v", rep.Rows)
	}
	for _, bad := range []string{"/api/v1/reports/agents", path + "&queue=billing", path + "&format=xml"} {
		if res := e.do("GET", bad, adminToken, ""); res.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, res.status)
		}
	}
	if res := e.do("GET", path, integrationToken, ""); res.status != http.StatusForbidden {
		t.Errorf("an integration: %d, want 403", res.status)
	}
}
