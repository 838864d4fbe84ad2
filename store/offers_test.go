package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
)

func statsOf(t *testing.T, db *DB) map[[2]string]OfferStat {
	t.Helper()
	stats, err := db.OfferStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[[2]string]OfferStat{}
	for _, s := range stats {
		out[[2]string{s.OfferID, s.Segment}] = s
	}
	return out
}

func TestRecordOfferOutcomes(t *testing.T) { forEachDialect(t, testRecordOfferOutcomes) }

func testRecordOfferOutcomes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	out := func(contact, offer, agent, outcome, segment string, min int) OfferOutcome {
		return OfferOutcome{OfferID: offer, ContactID: contact, CustomerID: "ada", Segment: segment, AgentID: agent,
			Outcome: outcome, At: t0.Add(time.Duration(min) * time.Minute)}
	}
	steps := []struct {
		name         string
		outs         []OfferOutcome
		wantRecorded int
		want         map[[2]string]OfferStat // every stat after the step
	}{
		{"presented-teaches-nothing", []OfferOutcome{out("c1", "savings", "alice", OutcomePresented, "premium", 0)}, 1,
			map[[2]string]OfferStat{}},
		{"presented-again-same-agent-is-a-duplicate", []OfferOutcome{out("c1", "savings", "alice", OutcomePresented, "premium", 1)}, 0,
			map[[2]string]OfferStat{}},
		{"presented-to-another-agent", []OfferOutcome{out("c1", "savings", "bob", OutcomePresented, "premium", 1)}, 1,
			map[[2]string]OfferStat{}},
		{"declined", []OfferOutcome{out("c1", "savings", "alice", OutcomeDeclined, "premium", 2)}, 1,
			map[[2]string]OfferStat{{"savings", "premium"}: {"savings", "premium", 0, 1}}},
		{"retry-of-the-decline", []OfferOutcome{out("c1", "savings", "alice", OutcomeDeclined, "premium", 3)}, 0,
			map[[2]string]OfferStat{{"savings", "premium"}: {"savings", "premium", 0, 1}}},
		{"corrected-to-accepted", []OfferOutcome{out("c1", "savings", "alice", OutcomeAccepted, "premium", 4)}, 1,
			map[[2]string]OfferStat{{"savings", "premium"}: {"savings", "premium", 1, 0}}},
		{"batch-with-its-own-duplicate", []OfferOutcome{
			out("c2", "fiber", "alice", OutcomeNotRelevant, "basic", 5),
			out("c2", "fiber", "alice", OutcomeNotRelevant, "basic", 5),
			out("c3", "fiber", "bob", OutcomeAccepted, "basic", 6),
		}, 2, map[[2]string]OfferStat{
			{"savings", "premium"}: {"savings", "premium", 1, 0},
			{"fiber", "basic"}:     {"fiber", "basic", 1, 1},
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			changed, n, err := db.RecordOfferOutcomes(ctx, st.outs)
			if err != nil {
				t.Fatal(err)
			}
			if n != st.wantRecorded {
				t.Errorf("got %d recorded, want %d", n, st.wantRecorded)
			}
			got := statsOf(t, db)
			if len(got) != len(st.want) {
				t.Errorf("got stats %v, want %v", got, st.want)
			}
			for k, w := range st.want {
				if got[k] != w {
					t.Errorf("got %+v for %v, want %+v", got[k], k, w)
				}
			}
			for _, c := range changed {
				if got[[2]string{c.OfferID, c.Segment}] != c {
					t.Errorf("got changed %+v, want it equal to the stored %+v", c, got[[2]string{c.OfferID, c.Segment}])
				}
			}
		})
	}
	var n int
	if err := db.read.QueryRow(`SELECT COUNT(*) FROM offer_outcomes`).Scan(&n); err != nil || n != 6 {
		t.Errorf("got %d rows (%v), want 6: one per outcome recorded, corrections included", n, err)
	}
	if _, _, err := db.RecordOfferOutcomes(ctx, []OfferOutcome{out("c1", "savings", "alice", "maybe", "", 9)}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("got %v for an unknown outcome, want ErrBadOptions", err)
	}
}

func TestOfferHistoryExportErase(t *testing.T) { forEachDialect(t, testOfferHistoryExportErase) }

