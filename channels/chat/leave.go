package chat

import (
	"errors"

	"github.com/switchboard/switchboard/router"
)

// leaveReason is recorded on the contact's timeline.
const leaveReason = "customer closed the chat"

// leave abandons a waiting contact at once (withdrawing a ringing
// offer); on an assigned contact the router records customer_left and
// tells the agent.
func (cn *conn) leave(id string) error {
	c := cn.ch
	contactID := cn.conversation()
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
