package router

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/switchboard/switchboard/inbound"
)

// Limits on what a command may carry; those a channel or the
// configuration needs too are exported (validate.go).
const (
	maxIDLen        = 64
	maxSkills       = 64
	maxRequirements = 16
	maxSegmentLen   = 200
	maxLevel        = 100
	maxCapacity     = 100
	maxPriority     = 1000
	maxTextLen      = 4000
)

// validName is what agent ids, queue names, skills and channels look like.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]*$`)

// contactResult reads c's latest version once the batch is routed.
func contactResult(id string) deferred {
	return func(w *write) any {
		if i, ok := w.contactIdx[id]; ok {
			return w.batch.Contacts[i]
		}
		if c, err := w.contact(id); err == nil {
			return *c
		}
		return Contact{ID: id}
	}
}

func agentResult(id string) deferred {
	return func(w *write) any {
		if a, err := w.agent(id); err == nil {
			return *a
		}
		return Agent{ID: id}
	}
}

func asContact(v any, err error) (Contact, error) {
	if err != nil {
		return Contact{}, err
	}
	return v.(Contact), nil
}

// NewContact is what a channel hands the router.
type NewContact struct {
	Channel  Channel
	Queue    string
	Customer Customer
	Subject  string
	// Body, if set, is the customer's first message.
	Body string
	// Requirements override the queue's when not nil.
	Requirements []Requirement
	Priority     int
	// Preferred agents get the contact to themselves for PreferredTimeout
	// (the router's default when zero).
	Preferred        []string
	PreferredTimeout time.Duration
	// IdempotencyKey makes retries safe: a second Submit with the same key
	// returns the first contact, if IdempotencyHash matches too.
	IdempotencyKey  string
	IdempotencyHash string
	// First holds the first message's channel fields (ExternalID,
	// Subject, HTML, References, Attachments, AuthorName), with Body; its
	// Direction, Seq and At are set by the router. A first message whose
	// ExternalID is already stored makes no contact: Submit returns the
	// contact that holds it.
	First Message
	// Follows is the ended contact this one continues.
	Follows string
}

// Submit queues a new contact and routes it at once. It returns the
// contact as routing left it and whether it was created (false: an
// idempotent retry; if that contact has ended, only its ID is set and the
// store has the rest).
func (r *Router) Submit(ctx context.Context, nc NewContact) (Contact, bool, error) {
	nc = nc.fromOutside()
	if nc.IdempotencyKey != "" {
		// Keys older than the router's memory are only in the store.
		// Asked before the command is queued; a concurrent retry that
		// misses here is caught in memory by the writer.
		c, found, err := r.store.ContactByKey(ctx, nc.IdempotencyKey)
		if err != nil {
			return Contact{}, false, fmt.Errorf("router: look up idempotency key: %w", err)
		}
		if found {
			if c.IdempotencyHash != nc.IdempotencyHash {
				return Contact{}, false, errIdempotency()
			}
			return c, false, nil
		}
	}
	if id := nc.First.ExternalID; id != "" {
		// As for keys: a message older than the router's memory is only
		// in the store; the writer catches a concurrent copy in memory.
		m, found, err := r.store.MessageByExternalID(ctx, id)
		if err != nil {
			return Contact{}, false, fmt.Errorf("router: look up external id: %w", err)
		}
		if found {
			return r.contactOf(m.ContactID), false, nil
		}
	}
	created := false
	v, err := r.do(ctx, func(w *write) (any, error) {
		created = false
		if id := nc.First.ExternalID; id != "" {
			if m, ok := w.externalMessage(id); ok {
				return contactResult(m.ContactID), nil
			}
		}
		if nc.IdempotencyKey != "" {
			raw, err := w.txn.First(tableKeys, indexID, nc.IdempotencyKey)
			if err != nil {
				return nil, fmt.Errorf("router: read idempotency key: %w", err)
			}
			if raw != nil {
				k := raw.(*idemKey)
				if k.Hash != nc.IdempotencyHash {
					return nil, errIdempotency()
				}
				return contactResult(k.ContactID), nil
			}
		}
		c, err := w.newContact(nc)
		if err != nil {
			return nil, err
		}
		created = true
		return contactResult(c.ID), nil
	})
	c, err := asContact(v, err)
	return c, created, err
}

// contactOf is contact id as the router has it live, or its id alone
// when it has ended (the store has the rest).
func (r *Router) contactOf(id string) Contact {
	if c, ok := r.Snapshot().Contact(id); ok {
		return c
	}
	return Contact{ID: id}
}

// fromOutside returns nc with what came from outside (the customer's
// name, the subject, the first message) as an agent may see it: see
// package inbound.
func (nc NewContact) fromOutside() NewContact {
	if nc.First.Body == "" {
		nc.First.Body = nc.Body
	}
	nc.First = nc.First.fromOutside()
	nc.Body = nc.First.Body
	nc.Customer.Name = inbound.Text(nc.Customer.Name)
	nc.Subject = inbound.Text(nc.Subject)
	return nc
}

// fromOutside returns m, a message from the customer, as an agent may
// see it (package inbound).
func (m Message) fromOutside() Message {
	m.Body, m.Author, m.AuthorName = inbound.Text(m.Body), inbound.Text(m.Author), inbound.Text(m.AuthorName)
	m.Subject = inbound.Text(m.Subject)
	for i, a := range m.To {
		m.To[i] = inbound.Text(a)
	}
	for i, a := range m.Cc {
		m.Cc[i] = inbound.Text(a)
	}
	for i, a := range m.Attachments {
		m.Attachments[i].Name = inbound.Text(a.Name)
	}
	return m
}