func testOfferHistoryExportErase(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	yes := true
	for _, id := range []string{"ada", "ada-old", "bob"} {
		if _, err := db.PutCustomer(ctx, Customer{ID: id, Segment: "premium", Consent: consent.Flags{Marketing: &yes}}, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	rec := func(customer, contact, offer, outcome string, at time.Time) {
		t.Helper()
		if _, _, err := db.RecordOfferOutcomes(ctx, []OfferOutcome{{OfferID: offer, ContactID: contact, CustomerID: customer,
			Segment: "premium", AgentID: "alice", Outcome: outcome, At: at}}); err != nil {
			t.Fatal(err)
		}
	}
	rec("ada-old", "c0", "fiber", OutcomeDeclined, t0.Add(-40*24*time.Hour)) // before the window
	rec("ada-old", "c1", "savings", OutcomeDeclined, t0.Add(-time.Hour))     // before the merge
	rec("ada", "c2", "savings", OutcomePresented, t0)
	rec("bob", "c3", "savings", OutcomeAccepted, t0)
	if err := db.MergeCustomers(ctx, Merge{FromID: "ada-old", IntoID: "ada", IdentityKind: "email", IdentityValue: "ada@example.com", At: t0}); err != nil {
		t.Fatal(err)
	}
	ids := func(outs []OfferOutcome) []string {
		var s []string
		for _, o := range outs {
			s = append(s, o.ContactID+":"+o.Outcome)
		}
		return s
	}
	got, err := db.OfferHistory(ctx, "ada", t0.Add(-30*24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c2:presented", "c1:declined"}; !slices.Equal(ids(got), want) {
		t.Errorf("got history %v, want %v (newest first, merged customer included, bounded by since)", ids(got), want)
	}
	if got, _ := db.OfferHistory(ctx, "ada", time.Time{}, 1); len(got) != 1 {
		t.Errorf("got %d rows with limit 1, want 1", len(got))
	}
	x, err := db.ExportCustomer(ctx, "ada")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c0:declined", "c1:declined", "c2:presented"}; !slices.Equal(ids(x.OfferOutcomes), want) {
		t.Errorf("got export %v, want %v", ids(x.OfferOutcomes), want)
	}
	before := statsOf(t, db)
	if err := db.EraseCustomer(ctx, "ada", t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.OfferHistory(ctx, "ada", time.Time{}, 10); len(got) != 0 {
		t.Errorf("got %v after erase, want no history", ids(got))
	}
	var anon int
	if err := db.read.QueryRow(`SELECT COUNT(*) FROM offer_outcomes WHERE customer_id = ''`).Scan(&anon); err != nil || anon != 3 {
		t.Errorf("got %d anonymous outcomes (%v), want the 3 of ada kept", anon, err)
	}
	if after := statsOf(t, db); len(after) != len(before) || after[[2]string{"savings", "premium"}] != before[[2]string{"savings", "premium"}] {
		t.Errorf("got stats %v after erase, want %v unchanged", after, before)
	}
	if got, _ := db.OfferHistory(ctx, "bob", time.Time{}, 10); len(got) != 1 {
		t.Errorf("got %d outcomes of bob, want 1 (untouched)", len(got))
	}
}

func TestCatalogOffers(t *testing.T) { forEachDialect(t, testCatalogOffers) }

func testCatalogOffers(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, o := range []CatalogOffer{
		{ID: "b", Definition: []byte(`{"id":"b"}`), UpdatedAt: at},
		{ID: "a", Definition: []byte(`{"id":"a","value":1}`), UpdatedAt: at},
		{ID: "a", Definition: []byte(`{"id":"a","value":2}`), UpdatedAt: at.Add(time.Second)},
		{ID: "b", Withdrawn: true, UpdatedAt: at.Add(time.Second)},
	} {
		if err := db.PutCatalogOffer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.CatalogOffers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "a" || string(got[0].Definition) != `{"id":"a","value":2}` || got[0].Withdrawn ||
		got[1].ID != "b" || !got[1].Withdrawn || got[1].Definition != nil || !got[1].UpdatedAt.Equal(at.Add(time.Second)) {
		t.Errorf("got %+v, want a replaced and b withdrawn", got)
	}
	if err := db.PutCatalogOffer(ctx, CatalogOffer{ID: "c", Withdrawn: true, Definition: []byte("{}")}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("got %v for a withdrawn offer with a definition, want ErrBadOptions", err)
	}
}

// BenchmarkOfferHistory measures the screen pop's read of a customer's
// recent offer outcomes (nextbest.Engine, for cooldowns and caps): the
// outcomes of one customer within 90 days, among 1,000,000 outcomes of
// 250,000 customers, with the merge lookup.
//
//	go test -run=^$ -bench=OfferHistory ./store/
func BenchmarkOfferHistory(b *testing.B) {
	const outcomes, customers = 1_000_000, 250_000
	ctx := context.Background()
	db, err := Open(ctx, &Options{Path: b.TempDir() + "/bench.db", Synchronous: "normal"})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	defer db.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO offer_outcomes (id, offer_id, contact_id, customer_id, segment, agent_id, outcome, at)
VALUES (?, ?, ?, ?, 'premium', 'alice', ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	kinds := []string{OutcomePresented, OutcomeDeclined, OutcomeAccepted, OutcomeNotRelevant}
	for n := range outcomes {
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("o-%09d", n), fmt.Sprintf("offer-%d", n%6), fmt.Sprintf("c-%09d", n/2),
			fmt.Sprintf("cu-%d", n%customers), kinds[n%4], toNanos(t0.Add(time.Duration(n)*5*time.Second))); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	now := t0.Add(outcomes * 5 * time.Second) // 58 days: all within the window
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		got, err := db.OfferHistory(ctx, fmt.Sprintf("cu-%d", i%customers), now.Add(-90*24*time.Hour), 200)
		if err != nil || len(got) != outcomes/customers {
			b.Fatalf("OfferHistory: got %d, %v; want %d", len(got), err, outcomes/customers)
		}
	}
}
