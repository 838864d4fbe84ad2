package chat

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// offlineSubjectPrefix marks a "leave a message" contact: asynchronous,
// answered later, never shown a queue position.
const offlineSubjectPrefix = "[message] "

// conversationData is the answer to start and resume.
type conversationData struct {
	ConversationID string `json:"conversation_id"`
	// Token and ExpiresAt are absent when resuming an ended conversation,
	// or a left message whose AddUntil passed (its existing token stays
	// valid until it expires).
	Token     string     `json:"token,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// State is "queued", "assigned" or "closed"; a left message is
	// "closed" once its AddUntil has passed.
	State string `json:"state"`
	// Mode is "live" or "message" (left for later).
	Mode      string `json:"mode"`
	AgentName string `json:"agent_name,omitempty"`
	// AddUntil, on a left message that is not closed, is until when the
	// customer may add to it.
	AddUntil *time.Time `json:"add_until,omitempty"`
}

// customerState is the contact's state as the customer sees it.
func customerState(s router.ContactState) string {
	switch {
	case closedForCustomer(s):
		return "closed"
	case s == router.ContactAssigned:
		return "assigned"
	}
	return "queued"
}

func (cn *conn) resume(id string, d *resumeData) error {
	c := cn.ch
	now := c.o.Clock()
	contactID, _, err := verify(c.o.Secret, d.Token, now)
	if err != nil || contactID != d.ConversationID {
		// One answer for every refusal: nothing tells a prober whether
		// a conversation exists.
		return &frameError{ID: id, Code: codeUnauthorized, Msg: "this conversation token is not valid (expired, altered or for another conversation); start a new conversation"}
	}
	ct, ok := c.o.Router.Snapshot().Contact(contactID)
	if !ok {
		ctx, cancel := c.ctx()
		ct, err = c.o.Store.Contact(ctx, contactID)
		cancel()
		if errors.Is(err, store.ErrNotFound) {
			return &frameError{ID: id, Code: codeNotFound, Msg: "this conversation no longer exists; start a new conversation"}
		}
		if err != nil {
			return err
		}
	}
	if ct.Channel != router.ChannelChat {
		return &frameError{ID: id, Code: codeUnauthorized, Msg: "this conversation token is not valid"}
	}
	return cn.bind(id, typeResumed, ct, d.LastSeq, now)
}

// bind attaches the socket to conversation ct, answers with typ
// (started or resumed), and sends the messages after lastSeq, each once,
// then whatever arrived meanwhile.
func (cn *conn) bind(reqID, typ string, ct router.Contact, lastSeq int, now time.Time) error {
	c := cn.ch
	live := !strings.HasPrefix(ct.Subject, offlineSubjectPrefix)
	ans := conversationData{ConversationID: ct.ID, State: customerState(ct.State), Mode: "live"}
	var addUntil time.Time
	if !live {
		ans.Mode = "message"
		addUntil = ct.CreatedAt.Add(c.o.LeaveMessageWindow).UTC()
		if ans.State == "closed" || !now.Before(addUntil) {
			// Over for the customer; the contact waits for an agent.
			ans.State = "closed"
		} else {
			ans.AddUntil = &addUntil
		}
	}
	if !ct.State.Final() && (live || ans.AddUntil != nil) {
		exp := now.Add(c.o.TokenTTL).UTC().Truncate(time.Second)
		ans.Token, ans.ExpiresAt = sign(c.o.Secret, ct.ID, exp), &exp
	}
	if ct.AgentID != "" && ans.State == "assigned" {
		ans.AgentName = c.agentName(ct.AgentID)
	}

	cn.mu.Lock()
	cn.contactID, cn.customer, cn.live, cn.addUntil = ct.ID, ct.Customer.Name, live, addUntil
	cn.lastMsg, cn.ready = lastSeq, false
	cn.mu.Unlock()
	// Subscribed before reading the store: a message committed from now
	// on is held in pending; one committed before is in the store.
	c.subscribe(ct.ID, cn)
	cn.pushJSON(typ, reqID, ans)

	var history []router.Message
	for after := lastSeq; ; {
		ctx, cancel := c.ctx()
		page, err := c.o.Store.Messages(ctx, ct.ID, after, store.MaxMessageLimit)
		cancel()
		if err != nil {
			cn.close()
			return err
		}
		if len(page) == 0 {
			break
		}
		history = append(history, page...)
		after = page[len(page)-1].Seq
	}

	cn.mu.Lock()
	for i := range history {
		m := c.customerView(&ct, &history[i])
		raw, _ := jsonRaw(m)
		cn.pushMessageLocked(m.Seq, m.Direction == "out", raw)
	}
	slices.SortFunc(cn.pending, func(a, b pendingMsg) int { return a.seq - b.seq })
	for _, p := range cn.pending {
		cn.pushMessageLocked(p.seq, p.out, p.raw)
	}
	cn.pending, cn.ready = nil, true
	cn.mu.Unlock()
	if live && ans.State == "queued" {
		c.markDirty()
	}
	return nil
}
