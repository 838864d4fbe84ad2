package chat

import (
	"encoding/json"
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

// historyPage is how many messages a resumption sends at most, and a
// history request answers: a long conversation is paged, not loaded
// whole. It is well below sendBuffer, so that a page and what arrives
// meanwhile fit the socket's buffer.
const historyPage = 40

// A page leaves at least 16 frames of the buffer free; this does not
// compile otherwise.
const _ = uint(sendBuffer - historyPage - 16)

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
	// HistoryBefore, when set, is the seq of the first message sent: the
	// messages between last_seq and it were not, and a "history" request
	// with it as before_seq reads them, a page at a time.
	HistoryBefore int `json:"history_before,omitempty"`
	// SkippedSeqs are the numbers after last_seq, among the messages
	// sent, of the agents' internal notes, which the customer never
	// gets: the page's resume point moves past them.
	SkippedSeqs []int `json:"skipped_seqs,omitempty"`
}

// historyData is the ack of a history request: the page of messages, and
// HistoryBefore as in conversationData when there are more before it.
type historyData struct {
	Messages      []messageData `json:"messages"`
	HistoryBefore int           `json:"history_before,omitempty"`
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
// at most the latest historyPage of them, then whatever arrived
// meanwhile.
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
	cn.lastMsg, cn.cut, cn.sent, cn.ready, cn.held = lastSeq, lastSeq, nil, false, nil
	cn.mu.Unlock()
	// Subscribed before reading the store: a message committed from now
	// on is held in pending; one committed before is in the store.
	c.subscribe(ct.ID, cn)
	ctx, cancel := c.ctx()
	history, err := c.o.Store.MessagesBefore(ctx, ct.ID, 0, historyPage)
	cancel()
	if err != nil {
		cn.close()
		return err
	}
	history = slices.DeleteFunc(history, func(m router.Message) bool { return m.Seq <= lastSeq })
	if len(history) > 0 && history[0].Seq > lastSeq+1 {
		ans.HistoryBefore = history[0].Seq
	}
	for _, m := range history {
		if !m.ForCustomer() {
			ans.SkippedSeqs = append(ans.SkippedSeqs, m.Seq)
		}
	}
	cn.pushJSON(typ, reqID, ans)

	// Notes are not the customer's (the paging above counts them).
	history = slices.DeleteFunc(history, func(m router.Message) bool { return !m.ForCustomer() })
	cn.mu.Lock()
	for i := range history {
		m := c.customerView(&ct, &history[i])
		raw, _ := json.Marshal(m)
		cn.pushMessageLocked(m.Seq, m.Direction == "out", raw)
	}
	slices.SortFunc(cn.pending, func(a, b pendingMsg) int { return a.seq - b.seq })
	for _, p := range cn.pending {
		cn.pushMessageLocked(p.seq, p.out, p.raw)
	}
	for _, h := range cn.held {
		cn.pushLocked(h.typ, "", h.raw, 0)
	}
	cn.pending, cn.held, cn.ready = nil, nil, true
	cn.mu.Unlock()
	if live && ans.State != "closed" {
		// Ready now: the next round tells its standing if it waits or
		// rings, even if the contact was offered while the history
		// was read (that round skipped the socket, not yet ready).
		c.lookAgain(ct.ID)
	}
	if live && ans.State == "closed" {
		s, err := c.survey(ct)
		if err != nil {
			return err
		}
		if s != nil {
			cn.pushJSON(typeSurvey, "", s)
		}
	}
	return nil
}

// history answers the page of messages before d.BeforeSeq. It counts
// against MessagesPer10s, as it reads the store.
func (cn *conn) history(id string, d *historyRequest) error {
	c := cn.ch
	contactID := cn.conversation()
	if !c.perConv.allow(contactID, c.o.Clock()) {
		return &frameError{ID: id, Code: codeRateLimited, Msg: "too many requests; wait a few seconds"}
	}
	ctx, cancel := c.ctx()
	page, err := c.o.Store.MessagesBefore(ctx, contactID, d.BeforeSeq, historyPage)
	cancel()
	if err != nil {
		return err
	}
	cn.mu.Lock()
	ct := router.Contact{ID: contactID, Customer: router.Customer{Name: cn.customer}}
	cn.mu.Unlock()
	ans := historyData{Messages: make([]messageData, 0, len(page))}
	for i := range page {
		if page[i].ForCustomer() {
			ans.Messages = append(ans.Messages, c.customerView(&ct, &page[i]))
		}
	}
	if len(page) > 0 && page[0].Seq > 1 {
		ans.HistoryBefore = page[0].Seq
	}
	cn.pushJSON(typeAck, id, ans)
	return nil
}
