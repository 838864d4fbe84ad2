// Package canned holds the canned responses agents insert from the
// composer (typing "/" and a few letters): a title, a text with
// placeholders the desktop fills in, and the queues it is for (none: every
// queue). The configuration defines some (fixed), the API the others
// (kept in the store); the desktop reads them all for the agent's
// contacts' queues.
package canned

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Limits of a response.
const (
	MaxTitleLen = 100
	MaxTextLen  = 4000
	MaxQueues   = 50
)

// Placeholders are what a text may name; the desktop fills them in from
// the contact it is written on.
var Placeholders = []string{"{first_name}", "{agent}", "{reference}"}

// Response is one canned response.
type Response struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	// Queues it is offered in; empty: every queue.
	Queues []string `json:"queues"`
	// Source is "config" (fixed) or "api".
	Source string `json:"source"`
}

// Validate checks a response's fields; its error names the field.
func (r Response) Validate() error {
	if err := router.ValidateName("id", "canned response id", r.ID); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(r.Title) == "" || utf8.RuneCountInString(r.Title) > MaxTitleLen || !utf8.ValidString(r.Title):
		return router.Errorf(router.CodeInvalid, "title", "title: want 1 to %d characters", MaxTitleLen)
	case strings.TrimSpace(r.Text) == "" || len(r.Text) > MaxTextLen || !utf8.ValidString(r.Text):
		return router.Errorf(router.CodeInvalid, "text", "text: want 1 to %d bytes of UTF-8", MaxTextLen)
	case len(r.Queues) > MaxQueues:
		return router.Errorf(router.CodeInvalid, "queues", "at most %d queues", MaxQueues)
	}
	for i, q := range r.Queues {
		if err := router.ValidateName(fmt.Sprintf("queues[%d]", i), "queue name", q); err != nil {
			return err
		}
	}
	for i := 0; i < len(r.Text); {
		j := strings.IndexByte(r.Text[i:], '{')
		if j < 0 {
			break
		}
		k := strings.IndexByte(r.Text[i+j:], '}')
		if k < 0 {
			break
		}
		ph := r.Text[i+j : i+j+k+1]
		if !slices.Contains(Placeholders, ph) {
			return router.Errorf(router.CodeInvalid, "text", "unknown placeholder %s (want %s)", ph, strings.Join(Placeholders, ", "))
		}
		i += j + k + 1
	}
	return nil
}

// For reports whether r is offered in queue.
func (r Response) For(queue string) bool {
	return len(r.Queues) == 0 || slices.Contains(r.Queues, queue)
}

// Store keeps the responses put over the API; *store.DB implements it.
type Store interface {
	PutCannedResponse(ctx context.Context, r store.CannedResponse, at time.Time) (bool, error)
	DeleteCannedResponse(ctx context.Context, id string) (bool, error)
	CannedResponses(ctx context.Context) ([]store.CannedResponse, error)
}

var _ Store = (*store.DB)(nil)

// ErrFixed is wrapped by the error of a put or delete of a response the
// configuration defines.
var ErrFixed = errors.New("canned: defined in the configuration")

// Library is every canned response: the configuration's, then the
// store's. Safe for concurrent use.
type Library struct {
	fixed []Response
	store Store
}

// NewLibrary returns the library of the configured responses (already
// validated by the configuration) and the store's.
func NewLibrary(fixed []Response, s Store) *Library {
	l := &Library{store: s}
	for _, r := range fixed {
		r.Source = "config"
		l.fixed = append(l.fixed, r)
	}
	return l
}

// List returns every response, by id; with queue, those offered in it.
func (l *Library) List(ctx context.Context, queue string) ([]Response, error) {
	stored, err := l.store.CannedResponses(ctx)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(l.fixed)
	for _, s := range stored {
		out = append(out, Response{ID: s.ID, Title: s.Title, Text: s.Text, Queues: s.Queues, Source: "api"})
	}
	if queue != "" {
		out = slices.DeleteFunc(out, func(r Response) bool { return !r.For(queue) })
	}
	slices.SortFunc(out, func(a, b Response) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Put creates or replaces a response of the API; a configured one's id
// wraps ErrFixed.
func (l *Library) Put(ctx context.Context, r Response, at time.Time) (created bool, err error) {
	if err := r.Validate(); err != nil {
		return false, err
	}
	if l.isFixed(r.ID) {
		return false, fmt.Errorf("%w: %q", ErrFixed, r.ID)
	}
	return l.store.PutCannedResponse(ctx, store.CannedResponse{ID: r.ID, Title: r.Title, Text: r.Text, Queues: r.Queues}, at)
}

// Delete deletes a response of the API; false if there was none.
func (l *Library) Delete(ctx context.Context, id string) (bool, error) {
	if l.isFixed(id) {
		return false, fmt.Errorf("%w: %q", ErrFixed, id)
	}
	return l.store.DeleteCannedResponse(ctx, id)
}

func (l *Library) isFixed(id string) bool {
	return slices.ContainsFunc(l.fixed, func(r Response) bool { return r.ID == id })
}
