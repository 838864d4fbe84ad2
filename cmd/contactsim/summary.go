package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Summary is the run's result; -json prints it as is.
type Summary struct {
	Scenario  string  `json:"scenario"`
	RunID     string  `json:"run_id"`
	DurationS float64 `json:"duration_s"`
	Rate      float64 `json:"rate_per_s"`
	Agents    int     `json:"agents"`
	// Arrivals are the customers who came; Acknowledged the contacts
	// routerd acknowledged; ThroughputPerS those per second.
	Arrivals       int64   `json:"arrivals"`
	Acknowledged   int64   `json:"acknowledged"`
	ThroughputPerS float64 `json:"throughput_per_s"`
	// P50Ms… are the customer's first message → the offer (screen pop)
	// on the agent's socket, over every offered contact.
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
	P99Ms float64 `json:"p99_ms"`
	// Direct… are the same over the contacts offered without waiting in
	// their queue (the routing path alone); Waited counts the others.
	DirectP50Ms float64 `json:"direct_p50_ms"`
	DirectP99Ms float64 `json:"direct_p99_ms"`
	Direct      int     `json:"direct_samples"`
	Waited      int     `json:"waited_samples"`
	// Reply… are an agent's send → the message on the chat customer's socket.
	ReplyP50Ms float64 `json:"reply_p50_ms"`
	ReplyP99Ms float64 `json:"reply_p99_ms"`
	Replies    int     `json:"reply_samples"`
	// WaitP50S… are arrival → accepted by an agent, in seconds.
	WaitP50S float64 `json:"wait_p50_s"`
	WaitP95S float64 `json:"wait_p95_s"`
	// Offered, Answered, Abandoned, Declined, Closed count contacts.
	Offered      int64   `json:"offered"`
	Answered     int64   `json:"answered"`
	Abandoned    int64   `json:"abandoned"`
	Declined     int64   `json:"declined"`
	Closed       int64   `json:"closed"`
	ServiceLevel float64 `json:"service_level"`
	SLWithinS    float64 `json:"service_level_within_s"`
	Abandonment  float64 `json:"abandonment"`
	Messages     int64   `json:"customer_messages"`
	AgentReplies int64   `json:"agent_replies"`
	// Offers is how the screen pops' offers did against the truth.
	Offers OfferSummary `json:"offers"`
	// Lost and Duplicated are contacts and messages together.
	Lost       int            `json:"lost"`
	Duplicated int            `json:"duplicated"`
	Check      *Check         `json:"check"`
	Errors     int            `json:"errors"`
	ErrorKinds map[string]int `json:"error_kinds"`
	Refused    map[string]int `json:"refused"`
	// Anomalies are what routerd did that it should not have, without
	// losing or duplicating anything (not counted in Errors).
	Anomalies map[string]int `json:"anomalies"`
	Skipped   []string       `json:"skipped"`
	// Board is what the supervisors watching the board saw (-viewers);
	// absent without.
	Board *BoardSummary `json:"board,omitempty"`
}

// OfferSummary compares the learned ranking with a random one and the
// best possible, as true acceptance rates averaged over the screen pops
// that showed offers, among the offers each showed.
type OfferSummary struct {
	Pops       int            `json:"pops"`
	Learned    float64        `json:"learned"`
	Random     float64        `json:"random"`
	Best       float64        `json:"best"`
	Recorded   int            `json:"recorded"`
	Accepted   int            `json:"accepted"`
	Violations int            `json:"violations"`
	Why        map[string]int `json:"violations_by_reason"`
	Withheld   map[string]int `json:"withheld"`
}

