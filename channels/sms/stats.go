package sms

import (
	"net/http"
	"sync/atomic"

	"github.com/switchboard/switchboard/httpstatus"
)

// Webhook outcomes, for the channel's health (Stats): what Twilio got.
const (
	// OutcomeAccepted: a 2xx, the text or report is committed.
	OutcomeAccepted = "accepted"
	// OutcomeRefused: a 4xx other than 403 (malformed, too large).
	OutcomeRefused = "refused"
	// OutcomeForbidden: a 403, a missing or wrong signature (or
	// another account's): a misconfigured public_url or auth token, or
	// someone forging Twilio.
	OutcomeForbidden = "forbidden"
	// OutcomeFailed: a 5xx, Twilio may try again.
	OutcomeFailed = "failed"
)

// Outcomes lists the outcomes in the order Stats gives them.
var Outcomes = []string{OutcomeAccepted, OutcomeRefused, OutcomeForbidden, OutcomeFailed}

// WebhookStats counts one endpoint's answers by outcome since start.
type WebhookStats struct {
	// Path is InboundPath or StatusPath.
	Path string
	// Counts are by outcome, in the order of Outcomes.
	Counts [4]int64
}

// counters are one endpoint's answers by outcome.
type counters [4]atomic.Int64

func outcomeOf(status int) int {
	switch {
	case status < 300:
		return 0
	case status == http.StatusForbidden:
		return 2
	case status < 500:
		return 1
	}
	return 3
}

// Stats returns the webhooks' answers by endpoint and outcome since the
// channel started (routerd exports them as metrics).
func (c *Channel) Stats() []WebhookStats {
	out := []WebhookStats{{Path: InboundPath}, {Path: StatusPath}}
	for i, cs := range []*counters{&c.inbound, &c.status} {
		for j := range cs {
			out[i].Counts[j] = cs[j].Load()
		}
	}
	return out
}

// counted records the status h answers in cs.
func counted(cs *counters, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httpstatus.NewRecorder(w)
		h(rec, r)
		cs[outcomeOf(rec.Status())].Add(1)
	}
}