// validateMessage checks what a message carries besides its body: the
// channel fields' sizes; nil if they are within the limits. The fields
// are named as in a message's JSON.
func validateMessage(m Message) *Error {
	switch {
	case len(m.Subject) > MaxSubjectLen:
		return invalidf("subject", "message subject longer than %d bytes", MaxSubjectLen)
	case len(m.HTML) > MaxHTMLLen:
		return invalidf("html", "message html longer than %d bytes", MaxHTMLLen)
	case len(m.ExternalID) > MaxExternalIDLen:
		return invalidf("external_id", "external id longer than %d bytes", MaxExternalIDLen)
	case len(m.References) > MaxReferences:
		return invalidf("references", "at most %d references", MaxReferences)
	case len(m.Attachments) > MaxAttachments:
		return invalidf("attachments", "at most %d attachments", MaxAttachments)
	case len(m.Author) > MaxSubjectLen:
		return invalidf("author", "author longer than %d bytes", MaxSubjectLen)
	case len(m.AuthorName) > MaxSubjectLen:
		return invalidf("author_name", "author name longer than %d bytes", MaxSubjectLen)
	}
	if len(m.To)+len(m.Cc) > MaxReferences {
		return invalidf("cc", "at most %d recipients", MaxReferences)
	}
	for i, a := range append(append([]string(nil), m.To...), m.Cc...) {
		if a == "" || len(a) > MaxSubjectLen {
			return invalidf(fmt.Sprintf("recipients[%d]", i), "recipients[%d]: want 1 to %d bytes", i, MaxSubjectLen)
		}
	}
	for i, ref := range m.References {
		if ref == "" || len(ref) > MaxExternalIDLen {
			return invalidf(fmt.Sprintf("references[%d]", i), "references[%d]: want 1 to %d bytes", i, MaxExternalIDLen)
		}
	}
	for i, a := range m.Attachments {
		if a.Name == "" || len(a.Name) > MaxSubjectLen || len(a.Type) > maxIDLen*2 || a.Size < 0 || len(a.URL) > MaxSubjectLen*2 || len(a.SHA256) > 64 {
			return invalidf(fmt.Sprintf("attachments[%d]", i), "attachments[%d]: a name of 1 to %d bytes, a media type, a size of 0 or more", i, MaxSubjectLen)
		}
	}
	return nil
}

// customerLimit wraps ErrLimit if the customer who sent s may not add a
// message of n bytes.
func (r *Router) customerLimit(s contactSeqs, n int) error {
	if s.inMessages >= r.customerMessages {
		return Errorf(CodeLimit, "", "a conversation holds at most %d messages from the customer", r.customerMessages)
	}
	if s.inBytes+n > r.customerBytes {
		return Errorf(CodeLimit, "", "a conversation holds at most %d bytes of messages from the customer", r.customerBytes)
	}
	return nil
}

// checkNewContact validates nc (NewContact.Validate, the first problem)
// against the state txn shows and returns its queue. Submit runs it in
// the write transaction; Check on a snapshot.
func (r *Router) checkNewContact(txn *memdb.Txn, nc NewContact) (*Queue, error) {
	if errs := nc.Validate(); len(errs) > 0 {
		return nil, errs[0]
	}
	if _, ok := r.capacity[nc.Channel]; !ok {
		return nil, invalidf("channel", "channel %q is not configured", nc.Channel)
	}
	raw, err := txn.First(tableQueues, indexID, nc.Queue)
	if err != nil {
		return nil, fmt.Errorf("router: read queue %q: %w", nc.Queue, err)
	}
	if raw == nil {
		return nil, noQueue("queue", nc.Queue)
	}
	if len(nc.Body) > r.customerBytes {
		return nil, r.customerLimit(contactSeqs{}, len(nc.Body))
	}
	return raw.(*Queue), nil
}

// Check tells whether Submit would accept nc as the state stands now,
// without changing anything: a channel checks a contact before work that
// must not happen for a request that is refused (creating its customer).
func (r *Router) Check(nc NewContact) error {
	_, err := r.checkNewContact(r.db.Txn(false), nc.fromOutside())
	return err
}

func (w *write) newContact(nc NewContact) (*Contact, error) {
	q, err := w.r.checkNewContact(w.txn, nc)
	if err != nil {
		return nil, err
	}
	c := &Contact{
		ID:              w.r.ids.next(w.now),
		Channel:         nc.Channel,
		Customer:        nc.Customer,
		Subject:         nc.Subject,
		Priority:        nc.Priority,
		State:           ContactQueued,
		IdempotencyKey:  nc.IdempotencyKey,
		IdempotencyHash: nc.IdempotencyHash,
		Follows:         nc.Follows,
		CreatedAt:       w.now,
		EnqueuedAt:      w.now,
	}
	w.moveToQueue(c, q)
	if nc.Requirements != nil {
		c.Requirements = slices.Clone(nc.Requirements)
		c.Effective = relax(c.Requirements, q.Relaxation[:c.Step])
	}
	if len(nc.Preferred) > 0 {
		c.Preferred = slices.Clone(nc.Preferred)
		d := nc.PreferredTimeout
		if d == 0 {
			d = w.r.preferredTimeout
		}
		c.PreferredUntil = w.now.Add(d)
	}
	w.seqs[c.ID] = contactSeqs{event: 1, message: 1}
	w.putContact(c)
	w.rememberKey(c)
	_, how := rankParts(c.Priority, q, c.Customer)
	w.event(c, EventCreated, "", fmt.Sprintf("%s contact in %s, requirements %s, rank %d (%s)", c.Channel, c.Queue, reqString(c.Effective), c.Rank, how))
	w.note(Notification{Kind: NoteContact, Contact: cloneContact(c), Reason: ReasonCreated})
	if nc.Body != "" {
		first := nc.First
		first.Direction, first.Seq, first.At, first.Delivery, first.ClientID = "in", 0, time.Time{}, nil, ""
		first.Author, first.AuthorKind = c.Customer.Name, AuthorCustomer
		if first.AuthorName == "" {
			first.AuthorName = c.Customer.Name
		}
		m := w.message(c, first)
		w.note(Notification{Kind: NoteMessage, Contact: c, Message: &m})
	}
	w.schedule(c)
	return c, nil
}

// PutAgent creates or updates an agent's definition (name, skills,
// capacity). An update keeps the agent's state and contacts; a lower
// capacity stops new offers until the agent is under it again. It
// returns the agent and whether it was created.
func (r *Router) PutAgent(ctx context.Context, spec Agent) (Agent, bool, error) {
	created := false
	v, err := r.do(ctx, func(w *write) (any, error) {
		created = false
		if err := checkAgentSpec(spec); err != nil {
			return nil, err
		}
		a, err := w.agent(spec.ID)
		if err != nil {
			created = true
			a = &Agent{ID: spec.ID, State: AgentOffline, StateSince: w.now, Active: map[string]int{}}
		}
		a.Name, a.Skills, a.Capacity = spec.Name, cloneMap(spec.Skills), cloneMap(spec.Capacity)
		a.skillsRev = w.r.nextRev()
		w.putAgent(a, true)
		w.note(Notification{Kind: NoteAgent, AgentID: a.ID, Agent: cloneAgent(a), Reason: ReasonDefinitionChanged})
		return agentResult(a.ID), nil
	})
	if err != nil {
		return Agent{}, false, err
	}
	return v.(Agent), created, nil
}

