package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/canned"
	"github.com/switchboard/switchboard/router"
)

// cannedRequest is the body of PUT /api/v1/canned-responses/{id}.
type cannedRequest struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Text   string   `json:"text"`
	Queues []string `json:"queues"`
}

func (s *Server) cannedLibrary() (*canned.Library, error) {
	if s.canned == nil {
		return nil, errorf(http.StatusServiceUnavailable, codeUnavailable, "canned responses are not configured on this server")
	}
	return s.canned, nil
}

func (s *Server) listCanned(w http.ResponseWriter, r *http.Request) error {
	lib, err := s.cannedLibrary()
	if err != nil {
		return err
	}
	q, err := queryParams(r, []string{"queue"})
	if err != nil {
		return err
	}
	list, err := lib.List(r.Context(), q.Get("queue"))
	if err != nil {
		return internal("canned responses", err)
	}
	if list == nil {
		list = []canned.Response{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"canned_responses": list})
}

func (s *Server) putCanned(w http.ResponseWriter, r *http.Request) error {
	lib, err := s.cannedLibrary()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var req cannedRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.ID != "" && req.ID != id {
		return invalidf("field \"id\" is %q but the path names %q; omit it or give the same", req.ID, id)
	}
	for i, q := range req.Queues {
		if _, ok := s.router.Snapshot().Queue(q); !ok {
			return invalidf("field \"queues[%d]\": no queue %q", i, q)
		}
	}
	created, err := lib.Put(r.Context(), canned.Response{ID: id, Title: req.Title, Text: req.Text, Queues: req.Queues}, time.Now().UTC())
	var re *router.Error
	switch {
	case errors.Is(err, canned.ErrFixed):
		return errorf(http.StatusConflict, codeConflict, "canned response %q is defined in the configuration; change it there", id)
	case errors.As(err, &re):
		return invalidf("field %q: %s", re.Field, re.Message)
	case err != nil:
		return internal("put canned response", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/canned-responses/"+pathEscape(id))
	}
	return writeJSON(w, status, canned.Response{ID: id, Title: req.Title, Text: req.Text, Queues: req.Queues, Source: "api"})
}

func (s *Server) deleteCanned(w http.ResponseWriter, r *http.Request) error {
	lib, err := s.cannedLibrary()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	deleted, err := lib.Delete(r.Context(), id)
	switch {
	case errors.Is(err, canned.ErrFixed):
		return errorf(http.StatusConflict, codeConflict, "canned response %q is defined in the configuration; change it there", id)
	case err != nil:
		return internal("delete canned response", err)
	case !deleted:
		return notFoundf("canned response %q does not exist", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
