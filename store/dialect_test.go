package store

import (
	"os"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/store/pgtest"
)

// TestMain starts the PostgreSQL the shared suite runs against (see
// package pgtest), once for the test binary.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// forEachDialect runs test once on each database, as the subtests
// "sqlite" and "postgres": the shared store suite. openTest opens the
// database its subtest names. Outside CI a machine without PostgreSQL
// skips the "postgres" half (pgtest.Database); in CI it fails.
func forEachDialect(t *testing.T, test func(t *testing.T)) {
	t.Helper()
	for _, d := range []string{DriverSQLite, DriverPostgres} {
		t.Run(d, test)
	}
}

// testDialect is the driver a test of forEachDialect (or a benchmark's
// sub-benchmark) runs on: the first subtest name after the top-level
// one, DriverSQLite for a test that is not shared.
func testDialect(t testing.TB) string {
	parts := strings.Split(t.Name(), "/")
	if len(parts) > 1 && parts[1] == DriverPostgres {
		return DriverPostgres
	}
	return DriverSQLite
}
