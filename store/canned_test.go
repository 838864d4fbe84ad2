package store

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"
)

// A canned response is created once, then replaced; a delete says
// whether there was one.
func TestCannedResponses(t *testing.T) { forEachDialect(t, testCannedResponses) }

func testCannedResponses(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	first := CannedResponse{ID: "greet", Title: "Greeting", Text: "Hello {first_name}", Queues: []string{"billing"}}
	if created, err := db.PutCannedResponse(ctx, first, t0); err != nil || !created {
		t.Fatalf("first put: created %v, %v; want created", created, err)
	}
	second := CannedResponse{ID: "greet", Title: "Greeting", Text: "Hi {first_name}"}
	if created, err := db.PutCannedResponse(ctx, second, t0.Add(time.Second)); err != nil || created {
		t.Fatalf("second put: created %v, %v; want replaced", created, err)
	}
	if _, err := db.PutCannedResponse(ctx, CannedResponse{ID: "Zed", Title: "Bye", Text: "Bye"}, t0); err != nil {
		t.Fatal(err)
	}
	got, err := db.CannedResponses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// By id in byte order, as in SQLite, whatever PostgreSQL's locale
	// (pgtest's sorts "greet" first): "Zed" before "greet".
	want := []CannedResponse{{ID: "Zed", Title: "Bye", Text: "Bye"}, second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if deleted, err := db.DeleteCannedResponse(ctx, "greet"); err != nil || !deleted {
		t.Errorf("delete: %v, %v; want deleted", deleted, err)
	}
	if deleted, err := db.DeleteCannedResponse(ctx, "greet"); err != nil || deleted {
		t.Errorf("delete again: %v, %v; want none", deleted, err)
	}
}

// A customer's value keeps every bit of its float64 (SQLite's REAL is a
// double; PostgreSQL's column is DOUBLE PRECISION, not its 4-byte REAL).
func TestCustomerValuePrecision(t *testing.T) { forEachDialect(t, testCustomerValuePrecision) }

func testCustomerValuePrecision(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	for i, v := range []float64{0.1 + 0.2, math.Pi * 1e6, 1.0 / 3, math.MaxFloat64, math.SmallestNonzeroFloat64, 123456789.123456789} {
		id := string(rune('a' + i))
		if _, err := db.PutCustomer(ctx, Customer{ID: id, Value: v, CreatedAt: t0, UpdatedAt: t0}, nil, "test"); err != nil {
			t.Fatalf("PutCustomer %v: %v", v, err)
		}
		c, err := db.Customer(ctx, id)
		if err != nil {
			t.Fatalf("Customer %s: %v", id, err)
		}
		if math.Float64bits(c.Value) != math.Float64bits(v) {
			t.Errorf("value: got %v (%#x), want %v (%#x)", c.Value, math.Float64bits(c.Value), v, math.Float64bits(v))
		}
	}
}
