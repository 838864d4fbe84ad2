package store

import (
	"context"
	"strings"
	"testing"
)

// queryPlan returns SQLite's EXPLAIN QUERY PLAN of query, one step a line.
func queryPlan(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var (
			id, parent, unused int
			detail             string
		)
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("explain: %v", err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "\n")
}

// planCase is a query and what its plan must and must not hold.
type planCase struct {
	name   string
	query  string
	args   []any
	want   []string // substrings the plan must hold
	forbid []string // and must not
}

// TestQueryPlans guards the indexes: each query must reach its rows
// through an index, not by reading every contact or sorting them.
func TestQueryPlans(t *testing.T) {
	db := openTest(t)
	cursor := encodeCursor(1, "c-1")
	tests := []planCase{
		{name: "load-live-contacts", query: loadContactsSQL,
			want:   []string{"contacts_state", "USING COVERING INDEX sqlite_autoindex_contact_events_1", "USING COVERING INDEX sqlite_autoindex_contact_messages_1"},
			forbid: []string{"SCAN"}},
		{name: "queue-stats", query: queueStatsSQL, args: []any{1, "abandoned", 1},
			want: []string{"contacts_assigned", "contacts_state_ended"}, forbid: []string{"SCAN"}},
		// The sweeper's question, of every file: never a scan of the messages' files.
		{name: "held-attachments", query: heldAttachmentsSQL(3), args: []any{"a", "b", "c"},
			want: []string{"message_attachments_sha256"}, forbid: []string{"SCAN message_attachments"}},
	}
	for _, f := range []struct {
		name   string
		filter ContactFilter
		want   string
	}{
		{"contacts-all", ContactFilter{Cursor: cursor}, "contacts_created"},
		{"contacts-state", ContactFilter{State: "closed", Cursor: cursor}, "contacts_state_created"},
		{"contacts-queue", ContactFilter{Queue: "sales", Cursor: cursor}, "contacts_queue_created"},
		{"contacts-queue-state", ContactFilter{Queue: "sales", State: "queued", Cursor: cursor}, "contacts_queue_state"},
	} {
		q, args, _, err := contactsQuery(f.filter)
		if err != nil {
			t.Fatalf("contactsQuery: %v", err)
		}
		tests = append(tests, planCase{f.name, q, args, []string{f.want}, []string{"TEMP B-TREE", "SCAN contacts\n"}})
	}
	q, args, _, err := contactsQuery(ContactFilter{Customer: "cust-7"})
	if err != nil {
		t.Fatalf("contactsQuery: %v", err)
	}
	// A customer's contacts are few: sorting them is fine, scanning all is not.
	tests = append(tests, planCase{"contacts-customer", q, args, []string{"contacts_customer_id", "contacts_customer_email", "contacts_customer_phone"}, []string{"SCAN"}})

	// A customer's contacts, merged customers' and identities' included:
	// each branch through its index (the CTE of merged customers is
	// small and scanned; customers, identities and contacts never are).
	noScan := []string{"SCAN contacts", "SCAN customer_identities", "SCAN customer_merges", "SCAN m\n"}
	timeline := []string{"contacts_customer_id", "contacts_customer_email", "contacts_customer_phone",
		"customer_identities_customer", "customer_merges_into"}
	q, args = customerContactsQuery(sqliteDialect, wholeContactColumns, "cust-7", "", "", true, 1, "c-1", 21)
	tests = append(tests, planCase{"customer-timeline", q, args, timeline, noScan})
	q, args = customerContactsQuery(sqliteDialect, wholeContactColumns, "cust-7", "a@example.com", "+15550000000", true, 0, "", 11)
	tests = append(tests, planCase{"screen-pop-history", q, args, timeline, noScan})
	q, args = customerContactsQuery(sqliteDialect, briefContactColumns, "cust-7", "a@example.com", "+15550000000", true, 0, "", 11)
	tests = append(tests, planCase{"screen-pop-history-brief", q, args, timeline, noScan})
	q, args = customerContactsQuery(sqliteDialect, wholeContactColumns, "cust-7", "", "", false, 0, "", 0)
	tests = append(tests, planCase{"customer-contacts-erase", q, args, timeline, noScan})

	// A prune's batch is found through an index, not by reading the
	// whole history each time.
	tests = append(tests,
		planCase{"prune-agent-states", batchDeleteSQL(sqliteDialect, "agent_states", "at < ?", 1000), []any{1},
			[]string{"agent_states_at"}, []string{"SCAN agent_states\n"}},
		planCase{"prune-event-log", batchDeleteSQL(sqliteDialect, "event_log", "id <= ? AND at < ?", 1000), []any{1, 1},
			[]string{"SEARCH event_log"}, []string{"SCAN event_log\n"}})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t, db, tt.query, tt.args...) + "\n"
			for _, w := range tt.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan lacks %q:\n%s", w, plan)
				}
			}
			for _, f := range tt.forbid {
				if strings.Contains(plan, f) {
					t.Errorf("plan has %q:\n%s", strings.TrimSpace(f), plan)
				}
			}
		})
	}
}
