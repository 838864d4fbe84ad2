package main

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/metrics/metricstest"
)

// TestMetricsThroughTheDaemon scrapes routerd on its demo configuration
// as Prometheus would, after a contact was routed: the figures are there
// and `promtool check metrics` passes them.
func TestMetricsThroughTheDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	d, _, admin := startDemo(t)
	drain(d.desktop(t, "alice"))
	d.must(t, admin, "PUT", "/api/v1/agents/alice/state", map[string]string{"state": "available"}, nil)
	var c struct {
		ID string `json:"id"`
	}
	d.must(t, admin, "POST", "/api/v1/contacts", map[string]any{"channel": "chat", "queue": "billing",
		"customer": map[string]string{"email": "ada@example.com"}, "body": "About my statement"}, &c)
	// Answered: the wait estimate's first sample.
	d.must(t, admin, "POST", "/api/v1/contacts/"+c.ID+"/accept", map[string]string{"agent_id": "alice"}, nil)

	scrape := func(token string) (int, string) {
		req, _ := http.NewRequest("GET", d.base+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := scrape(""); code != http.StatusUnauthorized {
		t.Errorf("scrape without a token: %d, want 401", code)
	}
	wants := []string{
		`switchboard_contacts_created_total{channel="chat",queue="billing"} 1`,
		`switchboard_queue_ringing{queue="billing"} 0`,
		`switchboard_queue_wait_estimate_median_error_seconds{estimator="pace",queue="billing"} `,
		`switchboard_queue_wait_estimate_p90_error_seconds{estimator="queue_length",queue="billing"} `,
		`switchboard_queue_wait_estimator{estimator="pace",queue="billing"} 1`,
		`switchboard_queue_wait_estimator{estimator="head_of_line",queue="billing"} 0`,
		`switchboard_agents{connected="true",state="available"} 1`,
		`switchboard_outbox_backlog 0`,
		`switchboard_store_commit_seconds_count `,
		`go_goroutines `,
	}
	// The figures are fed by the router's notifications, which follow
	// its answers: scraped again until they are all there.
	var text string
	for deadline := time.Now().Add(emailWait); ; time.Sleep(20 * time.Millisecond) { // polling another process's state
		var code int
		if code, text = scrape(admin); code != http.StatusOK {
			t.Fatalf("scrape: %d %s", code, text)
		}
		var missing []string
		for _, want := range wants {
			if !strings.Contains(text, want) {
				missing = append(missing, want)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scrape lacks, after %s: %q", emailWait, missing)
		}
	}
	metricsDocumented(t, text)
	metricstest.Promtool(t, text) // skips the test where promtool is missing (not in CI)
}

// metricsDocumented fails t for every family of ours in a scrape's text
// that docs/metrics.md does not list (metrics/alerts.yml names only
// listed ones: TestAlertRulesNameDocumentedMetrics).
func metricsDocumented(t *testing.T, text string) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(text, "\n") {
		family, ok := strings.CutPrefix(line, "# TYPE switchboard_")
		if !ok {
			continue
		}
		n++
		family, _, _ = strings.Cut(family, " ")
		if !strings.Contains(string(doc), "`switchboard_"+family+"`") {
			t.Errorf("docs/metrics.md does not list switchboard_%s", family)
		}
	}
	if n == 0 {
		t.Error("the scrape has no family of ours")
	}
}
