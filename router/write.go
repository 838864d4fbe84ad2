package router

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/go-memdb"
)

// write is one batch in progress: a memdb write transaction, what the
// store must persist, and what to do once both are committed. Owned by
// the loop goroutine.
type write struct {
	r   *Router
	txn *memdb.Txn
	now time.Time

	cmds    []*command
	results []result
	// started is when the first command was applied (Observer.Routed).
	started time.Time
	// actor is who asked for the command being applied (WithActor); ""
	// between commands (routing, timers).
	actor string

	batch      Batch
	contactIdx map[string]int // position of a contact in batch.Contacts
	agentIdx   map[string]int // position of an agent in batch.Agents
	notes      []Notification
	timers     []timerEntry
	seqs       map[string]contactSeqs
	ended      []string
	// touched is what the batch changed in memory (Published.Touched);
	// touchedAgents dedupes its agents.
	touched       Touched
	touchedAgents map[string]bool

	// Objects to route once the commands are applied.
	dirtyAgents   []string
	dirtyContacts []string
	dirtySeen     map[string]bool
}

func (r *Router) begin() *write {
	return &write{
		r:          r,
		txn:        r.db.Txn(true),
		now:        r.clock.Now().UTC().Round(0),
		contactIdx: map[string]int{},
		agentIdx:   map[string]int{},
		seqs:       map[string]contactSeqs{},
		dirtySeen:  map[string]bool{},
	}
}

// contact returns a private copy of a live contact.
func (w *write) contact(id string) (*Contact, error) {
	raw, err := w.txn.First(tableContacts, indexID, id)
	if err != nil {
		return nil, fmt.Errorf("router: read contact %q: %w", id, err)
	}
	if raw == nil {
		return nil, noContact(id)
	}
	return cloneContact(raw.(*Contact)), nil
}

// agent returns a private copy of an agent.
func (w *write) agent(id string) (*Agent, error) {
	raw, err := w.txn.First(tableAgents, indexID, id)
	if err != nil {
		return nil, fmt.Errorf("router: read agent %q: %w", id, err)
	}
	if raw == nil {
		return nil, noAgent(id)
	}
	return cloneAgent(raw.(*Agent)), nil
}

func (w *write) queue(name string) (*Queue, error) {
	raw, err := w.txn.First(tableQueues, indexID, name)
	if err != nil {
		return nil, fmt.Errorf("router: read queue %q: %w", name, err)
	}
	if raw == nil {
		return nil, noQueue("", name)
	}
	return raw.(*Queue), nil
}

// putContact stores c (a private copy the caller gives up) in memory,
// or drops it from memory when it ended, and queues it for the store.
func (w *write) putContact(c *Contact) {
	var err error
	if c.State.Final() {
		if _, err = w.txn.DeleteAll(tableContacts, indexID, c.ID); err == nil {
			_, err = w.txn.DeletePrefix(tableClientMsgs, indexID+"_prefix", c.ID+"\x00")
		}
		w.ended = append(w.ended, c.ID)
	} else {
		err = w.txn.Insert(tableContacts, c)
	}
	if err != nil {
		panic(fmt.Sprintf("router: write contact %q: %v", c.ID, err)) // schema bug
	}
	if i, ok := w.contactIdx[c.ID]; ok {
		w.batch.Contacts[i] = *c
	} else {
		w.contactIdx[c.ID] = len(w.batch.Contacts)
		w.batch.Contacts = append(w.batch.Contacts, *c)
	}
	if c.State == ContactQueued {
		w.markContact(c.ID)
	}
}

