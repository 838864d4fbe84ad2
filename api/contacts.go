package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Header names of the idempotent create.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
)

// createContactRequest is the body of POST /api/v1/contacts.
type createContactRequest struct {
	Channel  string        `json:"channel"`
	Queue    string        `json:"queue"`
	Customer customerInput `json:"customer"`
	Subject  string        `json:"subject"`
	Body     string        `json:"body"`
	// Requirements replace the queue's when present, even if empty.
	Requirements     []router.Requirement `json:"requirements"`
	Priority         int                  `json:"priority"`
	PreferredAgents  []string             `json:"preferred_agents"`
	PreferredTimeout string               `json:"preferred_timeout"`
}

// customerInput is who a contact of POST /api/v1/contacts is from. What
// it says is a claim unless Verified: the integration vouches that the
// channel proved the email, phone or id (docs/api.md).
type customerInput struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Email    string  `json:"email"`
	Phone    string  `json:"phone"`
	Verified bool    `json:"verified"`
	Value    float64 `json:"value"`
	Segment  string  `json:"segment"`
}

func (in customerInput) customer() router.Customer {
	return router.Customer{ID: in.ID, Name: in.Name, Email: in.Email, Phone: in.Phone, Verified: in.Verified, Value: in.Value, Segment: in.Segment}
}

// canonicalCreate is what the idempotency hash covers: the request as
// understood, so that spacing, key order and "30s" vs "30000ms" do not
// count as a different request.
type canonicalCreate struct {
	Channel          string               `json:"channel"`
	Queue            string               `json:"queue"`
	Customer         router.Customer      `json:"customer"`
	Subject          string               `json:"subject"`
	Body             string               `json:"body"`
	Requirements     []router.Requirement `json:"requirements"`
	Priority         int                  `json:"priority"`
	PreferredAgents  []string             `json:"preferred_agents"`
	PreferredTimeout int64                `json:"preferred_timeout_ns"`
}

// idempotencyHash returns the hex SHA-256 of the canonical request.
func idempotencyHash(nc router.NewContact) string {
	b, _ := json.Marshal(canonicalCreate{
		Channel: nc.Channel, Queue: nc.Queue, Customer: nc.Customer, Subject: nc.Subject, Body: nc.Body,
		Requirements: nc.Requirements, Priority: nc.Priority, PreferredAgents: nc.Preferred,
		PreferredTimeout: int64(nc.PreferredTimeout),
	})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request) error {
	// The router's rule of a key, checked first: the header is not part
	// of the body whose fields the router's errors name.
	key := r.Header.Get(headerIdempotencyKey)
	if err := router.ValidateIdempotencyKey("", "header "+headerIdempotencyKey, key); err != nil {
		return invalidf("%s", err.Message)
	}
	var req createContactRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	timeout, err := parseDuration("preferred_timeout", req.PreferredTimeout)
	if err != nil {
		return err
	}
	nc := router.NewContact{
		Channel: req.Channel, Queue: req.Queue, Customer: req.Customer.customer(), Subject: req.Subject, Body: req.Body,
		Requirements: req.Requirements, Priority: req.Priority,
		Preferred: req.PreferredAgents, PreferredTimeout: timeout,
	}
	if key != "" {
		nc.IdempotencyKey, nc.IdempotencyHash = key, idempotencyHash(nc)
		if done, err := s.replay(w, r, key, nc.IdempotencyHash); done || err != nil {
			return err
		}
	}
	// After the idempotency check: the hash covers the request as sent,
	// and a replay resolves nobody again.
	c, created, err := s.intake.Contact(r.Context(), nc)
	if err != nil {
		return s.submitError(req.Queue, err)
	}
	if !created {
		// The router still knew the key (the first create was in flight,
		// or is younger than its memory of keys). The store, committed
		// before Submit answered, has the whole contact.
		stored, err := s.store.Contact(r.Context(), c.ID)
		if err != nil {
			return internal("read replayed contact", err)
		}
		w.Header().Set(headerReplayed, "true")
		return writeJSON(w, http.StatusOK, stored)
	}
	w.Header().Set("Location", "/api/v1/contacts/"+pathEscape(c.ID))
	return writeJSON(w, http.StatusCreated, c)
}

// submitError maps a refused create.
func (s *Server) submitError(queue string, err error) error {
	if errors.Is(err, router.ErrNoQueue) {
		he := notFoundf("field \"queue\": queue %q does not exist", queue)
		he.field = "queue"
		return he
	}
	return routerError(err)
}

// replay answers a create whose Idempotency-Key the store already holds:
// the stored contact if the request is the same, 422 if not. done is
// false when the key is new.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, key, hash string) (done bool, err error) {
	c, err := s.store.ContactByIdempotencyKey(r.Context(), key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return true, internal("idempotency lookup", err)
	case c.IdempotencyHash != hash:
		return true, routerError(router.ErrIdempotency)
	}
	w.Header().Set(headerReplayed, "true")
	return true, writeJSON(w, http.StatusOK, c)
}

