package agents

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
)

// handle runs one request of c's agent and answers it with an ack or an
// error carrying the request's id. It runs on c's reader goroutine.
func (h *Hub) handle(c *conn, req request) {
	if a, ok := req.Args.(*typingArgs); ok {
		// Best effort: no ack, but an error is answered.
		if err := h.agentTyping(c, a.ContactID); err != nil {
			code, msg := errorCode(err)
			c.replyError(req.ID, code, msg)
		}
		return
	}
	// The events it records name the agent who asked.
	result, err := h.run(router.WithActor(h.ctx, c.agentID+" (agent)"), c.agentID, req)
	if err != nil {
		code, msg := errorCode(err)
		if code == codeInternal {
			h.log.Error("agents: request failed", "agent", c.agentID, "type", req.Type, "err", err)
		}
		c.replyError(req.ID, code, msg)
		return
	}
	b, err := json.Marshal(result)
	if err != nil {
		h.log.Error("agents: encode ack", "type", req.Type, "err", err)
		c.replyError(req.ID, codeInternal, "could not encode the answer")
		return
	}
	c.reply(msgAck, req.ID, b)
}

// replyError answers request id with an error.
func (c *conn) replyError(id, code, msg string) {
	b, _ := json.Marshal(errorData{Code: code, Message: msg}) // strings always marshal
	c.reply(msgError, id, b)
}

// errNotMine is what an agent hears about a contact that is not its own,
// whether it exists or not.
var errNotMine = errors.New("no such contact of yours")

