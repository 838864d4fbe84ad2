package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
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
		// A login left by an earlier agent of this id (one deleted
		// before deleting ended its login) is not inherited.
		if err := s.deleteAgentLogin(r.Context(), id); err != nil {
			return err
		}
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/agents/"+pathEscape(id))
	}
	return writeJSON(w, status, a)
}

func (s *Server) deleteAgent(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.router.DeleteAgent(r.Context(), id); err != nil {
		return routerError(err)
	}
	if err := s.deleteAgentLogin(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteAgentLogin deletes the agent login of id, if any, and every
// session of id, whose sockets close at once (Options.OnSessionsEnded).
// A supervisor login of the same id is left alone.
func (s *Server) deleteAgentLogin(ctx context.Context, id string) error {
	cred, err := s.store.Credential(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return internal("read credential", err)
	case cred.Role != config.RoleAgent:
		return nil
	}
	existed, ended, err := s.store.DeleteLogin(ctx, id)
	if err != nil {
		return internal("delete login", err)
	}
	if existed {
		s.forgetDummyHash()
	}
	if existed || len(ended) > 0 {
		p, _ := PrincipalFrom(ctx)
		s.log.Info("api: agent login deleted", "login", id, "by", p.Name, "sessions_ended", len(ended))
	}
	s.sessionsEnded(id, ended)
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
	switch {
	case !state.Settable():
		return invalidf("field \"state\": %q is not a state you can set; want available, away or offline (wrap-up is entered by /wrapup)", req.State)
	case state != router.AgentAway && req.Reason != "":
		return invalidf("field \"reason\" is only for state \"away\", not %q", req.State)
	}
	a, err := s.router.SetAgentState(r.Context(), id, state, req.Reason)
	if err != nil {
		return routerError(err)
	}
	return writeJSON(w, http.StatusOK, a)
}

// agentStatesParams are the query parameters of GET
// /api/v1/agents/{id}/states.
var agentStatesParams = []string{"from", "to", "limit", "cursor"}

// agentStates is the body of GET /api/v1/agents/{id}/states.
type agentStates struct {
	States []router.AgentStateChange `json:"states"`
	// Next is the cursor of the following page; absent on the last.
	Next string `json:"next,omitempty"`
}

// agentStates answers a page of an agent's state history: the state in
// force at from, then every change until to (default: the last 24
// hours), oldest first; next reads on.
func (s *Server) agentStates(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := ownAgent(r, id); err != nil {
		return err
	}
	q, err := queryParams(r, agentStatesParams)
	if err != nil {
		return err
	}
	if _, ok := s.router.Snapshot().Agent(id); !ok {
		return notFoundf("agent %q does not exist", id)
	}
	now := s.router.Snapshot().At
	from, to := now.Add(-24*time.Hour), now.Add(time.Nanosecond) // up to now, inclusive
	if err := timeRange(q, &from, &to, false); err != nil {
		return err
	}
	if !to.After(from) {
		return invalidf("query parameter \"to\" must be after \"from\"")
	}
	limit, err := pageLimit(q, "limit", store.MaxAgentStates, store.MaxAgentStates)
	if err != nil {
		return err
	}
	f := store.AgentStateFilter{AgentID: id, From: from, To: to, Limit: limit, Cursor: q.Get("cursor")}
	page, err := s.store.AgentStates(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		return invalidf("query parameter \"cursor\": %q is not a cursor from a previous page's \"next\"", f.Cursor)
	}
	if err != nil {
		return internal("read agent states", err)
	}
	if page.States == nil {
		page.States = []router.AgentStateChange{}
	}
	return writeJSON(w, http.StatusOK, agentStates{States: page.States, Next: page.Next})
}
