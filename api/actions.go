package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// declineRequest is the body of POST /api/v1/contacts/{id}/decline.
type declineRequest struct {
	AgentID string `json:"agent_id"`
	Reason  string `json:"reason"`
}

// acceptRequest is the body of POST /api/v1/contacts/{id}/accept.
type acceptRequest struct {
	AgentID string `json:"agent_id"`
}

// endRequest is the body of /wrapup and /close.
// tagsRequest is the body of /tags: the tags to add and to remove.
type tagsRequest struct {
	AgentID string   `json:"agent_id"`
	Add     []string `json:"add"`
	Remove  []string `json:"remove"`
}

type endRequest struct {
	AgentID     string `json:"agent_id"`
	Disposition string `json:"disposition"`
	Notes       string `json:"notes"`
}

// transferRequest is the body of /transfer: Queue, ToAgent or both (the
// agent gets it first, waiting in Queue).
type transferRequest struct {
	AgentID string `json:"agent_id"`
	Queue   string `json:"queue"`
	ToAgent string `json:"to_agent"`
}

// abandonRequest is the body of /abandon.
type abandonRequest struct {
	Reason string `json:"reason"`
}

// messageRequest is the body of POST /api/v1/contacts/{id}/messages.
type messageRequest struct {
	// Direction is "in" (from the customer) or "out" (to the customer).
	Direction string `json:"direction"`
	Author    string `json:"author"`
	Body      string `json:"body"`
	// ExternalID is the integration's id of the message: a message with
	// an id already stored is answered with the stored copy.
	ExternalID string `json:"external_id"`
	// Attachments name files uploaded before (POST /api/v1/attachments).
	Attachments []attachmentView `json:"attachments"`
	// Cc, when given (even empty), is the Cc a reply by email keeps of
	// the conversation's; nil keeps them all (Options.Recipients).
	Cc []string `json:"cc"`
}

// actionError maps the error of a router command on contact id. A
// contact the router no longer has but the store holds in a final state
// is a conflict, not a 404.
func (s *Server) actionError(ctx context.Context, id string, err error) error {
	if !errors.Is(err, router.ErrNoContact) {
		return routerError(err)
	}
	c, serr := s.store.Contact(ctx, id)
	switch {
	case errors.Is(serr, store.ErrNotFound):
		return notFoundf("contact %q does not exist", id)
	case serr != nil:
		return internal("read contact", serr)
	case c.State.Final():
		return conflictf("contact %q is closed (state %s); it takes no more actions", id, c.State)
	}
	// The router has let it go but the store has not caught up: it is
	// ending.
	return conflictf("contact %q is ending (state %s); it takes no more actions", id, c.State)
}

// decodeAction decodes the body of an agent's action on contact {id}
// into req and settles who acts (*agentID): for an agent session, itself;
// for staff, the agent_id given, which is required.
func (s *Server) decodeAction(w http.ResponseWriter, r *http.Request, req any, agentID *string) error {
	if err := s.scopeContact(r); err != nil {
		return err
	}
	if err := s.decodeBody(w, r, req); err != nil {
		return err
	}
	acting, err := s.actingAgent(r, r.PathValue("id"), *agentID)
	if err != nil {
		return err
	}
	*agentID = acting
	return missing("agent_id", acting)
}

