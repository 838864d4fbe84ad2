package chat

import (
	"errors"

	"github.com/switchboard/switchboard/router"
)

// sendMessage commits the customer's message through the router, then
// acks it: a resend with the same client_id gets the first message back.
func (cn *conn) sendMessage(id string, d *sendData) error {
	c := cn.ch
	contactID := cn.conversation()
	if !c.perConv.allow(contactID, c.o.Clock()) {
		return &frameError{ID: id, Code: codeRateLimited, Msg: "too many messages; wait a few seconds"}
	}
	cn.mu.Lock()
	name, live, addUntil := cn.customer, cn.live, cn.addUntil
	cn.mu.Unlock()
	if !live && !c.o.Clock().Before(addUntil) {
		// The time to add to a left message is over: so is the
		// conversation, for the customer.
		c.broadcast(contactID, typeClosed, closedData{State: stateLeft, Reason: reasonLeft})
		return &frameError{ID: id, Code: codeConflict, Msg: "your message was left and is waiting for us; to write again, start a new conversation"}
	}
	if ct, ok := c.o.Router.Snapshot().Contact(contactID); live && ok && closedForCustomer(ct.State) {
		// Wrapped up: over for the customer, whose page hides the box
		// (a client that sends anyway is refused, not heard by the
		// agent wrapping up).
		return &frameError{ID: id, Code: codeConflict, Msg: "this conversation has ended"}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	m, _, err := c.o.Router.AddMessage(ctx, contactID, router.Message{Direction: "in", Author: name, Body: d.Body, ClientID: d.ClientID})
	switch {
	case errors.Is(err, router.ErrNoContact):
		return &frameError{ID: id, Code: codeConflict, Msg: "this conversation has ended"}
	case errors.Is(err, router.ErrLimit):
		return limitReached(id, err)
	case errors.Is(err, router.ErrInvalid):
		return invalid(id, "send: %s", refusal(err))
	case err != nil:
		return err
	}
	ct := router.Contact{ID: contactID, Customer: router.Customer{Name: name}}
	cn.pushJSON(typeAck, id, map[string]messageData{"message": c.customerView(&ct, &m)})
	return nil
}

// limitReached tells the customer that the conversation holds as much
// from them as the router's customer limits allow (err wraps
// router.ErrLimit; its message names the limit).
func limitReached(id string, err error) *frameError {
	return &frameError{ID: id, Code: codeLimitReached, Msg: "this conversation cannot take more from you (" + refusal(err) + "); nothing more is kept here, but what you wrote is with us"}
}

// typing passes the customer's typing on, at most every typingEvery.
func (cn *conn) typing() {
	c := cn.ch
	now := c.o.Clock()
	cn.mu.Lock()
	id := cn.contactID
	pass := now.Sub(cn.typingAt) >= typingEvery || now.Before(cn.typingAt)
	if pass {
		cn.typingAt = now
	}
	cn.mu.Unlock()
	if pass {
		c.o.Router.Announce(router.Signal{Kind: router.SignalTyping, ContactID: id, From: router.AuthorCustomer})
	}
}

// read records the customer's read mark (never beyond what was sent),
// and the delivered one with it: what the page read it has, even when
// the page's read overtakes the writer's note that it got the message.
func (cn *conn) read(reqID string, d *readData) {
	cn.mu.Lock()
	id, upTo := cn.contactID, min(d.UpToSeq, cn.lastMsg)
	cn.mu.Unlock()
	cn.ch.setReceipt(id, func(r *Receipt) {
		r.ReadSeq = max(r.ReadSeq, upTo)
		r.DeliveredSeq = max(r.DeliveredSeq, upTo)
	})
	if reqID != "" {
		cn.pushJSON(typeAck, reqID, readData{UpToSeq: upTo})
	}
}
