package main

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/channels/sms"
	"github.com/switchboard/switchboard/diskspace"
	"github.com/switchboard/switchboard/webhooks"
)

// Channel health as Prometheus metrics, read from the channels at each
// scrape (the counters live where they are counted: sms.Channel.Stats,
// the webhooks' committed states).

// smsMetrics exports what Twilio's webhooks got.
type smsMetrics struct {
	stats    func() []sms.WebhookStats
	requests *prometheus.Desc
}

func newSMSMetrics(stats func() []sms.WebhookStats) *smsMetrics {
	return &smsMetrics{stats: stats, requests: prometheus.NewDesc("switchboard_sms_webhook_requests_total",
		"Requests of Twilio's webhooks since routerd started, by endpoint (sms, status) and outcome: accepted (2xx), refused (4xx), forbidden (403: a bad signature), failed (5xx: Twilio may retry).",
		[]string{"endpoint", "outcome"}, nil)}
}

func (m *smsMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.requests }

func (m *smsMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range m.stats() {
		endpoint := s.Path[strings.LastIndexByte(s.Path, '/')+1:]
		for i, outcome := range sms.Outcomes {
			ch <- prometheus.MustNewConstMetric(m.requests, prometheus.CounterValue, float64(s.Counts[i]), endpoint, outcome)
		}
	}
}

// webhookMetrics exports the outbound webhooks' deliveries.
type webhookMetrics struct {
	list                                        func() []webhooks.Status
	delivered, failed, attempts, held, disabled *prometheus.Desc
}

func newWebhookMetrics(list func() []webhooks.Status) *webhookMetrics {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("switchboard_webhook_"+name, help, []string{"webhook"}, nil)
	}
	return &webhookMetrics{list: list,
		delivered: d("events_delivered_total", "Events the webhook's receiver acknowledged (kept across restarts)."),
		failed:    d("events_failed_total", "Events given up on after their retries (kept across restarts)."),
		attempts:  d("pending_attempts", "Failed attempts in a row for want of the receiver (no answer, 503, ...), while the whole webhook waits; 0 when it answers."),
		held:      d("held_contacts", "Contacts whose events wait for the retry of one the receiver refused; the other contacts' events go on."),
		disabled:  d("disabled", "1 once the receiver answered 410 Gone (it unsubscribed), else 0."),
	}
}

func (m *webhookMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.delivered, m.failed, m.attempts, m.held, m.disabled} {
		ch <- d
	}
}

func (m *webhookMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range m.list() {
		disabled := 0.0
		if s.State.Disabled {
			disabled = 1
		}
		ch <- prometheus.MustNewConstMetric(m.delivered, prometheus.CounterValue, float64(s.State.Delivered), s.ID)
		ch <- prometheus.MustNewConstMetric(m.failed, prometheus.CounterValue, float64(s.State.Failures), s.ID)
		ch <- prometheus.MustNewConstMetric(m.attempts, prometheus.GaugeValue, float64(s.State.Attempts), s.ID)
		ch <- prometheus.MustNewConstMetric(m.held, prometheus.GaugeValue, float64(len(s.State.Held)), s.ID)
		ch <- prometheus.MustNewConstMetric(m.disabled, prometheus.GaugeValue, disabled, s.ID)
	}
}

// diskCollector exports the data directory's disk guard.
type diskCollector struct{ g *diskspace.Guard }

var (
	diskFreeDesc = prometheus.NewDesc("switchboard_disk_free_bytes",
		"Bytes free to routerd on the data directory's filesystem, as last read (every second).", nil, nil)
	diskLowDesc = prometheus.NewDesc("switchboard_disk_low",
		"1 while the data directory's disk is nearly full (below disk.min_free_bytes) and new contacts are refused.", nil, nil)
)

func (c diskCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- diskFreeDesc
	ch <- diskLowDesc
}

func (c diskCollector) Collect(ch chan<- prometheus.Metric) {
	low := 0.0
	if c.g.Low() {
		low = 1
	}
	ch <- prometheus.MustNewConstMetric(diskFreeDesc, prometheus.GaugeValue, float64(c.g.Free()))
	ch <- prometheus.MustNewConstMetric(diskLowDesc, prometheus.GaugeValue, low)
}
