package pgtest

import (
	"context"
	"database/sql"
	"os"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Two databases of one cluster are apart: a table made in one is not in
// the other; and text sorts by en-US rules, not by bytes.
func TestDatabasesAreApart(t *testing.T) {
	ctx := context.Background()
	a, err := sql.Open("pgx", Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sql.Open("pgx", Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.ExecContext(ctx, `CREATE TABLE only_a (x int)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_tables WHERE tablename = 'only_a'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("got %d tables only_a in the other database, want 0", n)
	}
	var first string
	if err := a.QueryRowContext(ctx, `SELECT x FROM (VALUES ('a'), ('B')) AS v (x) ORDER BY x LIMIT 1`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if first != "a" {
		t.Errorf("got %q first, want \"a\" (en-US order; bytes would put \"B\" first)", first)
	}
}
