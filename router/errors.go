package router

import (
	"errors"
	"fmt"
)

// Errors returned by the router's commands. Callers match them with
// errors.Is. A command that refuses a request returns an *Error, which
// wraps one of them; transports map its Code instead.
var (
	ErrNoAgent   = errors.New("router: no such agent")
	ErrNoContact = errors.New("router: no such contact")
	ErrNoQueue   = errors.New("router: no such queue")
	ErrInvalid   = errors.New("router: invalid request")
	ErrConflict  = errors.New("router: conflicts with the current state")
	ErrNotYours  = errors.New("router: contact is not with this agent")
	// ErrLimit: the contact holds as many messages, or bytes, from its
	// customer as Options.CustomerMessages and CustomerBytes allow.
	ErrLimit       = errors.New("router: conversation limit reached")
	ErrIdempotency = errors.New("router: idempotency key reused with a different request")
	ErrClosed      = errors.New("router: shut down")
	ErrNotStarted  = errors.New("router: not started")
	// ErrFailed: the store failed a commit and the router stopped; the
	// process should restart.
	ErrFailed = errors.New("router: stopped after a store failure")
)

// Code says what kind of refusal an error of the router is. Each
// transport maps a code once (the API to an HTTP status, the sockets to
// their error codes); nobody matches on a message.
type Code string

// The codes, one per sentinel error; CodeOf tells an error's.
const (
	// CodeInvalid: the request breaks a rule of its own (a name
	// missing, a value out of range). Wraps ErrInvalid.
	CodeInvalid Code = "invalid"
	// CodeNoAgent: no such agent. Wraps ErrNoAgent.
	CodeNoAgent Code = "no_agent"
	// CodeNoContact: no such live contact. Wraps ErrNoContact.
	CodeNoContact Code = "no_contact"
	// CodeNoQueue: no such queue. Wraps ErrNoQueue.
	CodeNoQueue Code = "no_queue"
	// CodeConflict: the request does not fit the current state (the
	// contact is not offered, the agent holds contacts). Wraps
	// ErrConflict.
	CodeConflict Code = "conflict"
	// CodeNotYours: the contact is with another agent. Wraps
	// ErrNotYours.
	CodeNotYours Code = "not_yours"
	// CodeLimit: the conversation holds as much from its customer as
	// the router allows. Wraps ErrLimit.
	CodeLimit Code = "limit"
	// CodeIdempotency: an idempotency key reused with a different
	// request. Wraps ErrIdempotency.
	CodeIdempotency Code = "idempotency"
	// CodeUnavailable: the router is not running (ErrNotStarted,
	// ErrClosed, ErrFailed). No command returns an *Error of it: those
	// errors are the sentinels themselves, as the request was never
	// looked at; CodeOf and AsError tell it.
	CodeUnavailable Code = "unavailable"
)

// sentinels are the errors an *Error of each code wraps, in the order
// CodeOf tries them.
var sentinels = []struct {
	code Code
	err  error
}{
	{CodeInvalid, ErrInvalid},
	{CodeNoAgent, ErrNoAgent},
	{CodeNoContact, ErrNoContact},
	{CodeNoQueue, ErrNoQueue},
	{CodeConflict, ErrConflict},
	{CodeNotYours, ErrNotYours},
	{CodeLimit, ErrLimit},
	{CodeIdempotency, ErrIdempotency},
}

// Error is a refusal of a router command: what kind (Code), which field
// of the request if it is about one, and a message for whoever sent the
// request. It wraps the sentinel of its code, so that errors.Is(err,
// ErrInvalid) holds for an *Error of CodeInvalid. Transports find it with
// errors.As and answer with its Code, Field and Message.
type Error struct {
	// Code is the kind of refusal.
	Code Code
	// Field is the path of the field at fault as the HTTP API's JSON
	// spells it ("priority", "preferred_agents[2]", "customer.segment",
	// "relaxation[1].min[billing]"), or empty when the refusal is not
	// about one field.
	Field string
	// Message says what is wrong and, where it can, what would be valid,
	// without the package's prefix: "priority 5000: want -1000 to 1000".
	Message string
	// First is the field an error about a duplicate refers back to (the
	// first of the two), or empty; Message does not name it.
	First string
}

