package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// An agent session reaches the routes of roleAgent, and there only its
// own agent and the contacts with it. Someone else's contact is answered
// exactly as a contact that does not exist, so that an agent cannot learn
// which ids are in use.

// agentOf returns the agent of an agent session, and whether the request
// is one.
func agentOf(r *http.Request) (string, bool) {
	p, _ := PrincipalFrom(r.Context())
	return p.AgentID, p.Role == config.RoleAgent
}

// ownAgent refuses an agent session a route about another agent.
func ownAgent(r *http.Request, id string) error {
	if self, ok := agentOf(r); ok && id != self {
		return errorf(http.StatusForbidden, codeForbidden,
			"session of %q may act only on its own agent, not %q", self, id)
	}
	return nil
}

// noContact is the answer to a contact that does not exist, or is not an
// agent session's.
func noContact(id string) error { return notFoundf("contact %q does not exist", id) }

// storedContactOf answers 404 unless contact id is stored with agent self
// (offered to it, or with it, or last with it).
func (s *Server) storedContactOf(ctx context.Context, self, id string) error {
	c, err := s.store.Contact(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return noContact(id)
	case err != nil:
		return internal("read contact", err)
	case c.AgentID != self:
		return noContact(id)
	}
	return nil
}

// readableContact answers 404 to an agent session asking for a contact
// that is not its own; other principals read any contact.
func (s *Server) readableContact(r *http.Request, id string) error {
	self, ok := agentOf(r)
	if !ok {
		return nil
	}
	return s.storedContactOf(r.Context(), self, id)
}

// visible is contact c as r's principal may see it: an agent session
// sees it without what an agent must not (router.Contact.ForAgent).
func visible(r *http.Request, c router.Contact) router.Contact {
	if _, ok := agentOf(r); ok {
		return c.ForAgent()
	}
	return c
}

// scopeContact answers 404 to an agent session acting on a contact {id}
// that is not with it (live), or was not last with it (ended); other
// principals pass. Actions call it before they read their body, so that
// another agent's contact answers exactly as one that does not exist,
// whatever the body.
func (s *Server) scopeContact(r *http.Request) error {
	self, ok := agentOf(r)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	if c, live := s.router.Snapshot().Contact(id); live {
		if c.AgentID != self {
			return noContact(id)
		}
		return nil
	}
	return s.storedContactOf(r.Context(), self, id)
}

// actingAgent returns the agent_id of an action on contact id. Other
// principals act as the body's agentID; an agent session acts only as
// itself (an agentID naming another agent is 403) and only on a contact
// that is with it now (404 otherwise). A contact that has ended and was
// last with the agent passes, so that the action reports it closed.
func (s *Server) actingAgent(r *http.Request, id, agentID string) (string, error) {
	self, ok := agentOf(r)
	if !ok {
		return agentID, nil
	}
	if c, live := s.router.Snapshot().Contact(id); live {
		if c.AgentID != self {
			return "", noContact(id)
		}
	} else if err := s.storedContactOf(r.Context(), self, id); err != nil {
		return "", err
	}
	if agentID != "" && agentID != self {
		return "", errorf(http.StatusForbidden, codeForbidden,
			"field \"agent_id\" is %q but this is the session of agent %q; omit it or give your own", agentID, self)
	}
	return self, nil
}
