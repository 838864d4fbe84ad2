package pgtest

import (
	"context"
	"database/sql"
	"net"
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

// A cluster whose port was taken between its choice and the server's
// bind starts on another.
func TestStartOnATakenPort(t *testing.T) {
	if _, err := findBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	free := freePort
	var handed []int
	freePort = func() (int, error) {
		p, err := free()
		if len(handed) == 0 {
			p = takenPort
		}
		handed = append(handed, p)
		return p, err
	}
	defer func() { freePort = free }()

	c, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if len(handed) != 2 || c.Port == takenPort || c.Port != handed[1] {
		t.Fatalf("ports handed out %v, the cluster on %d: want the taken %d, then another it runs on", handed, c.Port, takenPort)
	}
	db, err := sql.Open("pgx", c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(context.Background()); err != nil {
		t.Fatalf("the cluster on %d: %v", c.Port, err)
	}
}
