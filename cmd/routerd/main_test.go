package main

import (
	"os"
	"testing"

	"github.com/switchboard/switchboard/store/pgtest"
)

// TestMain starts the PostgreSQL the daemon's tests on that store use
// (package pgtest), once for the test binary.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