// putAgent stores a (a private copy the caller gives up). durable says
// whether the agent's definition changed and goes to the store.
func (w *write) putAgent(a *Agent, durable bool) {
	if err := w.txn.Insert(tableAgents, a); err != nil {
		panic(fmt.Sprintf("router: write agent %q: %v", a.ID, err)) // schema bug
	}
	w.touchAgent(a.ID)
	class := byte(1)
	if w.r.hasRoom(a) {
		class = 0
	}
	old, err := w.txn.First(tableRoutes, indexID, a.ID)
	if err != nil {
		panic(fmt.Sprintf("router: read route %q: %v", a.ID, err)) // schema bug
	}
	if o, _ := old.(*route); o == nil || o.Class != class || o.SkillsRev != a.skillsRev || !o.IdleSince.Equal(a.IdleSince) {
		rt := &route{ID: a.ID, Skills: a.Skills, SkillsRev: a.skillsRev, Mask: skillMask(a.Skills), IdleSince: a.IdleSince, Class: class}
		if err := w.txn.Insert(tableRoutes, rt); err != nil {
			panic(fmt.Sprintf("router: write route %q: %v", a.ID, err)) // schema bug
		}
	}
	if durable {
		if i, ok := w.agentIdx[a.ID]; ok {
			w.batch.Agents[i] = *a
		} else {
			w.agentIdx[a.ID] = len(w.batch.Agents)
			w.batch.Agents = append(w.batch.Agents, *a)
		}
	}
	if w.r.canRoute(a) {
		w.markAgent(a.ID)
	}
}

// touchAgent records that the batch changed (or removed) the agent id.
func (w *write) touchAgent(id string) {
	if w.touchedAgents == nil {
		w.touchedAgents = map[string]bool{} // most batches touch none: made when one does
	}
	if !w.touchedAgents[id] {
		w.touchedAgents[id] = true
		w.touched.Agents = append(w.touched.Agents, id)
	}
}

func (w *write) markAgent(id string) {
	if !w.dirtySeen["a"+id] {
		w.dirtySeen["a"+id] = true
		w.dirtyAgents = append(w.dirtyAgents, id)
	}
}

func (w *write) markContact(id string) {
	if !w.dirtySeen["c"+id] {
		w.dirtySeen["c"+id] = true
		w.dirtyContacts = append(w.dirtyContacts, id)
	}
}

func (w *write) seq(id string) contactSeqs {
	if s, ok := w.seqs[id]; ok {
		return s
	}
	if s, ok := w.r.seqs[id]; ok {
		return s
	}
	return contactSeqs{event: 1, message: 1}
}

// event appends an entry to c's timeline.
func (w *write) event(c *Contact, name, agentID, reason string) {
	w.eventIn(c, c.Queue, name, agentID, reason)
}

// eventIn is event, recorded in queue rather than c's: a transfer is
// recorded in the queue the contact left.
func (w *write) eventIn(c *Contact, queue, name, agentID, reason string) {
	s := w.seq(c.ID)
	w.batch.Events = append(w.batch.Events, Event{
		ContactID: c.ID, Seq: s.event, At: w.now, Event: name,
		AgentID: agentID, Queue: queue, Reason: reason, By: w.actor,
	})
	s.event++
	w.seqs[c.ID] = s
	w.logEvent(c, name)
}

// message appends m to c's conversation and returns it numbered.
func (w *write) message(c *Contact, m Message) Message {
	s := w.seq(c.ID)
	m.ContactID, m.Seq = c.ID, s.message
	if m.At.IsZero() {
		m.At = w.now
	}
	if m.Direction == "in" {
		s.inMessages++
		s.inBytes += len(m.Body)
	}
	w.batch.Messages = append(w.batch.Messages, m)
	if m.ExternalID != "" {
		x := &externalMsg{Key: m.ExternalID, Message: m, Expires: w.now.Add(keyTTL), Batch: w.r.batchSeq + 1}
		if err := w.txn.Insert(tableExternal, x); err != nil {
			panic(fmt.Sprintf("router: write external id: %v", err)) // schema bug
		}
		w.at(x.Expires, timerExternal, x.Key)
	}
	if m.ClientID != "" {
		if err := w.txn.Insert(tableClientMsgs, &clientMsg{Key: clientMsgKey(c.ID, m.ClientID), Message: m}); err != nil {
			panic(fmt.Sprintf("router: write client message: %v", err)) // schema bug
		}
	}
	s.message++
	w.seqs[c.ID] = s
	w.logMessage(c, &m)
	return m
}

