package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/store"
)

func TestSeedDemoCustomers(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(t.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.DiscardHandler)
	if err := seedDemoCustomers(ctx, db, log); err != nil {
		t.Fatal(err)
	}
	ada, err := db.Customer(ctx, customers.AdaID)
	if err != nil || ada.Name != "Ada Lovelace" {
		t.Fatalf("got %+v, %v, want Ada Lovelace", ada, err)
	}
	// A second start leaves the customers as they are (Ada's edit stays).
	ada.Value = 1
	if _, err := db.PutCustomer(ctx, ada, nil); err != nil {
		t.Fatal(err)
	}
	if err := seedDemoCustomers(ctx, db, log); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Customer(ctx, customers.AdaID); err != nil || got.Value != 1 {
		t.Errorf("got Ada's value %v, %v after a second seed, want 1 (untouched)", got.Value, err)
	}
}
