package router

import (
	"sort"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/switchboard/switchboard/hours"
)

// Snapshot is a consistent, read-only view of the live state at one
// moment. It never blocks the writer; take a new one to see later changes.
// Values it returns are copies.
type Snapshot struct {
	r   *Router
	txn *memdb.Txn
	// At is when the snapshot was taken.
	At time.Time
}

// Seq is the number of the last batch the snapshot reflects (Published).
func (s *Snapshot) Seq() uint64 {
	raw, err := s.txn.First(tableMeta, indexID, metaBatch)
	if err != nil || raw == nil {
		return 0
	}
	return raw.(*meta).Seq
}

// Snapshot returns a view of the state as of the last commit.
func (r *Router) Snapshot() *Snapshot {
	return &Snapshot{r: r, txn: r.db.Txn(false), At: r.clock.Now().UTC().Round(0)}
}

// Agent returns the agent with id.
func (s *Snapshot) Agent(id string) (Agent, bool) {
	raw, err := s.txn.First(tableAgents, indexID, id)
	if err != nil || raw == nil {
		return Agent{}, false
	}
	return *cloneAgent(raw.(*Agent)), true
}

// Agents returns every agent, by id.
func (s *Snapshot) Agents() []Agent {
	var out []Agent
	it, err := s.txn.Get(tableAgents, indexID)
	if err != nil {
		return nil
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *cloneAgent(raw.(*Agent)))
	}
	return out
}

// Queue returns the queue named name.
func (s *Snapshot) Queue(name string) (Queue, bool) {
	raw, err := s.txn.First(tableQueues, indexID, name)
	if err != nil || raw == nil {
		return Queue{}, false
	}
	return *raw.(*Queue), true
}

// Hours returns the business hours of the queue named (nil, always
// open, for a queue without hours, whose calendar is not configured, or
// that does not exist). Ask it whether the queue is open at s.At and
// when it opens next; the calendar is shared and read only.
func (s *Snapshot) Hours(queue string) *hours.Calendar {
	q, ok := s.Queue(queue)
	if !ok || q.Hours == "" {
		return nil
	}
	return s.r.calendars[q.Hours]
}

// Queues returns every queue, by name.
func (s *Snapshot) Queues() []Queue {
	var out []Queue
	it, err := s.txn.Get(tableQueues, indexID)
	if err != nil {
		return nil
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *raw.(*Queue))
	}
	return out
}

// Contact returns the live (not ended) contact with id.
func (s *Snapshot) Contact(id string) (Contact, bool) {
	raw, err := s.txn.First(tableContacts, indexID, id)
	if err != nil || raw == nil {
		return Contact{}, false
	}
	return *cloneContact(raw.(*Contact)), true
}

// Contacts returns every live contact, by id (which is creation order).
func (s *Snapshot) Contacts() []Contact {
	var out []Contact
	it, err := s.txn.Get(tableContacts, indexID)
	if err != nil {
		return nil
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *cloneContact(raw.(*Contact)))
	}
	return out
}

// Queued returns every queued contact, in no particular order. It reads
// the waiting index: its cost is in the contacts that wait, not in every
// live one.
func (s *Snapshot) Queued() []Contact {
	it, err := s.txn.Get(tableContacts, indexWaiting+"_prefix", "")
	if err != nil {
		return nil
	}
	var out []Contact
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *cloneContact(raw.(*Contact)))
	}
	return out
}

// Waiting returns the queued contacts of queue (every queue if empty) in
// the order they will be served: highest rank, then oldest, first.
func (s *Snapshot) Waiting(queue string) []Contact {
	var out []Contact
	for _, c := range s.Queued() {
		if queue == "" || c.Queue == queue {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return waitsBefore(&out[i], &out[j]) })
	return out
}

// Propose finds the agent the router would offer c to now, without the
// reason and without reserving anything: the matcher's cost alone.
func (s *Snapshot) Propose(c *Contact) (agentID string, ok bool) {
	raw, err := s.txn.First(tableQueues, indexID, c.Queue)
	if err != nil || raw == nil {
		return "", false
	}
	p, ok := s.r.matchContact(s.txn, c, raw.(*Queue), s.At)
	if !ok {
		return "", false
	}
	return p.agent.ID, true
}

// Match proposes an agent for c as the router would now, with the reason,
// without reserving anything. ok is false when nobody eligible is free.
func (s *Snapshot) Match(c *Contact) (agentID, reason string, ok bool) {
	q, found := s.Queue(c.Queue)
	if !found {
		return "", "", false
	}
	p, ok := s.r.matchContact(s.txn, c, &q, s.At)
	if !ok {
		return "", "", false
	}
	return p.agent.ID, s.r.reason(s.txn, &p, c, &q, s.At), true
}

// Eligibility is one agent's standing for one contact.
type Eligibility struct {
	AgentID string `json:"agent_id"`
	// Why is empty when the agent could take the contact now.
	Why string `json:"why,omitempty"`
}

// Explain tells, for a live contact, where every agent who is not offline
// stands, so that a supervisor can see why it waits. Agents who could take
// it come first.
func (s *Snapshot) Explain(contactID string) ([]Eligibility, bool) {
	raw, err := s.txn.First(tableContacts, indexID, contactID)
	if err != nil || raw == nil {
		return nil, false
	}
	c := raw.(*Contact)
	var out []Eligibility
	it, err := s.txn.Get(tableAgents, indexID)
	if err != nil {
		return nil, false
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		a := raw.(*Agent)
		if a.State == AgentOffline {
			continue
		}
		out = append(out, Eligibility{AgentID: a.ID, Why: s.r.ineligible(a, c, s.At)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Why == "" && out[j].Why != "" })
	return out, true
}