// note records n for the batch's subscribers, told after the commit.
func (w *write) note(n Notification) {
	// A copy of each object as it stands now: the batch may change them
	// again, and subscribers read them after the commit.
	if n.Contact != nil {
		n.Contact = cloneContact(n.Contact)
	}
	if n.Agent != nil {
		n.Agent = cloneAgent(n.Agent)
	}
	if n.Message != nil {
		m := *n.Message
		n.Message = &m
	}
	if n.Outbox != nil {
		e := *n.Outbox
		n.Outbox = &e
	}
	w.notes = append(w.notes, n)
}

func (w *write) at(t time.Time, kind timerKind, id string) {
	w.timers = append(w.timers, timerEntry{at: t, kind: kind, id: id})
}

// capacityOf is a's capacity on channel ch.
func (r *Router) capacityOf(a *Agent, ch Channel) int {
	if n, ok := a.Capacity[ch]; ok {
		return n
	}
	return r.capacity[ch]
}

// canRoute reports whether a may be offered a contact now.
func (r *Router) canRoute(a *Agent) bool {
	return a.Offer == "" && r.hasRoom(a)
}

// hasRoom reports whether a is available with free capacity on some
// channel, ignoring a ringing offer (see route).
func (r *Router) hasRoom(a *Agent) bool {
	if a.State != AgentAvailable {
		return false
	}
	for ch := range r.capacity {
		if a.Active[ch] < r.capacityOf(a, ch) {
			return true
		}
	}
	return false
}

// offer rings agent a for contact c, unless the re-check fails: then it
// changes nothing and reports false.
//
// The matcher proposed on what it read; this re-check in the write
// transaction is the guarantee that no agent is offered past its
// capacity, nor a contact twice. It failing means a matcher bug: as a
// plan applier drops a plan that no longer fits, the proposal is dropped
// (logged, counted: RecheckFailures), the contact stays queued for the
// next routing pass, and the router goes on serving, rather than falling
// over, and again at every restart that reproduces the state.
func (w *write) offer(c *Contact, a *Agent, reason string) bool {
	c, a = cloneContact(c), cloneAgent(a)
	if why := w.recheck(c, a); why != "" {
		w.r.recheckFailures.Add(1)
		w.r.log.Error("router: a proposal failed the re-check and was dropped; the contact stays queued",
			"contact", c.ID, "agent", a.ID, "failed", why)
		return false
	}
	c.State, c.AgentID = ContactOffered, a.ID
	c.OfferedAt, c.OfferReason = w.now, reason
	c.OfferExpires = w.now.Add(w.r.offerTimeoutOf(c.Channel))
	a.Offer = c.ID
	a.Active[c.Channel]++
	a.Contacts = append(a.Contacts, c.ID)
	w.putContact(c)
	w.putAgent(a, false)
	w.event(c, EventOffered, a.ID, reason)
	w.at(c.OfferExpires, timerContact, c.ID)
	w.note(Notification{Kind: NoteOffer, AgentID: a.ID, Contact: c, Reason: reason})
	if q, err := w.queue(c.Queue); err == nil && q.Strategy == RoundRobin {
		w.r.lastRR[q.Name] = a.ID
	}
	return true
}

// recheck says why agent a may not be offered contact c now, or "".
func (w *write) recheck(c *Contact, a *Agent) string {
	switch {
	case c.State != ContactQueued:
		return fmt.Sprintf("the contact is %s, not queued", c.State)
	case !w.r.canRoute(a):
		return fmt.Sprintf("the agent cannot take a contact (state %s, offer %q)", a.State, a.Offer)
	case a.Active[c.Channel] >= w.r.capacityOf(a, c.Channel):
		return fmt.Sprintf("the agent is at capacity on %s (%d of %d)", c.Channel, a.Active[c.Channel], w.r.capacityOf(a, c.Channel))
	}
	return ""
}

