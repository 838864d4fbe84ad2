package main

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// scenarios holds the shipped scenarios, by file name without ".yaml".
//
//go:embed scenarios/*.yaml
var scenarios embed.FS

// Limits on a scenario, checked by Validate.
const (
	maxStreams    = 100
	maxAgents     = 10000
	maxRate       = 100000
	maxExtraMsgs  = 50
	hoursInDay    = 24
	channelAPI    = "api"
	channelChat   = "chat"
	channelSMS    = "sms"
	channelEmail  = "email"
	truthDemo     = "demo"
	anyKey        = "*"
	passwordIDVar = "{id}"
)

// Scenario is what contactsim plays: arrivals per queue and channel over
// an hourly profile, the customers' patience and messages, the agents
// with their skills' schedule and handle times, and the truth of the
// offers. It is read from YAML (LoadScenario); unknown fields are refused.
type Scenario struct {
	// Name names the scenario in the summary.
	Name string `yaml:"name"`
	// Description says what it models and which routerd it needs.
	Description string `yaml:"description"`
	// Rate is the mean arrivals per second, all streams together, in an
	// hour whose profile factor is 1.
	Rate float64 `yaml:"rate"`
	// Profile is the hourly factor of Rate, hour 0 to 23 of the simulated
	// day; empty means 1 all day.
	Profile []float64 `yaml:"profile"`
	// Day is how long a simulated day lasts in real time (default 24h:
	// the profile follows the clock); StartHour is the simulated hour at
	// which the run starts (default: the clock's hour in UTC).
	Day       Duration `yaml:"day"`
	StartHour *float64 `yaml:"start_hour"`
	// Seed makes the arrivals and every draw reproducible (0: from the clock).
	Seed uint64 `yaml:"seed"`
	// Streams are where contacts arrive: a queue, a channel, and the
	// share of Rate (shares are normalised).
	Streams   []Stream      `yaml:"streams"`
	Customers CustomerModel `yaml:"customers"`
	Agents    AgentModel    `yaml:"agents"`
	Offers    OfferTruth    `yaml:"offers"`
}

// Stream is one kind of arrival.
type Stream struct {
	Queue   string  `yaml:"queue"`
	Channel string  `yaml:"channel"`
	Share   float64 `yaml:"share"`
	// Topic is the chat topic (the pre-chat form's choice) for chat.
	Topic string `yaml:"topic"`
	// To is the number texted, for sms (default +15550001111).
	To string `yaml:"to"`
}

// CustomerModel is how customers behave.
type CustomerModel struct {
	// Patience is how long a customer waits for an agent before leaving
	// (chat and API; a texter or a writer of email never abandons).
	Patience Dist `yaml:"patience"`
	// ExtraMessages is how many messages a customer writes after the
	// first, once an agent has them; MessageGap the time between them.
	ExtraMessages IntRange `yaml:"extra_messages"`
	MessageGap    Dist     `yaml:"message_gap"`
	// Complaints is the share of customers whose first message complains
	// (no offer may be shown to them).
	Complaints float64 `yaml:"complaints"`
	// Known is the share of API and email customers who are known customers
	// of the daemon (the demo's synthetic profiles, when it has them).
	Known float64 `yaml:"known"`
	// KnownIDs is the printf format and count of the known customers' ids
	// to look up at the start (the demo's: cu-synth-%06d, 1 to 499).
	KnownIDs KnownIDs `yaml:"known_ids"`
	// OptOut is the share of SMS customers who text STOP before their
	// question (they text START at the end of the run).
	OptOut float64 `yaml:"opt_out"`
	// TwilioRetries is the share of texts Twilio posts twice (the same
	// MessageSid), as it does when an answer is slow or lost.
	TwilioRetries float64 `yaml:"twilio_retries"`
}

// KnownIDs names known customers: Format with 1..Count.
type KnownIDs struct {
	Format string `yaml:"format"`
	Count  int    `yaml:"count"`
}

// AgentModel is the simulated agents: who, when, and how fast.
type AgentModel struct {
	// Password is the agents' desktop password; "{id}" is replaced by the
	// agent's id. The flag -agent-password or CONTACTSIM_AGENT_PASSWORD
	// overrides it. Never printed.
	Password string `yaml:"password"`
	// Staff are the agents, each on a shift of the simulated day.
	Staff []Staff `yaml:"staff"`
	// Think is the time from an offer to its acceptance; Handle from the
	// acceptance to the wrap-up; WrapUp from the wrap-up to the close.
	Think  Dist `yaml:"think"`
	Handle Dist `yaml:"handle"`
	WrapUp Dist `yaml:"wrapup"`
	// Decline is the share of offers an agent declines.
	Decline float64 `yaml:"decline"`
	// Disposition is the wrap-up code used (default solved).
	Disposition string `yaml:"disposition"`
}

// Staff is one agent, or Count agents Prefix001, Prefix002, …, working
// from hour From to hour To of the simulated day (default all day; To
// may be below From for a night shift).
type Staff struct {
	ID     string   `yaml:"id"`
	Prefix string   `yaml:"prefix"`
	Count  int      `yaml:"count"`
	From   *float64 `yaml:"from"`
	To     *float64 `yaml:"to"`
}