// Error returns the message with the package's prefix, and the field
// of the first of a duplicate.
func (e *Error) Error() string { return "router: " + e.Detail() }

// Detail is the message, and the field of the first of a duplicate.
func (e *Error) Detail() string {
	if e.First != "" {
		return e.Message + " (first at " + e.First + ")"
	}
	return e.Message
}

// Unwrap returns the sentinel of e's code (ErrInvalid for CodeInvalid),
// or nil for a code that has none.
func (e *Error) Unwrap() error {
	for _, s := range sentinels {
		if s.code == e.Code {
			return s.err
		}
	}
	return nil
}

// Errorf returns an *Error of code about field (empty if none) whose
// message is formatted from format and args. Other packages use it for
// refusals they make on the router's behalf, so that the transports map
// them as the router's own.
func Errorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// invalidf returns an *Error of CodeInvalid about field.
func invalidf(field, format string, args ...any) *Error {
	return Errorf(CodeInvalid, field, format, args...)
}

// conflictf returns an *Error of CodeConflict about no one field.
func conflictf(format string, args ...any) *Error {
	return Errorf(CodeConflict, "", format, args...)
}

// noAgent, noContact and noQueue say that what id names does not exist.
func noAgent(id string) *Error { return Errorf(CodeNoAgent, "", "no such agent: %q", id) }

func noContact(id string) *Error { return Errorf(CodeNoContact, "", "no such contact: %q", id) }

func noQueue(field, name string) *Error {
	return Errorf(CodeNoQueue, field, "no such queue: %q", name)
}

// notYours says that contactID is not with agentID.
func notYours(contactID, agentID string) *Error {
	return Errorf(CodeNotYours, "", "%s is not with %s", contactID, agentID)
}

// errIdempotency says that an idempotency key was used with another
// request.
func errIdempotency() *Error {
	return Errorf(CodeIdempotency, "", "idempotency key reused with a different request")
}

// checkWrapUp checks what an agent writes when a contact ends.
func checkWrapUp(disposition, notes string) error {
	switch {
	case len(disposition) > maxIDLen:
		return invalidf("disposition", "disposition over %d or notes over %d bytes", maxIDLen, maxTextLen)
	case len(notes) > maxTextLen:
		return invalidf("notes", "disposition over %d or notes over %d bytes", maxIDLen, maxTextLen)
	}
	return nil
}

// withField returns err with its field set to field if err is an *Error
// that names none, and err unchanged otherwise.
func withField(err error, field string) error {
	var e *Error
	if errors.As(err, &e) && e.Field == "" {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

// generic are the messages of errors that carry no *Error of their own.
var generic = map[Code]string{
	CodeInvalid:     "invalid request",
	CodeNoAgent:     "no such agent",
	CodeNoContact:   "no such contact",
	CodeNoQueue:     "no such queue",
	CodeConflict:    "conflicts with the current state",
	CodeNotYours:    "contact is not with this agent",
	CodeLimit:       "conversation limit reached",
	CodeIdempotency: "idempotency key reused with a different request",
	CodeUnavailable: "the router is not running",
}

// CodeOf returns the code of err: its *Error's if it has one, else the
// code of the sentinel it wraps (CodeUnavailable for ErrNotStarted,
// ErrClosed and ErrFailed), else "" (not a refusal of the router).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, ErrNotStarted) || errors.Is(err, ErrClosed) || errors.Is(err, ErrFailed) {
		return CodeUnavailable
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	return ""
}

// AsError returns err's *Error. An error that wraps a sentinel of the
// router without one (built with fmt.Errorf elsewhere, or ErrClosed) gets
// an *Error of the sentinel's code with a generic message, never the
// text of err, which may name the packages it went through. ok is false
// for an error that is not a refusal of the router.
func AsError(err error) (e *Error, ok bool) {
	if errors.As(err, &e) {
		return e, true
	}
	code := CodeOf(err)
	if code == "" {
		return nil, false
	}
	return &Error{Code: code, Message: generic[code]}, true
}