// run applies a request as agentID and returns the ack's data.
func (h *Hub) run(ctx context.Context, agentID string, req request) (any, error) {
	switch a := req.Args.(type) {
	case *setStateArgs:
		// The router holds the reason to the configured ones
		// (router.Options.AwayReasons), as for the API.
		ag, err := h.rt.SetAgentState(ctx, agentID, a.State, a.Reason)
		return map[string]any{"agent": ag}, err
	case *transferTargetsArgs:
		return h.transferTargets(agentID), nil
	case *acceptArgs:
		c, err := h.rt.Accept(ctx, a.ContactID, agentID)
		return map[string]any{"contact": c.ForAgent()}, mine(a.ContactID, err)
	case *declineArgs:
		_, err := h.rt.Decline(ctx, a.ContactID, agentID, a.Reason)
		return struct{}{}, mine(a.ContactID, err)
	case *sendArgs:
		cur, ok := h.rt.Snapshot().Contact(a.ContactID)
		if !ok || cur.AgentID != agentID {
			return nil, notMine(a.ContactID)
		}
		if a.Note {
			// On any contact the agent holds; the router checks it.
			m, _, err := h.rt.AddMessage(ctx, a.ContactID, router.Message{
				Direction: router.DirectionNote, Author: agentID, Body: a.Body, ClientID: a.ClientID,
			})
			return map[string]any{"message": m}, mine(a.ContactID, err)
		}
		if cur.State != router.ContactAssigned {
			return nil, router.Errorf(router.CodeConflict, "", "contact %s is %s; accept it first", cur.ID, cur.State)
		}
		if h.checkReply != nil {
			if err := h.checkReply(ctx, cur); err != nil {
				return nil, err
			}
		}
		msg := router.Message{Direction: "out", Author: agentID, Body: a.Body, ClientID: a.ClientID}
		if len(a.Attachments) > 0 {
			files, err := h.replyFiles(cur, a.Attachments)
			if err != nil {
				return nil, err
			}
			msg.Attachments = files
		}
		if a.Cc != nil {
			if h.recipients == nil {
				return nil, invalid("cc: only a reply by email has a Cc, and email is not configured")
			}
			to, cc, err := h.recipients(ctx, cur, a.Cc)
			if err != nil {
				return nil, err
			}
			msg.To, msg.Cc = to, cc
		}
		m, _, err := h.rt.AddMessage(ctx, a.ContactID, msg)
		return map[string]any{"message": m}, mine(a.ContactID, err)
	case *dispositionArgs:
		if err := h.checkDisposition(a.Disposition); err != nil {
			return nil, err
		}
		var c router.Contact
		var err error
		if req.Type == reqWrapUp {
			c, err = h.rt.WrapUp(ctx, a.ContactID, agentID, a.Disposition, a.Notes)
		} else {
			c, err = h.rt.CloseContact(ctx, a.ContactID, agentID, a.Disposition, a.Notes)
		}
		return map[string]any{"contact": c.ForAgent()}, mine(a.ContactID, err)
	case *transferArgs:
		c, err := h.rt.Transfer(ctx, a.ContactID, agentID, a.Queue, a.ToAgent)
		return map[string]any{"contact": c.ForAgent()}, mine(a.ContactID, err)
	case *tagArgs:
		c, err := h.rt.SetTags(ctx, a.ContactID, agentID, a.Add, a.Remove)
		return map[string]any{"contact": c.ForAgent()}, mine(a.ContactID, err)
	case *outcomeArgs:
		// Durable first: the outcome is committed before the timeline
		// event and the ack. A retry after a failure in between records
		// nothing twice (OnOfferOutcome deduplicates).
		if _, err := h.held(agentID, a.ContactID); err != nil {
			return nil, err
		}
		if h.onOutcome != nil {
			if err := h.onOutcome(ctx, screenpop.OfferOutcome{ContactID: a.ContactID, OfferID: a.OfferID, Outcome: a.Outcome, AgentID: agentID}); err != nil {
				return nil, err
			}
		}
		err := h.rt.RecordEvent(ctx, a.ContactID, agentID, "offer_outcome", a.OfferID+": "+a.Outcome)
		return struct{}{}, mine(a.ContactID, err)
	case *verifyArgs:
		if !slices.Contains(h.methods, a.Method) {
			return nil, invalid("method %q: want one of %s", a.Method, strings.Join(h.methods, ", "))
		}
		if h.verify == nil {
			return nil, &refusal{code: codeUnavailable, msg: "verification is not available", err: errUnavailable}
		}
		if err := h.verify(ctx, a.ContactID, agentID, a.Method); err != nil {
			return nil, mine(a.ContactID, err)
		}
		// The ack carries the screen pop that now shows the profile.
		c, ok := h.rt.Snapshot().Contact(a.ContactID)
		if !ok || c.AgentID != agentID {
			return nil, notMine(a.ContactID)
		}
		pop, err := h.popper.BuildFor(ctx, c, "", c.AssignedAt, true)
		if err != nil {
			return nil, err
		}
		return map[string]any{"contact": c.ForAgent(), "screen_pop": pop}, nil
	case *readArgs:
		if _, err := h.held(agentID, a.ContactID); err != nil {
			return nil, err
		}
		h.rt.Announce(router.Signal{Kind: router.SignalRead, ContactID: a.ContactID, From: router.AuthorAgent, UpToSeq: a.UpToSeq})
		if h.read != nil {
			h.read(a.ContactID, a.UpToSeq)
		}
		return readData{UpToSeq: a.UpToSeq}, nil
	}
	return nil, invalid("unknown request %q", req.Type)
}

