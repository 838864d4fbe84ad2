package api

import (
	"errors"
	"net/http"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// screenPop answers GET /api/v1/contacts/{id}/screen-pop with what
// Options.ScreenPop returns.
func (s *Server) screenPop(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.readableContact(r, id); err != nil {
		return err
	}
	if s.screenPopper == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "this server has no screen pop provider")
	}
	doc, err := s.screenPopper(r.Context(), id)
	switch {
	case errors.Is(err, router.ErrNoContact), errors.Is(err, store.ErrNotFound):
		return noContact(id)
	case err != nil:
		return internal("screen pop", err)
	}
	return writeJSON(w, http.StatusOK, doc)
}
