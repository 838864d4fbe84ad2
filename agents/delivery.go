package agents

import (
	"encoding/json"
	"errors"
	"hash/maphash"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Delivery: the router's notifications, sharded by agent, become the
// messages of each of the agent's sessions, in order, off the router's
// goroutine.

func (h *Hub) shardOf(agentID string) *shard {
	return h.shards[maphash.String(h.seed, agentID)%uint64(len(h.shards))]
}

func (sh *shard) put(j job) {
	sh.mu.Lock()
	sh.jobs = append(sh.jobs, j)
	sh.mu.Unlock()
	select {
	case sh.wake <- struct{}{}:
	default:
	}
}

// work runs the jobs of one shard in order until the hub closes.
func (h *Hub) work(sh *shard) {
	defer h.wg.Done()
	for {
		select {
		case <-sh.wake:
		case <-h.ctx.Done():
			return
		}
		for {
			sh.mu.Lock()
			jobs := sh.jobs
			sh.jobs = nil
			sh.mu.Unlock()
			if len(jobs) == 0 {
				break
			}
			for _, j := range jobs {
				if h.ctx.Err() != nil {
					return
				}
				if j.attach != nil {
					h.attach(j.attach)
				} else {
					h.deliver(j.note)
				}
			}
		}
	}
}

// deliver turns a notification into its message and pushes it to the
// sessions of the notification's agent, and only theirs.
func (h *Hub) deliver(n router.Notification) {
	ss := h.sessionsOf(n.AgentID)
	if len(ss) == 0 {
		return
	}
	typ, data := h.render(n)
	if typ == "" {
		return
	}
	for _, s := range ss {
		s.push(typ, data)
	}
	if typ, data = h.refresh(n); typ != "" {
		for _, s := range ss {
			s.push(typ, data)
		}
	}
}

// refresh builds the screen pop again after a customer's message that
// changes it (screenpop.Builder.Stale: a complaint typed while the
// contact rings or is handled withholds its offers), for the agent who
// holds the contact; typ is empty when nothing changed.
func (h *Hub) refresh(n router.Notification) (typ string, data []byte) {
	if n.Kind != router.NoteMessage || n.Message == nil || n.Contact == nil || !h.popper.Stale(*n.Contact, *n.Message) {
		return "", nil
	}
	c := *n.Contact
	since := c.AssignedAt
	switch c.State {
	case router.ContactOffered:
		since = c.OfferedAt
	case router.ContactAssigned, router.ContactWrapUp:
	default:
		return "", nil
	}
	pop, err := h.popper.BuildFor(h.ctx, c, "", since, true)
	if err != nil {
		h.log.Warn("agents: screen pop built again", "contact", c.ID, "err", err)
		return "", nil
	}
	b, err := json.Marshal(screenPopData{ContactID: c.ID, ScreenPop: pop})
	if err != nil {
		h.log.Error("agents: encode message", "type", msgScreenPop, "err", err)
		return "", nil
	}
	return msgScreenPop, b
}

// render builds the message of a notification; typ is empty when it has
// none.
func (h *Hub) render(n router.Notification) (typ string, data []byte) {
	var v any
	switch n.Kind {
	case router.NoteOffer:
		typ, v = msgOffer, h.offer(*n.Contact, n.Reason)
	case router.NoteOfferWithdrawn:
		typ, v = msgOfferWithdrawn, withdrawnData{ContactID: n.Contact.ID, Reason: n.Reason}
	case router.NoteAssigned:
		typ, v = msgAssigned, h.active(*n.Contact)
	case router.NoteMessage:
		if n.Message == nil {
			return "", nil
		}
		typ, v = msgMessage, messageData{ContactID: n.Contact.ID, Message: *n.Message}
	case router.NoteContact:
		typ, v = msgContact, contactData{Contact: n.Contact.ForAgent(), Reason: n.Reason}
	case router.NoteContactEnded:
		typ, v = msgContactClosed, closedData{ContactID: n.Contact.ID, State: closedState(n), Reason: n.Reason}
	case router.NoteDelivery:
		if n.Message == nil || n.Message.Delivery == nil {
			return "", nil
		}
		typ, v = msgDelivery, deliveryData{ContactID: n.Message.ContactID, Seq: n.Message.Seq, Delivery: *n.Message.Delivery}
	case router.NoteAgent:
		if n.Agent == nil {
			return "", nil
		}
		typ, v = msgState, stateData{Agent: *n.Agent, Reason: n.Reason}
	default:
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		h.log.Error("agents: encode message", "type", typ, "err", err)
		return "", nil
	}
	return typ, b
}

// closedState says how a contact left its agent: closed or abandoned
// (it ended), transferred, or returned (taken back to its queue after the
// agent's grace ran out).
func closedState(n router.Notification) string {
	switch {
	case n.Contact.State.Final():
		return string(n.Contact.State)
	case n.Reason == router.ReasonTransferred:
		return string(router.ContactTransferred)
	}
	return "returned"
}

// offer builds an offer with its screen pop. A store failure still sends
// the offer, with what the screen pop could show.
func (h *Hub) offer(c router.Contact, reason string) offerData {
	pop, err := h.popper.BuildFor(h.ctx, c, reason, c.OfferedAt, true)
	if err != nil {
		h.log.Warn("agents: screen pop of an offer", "contact", c.ID, "err", err)
	}
	return offerData{ContactID: c.ID, ExpiresAt: c.OfferExpires, Reason: reason, ScreenPop: pop}
}

// active builds an agent's contact with its conversation and screen pop.
func (h *Hub) active(c router.Contact) activeContact {
	ac := activeContact{Contact: c.ForAgent(), Messages: []router.Message{}}
	var err error
	if ac.ScreenPop, err = h.popper.BuildFor(h.ctx, c, "", c.AssignedAt, true); err != nil {
		h.log.Warn("agents: screen pop of a contact", "contact", c.ID, "err", err)
	}
	if ac.Messages, err = h.conversation(c.ID); err != nil {
		h.log.Warn("agents: conversation of a contact", "contact", c.ID, "err", err)
	}
	return ac
}

// conversation returns the latest messages of a contact, oldest first:
// one page read backwards from the newest.
func (h *Hub) conversation(id string) ([]router.Message, error) {
	msgs, err := h.store.MessagesBefore(h.ctx, id, 0, conversationMessages)
	if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	if msgs == nil || err != nil {
		return []router.Message{}, err
	}
	return msgs, nil
}
