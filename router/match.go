package router

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"
)

// ineligible says why agent a cannot take contact c now, or "" if it can.
// The checks are ordered cheapest and most telling first.
func (r *Router) ineligible(a *Agent, c *Contact, now time.Time) string {
	switch {
	case a.State == AgentAway && a.Reason != "" && a.Reason != "away":
		return "away (" + a.Reason + ")"
	case a.State != AgentAvailable:
		return string(a.State)
	case a.Offer != "":
		return "ringing"
	}
	if n, max := a.Active[c.Channel], r.capacityOf(a, c.Channel); n >= max {
		return fmt.Sprintf("%s %d/%d", c.Channel, n, max)
	}
	if slices.Contains(c.Declined, a.ID) {
		return "declined it"
	}
	if len(c.Preferred) > 0 && !c.PreferredUntil.IsZero() && now.Before(c.PreferredUntil) && !slices.Contains(c.Preferred, a.ID) {
		return "not preferred"
	}
	return lacks(a.Skills, c.Effective)
}

// meets reports whether skills satisfy every requirement; the matcher's
// fast path, which formats nothing.
func meets(skills map[string]int, reqs []Requirement) bool {
	for _, req := range reqs {
		if lvl, ok := skills[req.Skill]; !ok || lvl < req.Min {
			return false
		}
	}
	return true
}

// lacks says which requirement skills fail, or "" if none.
func lacks(skills map[string]int, reqs []Requirement) string {
	for _, req := range reqs {
		lvl, ok := skills[req.Skill]
		if !ok {
			return "no " + req.Skill
		}
		if lvl < req.Min {
			return fmt.Sprintf("%s %d<%d", req.Skill, lvl, req.Min)
		}
	}
	return ""
}

// eligible is ineligible(a, c, now) == "" without formatting a reason.
func (r *Router) eligible(a *Agent, c *Contact, now time.Time) bool {
	if a.State != AgentAvailable || a.Offer != "" || a.Active[c.Channel] >= r.capacityOf(a, c.Channel) {
		return false
	}
	if slices.Contains(c.Declined, a.ID) {
		return false
	}
	if len(c.Preferred) > 0 && !c.PreferredUntil.IsZero() && now.Before(c.PreferredUntil) && !slices.Contains(c.Preferred, a.ID) {
		return false
	}
	return meets(a.Skills, c.Effective)
}

// skillsLine shows how a meets c's requirements: "billing 4≥3, fr 5≥1".
func skillsLine(a *Agent, reqs []Requirement) string {
	if len(reqs) == 0 {
		return "no requirements"
	}
	var b strings.Builder
	for i, req := range reqs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d≥%d", req.Skill, a.Skills[req.Skill], req.Min)
	}
	return b.String()
}

type skip struct{ id, why string }

// reasonLine renders a decision for a supervisor:
// "alice: billing 4≥3, fr 5≥1; idle 3m12s (longest); skipped bob: chat 3/3".
func reasonLine(a *Agent, c *Contact, how string, skipped []skip) string {
	var b strings.Builder
	b.WriteString(a.ID)
	b.WriteString(": ")
	b.WriteString(skillsLine(a, c.Effective))
	b.WriteString("; ")
	b.WriteString(how)
	if c.Step > 0 {
		fmt.Fprintf(&b, "; relaxed %d step(s)", c.Step)
	}
	for _, s := range skipped {
		fmt.Fprintf(&b, "; skipped %s: %s", s.id, s.why)
	}
	return b.String()
}

func idleFor(a *Agent, now time.Time) time.Duration {
	if a.IdleSince.IsZero() {
		return 0
	}
	return now.Sub(a.IdleSince).Round(time.Second)
}

// proposal is the matcher's answer for a contact: the agent, and who was
// passed over on the way, kept as pointers so that finding an agent
// allocates nothing; reason renders it when the decision is taken.
type proposal struct {
	agent     *Agent
	skipped   [maxSkipped]skipRef
	nSkipped  int
	preferred bool
}

// skipRef is an agent passed over: on its skills (route) or on its state.
type skipRef struct {
	id     string
	skills map[string]int
	agent  *Agent // nil when the skills already failed
}

func (p *proposal) skip(s skipRef) {
	if p.nSkipped < maxSkipped {
		p.skipped[p.nSkipped] = s
		p.nSkipped++
	}
}

