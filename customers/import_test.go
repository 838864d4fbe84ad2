package customers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/store"
)

// importCSV is a file whose rows exercise every outcome; wantRejected
// says, by line, which field each rejected row is blamed on.
const importCSV = `id,name,emails,phones,crm_id,consent_marketing
ada,Ada,ada@example.com,+15551234567,SF-1,yes
bob,Bob,bob@example.com,555-1234,,
carl,Carl,ada@example.com,,,
dora,Dora,dora@example.com,,SF-1,no
gone,Back,,,,
eve,Eve,eve@example.com,,,maybe
ada,Ada Lovelace,ada@work.example,,,yes
fay,Fay,fay@example.com,+15557654321,,
`

var wantRejected = map[int]string{
	3: "phones[0]", // not E.164
	4: "emails[0]", // ada's (an earlier row)
	5: "crm_id",    // ada's
	6: "id",        // erased
	7: "consent_marketing",
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if _, err := db.PutCustomer(ctx, store.Customer{ID: "gone", CreatedAt: at, UpdatedAt: at}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if err := db.EraseCustomer(ctx, "gone", at); err != nil {
		t.Fatal(err)
	}

	var rejected []Rejection
	var progress []ImportSummary
	r, err := NewCSVReader(strings.NewReader(importCSV))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Import(ctx, db, r, &ImportOptions{
		BatchRows: 3, // batches end mid-file, and ada's second row is in another batch than her first
		Rejected:  func(r Rejection) { rejected = append(rejected, r) },
		Progress:  func(s ImportSummary) { progress = append(progress, s) },
		Now:       func() time.Time { return at.Add(time.Hour) },
	})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	want := ImportSummary{Rows: 8, Created: 2, Updated: 1, Rejected: len(wantRejected), Line: 9}
	want.Created = want.Rows - want.Updated - want.Rejected
	if sum != want {
		t.Errorf("summary: got %+v, want %+v", sum, want)
	}
	if len(rejected) != len(wantRejected) {
		t.Fatalf("rejected: got %v, want lines %v", rejected, wantRejected)
	}
	for i, r := range rejected {
		if i > 0 && r.Line <= rejected[i-1].Line {
			t.Errorf("rejections out of order: %v", rejected)
		}
		if field, ok := wantRejected[r.Line]; !ok || r.Field != field || !strings.HasPrefix(r.String(), fmt.Sprintf("line %d: field %q: ", r.Line, field)) {
			t.Errorf("got %q (field %q), want line %d blamed on %q", r, r.Field, r.Line, wantRejected[r.Line])
		}
	}
	if len(progress) != 3 || progress[2] != sum || progress[0].Rows != 3 || progress[0].Line != 4 {
		t.Errorf("progress: got %+v, want 3 batches of 3 rows, the last the summary", progress)
	}

	ada, err := db.Customer(ctx, "ada")
	if err != nil || ada.Name != "Ada Lovelace" || !ada.CreatedAt.Equal(at.Add(time.Hour)) {
		t.Errorf("ada: got %+v %v, want the later row's name", ada, err)
	}
	ids, _ := db.CustomerIdentities(ctx, "ada")
	if len(ids) != 4 || ids[0].Verified {
		t.Errorf("ada's identities: got %+v, want 4 claims from both rows", ids)
	}
	for _, id := range []string{"bob", "carl", "dora", "eve"} {
		if _, err := db.Customer(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a rejected row: got %v, want no customer", id, err)
		}
	}

	// Again, verified, without ada's first row: the claims become
	// verified, and carl and dora, whose rows now prove ada's email and
	// CRM id, take them from ada, who only claimed them; a third time
	// nothing changes.
	again := strings.Replace(importCSV, "ada,Ada,ada@example.com,+15551234567,SF-1,yes\n", "", 1)
	for i, want := range []ImportSummary{
		{Rows: 7, Created: 2, Updated: 2, Rejected: 3, Line: 8},
		{Rows: 7, Unchanged: 4, Rejected: 3, Line: 8},
	} {
		r, _ := NewCSVReader(strings.NewReader(again))
		sum, err := Import(ctx, db, r, &ImportOptions{Verified: true, By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if sum != want {
			t.Errorf("run %d: got %+v, want %+v", i+2, sum, want)
		}
	}
	if id, _ := db.IdentityOwner(ctx, KindEmail, "ada@example.com"); id.CustomerID != "carl" || !id.Verified {
		t.Errorf("ada@example.com: got %+v, want carl's, verified", id)
	}
	if audit, _ := db.CustomerAudit(ctx, "ada"); len(audit) != 2 || audit[0].Actor != "test" {
		t.Errorf("ada's audit: got %+v, want the two takeovers by test", audit)
	}
	if id, _ := db.IdentityOwner(ctx, KindEmail, "fay@example.com"); !id.Verified {
		t.Errorf("fay@: got %+v, want verified by the -verified run", id)
	}
}

// failingStore fails its second batch.
type failingStore struct {
	ImportStore
	calls int
}

func (f *failingStore) ImportCustomers(ctx context.Context, ps []store.CustomerImport) ([]store.ImportResult, error) {
	if f.calls++; f.calls == 2 {
		return nil, errors.New("disk full")
	}
	return f.ImportStore.ImportCustomers(ctx, ps)
}

func TestImportStopsAtAFailedBatch(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	var b strings.Builder
	b.WriteString("id,emails\n")
	for i := range 10 {
		fmt.Fprintf(&b, "c%d,c%d@example.com\n", i, i)
	}
	r, _ := NewCSVReader(strings.NewReader(b.String()))
	sum, err := Import(ctx, &failingStore{ImportStore: db}, r, &ImportOptions{BatchRows: 4})
	if err == nil || !strings.Contains(err.Error(), "lines 6 to 9") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("got %v, want the failed batch's lines and cause", err)
	}
	if sum.Created != 4 || sum.Line != 5 {
		t.Errorf("got %+v, want the first batch (to line 5) created", sum)
	}
	if _, err := db.Customer(ctx, "c4"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("c4 of the failed batch: got %v, want not written", err)
	}
	// Running it again finishes the file.
	r, _ = NewCSVReader(strings.NewReader(b.String()))
	sum, err = Import(ctx, db, r, nil)
	if err != nil || sum.Created != 6 || sum.Unchanged != 4 {
		t.Errorf("re-run: got %+v %v, want 6 created, 4 unchanged", sum, err)
	}
}

func TestImportStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := openStore(t)
	var b strings.Builder
	b.WriteString("id\n")
	for i := range 10 {
		fmt.Fprintf(&b, "c%d\n", i)
	}
	r, _ := NewCSVReader(strings.NewReader(b.String()))
	sum, err := Import(ctx, db, r, &ImportOptions{BatchRows: 4, Progress: func(ImportSummary) { cancel() }})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped after line 5") {
		t.Errorf("got %v, want context.Canceled after line 5", err)
	}
	if sum.Created != 4 || sum.Line != 5 {
		t.Errorf("got %+v, want the first batch (to line 5) created", sum)
	}
}

// stalledRows is a RowReader whose input never comes (a quiet stdin): Next
// says it was called, then blocks until the test ends.
type stalledRows struct {
	waiting chan struct{}
	end     chan struct{}
}

func (s *stalledRows) Next() (Row, error) {
	close(s.waiting)
	<-s.end
	return Row{}, io.EOF
}

// Cancelling stops an import whose reader is blocked on its input.
func TestImportStopsWhenCancelledWhileReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rows := &stalledRows{waiting: make(chan struct{}), end: make(chan struct{})}
	defer close(rows.end)
	go func() {
		<-rows.waiting
		cancel()
	}()
	sum, err := Import(ctx, openStore(t), rows, nil)
	if !errors.Is(err, context.Canceled) || sum != (ImportSummary{}) {
		t.Errorf("got %+v %v, want nothing imported and context.Canceled", sum, err)
	}
}

func TestImportEmptyFile(t *testing.T) {
	r, _ := NewCSVReader(strings.NewReader("id,name\n"))
	sum, err := Import(context.Background(), openStore(t), r, nil)
	if err != nil || sum != (ImportSummary{}) {
		t.Errorf("got %+v %v, want nothing and no error", sum, err)
	}
}