// RecheckFailures counts the proposals of the matcher that failed the
// write transaction's re-check and were dropped: each one a matcher bug,
// logged with the contact and the agent.
func (r *Router) RecheckFailures() uint64 { return r.recheckFailures.Load() }

func (r *Router) offerTimeoutOf(ch Channel) time.Duration {
	if d, ok := r.offerTimeout[ch]; ok && d > 0 {
		return d
	}
	return defaultOfferTimeout
}

// release takes c off its agent: the agent's capacity comes back. It
// returns the updated agent (already stored) or nil.
func (w *write) release(c *Contact) *Agent {
	if c.AgentID == "" {
		return nil
	}
	a, err := w.agent(c.AgentID)
	if err != nil {
		return nil // the agent was deleted; nothing to give back
	}
	if a.Offer == c.ID {
		a.Offer = ""
	}
	if i := slices.Index(a.Contacts, c.ID); i >= 0 {
		a.Contacts = slices.Delete(a.Contacts, i, i+1)
		if a.Active[c.Channel] > 0 {
			a.Active[c.Channel]--
		}
		if a.Active[c.Channel] == 0 {
			delete(a.Active, c.Channel)
		}
	}
	if c.State == ContactAssigned || c.State == ContactWrapUp {
		a.IdleSince = w.now
	}
	w.putAgent(a, false)
	return a
}

// requeue puts an offered contact back in its queue with its original
// age. decliner, if set, is never offered it again.
func (w *write) requeue(c *Contact, event, reason, decliner string) {
	agentID := c.AgentID
	w.release(c)
	w.note(Notification{Kind: NoteOfferWithdrawn, AgentID: agentID, Contact: c, Reason: reason})
	c.State, c.AgentID = ContactQueued, ""
	c.OfferedAt, c.OfferExpires = time.Time{}, time.Time{}
	if decliner != "" && !slices.Contains(c.Declined, decliner) {
		c.Declined = append(c.Declined, decliner)
	}
	w.putContact(c)
	w.event(c, event, agentID, reason)
	w.schedule(c)
}

// end finishes c in a final state (closed or abandoned).
func (w *write) end(c *Contact, state ContactState, event, agentID, reason string) {
	was := c.State
	if was == ContactOffered {
		w.note(Notification{Kind: NoteOfferWithdrawn, AgentID: c.AgentID, Contact: c, Reason: reason})
	}
	a := w.release(c)
	if was == ContactOffered {
		c.AgentID = ""
	}
	c.State = state
	c.EndedAt = w.now
	w.putContact(c)
	w.event(c, event, agentID, reason)
	if was != ContactOffered && c.AgentID != "" {
		w.note(Notification{Kind: NoteContactEnded, AgentID: c.AgentID, Contact: c, Reason: reason})
	} else {
		// No agent to tell; the channel (a customer waiting in a chat)
		// and the dashboards still hear of it.
		w.note(Notification{Kind: NoteContactEnded, Contact: c, Reason: reason})
	}
	if a != nil && a.State == AgentWrapUp && !w.hasWrapUp(a) {
		w.setAgentState(a, AgentAvailable, "", "wrap-up done")
	}
}

func (w *write) hasWrapUp(a *Agent) bool {
	for _, id := range a.Contacts {
		if c, err := w.contact(id); err == nil && c.State == ContactWrapUp {
			return true
		}
	}
	return false
}

