package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// timelineEntry is one contact of a customer's timeline: what a
// supervisor or the screen pop needs to see of it, never its messages.
type timelineEntry struct {
	ID string `json:"id"`
	// CustomerID is the contact's own: this customer's, a customer's
	// merged into it, or another (or none) when it matched by email or
	// phone.
	CustomerID  string              `json:"customer_id"`
	Channel     router.Channel      `json:"channel"`
	CreatedAt   time.Time           `json:"created_at"`
	EndedAt     *time.Time          `json:"ended_at,omitempty"`
	Queue       string              `json:"queue"`
	AgentID     string              `json:"agent_id"`
	State       router.ContactState `json:"state"`
	Disposition string              `json:"disposition"`
	Subject     string              `json:"subject"`
	// CSAT is the customer's answer to the satisfaction survey, if any.
	CSAT *csatView `json:"csat,omitempty"`
}

// csatView is a survey answer on the timeline.
type csatView struct {
	Score   int       `json:"score"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// customerDetail is the body of GET /api/v1/customers/{id}.
type customerDetail struct {
	customerView
	// Timeline is the newest contacts first, never nil.
	Timeline []timelineEntry `json:"timeline"`
	// TimelineNext, when set, is the cursor of GET
	// /api/v1/customers/{id}/timeline that reads the following entries.
	TimelineNext string `json:"timeline_next,omitempty"`
}

// customerTimeline is the body of GET /api/v1/customers/{id}/timeline.
type customerTimeline struct {
	Timeline []timelineEntry `json:"timeline"`
	// Next is the cursor of the following page; absent on the last.
	Next string `json:"next,omitempty"`
}

// The query parameters of GET /api/v1/customers/{id} and of its
// timeline.
var (
	customerParams = []string{"timeline_limit"}
	timelineParams = []string{"limit", "cursor"}
)

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	q, err := queryParams(r, customerParams)
	if err != nil {
		return err
	}
	limit, err := pageLimit(q, "timeline_limit", store.MaxTimelineLimit, store.DefaultTimelineLimit)
	if err != nil {
		return err
	}
	view, err := s.customerView(r, id)
	if err != nil {
		return err
	}
	page, err := s.timeline(r, store.TimelineFilter{CustomerID: id, Limit: limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, customerDetail{customerView: view, Timeline: page.Timeline, TimelineNext: page.Next})
}

func (s *Server) getCustomerTimeline(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	q, err := queryParams(r, timelineParams)
	if err != nil {
		return err
	}
	limit, err := pageLimit(q, "limit", store.MaxTimelineLimit, store.DefaultTimelineLimit)
	if err != nil {
		return err
	}
	if _, err := s.store.Customer(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return notFoundf("customer %q does not exist", id)
	} else if err != nil {
		return internal("read customer", err)
	}
	page, err := s.timeline(r, store.TimelineFilter{CustomerID: id, Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// timeline reads one page of a customer's timeline.
func (s *Server) timeline(r *http.Request, f store.TimelineFilter) (customerTimeline, error) {
	f.Brief = true // a timelineEntry holds only what a brief contact has
	page, err := s.store.CustomerTimeline(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		return customerTimeline{}, invalidf("query parameter \"cursor\": %q is not a cursor from a previous page's \"next\" or \"timeline_next\"", f.Cursor)
	}
	if err != nil {
		return customerTimeline{}, internal("read customer timeline", err)
	}
	ids := make([]string, len(page.Contacts))
	for i, c := range page.Contacts {
		ids[i] = c.ID
	}
	answers, err := s.store.CSATs(r.Context(), ids)
	if err != nil {
		return customerTimeline{}, internal("read survey answers", err)
	}
	out := customerTimeline{Timeline: make([]timelineEntry, 0, len(page.Contacts)), Next: page.Next}
	for _, c := range page.Contacts {
		e := timelineEntry{
			ID: c.ID, CustomerID: c.Customer.ID, Channel: c.Channel, CreatedAt: c.CreatedAt, Queue: c.Queue,
			AgentID: c.AgentID, State: c.State, Disposition: c.Disposition, Subject: c.Subject,
		}
		if !c.EndedAt.IsZero() {
			at := c.EndedAt
			e.EndedAt = &at
		}
		if a, ok := answers[c.ID]; ok {
			e.CSAT = &csatView{Score: a.Score, Comment: a.Comment, At: a.At}
		}
		out.Timeline = append(out.Timeline, e)
	}
	return out, nil
}
