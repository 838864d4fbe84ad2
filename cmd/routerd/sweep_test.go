package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
)

// TestAttachmentSweepWired runs routerd in process with a sweep every
// five minutes: its sweeper sweeps the directory the API uploads to, at
// the configured interval, asks the daemon's store which files messages
// hold, and counts in the metrics. The sweeps are triggered by the test
// (at a time past the grace), not by waiting for the ticker.
func TestAttachmentSweepWired(t *testing.T) {
	cfg := demoIn(t)
	cfg.Attachments.SweepEvery = config.Demo().Attachments.SweepEvery / 12
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in, err := start(ctx, cfg, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.sweeper == nil || in.sweeper.every != 5*time.Minute || in.sweeper.files.SweepAfter() != 24*time.Hour {
		t.Fatalf("sweeper: %+v, want one every 5m with a grace of 24h", in.sweeper)
	}

	call := func(method, path, contentType, body string, out any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+matrixAdmin)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		in.routes.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if out != nil {
			if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
	}
	upload := func(content string) string {
		var v struct {
			SHA256 string `json:"sha256"`
		}
		call("POST", "/api/v1/attachments?name=f.txt", "text/plain", content, &v)
		return v.SHA256
	}
	path := func(sha string) string { return filepath.Join(cfg.AttachmentsDir(), sha[:2], sha) }
	exists := func(sha string) bool {
		_, err := os.Stat(path(sha))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return err == nil
	}

	named, forgotten := upload("the invoice"), upload("removed from the composer")
	var c struct {
		ID string `json:"id"`
	}
	call("POST", "/api/v1/contacts", "application/json", `{"channel":"api","queue":"billing","body":"hello"}`, &c)
	call("POST", "/api/v1/contacts/"+c.ID+"/messages", "application/json",
		`{"direction":"in","body":"attached","attachments":[{"sha256":"`+named+`","name":"invoice.txt"}]}`, nil)

	later := time.Now().Add(cfg.Attachments.SweepAfter.D() + time.Minute)
	res, err := in.sweeper.sweep(ctx, later)
	if err != nil || res.Removed != 1 || res.Held != 1 {
		t.Fatalf("sweep: got %+v %v, want the forgotten upload removed and the named one held", res, err)
	}
	if exists(forgotten) || !exists(named) {
		t.Errorf("after the sweep: forgotten kept %v, named kept %v; want false, true", exists(forgotten), exists(named))
	}
	call("GET", "/api/v1/contacts/"+c.ID+"/attachments/"+named, "", "", nil)

	// The loop sweeps at each tick: the second tick is taken once the
	// first sweep is done.
	another := upload("another forgotten upload")
	ticks := make(chan time.Time)
	loopCtx, stopLoop := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		in.sweeper.run(loopCtx, ticks)
	}()
	ticks <- later
	ticks <- later
	stopLoop()
	<-ended
	if exists(another) {
		t.Error("the loop's sweep left the forgotten upload")
	}

	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+matrixAdmin)
	rec := httptest.NewRecorder()
	in.routes.ServeHTTP(rec, req)
	for _, want := range []string{
		"switchboard_attachments_swept_files_total 2\n",
		"switchboard_attachments_swept_bytes_total 49\n", // 25 + 24 bytes
		"switchboard_attachments_sweep_failures_total 0\n",
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, rec.Body)
		}
	}
	if rec.Code != http.StatusOK {
		t.Errorf("metrics: %d", rec.Code)
	}
}
