package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/webhooks"
)

// WebhookRegistry is the set of outbound webhooks that the webhook routes
// read and change; *webhooks.Dispatcher implements it. It must be safe
// for concurrent use.
type WebhookRegistry interface {
	// List returns every webhook with its delivery state, by id.
	List() []webhooks.Status
	// Get returns one.
	Get(id string) (webhooks.Status, bool)
	// Put creates or replaces a webhook durably; an invalid one is a
	// *webhooks.Error, a configured one webhooks.ErrReadOnly.
	Put(ctx context.Context, w webhooks.Webhook) (created bool, err error)
	// Delete removes one: webhooks.ErrUnknown, webhooks.ErrReadOnly.
	Delete(ctx context.Context, id string) error
}

var _ WebhookRegistry = (*webhooks.Dispatcher)(nil)

// webhookRequest is the body of PUT /api/v1/webhooks/{id}.
type webhookRequest struct {
	// ID, if given, must equal the id in the path.
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
}

// webhookView is a webhook as the API shows it: never its secret.
type webhookView struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// Source is "config" (read only here) or "api".
	Source    string              `json:"source"`
	UpdatedAt *time.Time          `json:"updated_at,omitempty"`
	Delivery  webhookDeliveryView `json:"delivery"`
}

// webhookDeliveryView is where a webhook's deliveries stand.
type webhookDeliveryView struct {
	// Status is "active", "retrying" (an event failed and waits for its
	// retry: the whole webhook's, Attempts, or some contacts', Held) or
	// "unsubscribed" (the receiver answered 410).
	Status string `json:"status"`
	// Cursor is the id of the event log entry up to which every event is
	// done with; Scanned the id of the last entry read. Between them,
	// only the held contacts' events are owed.
	Cursor  int64 `json:"cursor"`
	Scanned int64 `json:"scanned"`
	// Held are the contacts whose events wait for the retry of one the
	// receiver refused; never nil.
	Held            []webhookHeldView `json:"held"`
	Delivered       int64             `json:"delivered"`
	Failed          int64             `json:"failed"`
	Attempts        int               `json:"attempts"`
	LastAttemptAt   *time.Time        `json:"last_attempt_at,omitempty"`
	LastStatus      int               `json:"last_status,omitempty"`
	LastError       string            `json:"last_error,omitempty"`
	NextAttemptAt   *time.Time        `json:"next_attempt_at,omitempty"`
	LastFailedEvent string            `json:"last_failed_event,omitempty"`
	LastFailure     string            `json:"last_failure,omitempty"`
	UnsubscribedAt  *time.Time        `json:"unsubscribed_at,omitempty"`
}

// webhookHeldView is a contact whose events a webhook holds back.
type webhookHeldView struct {
	// ContactID is "" for the events without a contact (customer.changed).
	ContactID string `json:"contact_id"`
	// Event is the event refused, to be retried; absent while the
	// contact's next owed event is not known yet (one of its events was
	// just taken: the next is read at its retry).
	Event         string     `json:"event,omitempty"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func newWebhookView(s webhooks.Status) webhookView {
	st := s.State
	d := webhookDeliveryView{
		Status: "active", Cursor: st.Cursor, Scanned: st.Scanned, Held: []webhookHeldView{},
		Delivered: st.Delivered, Failed: st.Failures, Attempts: st.Attempts,
		LastAttemptAt: optTime(st.LastAttemptAt), LastStatus: st.LastStatus, LastError: st.LastError,
		NextAttemptAt: optTime(st.NextAttemptAt), LastFailure: st.LastFailure, UnsubscribedAt: optTime(st.DisabledAt),
	}
	if st.LastFailedEvent > 0 {
		d.LastFailedEvent = webhooks.EventID(st.LastFailedEvent)
	}
	for _, hc := range st.Held {
		v := webhookHeldView{ContactID: hc.ContactID, Attempts: hc.Attempts,
			NextAttemptAt: optTime(hc.NextAttemptAt), LastStatus: hc.LastStatus, LastError: hc.LastError}
		if hc.Attempts > 0 {
			v.Event = webhooks.EventID(hc.Next) // the one refused (Next is past it once one is taken)
		}
		d.Held = append(d.Held, v)
	}
	switch {
	case s.Refused != "":
		d.Status, d.LastError = "refused", s.Refused
	case st.Disabled:
		d.Status = "unsubscribed"
	case st.Attempts > 0 || len(st.Held) > 0:
		d.Status = "retrying"
	}
	events := s.Events
	if events == nil {
		events = []string{}
	}
	return webhookView{ID: s.ID, URL: s.URL, Events: events, Source: s.Source, UpdatedAt: optTime(s.UpdatedAt), Delivery: d}
}

// webhookRegistry returns the registry, or the 503 of a server without
// one.
func (s *Server) webhookRegistry() (WebhookRegistry, error) {
	if s.webhooks == nil {
		return nil, errorf(http.StatusServiceUnavailable, codeUnavailable, "this server has no webhooks")
	}
	return s.webhooks, nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.webhookRegistry()
	if err != nil {
		return err
	}
	out := []webhookView{}
	for _, st := range reg.List() {
		out = append(out, newWebhookView(st))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.webhookRegistry()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	st, ok := reg.Get(id)
	if !ok {
		return notFoundf("webhook %q does not exist", id)
	}
	return writeJSON(w, http.StatusOK, newWebhookView(st))
}

func (s *Server) putWebhook(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.webhookRegistry()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	var req webhookRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.ID != "" && req.ID != id {
		he := invalidf("webhook %q: field \"id\" is %q but the path says %q; omit it or make them equal", id, req.ID, id)
		he.field = "id"
		return he
	}
	created, err := reg.Put(r.Context(), webhooks.Webhook{ID: id, URL: req.URL, Events: req.Events, Secret: req.Secret})
	var we *webhooks.Error
	switch {
	case errors.As(err, &we):
		he := invalidf("webhook %q: %s", id, we.Msg)
		he.field = we.Field
		return he
	case errors.Is(err, webhooks.ErrReadOnly):
		return conflictf("webhook %q is configured in the file; change it there", id)
	case err != nil:
		return internal("put webhook", err)
	}
	st, ok := reg.Get(id)
	if !ok {
		return internal("put webhook", errors.New("the webhook is not live after its put"))
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/webhooks/"+pathEscape(id))
	}
	return writeJSON(w, status, newWebhookView(st))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	reg, err := s.webhookRegistry()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	err = reg.Delete(r.Context(), id)
	switch {
	case errors.Is(err, webhooks.ErrUnknown):
		return notFoundf("webhook %q does not exist", id)
	case errors.Is(err, webhooks.ErrReadOnly):
		return conflictf("webhook %q is configured in the file; remove it there", id)
	case err != nil:
		return internal("delete webhook", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
