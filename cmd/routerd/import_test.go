package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/store"
)

const importCSV = "\ufeffid,name,emails,phones,crm_id,segment,value,consent_marketing,consent_profiling,products\r\n" +
	"ada,Ada Lovelace,ada@example.com,+15551234567,SF-1,premium,12000,yes,,card;mortgage\r\n" +
	"bob,Bob,bob@example.com,555-1234,,,,,,\r\n" +
	"carl,Carl,ada@example.com,,,,,,,\r\n" +
	"dora,Dora,dora@example.com,+44 20 7946 0958,,standard,80,no,no,\r\n"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportCustomersCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	// The "daemon" holds the store open while the import runs.
	db := openStore(t, dir)
	file := writeFile(t, "customers.csv", importCSV)
	rejects := filepath.Join(t.TempDir(), "rejects.txt")

	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"import", "customers", "-data", dir, "-rejects", rejects, file}, &stdout, &stderr)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "2 of 4 rows rejected") {
		t.Fatalf("got %v, want exit status 1 for 2 of 4 rows rejected; stderr: %s", err, stderr.String())
	}
	if want := "4 rows in "; !strings.Contains(stdout.String(), want) || !strings.Contains(stdout.String(), "2 created, 0 updated, 0 unchanged, 2 rejected") {
		t.Errorf("stdout: got %q, want the summary", stdout.String())
	}
	wantRejected := "line 3: field \"phones[0]\": phone \"555-1234\": want E.164 with the country code, such as +15551234567\n" +
		"line 4: field \"emails[0]\": email \"ada@example.com\" belongs to another customer (ada)\n"
	if !strings.Contains(stderr.String(), wantRejected) {
		t.Errorf("stderr: got %q, want the rejected rows %q", stderr.String(), wantRejected)
	}
	if b, err := os.ReadFile(rejects); err != nil || string(b) != wantRejected {
		t.Errorf("rejects file: got %q %v, want %q", b, err, wantRejected)
	}

	ada, err := db.Customer(ctx, "ada")
	if err != nil || ada.Name != "Ada Lovelace" || ada.Value != 12000 || ada.Consent.Marketing == nil || !*ada.Consent.Marketing ||
		ada.Consent.Profiling != nil || len(ada.Products) != 2 {
		t.Errorf("ada: got %+v %v", ada, err)
	}
	ids, _ := db.CustomerIdentities(ctx, "ada")
	if len(ids) != 3 || ids[0].Verified {
		t.Errorf("ada's identities: got %+v, want email, external id and phone, claimed", ids)
	}
	if _, err := db.Customer(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("bob: got %v, want not imported", err)
	}

	// The same rows as JSON lines on stdin, verified: nothing created,
	// the claims verified.
	withStdin(t, `{"id":"ada","name":"Ada Lovelace","emails":["ada@example.com"],"phones":["+15551234567"],"crm_id":"SF-1","segment":"premium","value":12000,"consent":{"marketing":true},"products":["card","mortgage"]}`+"\n\n"+
		`{"id":"dora","name":"Dora","emails":["dora@example.com"],"phones":["+442079460958"],"segment":"standard","value":80,"consent":{"marketing":false,"profiling":false}}`+"\n")
	stdout.Reset()
	stderr.Reset()
	if err := run(ctx, []string{"import", "customers", "-data", dir, "-format", "jsonl", "-verified", "-"}, &stdout, &stderr); err != nil {
		t.Fatalf("jsonl import: %v; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "2 rows in ") || !strings.Contains(stdout.String(), "0 created, 2 updated, 0 unchanged, 0 rejected") {
		t.Errorf("stdout: got %q, want 2 updated", stdout.String())
	}
	if id, _ := db.IdentityOwner(ctx, customers.KindPhone, "+442079460958"); id.CustomerID != "dora" || !id.Verified {
		t.Errorf("dora's phone: got %+v, want verified", id)
	}
	// And once more: unchanged, and updated_at kept.
	before, _ := db.Customer(ctx, "dora")
	stdout.Reset()
	if err := run(ctx, []string{"import", "customers", "-data", dir, file}, &stdout, &stderr); err == nil {
		t.Fatal("the CSV again: got no error, want its 2 rejected rows")
	}
	if !strings.Contains(stdout.String(), "0 created, 0 updated, 2 unchanged, 2 rejected") {
		t.Errorf("stdout: got %q, want 2 unchanged", stdout.String())
	}
	if after, _ := db.Customer(ctx, "dora"); !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("dora's updated_at: got %v, want %v kept", after.UpdatedAt, before.UpdatedAt)
	}
}

func TestImportCustomersUsage(t *testing.T) {
	dir := t.TempDir()
	csvFile := writeFile(t, "c.csv", "id,name\nada,Ada\n")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no-kind", []string{"import"}, `want "import customers"`},
		{"other-kind", []string{"import", "agents", csvFile}, `want "import customers"`},
		{"no-file", []string{"import", "customers", "-data", dir}, "want exactly one FILE"},
		{"unknown-extension", []string{"import", "customers", "-data", dir, writeFile(t, "c.txt", "id\nada\n")}, "give -format csv or -format jsonl"},
		{"bad-format", []string{"import", "customers", "-data", dir, "-format", "xml", csvFile}, `-format "xml"`},
		{"missing-file", []string{"import", "customers", "-data", dir, filepath.Join(dir, "none.csv")}, "no such file"},
		{"unknown-column", []string{"import", "customers", "-data", dir, writeFile(t, "u.csv", "id,name,emial\nada,Ada,a@x.io\n")}, `unknown column "emial"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			var ee *exitError
			if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want a usage error (exit status 2) with %q", err, tt.wantErr)
			}
		})
	}
	// Nothing was imported by any of them.
	db := openStore(t, dir)
	if has, err := db.HasCustomers(context.Background()); err != nil || has {
		t.Errorf("got customers %v %v, want none", has, err)
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name             string
		rows, read, size int64
		elapsed          time.Duration
		tty              bool
		want             string
	}{
		{"tty-half", 50000, 500, 1000, 2 * time.Second, true, "[===============               ]  50% 50000 rows, 25000 rows/s, ETA 2s"},
		{"tty-start", 0, 0, 1000, time.Second, true, "[                              ]   0% 0 rows, 0 rows/s, ETA --"},
		{"tty-done", 1000, 1000, 1000, 4 * time.Second, true, "[==============================] 100% 1000 rows, 250 rows/s, ETA 0s"},
		{"log-quarter", 250, 250, 1000, 10 * time.Second, false, "25% of the file, 250 rows, 25 rows/s, ETA 30s"},
		{"stdin-size-unknown", 300, 9000, -1, 3 * time.Second, false, "300 rows, 100 rows/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressLine(tt.rows, tt.read, tt.size, tt.elapsed, tt.tty); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
