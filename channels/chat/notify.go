package chat

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// messageData is a conversation message as the customer sees it.
type messageData struct {
	Seq       int       `json:"seq"`
	At        time.Time `json:"at"`
	Direction string    `json:"direction"`
	// Author is the agent's display name on "out" messages (a
	// supervisor's who took the conversation over), the name the
	// customer gave on "in" messages.
	Author   string `json:"author"`
	Body     string `json:"body"`
	ClientID string `json:"client_id,omitempty"`
}

// Notify implements router.Notifier: it hands what concerns chat
// conversations to their sockets' buffers. It never blocks: a socket
// whose buffer is full is closed, and its customer resumes.
func (c *Channel) Notify(ns []router.Notification) {
	queues := false
	for i := range ns {
		n := &ns[i]
		if n.Kind == router.NoteSignal {
			c.signal(n.Signal)
			continue
		}
		switch n.Kind {
		case router.NoteAgent, router.NoteOffer, router.NoteOfferWithdrawn:
			queues = true
		case router.NoteAssigned, router.NoteContact, router.NoteContactEnded:
			queues = true
			c.statsStale.Store(true)
		}
		if n.Contact == nil || n.Contact.Channel != router.ChannelChat {
			continue
		}
		id := n.Contact.ID
		// Decided for every contact, with or without sockets, so that
		// surveyOnce forgets each at its end.
		ask := (n.Kind == router.NoteContact || n.Kind == router.NoteContactEnded) && c.o.CSAT.Enabled() && c.surveyOnce(id, n.Contact.State)
		conns := c.sockets(id)
		if len(conns) == 0 {
			if n.Contact.State.Final() {
				c.dropReceipt(id)
			}
			continue
		}
		if n.Contact.State == router.ContactOffered {
			c.lookAgain(id)
		}
		switch n.Kind {
		case router.NoteMessage:
			if n.Message == nil || n.Message.Delivery != nil || !n.Message.ForCustomer() {
				continue // the outbox delivers it (Send); a note is not the customer's
			}
			m := c.customerView(n.Contact, n.Message)
			raw, _ := json.Marshal(m)
			for _, cn := range conns {
				cn.pushMessage(m.Seq, m.Direction == "out", raw)
			}
		case router.NoteAssigned:
			raw, _ := json.Marshal(assignedData{AgentName: c.agentName(n.Contact.AgentID, "")})
			for _, cn := range conns {
				cn.mu.Lock()
				cn.pushStateLocked(typeAssign, raw)
				cn.mu.Unlock()
			}
		case router.NoteContact, router.NoteContactEnded:
			if closedForCustomer(n.Contact.State) {
				// Once per state: a contact in wrap-up changes again
				// (tagged, say) without the customer hearing of it.
				raw, _ := json.Marshal(closedData{State: string(n.Contact.State), Reason: reasonFor(n.Contact.State)})
				for _, cn := range conns {
					cn.mu.Lock()
					if cn.closed != string(n.Contact.State) {
						cn.closed = string(n.Contact.State)
						cn.pushStateLocked(typeClosed, raw)
					}
					cn.mu.Unlock()
				}
				if ask {
					c.queueSurvey(*n.Contact)
				}
				if n.Contact.State.Final() {
					c.dropReceipt(id)
				}
			}
		}
	}
	if queues {
		c.markDirty()
	}
}

type assignedData struct {
	AgentName string `json:"agent_name"`
}

type closedData struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// closedForCustomer reports whether the conversation is over for the
// customer: the agent wrapped it up, or it ended.
func closedForCustomer(s router.ContactState) bool {
	return s == router.ContactWrapUp || s.Final()
}

func reasonFor(s router.ContactState) string {
	switch s {
	case router.ContactAbandoned:
		return "you left the conversation"
	default:
		return "the agent ended the conversation"
	}
}

func (c *Channel) dropReceipt(id string) {
	c.rmu.Lock()
	delete(c.receipts, id)
	c.rmu.Unlock()
}

// customerView is m as the customer may see it: an agent's message
// carries the agent's display name, a supervisor's theirs (or
// "Supervisor"), never an internal id.
func (c *Channel) customerView(ct *router.Contact, m *router.Message) messageData {
	d := messageData{Seq: m.Seq, At: m.At, Direction: m.Direction, Body: m.Body}
	switch {
	case m.Direction == "out" && m.AuthorKind == router.AuthorSupervisor:
		d.Author = cmp.Or(m.AuthorName, "Supervisor")
	case m.Direction == "out":
		d.Author = c.agentName(m.Author, ct.AgentID)
	default:
		d.Author = ct.Customer.Name
		d.ClientID = m.ClientID
	}
	return d
}

// agentName is the display name of the first of ids that names an
// agent, or "Agent".
func (c *Channel) agentName(ids ...string) string {
	snap := c.o.Router.Snapshot()
	for _, id := range ids {
		if id == "" {
			continue
		}
		if a, ok := snap.Agent(id); ok && a.Name != "" {
			return a.Name
		}
	}
	return "Agent"
}

// Send implements outbox.Sender: it hands an agent's message to the
// customer's open sockets, in order with the rest of the conversation. A
// customer without an open socket gets it when the page resumes (its
// history): either way the message is sent; the page's receipts say
// when it was delivered and read.
func (c *Channel) Send(_ context.Context, o outbox.Outbound) (router.DeliveryStatus, error) {
	m := c.customerView(&o.Contact, &o.Message)
	raw, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("%w: chat: encode message: %v", outbox.ErrPermanent, err)
	}
	for _, cn := range c.sockets(o.Contact.ID) {
		cn.pushMessage(m.Seq, true, raw)
	}
	return router.DeliverySent, nil
}

// signal passes on what an agent did (router.Announce by the agents'
// hub): typing, and reading the customer's messages.
func (c *Channel) signal(s *router.Signal) {
	if s == nil || s.From != router.AuthorAgent {
		return
	}
	switch s.Kind {
	case router.SignalTyping:
		c.AgentTyping(s.ContactID)
	case router.SignalRead:
		c.AgentRead(s.ContactID, s.UpToSeq)
	}
}
