package chat

import (
	"errors"
	"fmt"

	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// The satisfaction survey (package csat): when a conversation is over
// for its customer (the agent wrapped it up or closed it), a customer
// the policy asks gets a "survey" frame, once per socket, and answers
// with a "csat" request, once per contact. A customer who comes back
// (resume) within the window and has not answered is asked again.
//
// The survey is decided at the first state that ends the conversation
// for the customer: the wrap-up, or the close when there was none
// (surveyOnce). Which contacts were decided at their wrap-up is kept in
// memory until they close; a restart, or a Resync, starts from the
// contacts the router holds in wrap-up (loaded from the store), decided
// already (surveyedIn): their close asks nobody again, and a page that
// resumes meanwhile is asked once, by the resume.

// surveyData is the "survey" frame: the question and the scale.
type surveyData struct {
	Question        string `json:"question"`
	Min             int    `json:"min"`
	Max             int    `json:"max"`
	MaxCommentBytes int    `json:"max_comment_bytes"`
}

// csatData is the "csat" request: the score and an optional comment.
type csatData struct {
	Score   int    `json:"score"`
	Comment string `json:"comment,omitempty"`
}

func (d *csatData) check() error {
	return csat.Response{Score: d.Score, Comment: d.Comment}.Normalize().Validate()
}

// survey is the survey frame for contact ct, or nil when its customer is
// not asked (the policy; the window; an answer already given).
func (c *Channel) survey(ct router.Contact) (*surveyData, error) {
	p := c.o.CSAT
	if !p.Enabled() || ct.Channel != router.ChannelChat || !closedForCustomer(ct.State) || !p.Open(ct.EndedAt, c.o.Clock()) {
		return nil, nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	msgs, err := c.o.Store.MessagesBefore(ctx, ct.ID, 0, store.MaxMessageLimit)
	if err != nil {
		return nil, err
	}
	events, err := c.o.Store.Timeline(ctx, ct.ID)
	if err != nil {
		return nil, err
	}
	if !p.Ask(ct, msgs, events) {
		return nil, nil
	}
	answered, err := c.o.Store.CSATs(ctx, []string{ct.ID})
	if err != nil || len(answered) > 0 {
		return nil, err
	}
	return &surveyData{Question: p.QuestionText(), Min: csat.MinScore, Max: csat.MaxScore, MaxCommentBytes: csat.MaxCommentBytes}, nil
}

// maxSurveyors bounds the goroutines that decide at once whether the
// customers of ended conversations are asked (survey: three store reads
// each). A burst of endings (a supervisor closing many, wrap-ups running
// out together) waits its turn rather than taking the store's whole read
// pool (at least 4) from the customers' pages and the API.
const maxSurveyors = 2

// queueSurvey has offerSurvey run for ct, on one of at most maxSurveyors
// goroutines, after the surveys queued before it. It never blocks (the
// notifier calls it). The queue holds one entry per conversation that
// ended with a socket open, until a surveyor takes it.
func (c *Channel) queueSurvey(ct router.Contact) {
	c.smu.Lock()
	defer c.smu.Unlock()
	if c.surveysStopped {
		return
	}
	c.pending = append(c.pending, ct)
	if c.surveyors < maxSurveyors {
		c.surveyors++
		go c.surveyor()
	}
}

// surveyor offers the queued surveys, oldest first, until none is left
// or the channel closes.
func (c *Channel) surveyor() {
	for {
		c.smu.Lock()
		if len(c.pending) == 0 || c.surveysStopped {
			c.pending = nil
			c.surveyors--
			if c.surveyors == 0 {
				c.surveysIdle.Broadcast()
			}
			c.smu.Unlock()
			return
		}
		ct := c.pending[0]
		c.pending[0] = router.Contact{}
		c.pending = c.pending[1:]
		c.smu.Unlock()
		if c.testHookSurvey != nil {
			c.testHookSurvey(ct)
		}
		c.offerSurvey(ct)
	}
}

// stopSurveys drops the queued surveys and waits for the surveyors to
// finish the ones they hold: no store read outlives Close. The customers
// are asked when their page resumes (with the next process).
func (c *Channel) stopSurveys() {
	c.smu.Lock()
	c.surveysStopped = true
	c.smu.Unlock()
	c.waitSurveys()
}

// waitSurveys waits until no surveyor runs.
func (c *Channel) waitSurveys() {
	c.smu.Lock()
	defer c.smu.Unlock()
	for c.surveyors > 0 {
		c.surveysIdle.Wait()
	}
}

// offerSurvey sends the survey to the sockets of ct, if its customer is
// asked; it reads the store, so a surveyor runs it (queueSurvey).
func (c *Channel) offerSurvey(ct router.Contact) {
	s, err := c.survey(ct)
	if err != nil {
		c.o.Logger.Warn("chat: survey not offered", "contact", ct.ID, "err", err)
		return
	}
	if s != nil {
		c.broadcast(ct.ID, typeSurvey, s)
	}
}

// surveyOnce reports whether the survey of contact id is to be offered
// for state: at the first state that ends the conversation for the
// customer (wrap-up, or the close when there was none), once.
func (c *Channel) surveyOnce(id string, state router.ContactState) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	if state.Final() {
		if c.surveyed[id] {
			delete(c.surveyed, id)
			return false
		}
		return state == router.ContactClosed
	}
	if state != router.ContactWrapUp || c.surveyed[id] {
		return false
	}
	c.surveyed[id] = true
	return true
}

// surveyedIn returns the chat contacts of snap that are in wrap-up: their
// survey was decided as they entered it, by this process or by the one
// before a restart or before the chat fell behind the router's events.
// The router loads them from the store, which keeps that state: with
// them in surveyed, their close does not decide (and ask) again, whoever
// entered the wrap-up.
func surveyedIn(snap *router.Snapshot) map[string]bool {
	out := map[string]bool{}
	for _, ct := range snap.Contacts() {
		if ct.Channel == router.ChannelChat && ct.State == router.ContactWrapUp {
			out[ct.ID] = true
		}
	}
	return out
}

// answer records the customer's answer about their conversation. It
// counts against MessagesPer10s, as it reads the store.
func (cn *conn) answer(id string, d *csatData) error {
	c := cn.ch
	contactID := cn.conversation()
	if !c.perConv.allow(contactID, c.o.Clock()) {
		return &frameError{ID: id, Code: codeRateLimited, Msg: "too many requests; wait a few seconds"}
	}
	ct, ok := c.o.Router.Snapshot().Contact(contactID)
	if !ok {
		ctx, cancel := c.ctx()
		var err error
		ct, err = c.o.Store.Contact(ctx, contactID)
		cancel()
		if err != nil {
			return err
		}
	}
	s, err := c.survey(ct)
	if err != nil {
		return err
	}
	if s == nil {
		return &frameError{ID: id, Code: codeConflict, Msg: "no survey is open for this conversation (not asked, answered already, or too late)"}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	r := csat.Response{ContactID: ct.ID, Queue: ct.Queue, Score: d.Score, Comment: d.Comment, At: c.o.Clock().UTC()}.Normalize()
	switch err := c.o.Store.RecordCSAT(ctx, r); {
	case errors.Is(err, store.ErrConflict):
		return &frameError{ID: id, Code: codeConflict, Msg: "this conversation was rated already"}
	case errors.Is(err, csat.ErrInvalid):
		return invalid(id, "csat: %v", err)
	case err != nil:
		return fmt.Errorf("chat: record csat: %w", err)
	}
	cn.pushJSON(typeAck, id, struct{}{})
	return nil
}