// setAgentState moves a to state, with the consequences: an offer
// ringing for an agent who leaves is withdrawn, and leaving wrap-up closes
// the contacts still in wrap-up.
func (w *write) setAgentState(a *Agent, state AgentState, reason, why string) {
	if state == AgentAvailable && !w.r.present(a) {
		// Wrap-up ended for an agent who left: nobody to take contacts.
		state, reason = AgentOffline, "disconnected"
	}
	if a.State == AgentWrapUp && state != AgentWrapUp {
		a.WrapUpUntil = time.Time{}
		for _, id := range slices.Clone(a.Contacts) {
			c, err := w.contact(id)
			if err != nil || c.State != ContactWrapUp {
				continue
			}
			w.release(c)
			c.State, c.EndedAt = ContactClosed, w.now
			w.putContact(c)
			w.event(c, EventClosed, a.ID, why)
			w.note(Notification{Kind: NoteContactEnded, AgentID: a.ID, Contact: c, Reason: why})
		}
		fresh, err := w.agent(a.ID)
		if err == nil {
			fresh.WrapUpUntil = time.Time{}
			*a = *fresh
		}
	}
	if state != AgentAvailable && a.Offer != "" {
		if c, err := w.contact(a.Offer); err == nil {
			// The reload drops what the caller set on a for this change:
			// the end of the wrap-up being entered.
			until := a.WrapUpUntil
			w.requeue(c, EventOfferWithdrawn, fmt.Sprintf("%s is %s", a.ID, state), "")
			if fresh, err := w.agent(a.ID); err == nil {
				*a = *fresh
				if state == AgentWrapUp {
					a.WrapUpUntil = until
				}
			}
		}
	}
	if a.State != state {
		a.StateSince = w.now
		if state == AgentAvailable {
			a.IdleSince = w.now
		}
	}
	if a.State != state || a.Reason != reason {
		w.stateChange(a.ID, state, reason, why)
	}
	a.State, a.Reason = state, reason
	w.putAgent(a, false)
	w.note(Notification{Kind: NoteAgent, AgentID: a.ID, Agent: cloneAgent(a), Reason: why})
}

// stateChange adds an entry to the agent's state history. Two changes of
// one agent at one time (away, then back, in one batch) would share it:
// each later one is a nanosecond after the one before, so that the
// history's order is its time's.
func (w *write) stateChange(agentID string, state AgentState, reason, why string) {
	at := w.now
	if last, ok := w.r.stateAt[agentID]; ok && !at.After(last) {
		at = last.Add(time.Nanosecond)
	}
	w.r.stateAt[agentID] = at
	w.batch.AgentStates = append(w.batch.AgentStates, AgentStateChange{AgentID: agentID, At: at, State: state, Why: why, Reason: reason, By: w.actor})
}

// schedule asks to look at c again when the next thing about it is due.
func (w *write) schedule(c *Contact) {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	switch c.State {
	case ContactOffered:
		earliest(c.OfferExpires)
	case ContactQueued:
		earliest(c.PreferredUntil)
		if q, err := w.queue(c.Queue); err == nil {
			if c.Step < len(q.Relaxation) {
				earliest(c.QueuedAt.Add(q.Relaxation[c.Step].After.D()))
			}
			if q.MaxWait > 0 && q.Overflow != "" {
				earliest(c.QueuedAt.Add(q.MaxWait.D()))
			}
		}
	}
	if !next.IsZero() {
		w.at(next, timerContact, c.ID)
	}
}

