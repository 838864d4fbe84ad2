package config

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/webhooks"
)

// Token is an API token with its secret resolved.
type Token struct {
	Name string
	// Role is RoleAdmin, RoleSupervisor or RoleIntegration.
	Role   string
	Secret string
}

// RouterOptions returns the router's options that the configuration
// sets: OfferTimeout, Capacity, WrapUp, the customer limits and the
// calendars (RouterCalendars). The caller adds the clock,
// notifier and logger.
func (c *Config) RouterOptions() router.Options {
	offer := make(map[router.Channel]time.Duration, len(c.Routing.OfferTimeout))
	for ch, d := range c.Routing.OfferTimeout {
		offer[ch] = d.D()
	}
	return router.Options{
		OfferTimeout: offer,
		Capacity:     maps.Clone(c.Routing.Capacity),
		WrapUp:       c.Routing.WrapUp.D(),
		// The customer limits bound what the public can store.
		CustomerMessages: c.Routing.CustomerMessages,
		CustomerBytes:    c.Routing.CustomerBytes,
		Calendars:        c.RouterCalendars(),
		// Agents take contacts only with a desktop open; who leaves
		// keeps their contacts for the grace.
		RequirePresence: true,
		DisconnectGrace: c.Desktop.Grace.D(),
		AwayReasons:     slices.Clone(c.Desktop.AwayReasons),
	}
}

// RouterQueues returns the configured queues as the router's type, deep
// copies with an empty strategy set to router.LongestIdle. They are in
// file order, except that a queue comes after the queue it overflows into,
// so that upserting them one by one never names a queue not yet there. A
// queue's zero WrapUp is kept: it means Routing.WrapUp. While the
// deprecated chat.opening_hours is set, the chat topics' queues have the
// hours ChatCalendar.
func (c *Config) RouterQueues() []router.Queue {
	byName := map[string]int{}
	for i, q := range c.Queues {
		if _, dup := byName[q.Name]; !dup {
			byName[q.Name] = i
		}
	}
	chatQueues := map[string]bool{} // whose hours chat.opening_hours sets
	if c.Chat.OpeningHours.Set() {
		for _, t := range c.Chat.Topics {
			chatQueues[t.Queue] = true
		}
	}
	var qs []router.Queue
	done := make([]bool, len(c.Queues))
	var add func(i int)
	add = func(i int) {
		if done[i] {
			return
		}
		done[i] = true // before the overflow, so a cycle ends here
		q := c.Queues[i]
		if j, ok := byName[q.Overflow]; ok {
			add(j)
		}
		if q.Hours == "" && chatQueues[q.Name] {
			q.Hours = ChatCalendar
		}
		qs = append(qs, routerQueue(q))
	}
	for i := range c.Queues {
		add(i)
	}
	return qs
}

// routerQueue returns q as the router's type, its strategy defaulted.
func routerQueue(q Queue) router.Queue {
	r := q.Router()
	if r.Strategy == "" {
		r.Strategy = router.LongestIdle
	}
	return r
}

// RouterAgents returns the configured agents as the router's type, in file
// order, with only ID, Name, Skills and Capacity set (Name defaults to ID).
// Capacity is the agent's own: the router gives channels it leaves out
// the default of RouterOptions. Skills and Capacity are never nil.
func (c *Config) RouterAgents() []router.Agent {
	var as []router.Agent
	for _, a := range c.Agents {
		name := a.Name
		if name == "" {
			name = a.ID
		}
		skills, capacity := maps.Clone(a.Skills), maps.Clone(a.Capacity)
		if skills == nil {
			skills = map[string]int{}
		}
		if capacity == nil {
			capacity = map[string]int{}
		}
		as = append(as, router.Agent{ID: a.ID, Name: name, Skills: skills, Capacity: capacity})
	}
	return as
}

// ResolveTokens returns the tokens of Auth.Tokens with their secrets,
// reading token_env variables through c.Env (os.LookupEnv when nil). It
// fails, naming the token's line, when a variable is unset or empty or a
// token is otherwise invalid. Auth.AdminToken is not included.
func (c *Config) ResolveTokens() ([]Token, error) {
	v := &validator{c: c}
	v.auth()
	if err := v.errs.err(); err != nil {
		return nil, err
	}
	lookup := c.lookupEnv()
	var ts []Token
	for _, t := range c.Auth.Tokens {
		secret := t.Token
		if t.TokenEnv != "" {
			secret, _ = lookup(t.TokenEnv)
		}
		ts = append(ts, Token{Name: t.Name, Role: t.Role, Secret: secret})
	}
	return ts, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	return slices.Sorted(maps.Keys(m))
}

// OfferCatalog returns the configured offers as the offers package's
// type, deep copies in file order.
func (c *Config) OfferCatalog() []offers.Offer {
	var out []offers.Offer
	for _, o := range c.Offers.Catalog {
		out = append(out, offers.Offer{
			ID: o.ID, Title: o.Title, TalkingPoints: slices.Clone(o.TalkingPoints), Value: o.Value,
			Channels: slices.Clone(o.Channels), Eligible: o.Eligible, Why: o.Why,
			Cooldown: o.Cooldown.D(), CapPerContact: o.CapPerContact,
		})
	}
	return out
}

// OfferRules returns the suppression rules of offers.complaints.
func (c *Config) OfferRules() offers.Rules {
	cp := c.Offers.Complaints
	return offers.Rules{
		ComplaintQueues:       slices.Clone(cp.Queues),
		ComplaintDispositions: slices.Clone(cp.Dispositions),
		ComplaintKeywords:     slices.Clone(cp.Keywords),
		RecentComplaint:       cp.RecentWindow.D(),
	}
}

// CSATPolicy returns the satisfaction survey's policy, with the
// complaint rules of the offers.
func (c *Config) CSATPolicy() csat.Policy {
	return csat.Policy{Queues: slices.Clone(c.Chat.CSAT.Queues), Question: c.Chat.CSAT.Question,
		Window: c.Chat.CSAT.Window.D(), Rules: c.OfferRules()}
}

// OfferPrior returns the learner's prior.
func (c *Config) OfferPrior() offers.Prior {
	return offers.Prior{Alpha: c.Offers.Prior.Alpha, Beta: c.Offers.Prior.Beta}
}

// WebhookList returns the configured webhooks as the webhooks package
// takes them, their secrets read from the environment where secret_env
// says so. Validate has checked them.
func (c *Config) WebhookList() []webhooks.Webhook {
	lookup := c.lookupEnv()
	var out []webhooks.Webhook
	for _, w := range c.Webhooks {
		secret := w.Secret
		if w.SecretEnv != "" {
			secret, _ = lookup(w.SecretEnv)
		}
		out = append(out, webhooks.Webhook{ID: w.ID, URL: w.URL, Events: slices.Clone(w.Events), Secret: secret, Source: webhooks.SourceConfig})
	}
	return out
}

// ServiceLevelThresholds returns the configured queues' service-level
// thresholds (the metrics' wait histogram has a bound on each).
func (c *Config) ServiceLevelThresholds() []time.Duration {
	var out []time.Duration
	for _, q := range c.Queues {
		if d := q.ServiceLevel.Within.D(); d > 0 && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
