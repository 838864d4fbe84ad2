package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/replay"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

const replayConfig = `auth:
  admin_token: replay-test-admin-token-0123456789
routing:
  wrapup: 20s
agents:
  - {id: a1, skills: {billing: 1}}
queues:
  - name: billing
    requirements: [{skill: billing, min: 1}]
    service_level: {target: 0.8, within: 20s}
`

// recordTwoContacts records, in the store of data, an hour from t0 in
// which agent a1 answers one contact (after 2 s of ringing) while a second
// customer gives up after 30 s.
func recordTwoContacts(t *testing.T, cfg *config.Config, data string, t0 time.Time) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, &store.Options{Path: filepath.Join(data, config.DefaultDBFile)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := router.NewManualClock(t0)
	opts := cfg.RouterOptions()
	opts.RequirePresence, opts.Clock = false, clk
	r, err := router.New(db, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	step := func(d time.Duration) {
		t.Helper()
		clk.Advance(d)
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = r.PutQueue(ctx, cfg.RouterQueues()[0])
	must(err)
	_, _, err = r.PutAgent(ctx, cfg.RouterAgents()[0])
	must(err)
	_, err = r.SetAgentState(ctx, "a1", router.AgentAvailable, "")
	must(err)
	step(time.Minute)
	first, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelAPI, Queue: "billing"})
	must(err)
	step(2 * time.Second)
	_, err = r.Accept(ctx, first.ID, "a1")
	must(err)
	step(time.Minute)
	second, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelAPI, Queue: "billing"})
	must(err)
	step(30 * time.Second)
	_, err = r.Abandon(ctx, second.ID, "hung up")
	must(err)
	step(time.Minute)
	_, err = r.WrapUp(ctx, first.ID, "a1", "", "")
	must(err)
	step(30 * time.Second) // the wrap-up ends, the contact closes
}

// routerd replay prints the recorded figures beside the replayed ones,
// as a table or JSON, and writes the HTML report.
func TestReplayCommand(t *testing.T) {
	t.Setenv(config.DatabaseURLEnv, "")
	dir := t.TempDir()
	path, data := filepath.Join(dir, "other.yaml"), filepath.Join(dir, "data")
	if err := os.WriteFile(path, []byte(replayConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recordTwoContacts(t, cfg, data, t0)

	ctx := context.Background()
	htmlPath := filepath.Join(dir, "report.html")
	args := []string{"replay", "-config", path, "-data", data, "-from", "2026-03-02T09:00:00Z", "-to", "2026-03-02T10:00:00Z"}
	var out, errOut bytes.Buffer
	if err := run(ctx, append(args, "-json"), &out, &errOut); err != nil {
		t.Fatalf("replay -json: %v\n%s", err, errOut.String())
	}
	var rep replay.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("replay -json: %v\n%s", err, out.String())
	}
	for _, side := range []struct {
		name string
		f    *replay.Figures
	}{{"recorded", rep.Recorded}, {"replayed", rep.Replayed}} {
		tot := side.f.Total
		if tot.Offered != 2 || tot.Answered != 1 || tot.Abandoned != 1 || tot.ASASeconds == nil || *tot.ASASeconds != 2 {
			t.Errorf("%s: got offered %d, answered %d, abandoned %d, ASA %v; want 2, 1, 1 and 2 s",
				side.name, tot.Offered, tot.Answered, tot.Abandoned, tot.ASASeconds)
		}
	}

	out.Reset()
	if err := run(ctx, append(args, "-html", htmlPath), &out, &errOut); err != nil {
		t.Fatalf("replay -html: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"recorded", "replayed", "service level", "queue billing (80 % within 20s)", "2 of 2 contacts replayed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("<svg")) || bytes.Contains(page, []byte("<script")) || bytes.Contains(page, []byte("src=")) {
		t.Errorf("the HTML report is not one self-contained page with inline charts:\n%s", page)
	}

	for _, bad := range [][]string{
		{"replay", "-config", path, "-data", data, "-from", "2026-03-02T09:00:00Z"},
		{"replay", "-config", path, "-data", data, "-from", "yesterday", "-to", "2026-03-02T10:00:00Z"},
		{"replay", "-config", path, "-data", data, "-from", "2026-03-02T10:00", "-to", "2026-03-02T09:00"},
	} {
		if err := run(ctx, bad, &out, &errOut); err == nil {
			t.Errorf("%q: no error, want one", bad)
		}
	}
}
