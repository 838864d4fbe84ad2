package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDataFlagMovesTheDefaultStore(t *testing.T) {
	cfg, err := loadConfig("", "", "/srv/switchboard")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("/srv/switchboard", "switchboard.db"); cfg.Store.Path != want || cfg.DataDir != "/srv/switchboard" {
		t.Fatalf("store %q data %q, want %q and /srv/switchboard", cfg.Store.Path, cfg.DataDir, want)
	}
}

// TestDemoWithABadEnvironment: an invalid setting from the environment
// on the demo configuration is an error naming it, not a panic.
func TestDemoWithABadEnvironment(t *testing.T) {
	t.Setenv("TWILIO_AUTH_TOKEN", "foo-bar")
	_, err := loadConfig("", "", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "TWILIO_AUTH_TOKEN") {
		t.Fatalf("got %v, want an error naming TWILIO_AUTH_TOKEN", err)
	}
}
