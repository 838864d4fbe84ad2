package agents

import (
	"encoding/json"
	"time"

	"github.com/switchboard/switchboard/router"
)

// typingEvery is how often an agent's typing on one contact is passed
// on; the rest is dropped.
const typingEvery = 2 * time.Second

// held returns the contact if agentID holds it (offered, assigned or in
// wrap-up), else errNotMine: an agent learns nothing of other contacts.
func (h *Hub) held(agentID, contactID string) (router.Contact, error) {
	ct, ok := h.rt.Snapshot().Contact(contactID)
	if !ok || ct.AgentID != agentID || ct.State.Final() {
		return router.Contact{}, notMine(contactID)
	}
	return ct, nil
}

// agentTyping announces c's agent's typing on contactID on the router's
// event stream (and tells Options.Typing), at most every typingEvery per
// contact, and only while the contact is assigned (a reply is possible).
// It runs on c's reader goroutine.
func (h *Hub) agentTyping(c *conn, contactID string) error {
	ct, err := h.held(c.agentID, contactID)
	if err != nil {
		return err
	}
	if ct.State != router.ContactAssigned {
		return nil
	}
	now := h.now()
	if last, ok := c.typedAt[contactID]; ok && now.Sub(last) < typingEvery && !now.Before(last) {
		return nil
	}
	if c.typedAt == nil {
		c.typedAt = map[string]time.Time{}
	}
	if len(c.typedAt) >= 64 {
		for id, at := range c.typedAt {
			if now.Sub(at) >= typingEvery {
				delete(c.typedAt, id)
			}
		}
	}
	c.typedAt[contactID] = now
	h.rt.Announce(router.Signal{Kind: router.SignalTyping, ContactID: contactID, From: router.AuthorAgent})
	if h.typing != nil {
		h.typing(contactID)
	}
	return nil
}

// CustomerTyping tells the agent holding contactID (assigned or in
// wrap-up) that the customer is typing: an unnumbered typing message to
// that agent's sockets only, never replayed. It never blocks; unknown
// contacts and contacts without an agent are ignored.
func (h *Hub) CustomerTyping(contactID string) {
	h.pushContact(contactID, msgTyping, typingData{ContactID: contactID})
}

// CustomerReceipt tells the agent holding contactID how far its messages
// reached the customer's screen (deliveredSeq) and how far the customer
// read them (readSeq): an unnumbered receipt message, as CustomerTyping.
// Marks only grow; the desktop keeps the highest it saw.
func (h *Hub) CustomerReceipt(contactID string, deliveredSeq, readSeq int) {
	h.pushContact(contactID, msgReceipt, receiptData{ContactID: contactID, DeliveredSeq: deliveredSeq, ReadSeq: readSeq})
}

// pushContact sends an unnumbered message to the sockets of the agent
// holding contactID, without waiting.
func (h *Hub) pushContact(contactID, typ string, v any) {
	if h.closed.Load() {
		return
	}
	ct, ok := h.rt.Snapshot().Contact(contactID)
	if !ok || ct.AgentID == "" || (ct.State != router.ContactAssigned && ct.State != router.ContactWrapUp) {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		h.log.Error("agents: encode message", "type", typ, "err", err)
		return
	}
	f := frame(typ, 0, "", data)
	for _, s := range h.sessionsOf(ct.AgentID) {
		s.mu.Lock()
		c := s.conn
		s.mu.Unlock()
		if c != nil {
			c.enqueue(f)
		}
	}
}