// OfferTruth is how likely a customer truly accepts each offer: from
// Acceptance (offer id → segment → rate, "*" for any), or with Truth
// "demo" the rates the demo's synthetic past was drawn from.
type OfferTruth struct {
	Truth      string                        `yaml:"truth"`
	Acceptance map[string]map[string]float64 `yaml:"acceptance"`
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration such as 30s or 1m30s, got %q", b)
	}
	*d = Duration(v)
	return nil
}

// D is the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Dist is a distribution of durations: lognormal of Mean and SD
// (SD 0: always Mean), clipped to Max when Max is set.
type Dist struct {
	Mean Duration `yaml:"mean"`
	SD   Duration `yaml:"sd"`
	Max  Duration `yaml:"max"`
}

// Draw draws one duration.
func (d Dist) Draw(rng *rand.Rand) time.Duration {
	m, s := float64(d.Mean), float64(d.SD)
	if m <= 0 {
		return 0
	}
	v := m
	if s > 0 {
		// The lognormal whose mean and standard deviation are m and s.
		sigma2 := math.Log(1 + s*s/(m*m))
		mu := math.Log(m) - sigma2/2
		v = math.Exp(mu + math.Sqrt(sigma2)*rng.NormFloat64())
	}
	if d.Max > 0 && v > float64(d.Max) {
		v = float64(d.Max)
	}
	return time.Duration(v)
}

// IntRange is a uniform integer in [Min, Max].
type IntRange struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// Draw draws one integer.
func (r IntRange) Draw(rng *rand.Rand) int {
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + rng.IntN(r.Max-r.Min+1)
}

// LoadScenario reads a scenario from a file, or a shipped one by name
// ("bank", "retailer", "demo", "throughput").
func LoadScenario(nameOrPath string) (*Scenario, error) {
	var (
		data []byte
		err  error
	)
	if !strings.ContainsAny(nameOrPath, "/.") {
		data, err = scenarios.ReadFile("scenarios/" + nameOrPath + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("contactsim: no shipped scenario %q (shipped: %s); or give a file's path", nameOrPath, strings.Join(shippedScenarios(), ", "))
		}
	} else if data, err = os.ReadFile(nameOrPath); err != nil {
		return nil, fmt.Errorf("contactsim: scenario: %w", err)
	}
	return ParseScenario(nameOrPath, data)
}

func shippedScenarios() []string {
	ents, _ := scenarios.ReadDir("scenarios")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	return names
}

// ParseScenario decodes and validates a scenario; file names it in errors.
// Unknown fields are refused, naming the line and the field.
func ParseScenario(file string, data []byte) (*Scenario, error) {
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("contactsim: scenario %s: empty", file)
		}
		return nil, fmt.Errorf("contactsim: scenario %s: %s", file, strings.ReplaceAll(err.Error(), "\n ", ""))
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("contactsim: scenario %s: %w", file, err)
	}
	return &s, nil
}

