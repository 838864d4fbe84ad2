package router

// The router's rules that readers (the dashboards, the channels) ask for
// instead of implementing them again: who is eligible, who is free, who
// works, what rank a contact gets.

// Eligible reports whether the agent has every skill of reqs at its
// level or above, as the matcher decides.
func (a Agent) Eligible(reqs []Requirement) bool { return meets(a.Skills, reqs) }

// Working reports whether the agent is at work: available (free or busy)
// or in wrap-up, not away or offline.
func (a Agent) Working() bool { return a.State.Working() }

// Free reports whether agent a may be offered a contact now: available,
// no offer ringing, room on some channel (the agent's capacity, or the
// router's default for a channel it does not set).
func (s *Snapshot) Free(a Agent) bool { return s.r.canRoute(&a) }

// Staffed reports whether an agent eligible for queue is working; false
// for an unknown queue.
func (s *Snapshot) Staffed(queue string) bool {
	q, ok := s.Queue(queue)
	if !ok {
		return false
	}
	// Read in place, not cloned (Agents): the chat asks this of each
	// topic whenever the router changes.
	it, err := s.txn.Get(tableAgents, indexID)
	if err != nil {
		return false
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if a := raw.(*Agent); a.Working() && a.Eligible(q.Requirements) {
			return true
		}
	}
	return false
}

// Capacity is agent a's capacity on channel ch: its own, or the router's
// default for a channel it does not set.
func (s *Snapshot) Capacity(a Agent, ch Channel) int { return s.r.capacityOf(&a, ch) }

// Channels returns the channels the router accepts, with their default
// agent capacity (Router.Channels).
func (s *Snapshot) Channels() map[Channel]int { return s.r.Channels() }

// Rank is the rank the router gives a contact of priority from customer
// cu in queue q: its priority, the queue's, and the boosts a verified
// customer's value and segment reach.
func (s *Snapshot) Rank(priority int, q Queue, cu Customer) int { return rankOf(priority, &q, cu) }

// present reports whether a may be available: a client of theirs is
// connected, or the router does not ask (Options.RequirePresence).
func (r *Router) present(a *Agent) bool { return a.Connected || !r.requirePresence }
