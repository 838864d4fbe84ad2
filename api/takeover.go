package api

import (
	"net/http"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
)

// supervisorMessageRequest is the body of POST
// /api/v1/contacts/{id}/takeover/messages.
type supervisorMessageRequest struct {
	Body string `json:"body"`
	// ClientID makes a resend safe: a message with a client id the
	// contact already has is answered with the stored copy.
	ClientID string `json:"client_id"`
}

// supervisorOf is r's principal as a supervisor who writes: its name (a
// login id, or a token's name) and, for a supervisor's login, its
// display name (Options.SupervisorNames).
func (s *Server) supervisorOf(r *http.Request) router.TakeOver {
	p, _ := PrincipalFrom(r.Context())
	t := router.TakeOver{ID: p.Name}
	if p.SessionID != "" && p.Role == config.RoleSupervisor {
		t.Name = s.supervisorNames[p.Name]
	}
	return t
}

// takeOver makes the principal, a supervisor or an admin, take the live
// contact {id} over: it may then write to the customer (supervisorMessage).
// The contact stays with its agent.
func (s *Server) takeOver(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req struct{}
	if err := s.decodeOptionalBody(w, r, &req); err != nil {
		return err
	}
	c, err := s.router.TakeOver(r.Context(), id, s.supervisorOf(r))
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return contactDone(w, r, c)
}

// supervisorMessage writes the principal's message to the customer of a
// contact it took over, on the contact's channel as an agent's reply
// goes (author kind supervisor).
func (s *Server) supervisorMessage(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req supervisorMessageRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := missing("body", req.Body); err != nil {
		return err
	}
	if s.checkReply != nil {
		if c, ok := s.router.Snapshot().Contact(id); ok {
			if err := s.checkReply(r.Context(), c); err != nil {
				return s.actionError(r.Context(), id, err)
			}
		}
	}
	sup := s.supervisorOf(r)
	m, _, err := s.router.AddMessage(r.Context(), id, router.Message{
		Direction: "out", Author: sup.ID, AuthorName: sup.Name, AuthorKind: router.AuthorSupervisor,
		Body: req.Body, ClientID: req.ClientID,
	})
	if err != nil {
		return s.actionError(r.Context(), id, err)
	}
	return writeJSON(w, http.StatusCreated, messageView{Message: m, ContactID: id})
}