func (s *Sim) summary(d time.Duration, ck *Check) *Summary {
	p := s.popLat.Percentiles(50, 95, 99)
	r := s.replyLat.Percentiles(50, 99)
	w := s.waitLat.Percentiles(50, 95)
	sm := &Summary{
		Scenario: s.sc.Name, RunID: s.runID, DurationS: d.Seconds(), Rate: s.sc.Rate, Agents: len(s.agents),
		Arrivals: s.n.arrivals.Load(), Acknowledged: s.n.acked.Load(),
		P50Ms: ms(p[0]), P95Ms: ms(p[1]), P99Ms: ms(p[2]),
		ReplyP50Ms: ms(r[0]), ReplyP99Ms: ms(r[1]), Replies: s.replyLat.Count(),
		WaitP50S: w[0].Seconds(), WaitP95S: w[1].Seconds(),
		Offered: s.n.offered.Load(), Answered: s.n.answered.Load(), Abandoned: s.n.abandoned.Load(),
		Declined: s.n.declined.Load(), Closed: s.n.closed.Load(),
		SLWithinS: s.opts.SLWithin.Seconds(), Messages: s.n.messages.Load(), AgentReplies: s.n.replies.Load(),
		Check: ck, Skipped: s.skipped, Board: s.boards.summary(d),
	}
	var direct []time.Duration
	s.mu.Lock()
	for _, c := range s.contacts {
		c.mu.Lock()
		switch {
		case c.offeredAt.IsZero():
		case c.waited || c.channel == channelSMS:
			// A texter is not told whether it waits: not counted as direct.
			sm.Waited++
		default:
			direct = append(direct, c.offeredAt.Sub(c.sentAt))
		}
		c.mu.Unlock()
	}
	s.mu.Unlock()
	dp := Percentiles(direct, 50, 99)
	sm.DirectP50Ms, sm.DirectP99Ms, sm.Direct = ms(dp[0]), ms(dp[1]), len(direct)
	if d > 0 {
		sm.ThroughputPerS = float64(sm.Acknowledged) / d.Seconds()
	}
	if n := sm.Answered + sm.Abandoned; n > 0 {
		sm.ServiceLevel = float64(s.n.answeredInSL.Load()) / float64(n)
	}
	if sm.Acknowledged > 0 {
		sm.Abandonment = float64(sm.Abandoned) / float64(sm.Acknowledged)
	}
	if ck != nil {
		sm.Lost = ck.LostContacts + ck.LostMessages
		sm.Duplicated = ck.DuplicatedContacts + ck.DuplicatedMessages
	}
	o := &s.offers
	o.mu.Lock()
	sm.Offers = OfferSummary{Pops: o.pops, Recorded: o.recorded, Accepted: o.accepted,
		Why: maps.Clone(o.violations), Withheld: maps.Clone(o.withheld)}
	if o.pops > 0 {
		n := float64(o.pops)
		sm.Offers.Learned, sm.Offers.Random, sm.Offers.Best = o.learned/n, o.random/n, o.best/n
	}
	for _, v := range o.violations {
		sm.Offers.Violations += v
	}
	o.mu.Unlock()
	s.mu.Lock()
	sm.ErrorKinds, sm.Refused, sm.Anomalies = maps.Clone(s.errs), maps.Clone(s.refused), maps.Clone(s.odd)
	for _, v := range s.errs {
		sm.Errors += v
	}
	s.mu.Unlock()
	return sm
}

// WriteJSON prints the summary as one JSON object.
func (sm *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sm)
}

