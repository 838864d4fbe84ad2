package main

import (
	"path/filepath"
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
