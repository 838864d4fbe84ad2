package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// timelineIDs walks every page of f, limit at a time, and returns the
// contact ids in order.
func timelineIDs(t *testing.T, db *DB, f TimelineFilter) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("timeline %+v: no last page", f)
		}
		page, err := db.CustomerTimeline(context.Background(), f)
		if err != nil {
			t.Fatalf("CustomerTimeline %+v: %v", f, err)
		}
		if f.Limit > 0 && len(page.Contacts) > f.Limit {
			t.Fatalf("got %d contacts in a page, want at most %d", len(page.Contacts), f.Limit)
		}
		for _, c := range page.Contacts {
			ids = append(ids, c.ID)
		}
		if page.Next == "" {
			return ids
		}
		f.Cursor = page.Next
	}
}

func TestCustomerTimeline(t *testing.T) { forEachDialect(t, testCustomerTimeline) }

func testCustomerTimeline(t *testing.T) {
	f := newEraseFixture(t)
	db := f.db
	// A contact created in the same nanosecond as c4, ordered by id.
	tie := simpleContact("c4b", router.ContactClosed, f.ada[3].CreatedAt)
	tie.Customer = router.Customer{ID: "ada"}
	stranger := simpleContact("c6", router.ContactQueued, f.ada[3].CreatedAt)
	stranger.Customer = router.Customer{ID: "nobody", Email: "ada@example.org"}
	commit(t, db, &router.Batch{Contacts: []router.Contact{tie, stranger}})

	tests := []struct {
		name   string
		filter TimelineFilter
		want   []string
	}{
		// c1 by id, c2 by her phone, c3 by the merged customer's id, c4
		// by the merged customer's email (now Ada's); newest first.
		{"every-route", TimelineFilter{CustomerID: "ada"}, []string{"c4b", "c4", "c3", "c2", "c1"}},
		{"paged", TimelineFilter{CustomerID: "ada", Limit: 2}, []string{"c4b", "c4", "c3", "c2", "c1"}},
		{"merged-customer-alone", TimelineFilter{CustomerID: "ada-work"}, []string{"c3"}},
		{"claims-too", TimelineFilter{CustomerID: "ada-work", Email: "bob@example.com", Phone: "+15551234567"}, []string{"c5", "c3", "c2"}},
		{"claims-only", TimelineFilter{Email: "bob@example.com"}, []string{"c5"}},
		{"unknown-customer", TimelineFilter{CustomerID: "zed"}, nil},
		{"nothing", TimelineFilter{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := timelineIDs(t, db, tt.filter); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			tt.filter.Brief = true
			if got := timelineIDs(t, db, tt.filter); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("brief: got %v, want %v", got, tt.want)
			}
		})
	}

	page, err := db.CustomerTimeline(context.Background(), TimelineFilter{CustomerID: "ada", Limit: 5})
	if err != nil || len(page.Contacts) != 5 || page.Next != "" {
		t.Errorf("a page holding the last contact: got %d contacts, next %q, %v; want 5, none", len(page.Contacts), page.Next, err)
	}
	if page.Contacts[1].Subject != "" || page.Contacts[4].Subject != "Invoice dispute" || page.Contacts[4].Disposition != "resolved" {
		t.Errorf("got %+v, want whole contacts", page.Contacts)
	}
	// A brief page holds the same contacts with only the listed fields.
	brief, err := db.CustomerTimeline(context.Background(), TimelineFilter{CustomerID: "ada", Limit: 5, Brief: true})
	if err != nil || len(brief.Contacts) != len(page.Contacts) || brief.Next != page.Next {
		t.Fatalf("brief: got %d contacts, next %q, %v; want %d, %q", len(brief.Contacts), brief.Next, err, len(page.Contacts), page.Next)
	}
	for i, c := range page.Contacts {
		want := router.Contact{ID: c.ID, Channel: c.Channel, Queue: c.Queue, Customer: router.Customer{ID: c.Customer.ID},
			Subject: c.Subject, State: c.State, AgentID: c.AgentID, CreatedAt: c.CreatedAt, AssignedAt: c.AssignedAt,
			EndedAt: c.EndedAt, Disposition: c.Disposition}
		if got := brief.Contacts[i]; !reflect.DeepEqual(got, want) {
			t.Errorf("brief contact %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	if c := brief.Contacts[4]; c.Subject != "Invoice dispute" || c.Disposition != "resolved" || c.Customer.ID == "" || c.CreatedAt.IsZero() {
		t.Errorf("brief contact 4: got %+v, want its subject, disposition, customer and creation", c)
	}
	if _, err := db.CustomerTimeline(context.Background(), TimelineFilter{CustomerID: "ada", Cursor: "not-a-cursor"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: got %v, want ErrBadCursor", err)
	}
}
