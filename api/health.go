package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/store"
)

// readyTimeout bounds how long /readyz waits for the router's writer and
// the store before it answers 503.
const readyTimeout = 2 * time.Second

// healthz answers 200 while the process serves.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the router has started and answers a command,
// and the store answers a trivial query; 503 otherwise, naming what is
// not ready.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	checks := map[string]string{"router": "ok", "store": "ok"}
	ready := true
	if err := s.routerReady(ctx); err != nil {
		checks["router"], ready = err.Error(), false
	}
	// The router never makes an empty id, so this reads nothing but
	// proves a connection answers.
	if _, err := s.store.Contact(ctx, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("api: readyz: store", "err", err)
		checks["store"], ready = "not answering", false
	}
	body := map[string]any{"status": "ok", "checks": checks}
	if s.readyDetails != nil {
		body["details"] = s.readyDetails()
	}
	if !ready {
		body["status"] = "unavailable"
		return writeJSON(w, http.StatusServiceUnavailable, body)
	}
	return writeJSON(w, http.StatusOK, body)
}

// routerProbe is one router.Sync in flight; err is set before done closes.
type routerProbe struct {
	done chan struct{}
	err  error
}

// routerReady waits for a router.Sync, shared with any concurrent
// /readyz, so that a stuck writer costs one goroutine, not one per probe.
func (s *Server) routerReady(ctx context.Context) error {
	s.probeMu.Lock()
	p := s.probe
	if p == nil {
		p = &routerProbe{done: make(chan struct{})}
		s.probe = p
		go func() {
			p.err = s.router.Sync(context.Background())
			close(p.done)
			s.probeMu.Lock()
			s.probe = nil
			s.probeMu.Unlock()
		}()
	}
	s.probeMu.Unlock()
	select {
	case <-p.done:
		if p.err != nil {
			return errors.New(notRunning(p.err))
		}
		return nil
	case <-ctx.Done():
		return errors.New("not answering")
	}
}