// matchContact proposes the agent for queued contact c by its queue's
// strategy, reading txn (a snapshot or the write transaction). ok is false
// when nobody eligible can take it now.
func (r *Router) matchContact(txn *memdb.Txn, c *Contact, q *Queue, now time.Time) (p proposal, ok bool) {
	if len(c.Preferred) > 0 && now.Before(c.PreferredUntil) {
		return r.matchPreferred(txn, c, now)
	}
	it, err := txn.Get(tableRoutes, indexRoute, bucketOf(c.Effective), byte(0))
	if err != nil {
		return p, false
	}
	need := needMask(c.Effective)
	for raw := it.Next(); raw != nil; raw = it.Next() {
		rt := raw.(*route)
		// Skills live on the route too: most candidates fail on them,
		// and reading the agent row costs a lookup. The bitmap rejects
		// most of them before any map lookup.
		if rt.Mask&need != need || !meets(rt.Skills, c.Effective) {
			p.skip(skipRef{id: rt.ID, skills: rt.Skills})
			continue
		}
		a := agentOf(txn, raw)
		if a == nil {
			continue
		}
		if !r.eligible(a, c, now) {
			p.skip(skipRef{id: a.ID, agent: a})
			continue
		}
		if q.Strategy == LongestIdle || q.Strategy == "" {
			p.agent = a
			break
		}
		if p.agent == nil || r.better(q, c, a, p.agent) {
			p.agent = a
		}
	}
	return p, p.agent != nil
}

// reason renders a proposal for the timeline and the screen pop. It also
// names agents who could not be asked at all (away, busy), so that a
// supervisor sees the whole picture.
func (r *Router) reason(txn *memdb.Txn, p *proposal, c *Contact, q *Queue, now time.Time) string {
	skipped := make([]skip, 0, maxSkipped)
	for _, s := range p.skipped[:p.nSkipped] {
		why := lacks(s.skills, c.Effective)
		if s.agent != nil {
			why = r.ineligible(s.agent, c, now)
		}
		skipped = append(skipped, skip{s.id, why})
	}
	if !p.preferred && len(skipped) < maxSkipped {
		if it, err := txn.Get(tableRoutes, indexRoute, bucketOf(c.Effective), byte(1)); err == nil {
			for raw := it.Next(); raw != nil && len(skipped) < maxSkipped; raw = it.Next() {
				a := agentOf(txn, raw)
				if a == nil || a.State == AgentOffline {
					continue
				}
				skipped = append(skipped, skip{a.ID, r.ineligible(a, c, now)})
			}
		}
	}
	how := r.how(q, p.agent, c, now)
	if p.preferred {
		how = fmt.Sprintf("preferred agent until %s", c.PreferredUntil.Format(time.TimeOnly))
	}
	return reasonLine(p.agent, c, how, skipped)
}

// agentOf reads the agent of a route.
func agentOf(txn *memdb.Txn, raw any) *Agent {
	a, err := txn.First(tableAgents, indexID, raw.(*route).ID)
	if err != nil || a == nil {
		return nil
	}
	return a.(*Agent)
}

// better reports whether eligible agent a beats best under q's strategy
// (other than longest idle). Ties go to best, the longer idle (walk order).
func (r *Router) better(q *Queue, c *Contact, a, best *Agent) bool {
	switch q.Strategy {
	case LeastOccupied:
		return r.occupancy(a) < r.occupancy(best)
	case BestSkill:
		return skillScore(q, a, c) > skillScore(q, best, c)
	case RoundRobin:
		// The first agent after the last one served, in id order, wrapping.
		last := r.lastRR[q.Name]
		aAfter, bAfter := a.ID > last, best.ID > last
		if aAfter != bAfter {
			return aAfter
		}
		return a.ID < best.ID
	}
	return false
}

// skillScore sums a's levels on the skills that matter for c.
func skillScore(q *Queue, a *Agent, c *Contact) int {
	reqs := c.Effective
	if len(reqs) == 0 {
		reqs = q.Requirements
	}
	sum := 0
	for _, req := range reqs {
		sum += a.Skills[req.Skill]
	}
	return sum
}

// occupancy is the share of a's total capacity in use.
func (r *Router) occupancy(a *Agent) float64 {
	used, total := 0, 0
	for ch := range r.capacity {
		used += a.Active[ch]
		total += r.capacityOf(a, ch)
	}
	if total == 0 {
		return 1
	}
	return float64(used) / float64(total)
}

func (r *Router) how(q *Queue, a *Agent, c *Contact, now time.Time) string {
	switch q.Strategy {
	case LeastOccupied:
		return fmt.Sprintf("occupancy %.0f%% (least occupied)", 100*r.occupancy(a))
	case BestSkill:
		return fmt.Sprintf("skill score %d (best skill)", skillScore(q, a, c))
	case RoundRobin:
		return "next in turn (round robin)"
	}
	return fmt.Sprintf("idle %s (longest)", idleFor(a, now))
}

