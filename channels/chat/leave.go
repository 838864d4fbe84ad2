package chat

import (
	"errors"

	"github.com/switchboard/switchboard/router"
)

// leaveReason is recorded on the contact's timeline.
const leaveReason = "customer closed the chat"

// What the customer hears when a left message's conversation is over:
// the "closed" frame's state and reason.
const (
	stateLeft  = "left"
	reasonLeft = "your message is with us; we will answer by email or phone"
)

// leave abandons a waiting contact at once (withdrawing a ringing
// offer); on an assigned contact the router records customer_left and
// tells the agent. A left message is never abandoned: the customer's
// conversation ends and the contact stays queued for an agent.
func (cn *conn) leave(id string) error {
	c := cn.ch
	contactID := cn.conversation()
	cn.mu.Lock()
	live := cn.live
	cn.mu.Unlock()
	if !live {
		cn.pushJSON(typeAck, id, struct{}{})
		c.broadcast(contactID, typeClosed, closedData{State: stateLeft, Reason: reasonLeft})
		return nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	_, err := c.o.Router.Abandon(ctx, contactID, leaveReason)
	switch {
	case errors.Is(err, router.ErrNoContact), errors.Is(err, router.ErrConflict):
		// Already over: leaving changes nothing.
	case err != nil:
		return err
	}
	c.statsStale.Store(true)
	c.markDirty()
	cn.pushJSON(typeAck, id, struct{}{})
	c.broadcast(contactID, typeClosed, closedData{State: string(router.ContactAbandoned), Reason: "you left the conversation"})
	return nil
}
