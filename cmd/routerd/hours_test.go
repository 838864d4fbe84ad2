package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
)

// TestQueueHoursWired runs routerd in process on the demo configuration
// with the deprecated chat.opening_hours: the demo's office calendar
// reaches the general queue, and chat.opening_hours the chat topics'
// queues, through the router that the chat and the API read.
func TestQueueHoursWired(t *testing.T) {
	cfg := demoIn(t)
	cfg.Chat.OpeningHours = config.OpeningHours{TimeZone: "UTC", Monday: []string{"09:00-17:00"}}
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

	snap := in.rt.Snapshot()
	for _, tc := range []struct {
		name, queue, at string
		open            bool
	}{
		{"office-monday", "general", "2026-12-21T10:00:00Z", true},
		{"office-christmas", "general", "2026-12-25T10:00:00Z", false},
		{"chat-hours-monday", "billing", "2026-12-21T10:00:00Z", true},
		{"chat-hours-tuesday", "billing", "2026-12-22T10:00:00Z", false},
		{"offline-queue-keeps-its-own", "general", "2026-12-22T10:00:00Z", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at, _ := time.Parse(time.RFC3339, tc.at)
			if got := snap.Hours(tc.queue).Open(at); got != tc.open {
				t.Fatalf("%s open at %s: got %v, want %v", tc.queue, tc.at, got, tc.open)
			}
		})
	}

	req := httptest.NewRequest("GET", "/api/v1/queues/general", nil)
	req.Header.Set("Authorization", "Bearer "+matrixAdmin)
	rec := httptest.NewRecorder()
	in.routes.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	var q struct {
		Hours string `json:"hours"`
		Open  *bool  `json:"open"`
	}
	if err := json.Unmarshal(body, &q); err != nil || rec.Code != http.StatusOK || q.Hours != "office" || q.Open == nil {
		t.Fatalf("GET general: %d %s, want hours office and open", rec.Code, body)
	}
}