// reconcileContact applies whatever came due for contact id.
func (w *write) reconcileContact(id string) {
	c, err := w.contact(id)
	if err != nil {
		return
	}
	switch c.State {
	case ContactOffered:
		if w.now.Before(c.OfferExpires) {
			w.schedule(c)
			return
		}
		agentID := c.AgentID
		w.requeue(c, EventOfferTimeout, fmt.Sprintf("%s did not answer in %s", agentID, w.r.offerTimeoutOf(c.Channel)), agentID)
		if a, err := w.agent(agentID); err == nil && a.State == AgentAvailable {
			w.setAgentState(a, AgentAway, "missed", "missed an offer")
		}
	case ContactQueued:
		changed := false
		q, err := w.queue(c.Queue)
		if err == nil {
			for c.Step < len(q.Relaxation) && !w.now.Before(c.QueuedAt.Add(q.Relaxation[c.Step].After.D())) {
				step := q.Relaxation[c.Step]
				c.Step++
				c.Effective = relax(c.Requirements, q.Relaxation[:c.Step])
				w.event(c, EventRelaxed, "", fmt.Sprintf("step %q after %s: requirements now %s",
					step.Name, step.After.D(), reqString(c.Effective)))
				changed = true
			}
		}
		if !c.PreferredUntil.IsZero() && !w.now.Before(c.PreferredUntil) {
			c.PreferredUntil = time.Time{}
			w.event(c, EventPreferredTimeout, "", fmt.Sprintf("preferred %v did not take it; any eligible agent may", c.Preferred))
			changed = true
		}
		if err == nil && q.MaxWait > 0 && q.Overflow != "" && !w.now.Before(c.QueuedAt.Add(q.MaxWait.D())) {
			if oq, err := w.queue(q.Overflow); err == nil {
				from := c.Queue
				w.moveToQueue(c, oq)
				w.event(c, EventOverflowed, "", fmt.Sprintf("waited %s in %s (max %s)", w.now.Sub(c.EnqueuedAt).Round(time.Second), from, q.MaxWait.D()))
				changed = true
			}
		}
		if changed {
			w.putContact(c)
			w.note(Notification{Kind: NoteContact, Contact: c})
		}
		w.schedule(c)
	}
}

// moveToQueue puts c in queue q with q's requirements; its age is kept.
func (w *write) moveToQueue(c *Contact, q *Queue) {
	c.Queue = q.Name
	c.Requirements = slices.Clone(q.Requirements)
	c.Step = 0
	c.QueuedAt = w.now
	for c.Step < len(q.Relaxation) && q.Relaxation[c.Step].After == 0 {
		c.Step++
	}
	c.Effective = relax(c.Requirements, q.Relaxation[:c.Step])
	c.Rank = rankOf(c.Priority, q, c.Customer)
}

// takeBack returns the contacts of an agent who did not come back in time
// to the front of their queues, and closes those in wrap-up.
func (w *write) takeBack(a *Agent) {
	why := fmt.Sprintf("%s disconnected and did not come back in time", a.ID)
	for _, id := range slices.Clone(a.Contacts) {
		c, err := w.contact(id)
		if err != nil {
			continue
		}
		switch c.State {
		case ContactWrapUp:
			w.end(c, ContactClosed, EventClosed, a.ID, why)
		case ContactAssigned:
			w.release(c)
			w.note(Notification{Kind: NoteContactEnded, AgentID: a.ID, Contact: c, Reason: why})
			c.State, c.AgentID, c.AssignedAt = ContactQueued, "", time.Time{}
			if !c.Returned {
				c.Returned, c.Rank = true, c.Rank+returnBoost
			}
			c.QueuedAt = w.now
			w.putContact(c)
			w.event(c, EventReturned, a.ID, why)
			w.schedule(c)
		}
	}
	if a, err := w.agent(a.ID); err == nil {
		a.GraceUntil = time.Time{}
		w.putAgent(a, false)
	}
}

// rememberKey keeps c's idempotency key for keyTTL.
func (w *write) rememberKey(c *Contact) {
	if c.IdempotencyKey == "" {
		return
	}
	k := &idemKey{Key: c.IdempotencyKey, ContactID: c.ID, Hash: c.IdempotencyHash, Expires: w.now.Add(keyTTL), Batch: w.r.batchSeq + 1}
	if err := w.txn.Insert(tableKeys, k); err != nil {
		panic(fmt.Sprintf("router: write key: %v", err)) // schema bug
	}
	w.at(k.Expires, timerKey, k.Key)
}

// externalMessage returns the message recently stored with a channel's
// external id, if the router still remembers it.
func (w *write) externalMessage(id string) (Message, bool) {
	raw, err := w.txn.First(tableExternal, indexID, id)
	if err != nil || raw == nil {
		return Message{}, false
	}
	return raw.(*externalMsg).Message, true
}

