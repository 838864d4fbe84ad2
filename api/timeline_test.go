package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/store"
)

// timelineEnv is Ada with an old profile merged into her, and contacts
// that are hers by her id, her phone, the old profile's id and its email
// (now hers); then busy more by her id, and one of Bob's.
func timelineEnv(t *testing.T, busy int) (e *env, oldest []string, all []string) {
	t.Helper()
	e = newEnv(t)
	e.seed()
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada", adaBody)
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada-old", `{"emails":["old@example.com"]}`)
	if err := e.db.MergeCustomers(context.Background(), store.Merge{FromID: "ada-old", IntoID: "ada",
		IdentityKind: "email", IdentityValue: "old@example.com", At: epoch, Reason: "test"}); err != nil {
		t.Fatalf("merge: %v", err)
	}
	e.available("alice")
	create := func(customer string) string {
		t.Helper()
		e.clock.Advance(time.Second)
		return e.create(`{"channel":"api","queue":"billing","subject":"s","customer":` + customer + `}`).ID
	}
	// The first is offered to alice, who takes it and closes it.
	first := create(`{"id":"ada"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+first+"/accept", `{"agent_id":"alice"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+first+"/wrapup", `{"agent_id":"alice","disposition":"refund"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+first+"/close", `{"agent_id":"alice"}`)
	if err := e.db.RecordCSAT(context.Background(), csat.Response{ContactID: first, Queue: "billing", Score: 5, Comment: "fast", At: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	oldest = []string{first, create(`{"phone":"+15551234567"}`), create(`{"id":"ada-old"}`), create(`{"email":"old@example.com"}`)}
	create(`{"email":"bob@example.com"}`)
	all = append(all, oldest...)
	for range busy {
		all = append(all, create(`{"id":"ada"}`))
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return e, oldest, all
}

func entryIDs(es []timelineEntry) []string {
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestCustomerTimelineInGet(t *testing.T) {
	e, oldest, all := timelineEnv(t, 22)
	got := decodeAs[customerDetail](t, e.do("GET", "/api/v1/customers/ada", supervisorToken, ""))
	if got.Name != "Ada" || len(got.Timeline) != store.DefaultTimelineLimit || got.TimelineNext == "" {
		t.Fatalf("got %s, %d entries, next %q; want Ada's profile with 20 entries and a cursor", got.Name, len(got.Timeline), got.TimelineNext)
	}
	if ids := entryIDs(got.Timeline); fmt.Sprint(ids) != fmt.Sprint(all[:20]) {
		t.Errorf("timeline: got %v, want the 20 newest %v", ids, all[:20])
	}
	rest := decodeAs[customerTimeline](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada/timeline?cursor="+url.QueryEscape(got.TimelineNext), ""))
	if ids := entryIDs(rest.Timeline); fmt.Sprint(ids) != fmt.Sprint(all[20:]) || rest.Next != "" {
		t.Errorf("rest: got %v next %q, want %v and no next", ids, rest.Next, all[20:])
	}
	// The oldest is by her id, closed by alice with a disposition.
	last := rest.Timeline[len(rest.Timeline)-1]
	if last.ID != oldest[0] || last.AgentID != "alice" || last.State != "closed" || last.Disposition != "refund" ||
		last.Channel != "api" || last.Queue != "billing" || last.Subject != "s" || last.CustomerID != "ada" || last.EndedAt == nil || last.CreatedAt.IsZero() {
		t.Errorf("oldest entry: got %+v", last)
	}
	if a := last.CSAT; a == nil || a.Score != 5 || a.Comment != "fast" {
		t.Errorf("oldest entry's survey answer: %+v, want 5 \"fast\"", a)
	}
	if a := rest.Timeline[len(rest.Timeline)-2].CSAT; a != nil {
		t.Errorf("an unanswered entry has %+v", a)
	}
	// The third waits: alice, free again, has the second ringing.
	if q := rest.Timeline[len(rest.Timeline)-3]; q.ID != oldest[2] || q.State != "queued" || q.EndedAt != nil || q.AgentID != "" || q.CustomerID != "ada-old" {
		t.Errorf("a queued entry: got %+v, want queued, no end, no agent", q)
	}

	small := decodeAs[customerDetail](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada?timeline_limit=3", ""))
	if ids := entryIDs(small.Timeline); fmt.Sprint(ids) != fmt.Sprint(all[:3]) || small.TimelineNext == "" {
		t.Errorf("timeline_limit=3: got %v next %q, want %v and a cursor", ids, small.TimelineNext, all[:3])
	}
	// The merged-away customer's timeline is its own contacts.
	old := decodeAs[customerDetail](t, e.must(http.StatusOK, "GET", "/api/v1/customers/ada-old", ""))
	if ids := entryIDs(old.Timeline); fmt.Sprint(ids) != fmt.Sprint([]string{oldest[2]}) || old.MergedInto != "ada" {
		t.Errorf("ada-old: got %v merged into %q, want [%s] merged into ada", ids, old.MergedInto, oldest[2])
	}
	// A customer without contacts has an empty list, not null.
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/zed", `{}`)
	if res := e.must(http.StatusOK, "GET", "/api/v1/customers/zed", ""); !strings.Contains(string(res.body), `"timeline":[]`) {
		t.Errorf("zed: got %s, want \"timeline\":[]", res.body)
	}
}

func TestCustomerTimelinePaging(t *testing.T) {
	e, _, all := timelineEnv(t, 3)
	var got []string
	next := ""
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("no last page")
		}
		path := "/api/v1/customers/ada/timeline?limit=2"
		if next != "" {
			path += "&cursor=" + url.QueryEscape(next)
		}
		page := decodeAs[customerTimeline](t, e.do("GET", path, integrationToken, ""))
		if len(page.Timeline) > 2 {
			t.Fatalf("got a page of %d, want at most 2", len(page.Timeline))
		}
		got = append(got, entryIDs(page.Timeline)...)
		if next = page.Next; next == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(all) {
		t.Errorf("walk: got %v, want %v (newest first, each once, Bob's not)", got, all)
	}
}

func TestCustomerTimelineBadRequests(t *testing.T) {
	e, _, _ := timelineEnv(t, 0)
	tests := []struct {
		name, path string
		status     int
		want       string
	}{
		{"limit-zero", "/api/v1/customers/ada?timeline_limit=0", http.StatusBadRequest, `"timeline_limit"`},
		{"limit-over", "/api/v1/customers/ada?timeline_limit=101", http.StatusBadRequest, "1 to 100"},
		{"limit-not-a-number", "/api/v1/customers/ada/timeline?limit=ten", http.StatusBadRequest, `"limit"`},
		{"unknown-parameter", "/api/v1/customers/ada?limit=5", http.StatusBadRequest, "timeline_limit"},
		{"twice", "/api/v1/customers/ada/timeline?limit=5&limit=6", http.StatusBadRequest, "once"},
		{"bad-cursor", "/api/v1/customers/ada/timeline?cursor=nope", http.StatusBadRequest, `"cursor"`},
		{"unknown-customer", "/api/v1/customers/nobody/timeline", http.StatusNotFound, "nobody"},
		{"unknown-customer-get", "/api/v1/customers/nobody?timeline_limit=5", http.StatusNotFound, "nobody"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do("GET", tt.path, adminToken, "")
			if res.status != tt.status {
				t.Fatalf("got %d, want %d; %s", res.status, tt.status, res.body)
			}
			if msg := decodeAs[apiError](t, res).Error.Message; !strings.Contains(msg, tt.want) {
				t.Errorf("message: got %q, want it to name %s", msg, tt.want)
			}
		})
	}
}