func checkAgentSpec(a Agent) error {
	if errs := a.Validate(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func cloneMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	n := make(map[string]int, len(m))
	for k, v := range m {
		n[k] = v
	}
	return n
}

// DeleteAgent removes an agent who holds no contact.
func (r *Router) DeleteAgent(ctx context.Context, id string) error {
	_, err := r.do(ctx, func(w *write) (any, error) {
		a, err := w.agent(id)
		if err != nil {
			return nil, err
		}
		if len(a.Contacts) > 0 {
			return nil, conflictf("agent %q holds %d contact(s); close or transfer them first", id, len(a.Contacts))
		}
		if a.State != AgentOffline {
			w.stateChange(a.ID, AgentOffline, "", "deleted")
		}
		delete(w.r.stateAt, a.ID)
		if err := w.txn.Delete(tableAgents, a); err != nil {
			return nil, fmt.Errorf("router: delete agent %q: %w", id, err)
		}
		w.touchAgent(id)
		if _, err := w.txn.DeleteAll(tableRoutes, indexID, id); err != nil {
			return nil, fmt.Errorf("router: delete route %q: %w", id, err)
		}
		w.batch.DeletedAgents = append(w.batch.DeletedAgents, id)
		return nil, nil
	})
	return err
}

// SetAgentState moves an agent to available, away (with a reason code:
// one of Options.AwayReasons, when set, or none) or offline. Wrap-up is
// entered by WrapUp and left by its timer or by any state given here. An
// offer ringing for an agent who leaves is withdrawn and routed again at
// once.
func (r *Router) SetAgentState(ctx context.Context, id string, state AgentState, reason string) (Agent, error) {
	v, err := r.do(ctx, func(w *write) (any, error) {
		switch {
		case !state.Settable():
			return nil, invalidf("state", "state %q: want available, away or offline", state)
		case state != AgentAway:
			reason = ""
		default:
			if reason == "" {
				reason = "away"
			}
			if err := ValidateName("reason", "away reason", reason); err != nil {
				return nil, err
			}
			if reason != "away" && len(w.r.awayReasons) > 0 && !slices.Contains(w.r.awayReasons, reason) {
				return nil, invalidf("reason", "away reason %q: want one of %s", reason, strings.Join(w.r.awayReasons, ", "))
			}
		}
		a, err := w.agent(id)
		if err != nil {
			return nil, err
		}
		if state == AgentAvailable && !w.r.present(a) {
			return nil, Errorf(CodeConflict, "state", "agent %s has no desktop connected: only an agent with an open desktop takes contacts", id)
		}
		a.resume = ""
		w.setAgentState(a, state, reason, "set by request")
		return agentResult(id), nil
	})
	if err != nil {
		return Agent{}, err
	}
	return v.(Agent), nil
}

// PutQueue creates or replaces a queue. Contacts already waiting keep
// their requirements; the new relaxation steps, maximum wait and overflow
// apply to them from their next step on.
func (r *Router) PutQueue(ctx context.Context, q Queue) (Queue, error) {
	v, err := r.do(ctx, func(w *write) (any, error) {
		if err := w.checkQueue(&q); err != nil {
			return nil, err
		}
		stored := q
		stored.Requirements = slices.Clone(q.Requirements)
		if stored.Strategy == "" {
			stored.Strategy = LongestIdle
		}
		w.touched.Definitions = true
		if err := w.txn.Insert(tableQueues, &stored); err != nil {
			return nil, fmt.Errorf("router: write queue %q: %w", q.Name, err)
		}
		w.batch.Queues = append(w.batch.Queues, stored)
		// Waiting contacts of this queue may have a step due sooner now.
		it, err := w.txn.Get(tableContacts, indexID)
		if err != nil {
			return nil, fmt.Errorf("router: scan contacts: %w", err)
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if c := raw.(*Contact); c.Queue == q.Name && c.State == ContactQueued {
				w.at(w.now, timerContact, c.ID)
			}
		}
		return stored, nil
	})
	if err != nil {
		return Queue{}, err
	}
	return v.(Queue), nil
}

func (w *write) checkQueue(q *Queue) error {
	if errs := q.Validate(); len(errs) > 0 {
		return errs[0]
	}
	if q.Overflow != "" {
		if _, err := w.queue(q.Overflow); err != nil {
			return invalidf("overflow", "unknown queue %q (want a queue contacts move to)", q.Overflow)
		}
	}
	if _, ok := w.r.calendars[q.Hours]; q.Hours != "" && !ok {
		return invalidf("hours", "hours: no calendar %q (want one of the calendars configured, or empty for always open)", q.Hours)
	}
	return nil
}

// DeleteQueue removes a queue nobody waits in and no queue overflows to.
func (r *Router) DeleteQueue(ctx context.Context, name string) error {
	_, err := r.do(ctx, func(w *write) (any, error) {
		q, err := w.queue(name)
		if err != nil {
			return nil, err
		}
		qs, err := w.txn.Get(tableQueues, indexID)
		if err != nil {
			return nil, fmt.Errorf("router: scan queues: %w", err)
		}
		for raw := qs.Next(); raw != nil; raw = qs.Next() {
			if o := raw.(*Queue); o.Overflow == name {
				return nil, conflictf("queue %q overflows into %q", o.Name, name)
			}
		}
		cs, err := w.txn.Get(tableContacts, indexID)
		if err != nil {
			return nil, fmt.Errorf("router: scan contacts: %w", err)
		}
		for raw := cs.Next(); raw != nil; raw = cs.Next() {
			if raw.(*Contact).Queue == name {
				return nil, conflictf("queue %q still has live contacts", name)
			}
		}
		w.touched.Definitions = true
		if err := w.txn.Delete(tableQueues, q); err != nil {
			return nil, fmt.Errorf("router: delete queue %q: %w", name, err)
		}
		w.batch.DeletedQueues = append(w.batch.DeletedQueues, name)
		return nil, nil
	})
	return err
}

// mine reads a contact that must be with agentID in one of states. An
// empty agentID (a supervisor acting) matches any agent.
func (w *write) mine(contactID, agentID string, states ...ContactState) (*Contact, error) {
	c, err := w.contact(contactID)
	if err != nil {
		return nil, err
	}
	if agentID != "" && c.AgentID != agentID {
		return nil, notYours(contactID, agentID)
	}
	if !slices.Contains(states, c.State) {
		return nil, conflictf("contact %s is %s", contactID, c.State)
	}
	return c, nil
}

// Accept takes the contact offered to agentID.
func (r *Router) Accept(ctx context.Context, contactID, agentID string) (Contact, error) {
	return asContact(r.do(ctx, func(w *write) (any, error) {
		if agentID == "" {
			return nil, invalidf("agent_id", "agent_id is missing")
		}
		c, err := w.mine(contactID, agentID, ContactOffered)
		if err != nil {
			return nil, err
		}
		a, err := w.agent(agentID)
		if err != nil {
			return nil, err
		}
		c.State, c.AssignedAt = ContactAssigned, w.now
		c.OfferExpires = time.Time{}
		a.Offer, a.IdleSince = "", w.now
		w.putContact(c)
		w.putAgent(a, false)
		w.event(c, EventAssigned, agentID, fmt.Sprintf("accepted after %s; waited %s", w.now.Sub(c.OfferedAt).Round(time.Millisecond), w.now.Sub(c.EnqueuedAt).Round(time.Second)))
		w.note(Notification{Kind: NoteAssigned, AgentID: agentID, Contact: c})
		return contactResult(c.ID), nil
	}))
}

// Decline gives an offered contact back to its queue, with its age; it is
// never offered to agentID again.
func (r *Router) Decline(ctx context.Context, contactID, agentID, reason string) (Contact, error) {
	return asContact(r.do(ctx, func(w *write) (any, error) {
		if agentID == "" {
			return nil, invalidf("agent_id", "agent_id is missing")
		}
		if len(reason) > maxTextLen {
			return nil, invalidf("reason", "reason longer than %d bytes", maxTextLen)
		}
		c, err := w.mine(contactID, agentID, ContactOffered)
		if err != nil {
			return nil, err
		}
		if reason == "" {
			reason = "declined by " + agentID
		}
		w.requeue(c, EventDeclined, reason, agentID)
		return contactResult(c.ID), nil
	}))
}

// WrapUp ends the conversation of an assigned contact: the agent enters
// wrap-up (no new offers, on any queue) for the queue's wrap-up time, and
// the contact closes when it ends.
func (r *Router) WrapUp(ctx context.Context, contactID, agentID, disposition, notes string) (Contact, error) {
	return asContact(r.do(ctx, func(w *write) (any, error) {
		if err := checkWrapUp(disposition, notes); err != nil {
			return nil, err
		}
		c, err := w.mine(contactID, agentID, ContactAssigned)
		if err != nil {
			return nil, err
		}
		c.Disposition, c.Notes = disposition, notes
		d := w.r.wrapUp
		if q, err := w.queue(c.Queue); err == nil && q.WrapUp > 0 {
			d = q.WrapUp.D()
		}
		a, aerr := w.agent(c.AgentID)
		if aerr != nil || (a.State != AgentAvailable && a.State != AgentWrapUp) {
			w.end(c, ContactClosed, EventClosed, c.AgentID, "wrapped up by "+c.AgentID+" (not available, no wrap-up time)")
			return contactResult(c.ID), nil
		}
		c.State = ContactWrapUp
		w.putContact(c)
		w.event(c, EventWrapup, c.AgentID, fmt.Sprintf("disposition %q; wrap-up %s", disposition, d))
		w.note(Notification{Kind: NoteContact, AgentID: c.AgentID, Contact: c})
		until := w.now.Add(d)
		if a.State == AgentWrapUp && a.WrapUpUntil.After(until) {
			until = a.WrapUpUntil
		}
		// The agent's notification carries when the wrap-up ends (the
		// desktop counts it down).
		if a.State != AgentWrapUp {
			a.WrapUpUntil = until
			w.setAgentState(a, AgentWrapUp, "", "wrap-up of "+c.ID)
		} else if !a.WrapUpUntil.Equal(until) {
			a.WrapUpUntil = until
			w.putAgent(a, false)
			w.note(Notification{Kind: NoteAgent, AgentID: a.ID, Agent: cloneAgent(a), Reason: "wrap-up of " + c.ID})
		}
		w.at(until, timerAgent, a.ID)
		return contactResult(c.ID), nil
	}))
}

// CloseContact ends a contact. An agent closes its assigned or wrap-up
// contacts; a supervisor (agentID "") may close any live contact, which
// withdraws an offer still ringing.
func (r *Router) CloseContact(ctx context.Context, contactID, agentID, disposition, notes string) (Contact, error) {
	return asContact(r.do(ctx, func(w *write) (any, error) {
		if err := checkWrapUp(disposition, notes); err != nil {
			return nil, err
		}
		states := []ContactState{ContactAssigned, ContactWrapUp}
		if agentID == "" {
			states = append(states, ContactQueued, ContactOffered)
		}
		c, err := w.mine(contactID, agentID, states...)
		if err != nil {
			return nil, err
		}
		if disposition != "" {
			c.Disposition = disposition
		}
		if notes != "" {
			c.Notes = notes
		}
		by := agentID
		if by == "" {
			by = "a supervisor"
		}
		w.end(c, ContactClosed, EventClosed, agentID, "closed by "+by)
		return contactResult(c.ID), nil
	}))
}

// Abandon records that the customer left. A queued or offered contact is
// abandoned at once (an offer stops ringing); an assigned one stays with
// its agent, who is told.
func (r *Router) Abandon(ctx context.Context, contactID, reason string) (Contact, error) {
	return asContact(r.do(ctx, func(w *write) (any, error) {
		if len(reason) > maxTextLen {
			return nil, invalidf("reason", "reason longer than %d bytes", maxTextLen)
		}
		if reason == "" {
			reason = "customer left"
		}
		c, err := w.mine(contactID, "", ContactQueued, ContactOffered, ContactAssigned, ContactWrapUp)
		if err != nil {
			return nil, err
		}
		if c.State == ContactAssigned || c.State == ContactWrapUp {
			w.event(c, EventCustomerLeft, c.AgentID, reason)
			w.note(Notification{Kind: NoteContact, AgentID: c.AgentID, Contact: c, Reason: reason})
			return contactResult(c.ID), nil
		}
		w.end(c, ContactAbandoned, EventAbandoned, "", reason)
		return contactResult(c.ID), nil
	}))
}

// Transfer sends an assigned contact to another queue, or to another
// agent (who gets it first, as a preferred agent), keeping its age.
func (r *Router) Transfer(ctx context.Context, contactID, agentID, toQueue, toAgent string) (Contact, error) {
	return asContact(r.do(ctx, func(w *write) (any, error) {
		if toQueue == "" && toAgent == "" {
			return nil, invalidf("", "transfer needs a queue or an agent")
		}
		c, err := w.mine(contactID, agentID, ContactAssigned)
		if err != nil {
			return nil, err
		}
		if toAgent != "" {
			if toAgent == c.AgentID {
				return nil, Errorf(CodeConflict, "to_agent", "the contact is already with %s", toAgent)
			}
			if _, err := w.agent(toAgent); err != nil {
				return nil, withField(err, "to_agent")
			}
		}
		q, err := w.queue(c.Queue)
		if toQueue != "" {
			q, err = w.queue(toQueue)
			err = withField(err, "queue")
		}
		if err != nil {
			return nil, err
		}
		from, left := c.AgentID, c.Queue
		w.release(c)
		w.note(Notification{Kind: NoteContactEnded, AgentID: from, Contact: c, Reason: ReasonTransferred})
		c.State, c.AgentID = ContactQueued, ""
		c.AssignedAt, c.OfferedAt = time.Time{}, time.Time{}
		if q.Name != c.Queue {
			w.moveToQueue(c, q)
		} else {
			c.QueuedAt = w.now
		}
		c.Preferred, c.PreferredUntil = nil, time.Time{}
		if toAgent != "" {
			c.Preferred = []string{toAgent}
			c.PreferredUntil = w.now.Add(w.r.preferredTimeout)
			c.Declined = slices.DeleteFunc(c.Declined, func(id string) bool { return id == toAgent })
		}
		w.putContact(c)
		target := "queue " + q.Name
		if toAgent != "" {
			target = "agent " + toAgent + " via queue " + q.Name
		}
		w.eventIn(c, left, EventTransferred, from, "by "+from+" to "+target)
		w.schedule(c)
		return contactResult(c.ID), nil
	}))
}

// TakeOver records that supervisor s (ID a login id or an API token's
// name; Name the display name, if any) takes a live contact over: from
// then on s writes to the customer too (AddMessage, direction "out",
// AuthorKind AuthorSupervisor, Author s.ID). Nothing else changes: the
// contact stays with its agent, who keeps it, its capacity and its
// replies, or waits in its queue; transfers keep the take-over. The
// timeline records EventTakenOver by who asked (WithActor, else s), and
// the contact's agent is told (NoteContact, reason ReasonTakenOver).
//
// Only a conversation still open is taken over: a queued, offered or
// assigned contact (ErrConflict in wrap-up, ErrNoContact once it
// ended). Taking over again a contact s took over changes nothing.
func (r *Router) TakeOver(ctx context.Context, contactID string, s TakeOver) (Contact, error) {
	switch {
	case s.ID == "" || len(s.ID) > maxIDLen:
		return Contact{}, invalidf("supervisor", "supervisor id empty or longer than %d bytes", maxIDLen)
	case len(s.Name) > MaxAgentNameLen:
		return Contact{}, invalidf("supervisor", "supervisor name longer than %d bytes", MaxAgentNameLen)
	}
	return asContact(r.do(ctx, func(w *write) (any, error) {
		c, err := w.contact(contactID)
		if err != nil {
			return nil, err
		}
		if err := supervisorWrites(c); err != nil {
			return nil, err
		}
		if _, ok := c.TakenOver(s.ID); ok {
			return contactResult(c.ID), nil
		}
		if len(c.TakenOverBy) >= MaxTakeOvers {
			return nil, conflictf("contact %s is taken over by %d supervisors already, the most there may be", c.ID, MaxTakeOvers)
		}
		s.At = w.now
		c.TakenOverBy = append(c.TakenOverBy, s)
		w.putContact(c)
		who := s.ID
		if s.Name != "" && s.Name != s.ID {
			who = s.Name + " (" + s.ID + ")"
		}
		reason := who + " writes to the customer; the contact stays with " + c.AgentID
		if c.AgentID == "" {
			reason = who + " writes to the customer; the contact waits in " + c.Queue
		}
		w.supervisorEvent(c, EventTakenOver, s.ID, reason)
		if c.AgentID != "" {
			w.note(Notification{Kind: NoteContact, AgentID: c.AgentID, Contact: c, Reason: ReasonTakenOver})
		}
		return contactResult(c.ID), nil
	}))
}

// supervisorWrites checks that a supervisor may take c over and write to
// its customer: while its conversation is open. In wrap-up it is over
// for the customer, and the agent no longer writes either.
func supervisorWrites(c *Contact) error {
	switch c.State {
	case ContactQueued, ContactOffered, ContactAssigned:
		return nil
	}
	return conflictf("contact %s is %s; a supervisor takes a contact over, and writes to its customer, only while it is queued, offered or assigned", c.ID, c.State)
}

// supervisorEvent records the event name of supervisor id on c's
// timeline: by who asked (WithActor), or else by the supervisor.
func (w *write) supervisorEvent(c *Contact, name, id, reason string) {
	w.event(c, name, c.AgentID, reason)
	if e := &w.batch.Events[len(w.batch.Events)-1]; e.By == "" {
		e.By = id + " (supervisor)"
	}
}

// AddMessage appends a message to a live contact's conversation and
// tells the contact's agent. A message whose ClientID the contact already
// has is a resend: the first copy is returned and dup is true.
//
// A message from the customer (direction "in") is taken as an agent may
// see it (package inbound), and only within the customer limits
// (Options.CustomerMessages, CustomerBytes): past them the error wraps
// ErrLimit and nothing is stored. A message whose Author is an agent is
// refused unless the contact is assigned to that agent (ErrNotYours if
// it is with someone else, ErrConflict if it is not assigned).
//
// A message to the customer (direction "out") with AuthorKind
// AuthorSupervisor is written by a supervisor (Author its login id) who
// took the contact over (TakeOver; ErrConflict otherwise), while the
// contact is queued, offered or assigned; it goes out as an agent's does
// (the outbox), AuthorName defaults to the name it took the contact over
// under, and the timeline records EventSupervisorMessage.
//
// An internal note (Direction DirectionNote) is written by an agent on a
// contact it holds (offered, assigned or in wrap-up), or by a supervisor
// (AuthorKind AuthorSupervisor, Author the supervisor's login) on any
// live contact, a whisper to its agent. It is told to the contact's
// agent, never delivered to the customer, and counts in no customer limit.
func (r *Router) AddMessage(ctx context.Context, contactID string, m Message) (Message, bool, error) {
	if m.Direction == "in" {
		m = m.fromOutside()
	}
	m.Seq, m.At, m.Delivery = 0, time.Time{}, nil
	if m.ExternalID != "" {
		stored, found, err := r.store.MessageByExternalID(ctx, m.ExternalID)
		if err != nil {
			return Message{}, false, fmt.Errorf("router: look up external id: %w", err)
		}
		if found {
			if err := sameExternal(stored, contactID, m); err != nil {
				return Message{}, false, err
			}
			return stored, true, nil
		}
	}
	dup := false
	v, err := r.do(ctx, func(w *write) (any, error) {
		dup = false
		if m.Direction != "in" && m.Direction != "out" && m.Direction != DirectionNote {
			return nil, invalidf("direction", "direction %q: want in, out or note", m.Direction)
		}
		if m.Body == "" || len(m.Body) > MaxBodyLen {
			return nil, invalidf("body", "body empty or longer than %d bytes", MaxBodyLen)
		}
		if len(m.ClientID) > MaxClientIDLen {
			return nil, invalidf("client_id", "client id longer than %d bytes", MaxClientIDLen)
		}
		if err := validateMessage(m); err != nil {
			return nil, err
		}
		if m.ExternalID != "" {
			if stored, ok := w.externalMessage(m.ExternalID); ok {
				if err := sameExternal(stored, contactID, m); err != nil {
					return nil, err
				}
				dup = true
				return stored, nil
			}
		}
		c, err := w.contact(contactID)
		if err != nil {
			return nil, err
		}
		if m.Direction == DirectionNote {
			if err := w.checkNote(c, &m); err != nil {
				return nil, err
			}
		} else if m.Direction == "in" {
			m.AuthorKind = AuthorCustomer
			if m.Author == "" {
				m.Author = c.Customer.Name
			}
			if m.AuthorName == "" {
				m.AuthorName = m.Author
			}
		} else if m.AuthorKind == "" {
			m.AuthorKind = AuthorSystem
		}
		supervisor := m.Direction == "out" && m.AuthorKind == AuthorSupervisor
		if supervisor {
			if err := checkSupervisorMessage(c, &m); err != nil {
				return nil, err
			}
		} else if m.Direction == "out" && m.Author != "" {
			// An agent writes only on the contacts assigned to it;
			// checked here, in order with transfers and wrap-ups, not on
			// a stale snapshot.
			if a, err := w.agent(m.Author); err == nil {
				m.AuthorKind = AuthorAgent
				if m.AuthorName == "" {
					m.AuthorName = a.Name
				}
				switch {
				case m.Author != c.AgentID:
					return nil, notYours(contactID, m.Author)
				case c.State != ContactAssigned:
					return nil, conflictf("contact %s is %s; an agent writes to the customer only while it is assigned", contactID, c.State)
				}
			}
		}
		if m.ClientID != "" {
			raw, err := w.txn.First(tableClientMsgs, indexID, clientMsgKey(c.ID, m.ClientID))
			if err != nil {
				return nil, fmt.Errorf("router: read client message: %w", err)
			}
			if raw != nil {
				dup = true
				return raw.(*clientMsg).Message, nil
			}
		}
		if m.Direction == "in" {
			if err := w.r.customerLimit(w.seq(c.ID), len(m.Body)); err != nil {
				return nil, err
			}
		}
		if m.Direction == "out" && w.r.outbound[c.Channel] {
			m.Delivery = &Delivery{Status: DeliveryQueued, At: w.now}
		}
		m := w.message(c, m)
		switch {
		case supervisor:
			w.supervisorEvent(c, EventSupervisorMessage, m.Author, fmt.Sprintf("message %d to the customer", m.Seq))
		case m.Direction == DirectionNote && m.AuthorKind == AuthorSupervisor:
			w.supervisorEvent(c, EventWhisper, m.Author, fmt.Sprintf("note %d to the agent", m.Seq))
		}
		w.note(Notification{Kind: NoteMessage, AgentID: c.AgentID, Contact: c, Message: &m})
		if m.Delivery != nil {
			e := OutboxEntry{ID: OutboxID(c.ID, m.Seq), Channel: c.Channel, ContactID: c.ID, Seq: m.Seq, CreatedAt: w.now, DueAt: w.now}
			w.batch.Outbox = append(w.batch.Outbox, e)
			w.note(Notification{Kind: NoteOutbox, Contact: c, Message: &m, Outbox: &e})
		}
		return m, nil
	})
	if err != nil {
		return Message{}, false, err
	}
	return v.(Message), dup, nil
}

// checkSupervisorMessage checks a supervisor's message to the customer
// of c: its author took c over, and c's conversation is open. It sets
// the author's name, if none is given, to the take-over's.
func checkSupervisorMessage(c *Contact, m *Message) error {
	if m.Author == "" {
		return invalidf("author", "a supervisor's message needs its author")
	}
	t, ok := c.TakenOver(m.Author)
	if !ok {
		return conflictf("%s has not taken contact %s over; a supervisor takes a contact over before writing to its customer", m.Author, c.ID)
	}
	if err := supervisorWrites(c); err != nil {
		return err
	}
	if m.AuthorName == "" {
		m.AuthorName = t.Name
	}
	return nil
}

// checkNote checks an internal note on c and sets its author's kind and
// name: an agent on a contact it holds, or a supervisor on any.
func (w *write) checkNote(c *Contact, m *Message) error {
	if m.Author == "" {
		return invalidf("author", "a note needs its author")
	}
	if len(m.Attachments) > 0 || m.ExternalID != "" || len(m.References) > 0 {
		return invalidf("direction", "a note carries text only")
	}
	if m.AuthorKind == AuthorSupervisor {
		if m.AuthorName == "" {
			m.AuthorName = m.Author
		}
		return nil
	}
	a, err := w.agent(m.Author)
	if err != nil {
		return invalidf("author", "author %q of a note is neither an agent nor a supervisor", m.Author)
	}
	if c.AgentID != a.ID {
		return notYours(c.ID, a.ID)
	}
	m.AuthorKind = AuthorAgent
	if m.AuthorName == "" {
		m.AuthorName = a.Name
	}
	return nil
}

// returnBoost puts a contact taken back from a vanished agent ahead of
// every other contact of its queue.
const returnBoost = 100000

// AgentConnected records that a desktop of the agent is connected (call
// it for each; AgentDisconnected or AgentSignedOut when the last one
// goes): the agent's contacts stop waiting to be taken back, and a state
// that a dropped desktop left (AgentDisconnected) within the disconnect
// grace is restored (reason ReasonRestored).
func (r *Router) AgentConnected(ctx context.Context, id string) (Agent, error) {
	v, err := r.do(ctx, func(w *write) (any, error) {
		a, err := w.agent(id)
		if err != nil {
			return nil, err
		}
		if a.Connected && a.GraceUntil.IsZero() && a.resume == "" {
			return agentResult(id), nil // another socket of a present agent
		}
		arrived := !a.Connected
		a.Connected = true
		reconnected := !a.GraceUntil.IsZero()
		a.GraceUntil = time.Time{}
		resume, reason, until := a.resume, a.resumeReason, a.resumeUntil
		a.resume, a.resumeReason, a.resumeUntil = "", "", time.Time{}
		w.putAgent(a, false)
		if resume != "" && a.State == AgentOffline && w.now.Before(until) {
			w.setAgentState(a, resume, reason, ReasonRestored)
			return agentResult(id), nil
		}
		if reconnected || arrived {
			w.note(Notification{Kind: NoteAgent, AgentID: a.ID, Agent: cloneAgent(a), Reason: ReasonReconnected})
		}
		return agentResult(id), nil
	})
	if err != nil {
		return Agent{}, err
	}
	return v.(Agent), nil
}

// AgentDisconnected records that the agent's last desktop went away
// without being closed on purpose (a dropped connection, a reload). The
// agent goes offline (reason "disconnected"): an offer ringing is
// withdrawn and routed again at once. The assigned contacts stay with
// the agent for the disconnect grace (Options.DisconnectGrace); if it has
// not reconnected by then they return to their queues, at the front. A
// desktop that comes back within the grace gets the agent's state back
// (available, or away with its reason).
func (r *Router) AgentDisconnected(ctx context.Context, id string) (Agent, error) {
	return r.leave(ctx, id, true)
}

// AgentSignedOut records that the agent left on purpose or was made to:
// a logout, a session ended by a new login, a password set or the login
// deleted, a session that expired. It is AgentDisconnected without the
// state restored on reconnect: the agent comes back offline and chooses.
func (r *Router) AgentSignedOut(ctx context.Context, id string) (Agent, error) {
	return r.leave(ctx, id, false)
}

func (r *Router) leave(ctx context.Context, id string, restore bool) (Agent, error) {
	v, err := r.do(ctx, func(w *write) (any, error) {
		a, err := w.agent(id)
		if err != nil {
			return nil, err
		}
		resume, reason := AgentState(""), ""
		if restore && a.Connected && (a.State == AgentAvailable || a.State == AgentAway) {
			resume, reason = a.State, a.Reason
		}
		why, code := "desktop disconnected", "disconnected"
		if !restore {
			why, code = "signed out", "signed_out"
		}
		a.Connected = false
		if a.State == AgentWrapUp {
			// Wrap-up goes on: its contacts end when it does, not now,
			// and then the agent, with no desktop, goes offline
			// (setAgentState); a dropped desktop comes back available.
			if restore {
				resume = AgentAvailable
			}
			w.putAgent(a, false)
			w.note(Notification{Kind: NoteAgent, AgentID: a.ID, Agent: cloneAgent(a), Reason: why})
		} else {
			w.setAgentState(a, AgentOffline, code, why)
		}
		if a, err = w.agent(id); err != nil {
			return nil, err
		}
		a.resume, a.resumeReason, a.resumeUntil = resume, reason, time.Time{}
		if resume != "" {
			a.resumeUntil = w.now.Add(w.r.grace)
		}
		if len(a.Contacts) > 0 && a.GraceUntil.IsZero() {
			a.GraceUntil = w.now.Add(w.r.grace)
			w.at(a.GraceUntil, timerAgent, a.ID)
		}
		w.putAgent(a, false)
		return agentResult(id), nil
	})
	if err != nil {
		return Agent{}, err
	}
	return v.(Agent), nil
}

// RecordEvent adds an event to a live contact's timeline, for what the
// router does not decide itself: an offer's outcome on the desktop, a note.
func (r *Router) RecordEvent(ctx context.Context, contactID, agentID, event, reason string) error {
	_, err := r.do(ctx, func(w *write) (any, error) {
		if err := ValidateName("event", "event", event); err != nil {
			return nil, err
		}
		if len(reason) > maxTextLen {
			return nil, invalidf("reason", "reason longer than %d bytes", maxTextLen)
		}
		c, err := w.contact(contactID)
		if err != nil {
			return nil, err
		}
		if agentID != "" && c.AgentID != agentID {
			return nil, notYours(contactID, agentID)
		}
		w.event(c, event, agentID, reason)
		return nil, nil
	})
	return err
}

// Verification is an agent's verification of the customer of one of its
// contacts: the customer proved, by the firm's security questions or
// another Method, to be the known customer their claim matched.
type Verification struct {
	ContactID string
	AgentID   string
	// CustomerID is the profile the customer proved to be: the one the
	// contact's ClaimedID lives in now (after merges).
	CustomerID string
	// Value and Segment route the customer's later contacts; zero
	// without profiling consent.
	Value   float64
	Segment string
	// Method says how the agent verified ("security questions").
	Method string
	// Email and Phone are the contact's email and phone that stay on it
	// ("" drops the contact's): those the customer's profile holds, and
	// the channel's own address, where replies go. Anything else the
	// customer gave proves nothing: kept, it would be shown, searched
	// and carried to follow-ups as the verified customer's.
	Email, Phone string
}

// VerifyCustomer records that the customer of a contact assigned to
// v.AgentID was verified as v.CustomerID: the contact's customer becomes
// identified (ID, Verified, Value, Segment; ClaimedID cleared; the email
// and phone v keeps, the others dropped) and its timeline gets a
// "verified" event naming the agent and the method. A
// contact that is not with the agent wraps ErrNotYours, one that is not
// assigned or whose customer is already verified or claims nobody wraps
// ErrConflict.
func (r *Router) VerifyCustomer(ctx context.Context, v Verification) (Contact, error) {
	return asContact(r.do(ctx, func(w *write) (any, error) {
		switch {
		case v.AgentID == "":
			return nil, invalidf("agent_id", "agent_id is missing")
		case v.Method == "" || len(v.Method) > MaxVerificationMethodLen:
			return nil, invalidf("method", "method: want 1 to %d bytes", MaxVerificationMethodLen)
		case v.CustomerID == "":
			return nil, invalidf("customer_id", "customer_id: want 1 to %d bytes", MaxCustomerIDLen)
		}
		// The customer it becomes, by the one rule of a customer; its
		// fields are the verification's.
		if errs := (Customer{ID: v.CustomerID, Value: v.Value, Segment: v.Segment}).Validate(); len(errs) > 0 {
			e := errs[0]
			if e.Field == "id" {
				e.Field = "customer_id"
			}
			return nil, e
		}
		c, err := w.mine(v.ContactID, v.AgentID, ContactAssigned)
		if err != nil {
			return nil, err
		}
		switch {
		case c.Customer.Verified:
			return nil, conflictf("the customer of %s is already verified", c.ID)
		case c.Customer.ClaimedID == "":
			return nil, conflictf("the customer of %s claims to be no known customer", c.ID)
		}
		var dropped []string
		for _, id := range []struct {
			field     string
			has, keep *string
		}{{"email", &c.Customer.Email, &v.Email}, {"phone", &c.Customer.Phone, &v.Phone}} {
			switch {
			case *id.keep != "" && *id.keep != *id.has:
				return nil, invalidf(id.field, "%s: not the contact's", id.field)
			case *id.keep == "" && *id.has != "":
				dropped = append(dropped, id.field)
			}
		}
		c.Customer.ID, c.Customer.Verified, c.Customer.ClaimedID = v.CustomerID, true, ""
		c.Customer.Value, c.Customer.Segment = v.Value, v.Segment
		c.Customer.Email, c.Customer.Phone = v.Email, v.Phone
		w.putContact(c)
		why := fmt.Sprintf("customer %s verified by %s: %s", v.CustomerID, v.AgentID, v.Method)
		if len(dropped) > 0 {
			why += "; the " + strings.Join(dropped, " and ") + " given, not the customer's, dropped"
		}
		w.event(c, EventVerified, v.AgentID, why)
		w.note(Notification{Kind: NoteContact, AgentID: c.AgentID, Contact: cloneContact(c), Reason: ReasonVerified})
		return *c, nil
	}))
}

// ForgetClaims blanks what live contacts claimed about a customer being
// erased: the name, email, phone and ClaimedID of every live contact
// whose customer is not verified and that claims selects (by ClaimedID,
// or by an email or phone of the erased customer), each with a
// "claim_forgotten" event. A contact whose customer is verified is left
// alone (the erasure refuses while it lives). claims runs on the router's
// writer: it must be quick and touch nothing else. It returns how many
// contacts it changed.
func (r *Router) ForgetClaims(ctx context.Context, claims func(Customer) bool) (int, error) {
	v, err := r.do(ctx, func(w *write) (any, error) {
		if claims == nil {
			return 0, invalidf("", "no claims to forget")
		}
		it, err := w.txn.Get(tableContacts, indexID)
		if err != nil {
			return 0, fmt.Errorf("router: scan contacts: %w", err)
		}
		var forget []*Contact
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if c := raw.(*Contact); !c.Customer.Verified && claims(c.Customer) {
				forget = append(forget, cloneContact(c))
			}
		}
		for _, c := range forget {
			c.Customer = Customer{}
			w.putContact(c)
			w.event(c, EventClaimForgotten, "", "the claimed customer was erased")
			w.note(Notification{Kind: NoteContact, AgentID: c.AgentID, Contact: cloneContact(c), Reason: ReasonClaimForgotten})
		}
		return len(forget), nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

// RecordDelivery records an attempt to deliver an outbound message: the
// outbox entry as it now stands (attempts, when the next may start, the
// last error, done; none when e.ID is empty: a receipt, which changes
// only the delivery), and, when d is not nil, the message's new delivery,
// which the agent holding the contact hears of (NoteDelivery). It writes
// no message and needs no live contact: a reply may be delivered after
// its contact ended.
func (r *Router) RecordDelivery(ctx context.Context, e OutboxEntry, d *Delivery) error {
	_, err := r.do(ctx, func(w *write) (any, error) {
		if e.ID != "" && e.ID != OutboxID(e.ContactID, e.Seq) || e.Seq < 1 || e.ContactID == "" {
			return nil, invalidf("id", "outbox entry %q does not name message %d of %q", e.ID, e.Seq, e.ContactID)
		}
		if len(e.LastError) > maxTextLen {
			e.LastError = e.LastError[:maxTextLen]
		}
		if e.ID != "" {
			w.batch.Outbox = append(w.batch.Outbox, e)
		}
		if d == nil {
			return nil, nil
		}
		if len(d.Reason) > maxTextLen {
			d.Reason = d.Reason[:maxTextLen]
		}
		if len(d.ExternalID) > MaxExternalIDLen {
			return nil, invalidf("external_id", "external id longer than %d bytes", MaxExternalIDLen)
		}
		if d.At.IsZero() {
			d.At = w.now
		}
		w.batch.Deliveries = append(w.batch.Deliveries, DeliveryUpdate{ContactID: e.ContactID, Seq: e.Seq, Delivery: *d})
		n := Notification{Kind: NoteDelivery, Message: &Message{ContactID: e.ContactID, Seq: e.Seq, Direction: "out", ExternalID: d.ExternalID, Delivery: d}}
		if c, err := w.contact(e.ContactID); err == nil {
			n.AgentID, n.Contact = c.AgentID, c
		}
		w.note(n)
		return nil, nil
	})
	return err
}

// sameExternal says whether stored, the message already stored with m's
// external id, may answer m, a message for contactID: a customer's
// message is the channel delivering it again (whatever contact it went
// to, which the caller learns from stored.ContactID); an outbound one
// must be the same contact's, so that nobody reads another contact's
// message by naming its id.
func sameExternal(stored Message, contactID string, m Message) error {
	if m.Direction == "in" && stored.Direction == "in" || stored.ContactID == contactID && stored.Direction == m.Direction {
		return nil
	}
	return Errorf(CodeConflict, "external_id", "external id %q is another message's", m.ExternalID)
}

// SetTags adds and removes tags of a live contact (tags already there
// or not there are no change): the agent holding it (agentID) while it
// is assigned or in wrap-up, or a supervisor (agentID "") at any time
// until it ends. A contact carries at most MaxTags tags; they are
// normalized by NormalizeTag and kept sorted. Nothing changes if the
// tags end up the same.
func (r *Router) SetTags(ctx context.Context, contactID, agentID string, add, remove []string) (Contact, error) {
	norm := func(field string, in []string) ([]string, error) {
		out := make([]string, 0, len(in))
		for i, s := range in {
			t, err := NormalizeTag(fmt.Sprintf("%s[%d]", field, i), s)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	if len(add)+len(remove) == 0 {
		return Contact{}, invalidf("add", "nothing to add or remove")
	}
	if len(add) > MaxTags || len(remove) > MaxTags {
		return Contact{}, invalidf("add", "more than %d tags", MaxTags)
	}
	adds, err := norm("add", add)
	if err != nil {
		return Contact{}, err
	}
	removes, err := norm("remove", remove)
	if err != nil {
		return Contact{}, err
	}
	return asContact(r.do(ctx, func(w *write) (any, error) {
		states := []ContactState{ContactAssigned, ContactWrapUp}
		if agentID == "" {
			states = append(states, ContactQueued, ContactOffered)
		}
		c, err := w.mine(contactID, agentID, states...)
		if err != nil {
			return nil, err
		}
		tags := slices.Clone(c.Tags)
		for _, t := range removes {
			tags = slices.DeleteFunc(tags, func(x string) bool { return x == t })
		}
		for _, t := range adds {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		slices.Sort(tags)
		if slices.Equal(tags, c.Tags) {
			return contactResult(c.ID), nil
		}
		if len(tags) > MaxTags {
			return nil, invalidf("add", "a contact carries at most %d tags", MaxTags)
		}
		c.Tags = tags
		w.putContact(c)
		w.batch.Tags = append(w.batch.Tags, ContactTags{ContactID: c.ID, Tags: slices.Clone(tags)})
		reason := "no tags"
		if len(tags) > 0 {
			reason = "tags: " + strings.Join(tags, ", ")
		}
		w.event(c, EventTagged, agentID, reason)
		if c.AgentID != "" {
			w.note(Notification{Kind: NoteContact, AgentID: c.AgentID, Contact: c})
		}
		return contactResult(c.ID), nil
	}))
}
