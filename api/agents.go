package api

import (
	"net/http"

	"github.com/switchboard/switchboard/router"
)

// agentRequest is the body of PUT /api/v1/agents/{id}.
type agentRequest struct {
	// ID, if given, must equal the id in the path.
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Skills   map[string]int `json:"skills"`
	Capacity map[string]int `json:"capacity"`
}

// agentStateRequest is the body of PUT /api/v1/agents/{id}/state.
type agentStateRequest struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// agentList is the body of GET /api/v1/agents.
type agentList struct {
	Agents []router.Agent `json:"agents"`
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	agents := s.router.Snapshot().Agents()
	if agents == nil {
		agents = []router.Agent{}
	}
	return writeJSON(w, http.StatusOK, agentList{Agents: agents})
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := ownAgent(r, id); err != nil {
		return err
	}
	a, ok := s.router.Snapshot().Agent(id)
	if !ok {
		return notFoundf("agent %q does not exist", id)
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) putAgent(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req agentRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.ID != "" && req.ID != id {
		return invalidf("field \"id\" is %q but the path says %q; omit it or make them equal", req.ID, id)
	}
	if err := missing("name", req.Name); err != nil {
		return err
	}
	a, created, err := s.router.PutAgent(r.Context(), router.Agent{ID: id, Name: req.Name, Skills: req.Skills, Capacity: req.Capacity})
	if err != nil {
		return routerError(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/agents/"+pathEscape(id))
	}
	return writeJSON(w, status, a)
}

func (s *Server) deleteAgent(w http.ResponseWriter, r *http.Request) error {
	if err := s.router.DeleteAgent(r.Context(), r.PathValue("id")); err != nil {
		return routerError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putAgentState(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := ownAgent(r, id); err != nil {
		return err
	}
	var req agentStateRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if err := missing("state", req.State); err != nil {
		return err
	}
	state := router.AgentState(req.State)
	switch state {
	case router.AgentAvailable, router.AgentOffline:
		if req.Reason != "" {
			return invalidf("field \"reason\" is only for state \"away\", not %q", req.State)
		}
	case router.AgentAway:
	default:
		return invalidf("field \"state\": %q is not a state you can set; want available, away or offline (wrap-up is entered by /wrapup)", req.State)
	}
	a, err := s.router.SetAgentState(r.Context(), id, state, req.Reason)
	if err != nil {
		return routerError(err)
	}
	return writeJSON(w, http.StatusOK, a)
}
