package main

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/channels/sms"
	"github.com/switchboard/switchboard/metrics/metricstest"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/webhooks"
)

// TestChannelMetrics: the channels' health as a scrape shows it, and
// promtool passes it.
func TestChannelMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newSMSMetrics(func() []sms.WebhookStats {
		return []sms.WebhookStats{{Path: sms.InboundPath, Counts: [4]int64{7, 1, 2, 0}}, {Path: sms.StatusPath, Counts: [4]int64{3, 0, 0, 1}}}
	}))
	reg.MustRegister(newWebhookMetrics(func() []webhooks.Status {
		return []webhooks.Status{{ID: "crm", State: store.WebhookState{Delivered: 40, Failures: 2, Attempts: 3,
			Held: []store.HeldContact{{ContactID: "c1", Next: 7}, {ContactID: "c2", Next: 9}}}},
			{ID: "old", State: store.WebhookState{Disabled: true}}}
	}))
	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	text := string(b)
	for _, want := range []string{
		`switchboard_sms_webhook_requests_total{endpoint="sms",outcome="accepted"} 7`,
		`switchboard_sms_webhook_requests_total{endpoint="sms",outcome="forbidden"} 2`,
		`switchboard_sms_webhook_requests_total{endpoint="status",outcome="failed"} 1`,
		`switchboard_webhook_events_delivered_total{webhook="crm"} 40`,
		`switchboard_webhook_events_failed_total{webhook="crm"} 2`,
		`switchboard_webhook_pending_attempts{webhook="crm"} 3`,
		`switchboard_webhook_held_contacts{webhook="crm"} 2`,
		`switchboard_webhook_disabled{webhook="old"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q:\n%s", want, text)
		}
	}
	metricsDocumented(t, text)
	metricstest.Promtool(t, text) // skips the test where promtool is missing (not in CI)
}