// forgetExternal drops an external id that has expired: the store
// answers for it from then on.
func (w *write) forgetExternal(id string) {
	raw, err := w.txn.First(tableExternal, indexID, id)
	if err != nil || raw == nil || w.now.Before(raw.(*externalMsg).Expires) {
		return
	}
	if raw.(*externalMsg).Batch > w.r.committed.Load() {
		w.at(w.now.Add(keyTTL), timerExternal, id) // its commit is still under way
		return
	}
	if err := w.txn.Delete(tableExternal, raw); err != nil {
		panic(fmt.Sprintf("router: delete external id: %v", err)) // schema bug
	}
}

// forgetKey drops an idempotency key that has expired.
func (w *write) forgetKey(key string) {
	raw, err := w.txn.First(tableKeys, indexID, key)
	if err != nil || raw == nil || w.now.Before(raw.(*idemKey).Expires) {
		return
	}
	if raw.(*idemKey).Batch > w.r.committed.Load() {
		w.at(w.now.Add(keyTTL), timerKey, key) // its commit is still under way
		return
	}
	if err := w.txn.Delete(tableKeys, raw); err != nil {
		panic(fmt.Sprintf("router: delete key: %v", err)) // schema bug
	}
}

// reconcileAgent applies whatever came due for agent id.
func (w *write) reconcileAgent(id string) {
	a, err := w.agent(id)
	if err != nil {
		return
	}
	if !a.GraceUntil.IsZero() && !w.now.Before(a.GraceUntil) {
		w.takeBack(a)
		return
	}
	if a.State != AgentWrapUp {
		return
	}
	if w.now.Before(a.WrapUpUntil) {
		w.at(a.WrapUpUntil, timerAgent, a.ID)
		return
	}
	w.setAgentState(a, AgentAvailable, "", "wrap-up time ended")
}

// route matches what became routable in this batch. Freed agents go
// first: each takes the best waiting contact it may serve. Then the
// contacts that are still queued look for an agent, best first.
func (w *write) route() {
	for _, id := range w.dirtyAgents {
		a, err := w.agent(id)
		if err != nil || !w.r.canRoute(a) {
			continue
		}
		if c, reason := w.r.matchAgent(w.txn, a, w.now); c != nil {
			w.offer(c, a, reason)
		}
	}
	var queued []*Contact
	for _, id := range w.dirtyContacts {
		if c, err := w.contact(id); err == nil && c.State == ContactQueued {
			queued = append(queued, c)
		}
	}
	sort.Slice(queued, func(i, j int) bool { return waitsBefore(queued[i], queued[j]) })
	for _, c := range queued {
		q, err := w.queue(c.Queue)
		if err != nil {
			continue
		}
		if p, ok := w.r.matchContact(w.txn, c, q, w.now); ok {
			w.offer(c, p.agent, w.r.reason(w.txn, &p, c, q, w.now))
		}
	}
	w.dirtyAgents, w.dirtyContacts = nil, nil
	clear(w.dirtySeen)
}

// waitsBefore orders waiting contacts: higher rank, then older, first.
func waitsBefore(a, b *Contact) bool {
	if a.Rank != b.Rank {
		return a.Rank > b.Rank
	}
	if !a.EnqueuedAt.Equal(b.EnqueuedAt) {
		return a.EnqueuedAt.Before(b.EnqueuedAt)
	}
	return a.ID < b.ID
}