// matchPreferred proposes only c's preferred agents, longest idle first.
func (r *Router) matchPreferred(txn *memdb.Txn, c *Contact, now time.Time) (p proposal, ok bool) {
	p.preferred = true
	for _, id := range c.Preferred {
		raw, err := txn.First(tableAgents, indexID, id)
		if err != nil || raw == nil {
			continue
		}
		a := raw.(*Agent)
		if r.ineligible(a, c, now) != "" {
			p.skip(skipRef{id: a.ID, agent: a})
			continue
		}
		if p.agent == nil || a.IdleSince.Before(p.agent.IdleSince) {
			p.agent = a
		}
	}
	return p, p.agent != nil
}

// matchAgent finds the contact a freed agent should take: the highest
// ranked, then oldest, queued contact it is eligible for. It merges the
// waiting buckets of the agent's skills and the bucket without
// requirements; each contact sits in exactly one bucket.
func (r *Router) matchAgent(txn *memdb.Txn, a *Agent, now time.Time) (*Contact, string) {
	buckets := make([]string, 0, len(a.Skills)+1)
	buckets = append(buckets, anyBucket)
	for s := range a.Skills {
		buckets = append(buckets, s)
	}
	type head struct {
		it memdb.ResultIterator
		c  *Contact
	}
	heads := make([]head, 0, len(buckets))
	for _, b := range buckets {
		it, err := txn.Get(tableContacts, indexWaiting, b)
		if err != nil {
			continue
		}
		if raw := it.Next(); raw != nil {
			heads = append(heads, head{it, raw.(*Contact)})
		}
	}
	for len(heads) > 0 {
		best := 0
		for i := 1; i < len(heads); i++ {
			if waitsBefore(heads[i].c, heads[best].c) {
				best = i
			}
		}
		c := heads[best].c
		if r.eligible(a, c, now) {
			how := fmt.Sprintf("freed capacity; oldest eligible waiting (%s)", now.Sub(c.EnqueuedAt).Round(time.Second))
			switch {
			case len(c.Preferred) > 0 && now.Before(c.PreferredUntil):
				how = fmt.Sprintf("freed capacity; preferred agent until %s", c.PreferredUntil.Format(time.TimeOnly))
			case c.Rank != 0:
				how = fmt.Sprintf("freed capacity; highest rank %d, then oldest (%s)", c.Rank, now.Sub(c.EnqueuedAt).Round(time.Second))
			}
			return c, reasonLine(a, c, how, nil)
		}
		if raw := heads[best].it.Next(); raw != nil {
			heads[best].c = raw.(*Contact)
		} else {
			heads = slices.Delete(heads, best, best+1)
		}
	}
	return nil, ""
}

// relax applies relaxation steps to requirements.
func relax(reqs []Requirement, steps []RelaxStep) []Requirement {
	out := slices.Clone(reqs)
	for _, st := range steps {
		for _, d := range st.Drop {
			if d == "*" {
				out = out[:0]
				break
			}
			out = slices.DeleteFunc(out, func(r Requirement) bool { return r.Skill == d })
		}
		for i := range out {
			if m, ok := st.Min[out[i].Skill]; ok {
				out[i].Min = m
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// rankOf is a contact's ordering priority in queue q: its own priority,
// the queue's, the best value tier the customer reaches and the boost of
// the customer's segment.
func rankOf(priority int, q *Queue, cu Customer) int {
	tier, segment := rankBoosts(q, cu)
	return priority + q.Priority + tier.Boost + segment
}

// rankBoosts returns the value tier of q with the highest boost that the
// customer reaches (the zero tier if none) and the boost of the
// customer's segment. A customer who is not verified reaches none: a
// claim never raises a contact's priority.
func rankBoosts(q *Queue, cu Customer) (tier ValueTier, segment int) {
	if !cu.Verified {
		return ValueTier{}, 0
	}
	for _, t := range q.ValueTiers {
		if cu.Value >= t.Min && t.Boost > tier.Boost {
			tier = t
		}
	}
	if cu.Segment != "" {
		segment = q.SegmentBoosts[cu.Segment]
	}
	return tier, segment
}

// rankParts is rankOf with how it was made, for the contact's timeline:
// "priority 0 + queue 5 + value ≥ 1000: 10 + segment premium: 20".
func rankParts(priority int, q *Queue, cu Customer) (int, string) {
	tier, segment := rankBoosts(q, cu)
	var b strings.Builder
	fmt.Fprintf(&b, "priority %d + queue %d", priority, q.Priority)
	if tier.Boost > 0 {
		fmt.Fprintf(&b, " + value ≥ %s: %d", strconv.FormatFloat(tier.Min, 'f', -1, 64), tier.Boost)
	}
	if segment != 0 {
		fmt.Fprintf(&b, " + segment %s: %d", cu.Segment, segment)
	}
	return priority + q.Priority + tier.Boost + segment, b.String()
}

func reqString(reqs []Requirement) string {
	if len(reqs) == 0 {
		return "none"
	}
	parts := make([]string, len(reqs))
	for i, r := range reqs {
		parts[i] = r.String()
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
