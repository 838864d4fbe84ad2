package chat

import (
	"errors"

	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
)

// start creates the customer's contact and binds the socket to it.
func (cn *conn) start(id string, d *startData) error {
	c := cn.ch
	t, ok := c.topics[d.Topic]
	if !ok {
		return invalid(id, "start: unknown topic %q", d.Topic)
	}
	now := c.o.Clock()
	online := c.o.Router.Snapshot().Hours(t.Queue).Open(now) && c.staffed(t.Queue)
	if !online && !d.LeaveMessage {
		return &frameError{ID: id, Code: codeUnavailable, Msg: "no agent can chat now; leave a message and we will answer later"}
	}
	if !c.perAddr.allow(cn.addr, now) {
		return &frameError{ID: id, Code: codeRateLimited, Msg: "too many new conversations from this address; wait a minute"}
	}
	nc := router.NewContact{
		Channel: router.ChannelChat,
		Queue:   t.Queue,
		// What the form says is a claim, never verified.
		Customer: router.Customer{Name: d.Name, Email: d.Email, Phone: d.Phone},
		Subject:  "Chat: " + t.Label,
		Body:     d.Message,
	}
	if d.LeaveMessage {
		nc.Subject = offlineSubjectPrefix + nc.Subject
		if t.OfflineQueue != "" {
			nc.Queue = t.OfflineQueue
		}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	ct, _, err := c.o.Intake.Contact(ctx, nc)
	if err != nil {
		return c.submitError(id, t, nc, err)
	}
	c.o.Logger.Info("chat: conversation started", "conversation", ct.ID, "queue", ct.Queue, "leave_message", d.LeaveMessage)
	c.markDirty()
	return cn.bind(id, typeStarted, ct, 0, now)
}

// submitError answers a start the router refused.
func (c *Channel) submitError(id string, t Topic, nc router.NewContact, err error) error {
	switch {
	case errors.Is(err, intake.ErrRefused):
		c.o.Logger.Warn("chat: start refused", "err", err)
		return &frameError{ID: id, Code: codeUnavailable, Msg: "we cannot start a conversation right now; please try again in a few minutes"}
	case errors.Is(err, router.ErrLimit):
		return limitReached(id, err)
	case errors.Is(err, router.ErrInvalid):
		return invalid(id, "start: %s", refusal(err))
	case errors.Is(err, router.ErrNoQueue):
		c.o.Logger.Error("chat: topic's queue does not exist", "topic", t.ID, "queue", nc.Queue)
		return &frameError{ID: id, Code: codeUnavailable, Msg: "this topic is not available now"}
	}
	return err
}

// staffed reports whether an agent eligible for queue is working
// (available, busy or in wrap-up): the router's rule.
func (c *Channel) staffed(queue string) bool { return c.o.Router.Snapshot().Staffed(queue) }