// restore fills memory from the store after a start: agents offline,
// offers in flight back to the queue with their age.
func (w *write) restore(l *Loaded) error {
	w.touched.Definitions = true
	for i := range l.Queues {
		q := l.Queues[i]
		if _, ok := w.r.calendars[q.Hours]; q.Hours != "" && !ok {
			w.r.log.Warn("router: queue names a calendar that is not configured: always open until it is, or the queue changes", "queue", q.Name, "hours", q.Hours)
		}
		if err := w.txn.Insert(tableQueues, &q); err != nil {
			return fmt.Errorf("router: restore queue %q: %w", q.Name, err)
		}
	}
	for id, n := range l.NextEventSeq {
		s := w.r.seqs[id]
		s.event = n
		w.r.seqs[id] = s
	}
	for id, n := range l.NextMessageSeq {
		s := w.r.seqs[id]
		s.message = n
		w.r.seqs[id] = s
	}
	for id, in := range l.Inbound {
		s := w.r.seqs[id]
		s.inMessages, s.inBytes = in.Messages, in.Bytes
		w.r.seqs[id] = s
	}
	for id, s := range w.r.seqs {
		if s.event == 0 {
			s.event = 1
		}
		if s.message == 0 {
			s.message = 1
		}
		w.r.seqs[id] = s
	}
	for i := range l.ClientMessages {
		m := l.ClientMessages[i]
		if err := w.txn.Insert(tableClientMsgs, &clientMsg{Key: clientMsgKey(m.ContactID, m.ClientID), Message: m}); err != nil {
			return fmt.Errorf("router: restore message %s/%d: %w", m.ContactID, m.Seq, err)
		}
	}
	agents := map[string]*Agent{}
	for i := range l.Agents {
		a := cloneAgent(&l.Agents[i])
		a.State, a.StateSince, a.Offer, a.Contacts = AgentOffline, w.now, "", nil
		a.Active = map[string]int{}
		agents[a.ID] = a
		// Whatever the history said last, nobody is connected now: the
		// history says so, or it would count the time down as staffed.
		w.stateChange(a.ID, AgentOffline, "", "routerd started")
	}
	for i := range l.Contacts {
		c := cloneContact(&l.Contacts[i])
		if c.State == ContactOffered {
			c.State, c.AgentID = ContactQueued, ""
			c.OfferedAt, c.OfferExpires = time.Time{}, time.Time{}
			w.event(c, EventOfferWithdrawn, "", "router restarted while the offer rang")
			w.putContact(c)
		} else if err := w.txn.Insert(tableContacts, c); err != nil {
			return fmt.Errorf("router: restore contact %q: %w", c.ID, err)
		}
		w.rememberKey(c)
		if a := agents[c.AgentID]; a != nil && (c.State == ContactAssigned || c.State == ContactWrapUp) {
			a.Active[c.Channel]++
			a.Contacts = append(a.Contacts, c.ID)
		}
		if c.State == ContactQueued {
			w.markContact(c.ID)
			w.schedule(c)
		}
	}
	for _, a := range agents {
		a.skillsRev = w.r.nextRev()
		if len(a.Contacts) > 0 {
			// Nobody is connected after a restart: the agents holding
			// contacts have the grace to come back, as after a drop.
			a.GraceUntil = w.now.Add(w.r.grace)
			w.at(a.GraceUntil, timerAgent, a.ID)
		}
		w.putAgent(a, false)
	}
	return nil
}

func cloneContact(c *Contact) *Contact {
	n := *c
	n.Declined = slices.Clip(n.Declined)
	n.Effective = slices.Clip(n.Effective)
	n.Requirements = slices.Clip(n.Requirements)
	n.Preferred = slices.Clip(n.Preferred)
	n.Tags = slices.Clip(n.Tags)
	n.TakenOverBy = slices.Clip(n.TakenOverBy)
	return &n
}

// cloneAgent copies a so that the copy may change; its maps and slices
// are never nil (they are written as {} and [], never null).
func cloneAgent(a *Agent) *Agent {
	n := *a
	n.Active = make(map[string]int, len(a.Active)+1)
	for ch, v := range a.Active {
		n.Active[ch] = v
	}
	n.Contacts = append(make([]string, 0, len(a.Contacts)), a.Contacts...)
	if n.Skills == nil {
		n.Skills = map[string]int{}
	}
	if n.Capacity == nil {
		n.Capacity = map[string]int{}
	}
	return &n
}