// contactDone writes the contact an action left, as r's principal may
// see it.
func contactDone(w http.ResponseWriter, r *http.Request, c router.Contact) error {
	return writeJSON(w, http.StatusOK, visible(r, c))
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req acceptRequest
	if err := s.decodeAction(w, r, &req, &req.AgentID); err != nil {
		return err
	}
	c, err := s.router.Accept(r.Context(), id, req.AgentID)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

func (s *Server) decline(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req declineRequest
	if err := s.decodeAction(w, r, &req, &req.AgentID); err != nil {
		return err
	}
	c, err := s.router.Decline(r.Context(), id, req.AgentID, req.Reason)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

func (s *Server) wrapUp(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req endRequest
	if err := s.decodeAction(w, r, &req, &req.AgentID); err != nil {
		return err
	}
	c, err := s.router.WrapUp(r.Context(), id, req.AgentID, req.Disposition, req.Notes)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

// closeContact closes a contact; without agent_id (only admins and
// supervisors may leave it out: an agent session's is its own) it closes
// any live contact.
func (s *Server) closeContact(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req endRequest
	if err := s.scopeContact(r); err != nil {
		return err
	}
	if err := s.decodeOptionalBody(w, r, &req); err != nil {
		return err
	}
	var err error
	if req.AgentID, err = s.actingAgent(r, id, req.AgentID); err != nil {
		return err
	}
	c, err := s.router.CloseContact(r.Context(), id, req.AgentID, req.Disposition, req.Notes)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

// tagContact adds and removes tags of a live contact; without agent_id
// (only admins and supervisors may leave it out: an agent session's is
// its own) on any live contact.
func (s *Server) tagContact(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req tagsRequest
	if err := s.scopeContact(r); err != nil {
		return err
	}
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	var err error
	if req.AgentID, err = s.actingAgent(r, id, req.AgentID); err != nil {
		return err
	}
	c, err := s.router.SetTags(r.Context(), id, req.AgentID, req.Add, req.Remove)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req transferRequest
	if err := s.decodeAction(w, r, &req, &req.AgentID); err != nil {
		return err
	}
	if req.Queue == "" && req.ToAgent == "" {
		return invalidf("give field \"queue\" (transfer to a queue), \"to_agent\" (transfer to an agent), or both (to an agent via a queue)")
	}
	c, err := s.router.Transfer(r.Context(), id, req.AgentID, req.Queue, req.ToAgent)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

func (s *Server) abandon(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req abandonRequest
	if err := s.decodeOptionalBody(w, r, &req); err != nil {
		return err
	}
	c, err := s.router.Abandon(r.Context(), id, req.Reason)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

func (s *Server) addMessage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req messageRequest
	if err := s.scopeContact(r); err != nil {
		return err
	}
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := missing("direction", req.Direction, "body", req.Body); err != nil {
		return err
	}
	if req.Direction != "in" && req.Direction != "out" && req.Direction != router.DirectionNote {
		return invalidf("field \"direction\": %q: want \"in\" (from the customer), \"out\" (to the customer) or \"note\" (internal, never shown to the customer)", req.Direction)
	}
	if req.Direction == router.DirectionNote {
		return s.addNote(w, r, id, req)
	}
	if self, ok := agentOf(r); ok {
		if _, err := s.actingAgent(r, id, ""); err != nil {
			return err
		}
		switch {
		case req.Direction != "out":
			return errorf(http.StatusForbidden, codeForbidden, "an agent session sends messages to the customer: want direction \"out\"")
		case req.Author != "" && req.Author != self:
			return errorf(http.StatusForbidden, codeForbidden,
				"field \"author\" is %q but this is the session of agent %q; omit it or give your own", req.Author, self)
		}
		req.Author = self
	}
	if req.Cc != nil && req.Direction != "out" {
		return invalidf("field \"cc\": only a reply (direction \"out\") chooses its Cc")
	}
	files, err := s.messageFiles(req.Attachments)
	if err != nil {
		return err
	}
	msg := router.Message{Direction: req.Direction, Author: req.Author, Body: req.Body, ExternalID: req.ExternalID, Attachments: files}
	if req.Cc != nil {
		if msg.To, msg.Cc, err = s.replyCc(r.Context(), id, req.Cc); err != nil {
			return err
		}
	}
	if req.Direction == "in" {
		// The customer's: on an ended contact it starts a follow-up.
		m, to, _, err := s.intake.Message(r.Context(), id, msg)
		if err != nil {
			return s.actionError(r.Context(), id, err)
		}
		if to.ID != id {
			w.Header().Set("Location", "/api/v1/contacts/"+to.ID)
		}
		return writeJSON(w, http.StatusCreated, messageView{Message: m, ContactID: to.ID, Follows: to.Follows})
	}
	if s.checkReply != nil {
		if c, ok := s.router.Snapshot().Contact(id); ok {
			if err := s.checkReply(r.Context(), c); err != nil {
				return s.actionError(r.Context(), id, err)
			}
		}
	}
	m, _, err := s.router.AddMessage(r.Context(), id, msg)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return writeJSON(w, http.StatusCreated, messageView{Message: m, ContactID: id})
}

// replyCc settles the recipients of a reply on contact id that keeps
// only cc of the conversation's Cc (Options.Recipients).
func (s *Server) replyCc(ctx context.Context, id string, cc []string) (to, kept []string, err error) {
	if s.recipients == nil {
		return nil, nil, invalidf("field \"cc\": only a reply by email has a Cc, and email is not configured")
	}
	c, ok := s.router.Snapshot().Contact(id)
	if !ok {
		return nil, nil, s.actionError(ctx, id, router.ErrNoContact)
	}
	if to, kept, err = s.recipients(ctx, c, cc); err != nil {
		return nil, nil, s.actionError(ctx, id, err)
	}
	return to, kept, nil
}

// addNote adds an internal note: an agent's on its own contact, or a
// supervisor's (or an admin's) whisper on any live contact, by the
// principal (the request's author is ignored). Integrations write none.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request, id string, req messageRequest) error {
	p, _ := PrincipalFrom(r.Context())
	msg := router.Message{Direction: router.DirectionNote, Body: req.Body}
	switch {
	case len(req.Attachments) > 0 || req.ExternalID != "" || req.Cc != nil:
		return invalidf("a note carries text only: no attachments, no external_id, no cc")
	case p.AgentID != "":
		if _, err := s.actingAgent(r, id, ""); err != nil {
			return err
		}
		msg.Author = p.AgentID
	case roleBit(p.Role)&staff != 0:
		sup := s.supervisorOf(r)
		msg.Author, msg.AuthorName, msg.AuthorKind = sup.ID, cmp.Or(sup.Name, sup.ID), router.AuthorSupervisor
	default:
		return errorf(http.StatusForbidden, codeForbidden, "%s may not write notes: an agent on its own contacts, or a supervisor, may", p.describe())
	}
	m, _, err := s.router.AddMessage(r.Context(), id, msg)
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return writeJSON(w, http.StatusCreated, messageView{Message: m, ContactID: id})
}

// messageView is a message with the contact that holds it: for a
// customer's message on an ended contact, the follow-up contact, which
// follows the ended one.
type messageView struct {
	router.Message
	ContactID string `json:"contact_id"`
	Follows   string `json:"follows,omitempty"`
}
