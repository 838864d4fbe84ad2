package webhooks

import (
	"os"
	"testing"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/pgtest"
)

// TestMain starts the PostgreSQL that the tests of both stores run
// against (forEachStore).
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// forEachStore runs test on a fixture of SQLite, then of PostgreSQL.
func forEachStore(t *testing.T, test func(t *testing.T, f *fixture)) {
	t.Helper()
	for _, driver := range []string{store.DriverSQLite, store.DriverPostgres} {
		t.Run(driver, func(t *testing.T) { test(t, newFixtureOn(t, driver)) })
	}
}
