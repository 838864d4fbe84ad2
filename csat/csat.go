// Package csat holds the one rule of the satisfaction survey: which
// customers are asked after a conversation, and what an answer may be.
//
// A customer is asked one question (Policy.Question), answers it with a
// score from MinScore to MaxScore and an optional comment, once per
// contact. The chat asks at the end of a conversation; the store keeps
// the answer; the customer's timeline and the queue reports show it.
package csat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
)

// Limits of an answer.
const (
	MinScore = 1
	MaxScore = 5
	// MaxCommentBytes bounds the comment.
	MaxCommentBytes = 1000
	// MaxQuestionBytes bounds the question.
	MaxQuestionBytes = 200
)

// DefaultQuestion is asked when the configuration names none.
const DefaultQuestion = "How satisfied are you with the help you got today?"

// DefaultWindow is how long after the end of a conversation its
// customer may still answer.
const DefaultWindow = 24 * time.Hour

// ErrInvalid is wrapped by the errors of Response.Validate.
var ErrInvalid = errors.New("csat: invalid answer")

// Response is one customer's answer about one contact.
type Response struct {
	ContactID string    `json:"contact_id"`
	Queue     string    `json:"queue"`
	Score     int       `json:"score"`
	Comment   string    `json:"comment,omitempty"`
	At        time.Time `json:"at"`
}

// Validate checks the score and the comment (trimmed of surrounding
// space first: Normalize).
func (r Response) Validate() error {
	switch {
	case r.Score < MinScore || r.Score > MaxScore:
		return fmt.Errorf("%w: score %d: want %d to %d", ErrInvalid, r.Score, MinScore, MaxScore)
	case len(r.Comment) > MaxCommentBytes:
		return fmt.Errorf("%w: comment over %d bytes", ErrInvalid, MaxCommentBytes)
	case !utf8.ValidString(r.Comment):
		return fmt.Errorf("%w: comment is not UTF-8", ErrInvalid)
	}
	return nil
}

// Normalize trims the comment.
func (r Response) Normalize() Response {
	r.Comment = strings.TrimSpace(r.Comment)
	return r
}

// Policy says who is asked.
type Policy struct {
	// Queues are the queues whose customers are asked; none: nobody.
	Queues []string
	// Question is what the customer reads; "" means DefaultQuestion.
	Question string
	// Window is how long after the end an answer is taken; 0 means
	// DefaultWindow.
	Window time.Duration
	// Rules tell a complaint (offers.Rules: queues, dispositions and
	// keywords of a complaint).
	Rules offers.Rules
}

// Enabled reports whether any queue asks.
func (p Policy) Enabled() bool { return len(p.Queues) > 0 }

// QuestionText is the question asked.
func (p Policy) QuestionText() string {
	if p.Question == "" {
		return DefaultQuestion
	}
	return p.Question
}

// Ask reports whether the customer of contact c, whose conversation is
// msgs and timeline events, is asked now that it is over for them
// (wrap-up or closed): its queue asks, an agent took it and answered, the
// customer did not leave, and it is not a complaint left unanswered (a
// complaint whose customer wrote last). A customer who left, or whose
// message nobody took, is not asked; neither is a complaint the agent did
// not answer: a survey then adds insult.
func (p Policy) Ask(c router.Contact, msgs []router.Message, events []router.Event) bool {
	if !slices.Contains(p.Queues, c.Queue) || c.AssignedAt.IsZero() {
		return false
	}
	if slices.ContainsFunc(events, func(e router.Event) bool { return e.Event == router.EventCustomerLeft }) {
		return false
	}
	if c.State != router.ContactWrapUp && c.State != router.ContactClosed {
		return false
	}
	lastIn, lastOut := -1, -1
	var said []string
	for i, m := range msgs {
		switch m.Direction {
		case "in":
			lastIn = i
			said = append(said, m.Body)
		case "out":
			// A person's answer: the agent's, or a supervisor's who
			// took the contact over; not an automatic one.
			if m.AuthorKind == router.AuthorAgent || m.AuthorKind == router.AuthorSupervisor || m.AuthorKind == "" {
				lastOut = i
			}
		}
	}
	if lastOut < 0 {
		return false // nobody answered
	}
	complaint := slices.Contains(p.Rules.ComplaintQueues, c.Queue) || p.Rules.ComplaintDisposition(c.Disposition) ||
		p.Rules.ComplaintText(c.Subject) || slices.ContainsFunc(said, p.Rules.ComplaintText)
	return !complaint || lastOut > lastIn
}

// Open reports whether an answer about a contact that ended at ended
// (zero while it is in wrap-up) is still taken at now.
func (p Policy) Open(ended, now time.Time) bool {
	w := p.Window
	if w <= 0 {
		w = DefaultWindow
	}
	return ended.IsZero() || now.Sub(ended) <= w
}