// WriteText prints the summary for people.
func (sm *Summary) WriteText(w io.Writer) {
	pct := func(x float64) string { return fmt.Sprintf("%.1f %%", 100*x) }
	fmt.Fprintf(w, "contactsim: scenario %s, run %s: %.1fs at %.1f contacts/s, %d agents\n", sm.Scenario, sm.RunID, sm.DurationS, sm.Rate, sm.Agents)
	fmt.Fprintf(w, "  throughput      %d arrived, %d acknowledged (%.1f/s), %d customer messages, %d agent replies\n",
		sm.Arrivals, sm.Acknowledged, sm.ThroughputPerS, sm.Messages, sm.AgentReplies)
	fmt.Fprintf(w, "  screen pop      customer's message → offer on the agent's socket: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms (%d offered)\n",
		sm.P50Ms, sm.P95Ms, sm.P99Ms, sm.Offered)
	fmt.Fprintf(w, "                  of which offered without waiting in the queue: p50 %.1f ms, p99 %.1f ms (%d; %d waited)\n",
		sm.DirectP50Ms, sm.DirectP99Ms, sm.Direct, sm.Waited)
	fmt.Fprintf(w, "  reply           agent's send → chat customer's socket: p50 %.1f ms, p99 %.1f ms (%d)\n", sm.ReplyP50Ms, sm.ReplyP99Ms, sm.Replies)
	fmt.Fprintf(w, "  service         %d answered (wait p50 %.1fs, p95 %.1fs), service level %s within %.0fs, %d abandoned (%s), %d declined, %d closed\n",
		sm.Answered, sm.WaitP50S, sm.WaitP95S, pct(sm.ServiceLevel), sm.SLWithinS, sm.Abandoned, pct(sm.Abandonment), sm.Declined, sm.Closed)
	o := sm.Offers
	if o.Pops > 0 {
		fmt.Fprintf(w, "  offers          %d screen pops with offers: true acceptance of the first offer %s (learned ranking), %s (random among those shown), %s (best shown); customers accepted %d of %d\n",
			o.Pops, pct(o.Learned), pct(o.Random), pct(o.Best), o.Accepted, o.Recorded)
	} else {
		fmt.Fprintln(w, "  offers          no screen pop showed an offer")
	}
	fmt.Fprintf(w, "  offers withheld %s\n", kinds(o.Withheld))
	fmt.Fprintf(w, "  offer violations %d (shown to customers complaining, without consent, or opted out) %s\n", o.Violations, kinds(o.Why))
	if ck := sm.Check; ck != nil {
		fmt.Fprintf(w, "  routerd holds   %d contacts of the run: %d answered, %d replied to, %d abandoned\n", ck.Contacts, ck.Answered, ck.Replied, ck.Abandoned)
		fmt.Fprintf(w, "  lost            %d contacts, %d messages; duplicated %d contacts, %d messages %s\n",
			ck.LostContacts, ck.LostMessages, ck.DuplicatedContacts, ck.DuplicatedMessages, strings.Join(ck.Examples, ", "))
		fmt.Fprintf(w, "  rules           %d times an agent over capacity, %d offers after the contact ended\n", ck.OverCapacity, ck.OffersAfterEnd)
	} else {
		fmt.Fprintln(w, "  lost            not checked (the check failed: see errors)")
	}
	if b := sm.Board; b != nil {
		fmt.Fprintf(w, "  board           %d viewers, %d frames, %.0f B/s each; a frame's time → received p50 %.1f ms, p99 %.1f ms; an offer → on the board p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d contacts, %d never shown; %d errors)\n",
			b.Viewers, b.Frames, b.BytesPerViewerPerS, b.BehindP50Ms, b.BehindP99Ms, b.LagP50Ms, b.LagP99Ms, b.LagMaxMs, b.Samples, b.Unseen, b.Errors)
	}
	fmt.Fprintf(w, "  errors          %d %s\n", sm.Errors, kinds(sm.ErrorKinds))
	if len(sm.Refused) > 0 {
		fmt.Fprintf(w, "  refused         %s (routerd's documented answers, not errors)\n", kinds(sm.Refused))
	}
	if len(sm.Anomalies) > 0 {
		fmt.Fprintf(w, "  anomalies       %s (routerd did what it should not have; nothing was lost)\n", kinds(sm.Anomalies))
	}
	for _, sk := range sm.Skipped {
		fmt.Fprintf(w, "  skipped         %s\n", sk)
	}
}

// kinds prints counts by kind, sorted.
func kinds(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return "(" + strings.Join(parts, "; ") + ")"
}