// replyFiles turns the files a reply on contact c names into its
// attachments: only an email reply carries files (the chat and SMS
// would not send them), each uploaded before, together within the
// limit (attachments.Store.Attach, the API's rule too).
func (h *Hub) replyFiles(c router.Contact, in []sendFile) ([]router.Attachment, error) {
	if c.Channel != router.ChannelEmail {
		return nil, invalid("attachments: only a reply by email carries files; contact %s is on channel %s", c.ID, c.Channel)
	}
	if h.files == nil {
		return nil, &refusal{code: codeUnavailable, msg: "attachments are not configured", err: errUnavailable}
	}
	files := make([]attachments.File, len(in))
	for i, f := range in {
		files[i] = attachments.File{SHA256: f.SHA256, Name: f.Name, Type: f.Type}
	}
	out, err := h.files.Attach(files, h.maxFiles)
	var fe *attachments.FileError
	switch {
	case errors.Is(err, attachments.ErrMessageTooLarge):
		return nil, invalid("attachments: a reply's files hold at most %d bytes together", h.maxFiles)
	case errors.As(err, &fe) && (errors.Is(err, attachments.ErrNotFound) || errors.Is(err, attachments.ErrBadHash)):
		return nil, invalid("attachments[%d].sha256: no file %s; upload it first (POST /api/v1/attachments)", fe.Index, in[fe.Index].SHA256)
	case err != nil:
		return nil, fmt.Errorf("agents: check attachments: %w", err)
	}
	return out, nil
}

// mine turns the router's "not this agent's" and "no such contact" for
// contactID into errNotMine, so that an agent learns nothing about other
// agents' contacts.
func mine(contactID string, err error) error {
	if errors.Is(err, router.ErrNotYours) || errors.Is(err, router.ErrNoContact) {
		return notMine(contactID)
	}
	return err
}

func (h *Hub) checkDisposition(code string) error {
	if code == "" || len(h.dispositions) == 0 {
		return nil
	}
	if slices.ContainsFunc(h.dispositions, func(d config.Disposition) bool { return d.Code == code }) {
		return nil
	}
	codes := make([]string, len(h.dispositions))
	for i, d := range h.dispositions {
		codes[i] = d.Code
	}
	return invalid("disposition %q: want one of %s", code, strings.Join(codes, ", "))
}

// errorCode maps an error to the protocol's code and a message for the
// agent: the hub's own refusals and the router's (*router.Error, by its
// code) as they are, never by their text.
func errorCode(err error) (code, msg string) {
	var r *refusal
	if errors.As(err, &r) {
		return r.code, r.msg
	}
	if errors.Is(err, screenpop.ErrNotRecorded) {
		return codeUnavailable, "not recorded; retry later"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return codeUnavailable, "the router is not running; retry later"
	}
	re, ok := router.AsError(err)
	if !ok {
		return codeInternal, "internal error"
	}
	switch re.Code {
	case router.CodeInvalid:
		return codeInvalid, re.Detail()
	case router.CodeNoAgent, router.CodeNoQueue:
		return codeNotFound, re.Detail()
	case router.CodeNoContact, router.CodeNotYours:
		// Not through mine: still, nothing about other agents' contacts.
		return codeNotFound, errNotMine.Error()
	case router.CodeConflict, router.CodeLimit:
		return codeConflict, re.Detail()
	case router.CodeUnavailable:
		return codeUnavailable, "the router is not running; retry later"
	}
	return codeInternal, "internal error"
}

// transferTargets lists the queues and the other agents not offline, by
// name, for the desktop's transfer picker.
func (h *Hub) transferTargets(agentID string) transferTargets {
	snap := h.rt.Snapshot()
	out := transferTargets{Queues: []transferQueue{}, Agents: []transferAgent{}}
	for _, q := range snap.Queues() {
		out.Queues = append(out.Queues, transferQueue{Name: q.Name, Waiting: len(snap.Waiting(q.Name))})
	}
	for _, a := range snap.Agents() {
		if a.ID == agentID || a.State == router.AgentOffline {
			continue
		}
		out.Agents = append(out.Agents, transferAgent{ID: a.ID, Name: cmp.Or(a.Name, a.ID), State: a.State})
	}
	slices.SortFunc(out.Queues, func(x, y transferQueue) int { return strings.Compare(x.Name, y.Name) })
	slices.SortFunc(out.Agents, func(x, y transferAgent) int {
		return cmp.Or(strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)), strings.Compare(x.ID, y.ID))
	})
	return out
}