// contactStates are the values of the state filter.
var contactStates = []router.ContactState{
	router.ContactQueued, router.ContactOffered, router.ContactAssigned, router.ContactWrapUp,
	router.ContactClosed, router.ContactAbandoned,
}

// contactListParams are the query parameters of GET /api/v1/contacts.
var contactListParams = []string{"state", "channel", "queue", "customer", "tag", "limit", "cursor"}

// contactList is the body of GET /api/v1/contacts.
type contactList struct {
	Contacts []router.Contact `json:"contacts"`
	// Next is the cursor of the following page; absent on the last.
	Next string `json:"next,omitempty"`
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) error {
	q, err := queryParams(r, contactListParams)
	if err != nil {
		return err
	}
	f := store.ContactFilter{
		State: q.Get("state"), Channel: q.Get("channel"), Queue: q.Get("queue"),
		Customer: q.Get("customer"), Cursor: q.Get("cursor"),
	}
	if v := q.Get("tag"); v != "" {
		tag, err := router.NormalizeTag("tag", v)
		if err != nil {
			return invalidf("query parameter \"tag\": %s", err.Message)
		}
		f.Tag = tag
	}
	if self, ok := agentOf(r); ok {
		f.AgentID = self // an agent lists only the contacts with it
	}
	if f.State != "" && !slices.Contains(contactStates, router.ContactState(f.State)) {
		return invalidf("query parameter \"state\": %q is not a state; want one of queued, offered, assigned, wrapup, closed, abandoned", f.State)
	}
	if f.Limit, err = pageLimit(q, "limit", store.MaxContactLimit, store.DefaultContactLimit); err != nil {
		return err
	}
	page, err := s.store.Contacts(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		return invalidf("query parameter \"cursor\": %q is not a cursor from a previous page's \"next\"", f.Cursor)
	}
	if err != nil {
		return internal("list contacts", err)
	}
	if page.Contacts == nil {
		page.Contacts = []router.Contact{}
	}
	for i, c := range page.Contacts {
		page.Contacts[i] = visible(r, c)
	}
	return writeJSON(w, http.StatusOK, contactList{Contacts: page.Contacts, Next: page.Next})
}

// contactParams are the query parameters of GET /api/v1/contacts/{id}.
var contactParams = []string{"messages_after"}

// contactDetail is the body of GET /api/v1/contacts/{id}.
type contactDetail struct {
	router.Contact
	Timeline []router.Event   `json:"timeline"`
	Messages []router.Message `json:"messages"`
	// MessagesNext, when set, is the messages_after value that reads the
	// next page of messages.
	MessagesNext int `json:"messages_next,omitempty"`
	// Waiting is set while the contact is queued.
	Waiting *waitingView `json:"waiting,omitempty"`
}

// waitingView tells where a queued contact stands and why it waits.
type waitingView struct {
	// Position counts from 1, the next to be served in its queue.
	Position int                  `json:"position"`
	Explain  []router.Eligibility `json:"explain"`
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	after := 0
	q, err := queryParams(r, contactParams)
	if err != nil {
		return err
	}
	if v := q.Get("messages_after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return invalidf("query parameter \"messages_after\": %q: want a message seq, 0 or more", v)
		}
		after = n
	}
	if err := s.readableContact(r, id); err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.store.Contact(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundf("contact %q does not exist", id)
	}
	if err != nil {
		return internal("read contact", err)
	}
	d := contactDetail{Contact: visible(r, c)}
	if d.Timeline, err = s.store.Timeline(ctx, id); err != nil {
		return internal("read timeline", err)
	}
	if d.Messages, err = s.store.Messages(ctx, id, after, store.MaxMessageLimit); err != nil {
		return internal("read messages", err)
	}
	if len(d.Messages) == store.MaxMessageLimit {
		d.MessagesNext = d.Messages[len(d.Messages)-1].Seq
	}
	if d.Timeline == nil {
		d.Timeline = []router.Event{}
	}
	if d.Messages == nil {
		d.Messages = []router.Message{}
	}
	if c.State == router.ContactQueued {
		d.Waiting = waiting(s.router.Snapshot(), id)
	}
	return writeJSON(w, http.StatusOK, d)
}

// waiting reads a queued contact's place and the agents' standing from
// snap; nil if snap no longer has it queued.
func waiting(snap *router.Snapshot, id string) *waitingView {
	live, ok := snap.Contact(id)
	if !ok || live.State != router.ContactQueued {
		return nil
	}
	v := &waitingView{Explain: []router.Eligibility{}}
	for i, c := range snap.Waiting(live.Queue) {
		if c.ID == id {
			v.Position = i + 1
			break
		}
	}
	if ex, ok := snap.Explain(id); ok && ex != nil {
		v.Explain = ex
	}
	return v
}