// Validate checks the scenario and fills in the defaults.
func (s *Scenario) Validate() error {
	if s.Rate < 0 || s.Rate > maxRate {
		return fmt.Errorf("rate: %v, want 0 to %d contacts a second", s.Rate, maxRate)
	}
	if len(s.Profile) != 0 && len(s.Profile) != hoursInDay {
		return fmt.Errorf("profile: %d factors, want 24 (hour 0 to 23) or none", len(s.Profile))
	}
	for i, f := range s.Profile {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("profile[%d]: %v, want a factor of 0 or more", i, f)
		}
	}
	if s.Day == 0 {
		s.Day = Duration(24 * time.Hour)
	}
	if s.Day < Duration(time.Minute) {
		return fmt.Errorf("day: %v, want 1m or more", s.Day.D())
	}
	if s.StartHour != nil && (*s.StartHour < 0 || *s.StartHour >= hoursInDay) {
		return fmt.Errorf("start_hour: %v, want 0 to 24 (excluded)", *s.StartHour)
	}
	if len(s.Streams) == 0 || len(s.Streams) > maxStreams {
		return fmt.Errorf("streams: %d, want 1 to %d", len(s.Streams), maxStreams)
	}
	total := 0.0
	for i := range s.Streams {
		st := &s.Streams[i]
		switch st.Channel {
		case channelAPI, channelSMS, channelEmail:
		case channelChat:
			if st.Topic == "" {
				return fmt.Errorf("streams[%d].topic: required for chat (the topic id of the chat's pre-chat form)", i)
			}
		default:
			return fmt.Errorf("streams[%d].channel: %q, want api, chat, sms or email", i, st.Channel)
		}
		if st.Queue == "" && st.Channel != channelSMS && st.Channel != channelEmail {
			return fmt.Errorf("streams[%d].queue: required", i)
		}
		if st.Share < 0 {
			return fmt.Errorf("streams[%d].share: %v, want 0 or more", i, st.Share)
		}
		if st.Channel == channelSMS && st.To == "" {
			st.To = "+15550001111"
		}
		total += st.Share
	}
	if total <= 0 {
		return errors.New("streams: every share is 0; give at least one a share")
	}
	c := &s.Customers
	for _, f := range []struct {
		name string
		v    float64
	}{{"customers.complaints", c.Complaints}, {"customers.known", c.Known}, {"customers.opt_out", c.OptOut},
		{"customers.twilio_retries", c.TwilioRetries}, {"agents.decline", s.Agents.Decline}} {
		if f.v < 0 || f.v > 1 {
			return fmt.Errorf("%s: %v, want a share from 0 to 1", f.name, f.v)
		}
	}
	if c.ExtraMessages.Min < 0 || c.ExtraMessages.Max > maxExtraMsgs || c.ExtraMessages.Max < c.ExtraMessages.Min && c.ExtraMessages.Max != 0 {
		return fmt.Errorf("customers.extra_messages: %d to %d, want 0 ≤ min ≤ max ≤ %d", c.ExtraMessages.Min, c.ExtraMessages.Max, maxExtraMsgs)
	}
	if c.Patience.Mean == 0 {
		c.Patience.Mean = Duration(time.Minute)
	}
	if c.Known > 0 && (c.KnownIDs.Format == "" || c.KnownIDs.Count <= 0) {
		return errors.New("customers.known_ids: give format and count when customers.known is above 0")
	}
	if c.KnownIDs.Format != "" && !strings.Contains(c.KnownIDs.Format, "%") {
		return fmt.Errorf("customers.known_ids.format: %q, want a printf format of the number, such as cu-synth-%%06d", c.KnownIDs.Format)
	}
	a := &s.Agents
	if a.Password != "" && !strings.Contains(a.Password, passwordIDVar) && len(a.Password) < 10 {
		return errors.New("agents.password: shorter than 10 characters")
	}
	n := 0
	for i, st := range a.Staff {
		switch {
		case st.ID != "" && (st.Prefix != "" || st.Count != 0):
			return fmt.Errorf("agents.staff[%d]: id, or prefix with count, not both", i)
		case st.ID == "" && (st.Prefix == "" || st.Count <= 0):
			return fmt.Errorf("agents.staff[%d]: want id, or prefix with a count of 1 or more", i)
		case st.Count > maxAgents:
			return fmt.Errorf("agents.staff[%d].count: %d, want at most %d", i, st.Count, maxAgents)
		}
		for _, h := range []*float64{st.From, st.To} {
			if h != nil && (*h < 0 || *h > hoursInDay) {
				return fmt.Errorf("agents.staff[%d]: shift hour %v, want 0 to 24", i, *h)
			}
		}
		n += max(st.Count, 1)
	}
	if n == 0 || n > maxAgents {
		return fmt.Errorf("agents.staff: %d agents, want 1 to %d", n, maxAgents)
	}
	if a.Disposition == "" {
		a.Disposition = "solved"
	}
	switch s.Offers.Truth {
	case "", truthDemo:
	default:
		return fmt.Errorf("offers.truth: %q, want demo or none (then offers.acceptance)", s.Offers.Truth)
	}
	for id, segs := range s.Offers.Acceptance {
		for seg, p := range segs {
			if p < 0 || p > 1 {
				return fmt.Errorf("offers.acceptance.%s.%s: %v, want a rate from 0 to 1", id, seg, p)
			}
		}
	}
	return nil
}

// agentIDs lists the agents with their shifts, in order.
func (s *Scenario) agentIDs() []agentShift {
	var out []agentShift
	for _, st := range s.Agents.Staff {
		from, to := 0.0, 24.0
		if st.From != nil {
			from = *st.From
		}
		if st.To != nil {
			to = *st.To
		}
		if st.ID != "" {
			out = append(out, agentShift{id: st.ID, from: from, to: to})
			continue
		}
		for i := 1; i <= st.Count; i++ {
			out = append(out, agentShift{id: fmt.Sprintf("%s%03d", st.Prefix, i), from: from, to: to})
		}
	}
	return out
}

// agentShift is one agent and the hours of the simulated day it works.
type agentShift struct {
	id       string
	from, to float64
}

// on reports whether the shift covers hour h (0 ≤ h < 24).
func (a agentShift) on(h float64) bool {
	if a.from <= a.to {
		return h >= a.from && h < a.to
	}
	return h >= a.from || h < a.to // overnight
}

// acceptance is the true rate at which a customer of segment accepts
// offer id, by the scenario's truth.
func (s *Scenario) acceptance(id, segment string, demo func(id, segment string) float64) float64 {
	if s.Offers.Truth == truthDemo {
		return demo(id, segment)
	}
	for _, oid := range []string{id, anyKey} {
		segs, ok := s.Offers.Acceptance[oid]
		if !ok {
			continue
		}
		for _, sg := range []string{segment, anyKey} {
			if p, ok := segs[sg]; ok {
				return p
			}
		}
	}
	return 0
}
