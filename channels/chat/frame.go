package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/strictjson"
)

// maxRequestID bounds a client frame's id. What a frame's data carries
// for the router is bounded by the router's limits (router.MaxClientIDLen,
// router.Customer.Validate).
const maxRequestID = 64

// Message types of the customer protocol.
const (
	// client to server
	typeStart  = "start"
	typeResume = "resume"
	typeSend   = "send"
	typeTyping = "typing"
	typeRead   = "read"
	typeLeave  = "leave"
	// typeHistory asks for the page of messages before a seq.
	typeHistory = "history"
	// typeCSAT answers the satisfaction survey.
	typeCSAT = "csat"
	// server to client
	typeWelcome = "welcome"
	typeStarted = "started"
	typeResumed = "resumed"
	typeQueue   = "queue"
	typeTopics  = "topics"
	typeMessage = "message"
	typeAssign  = "assigned"
	typeClosed  = "closed"
	typeSurvey  = "survey"
	typeAck     = "ack"
	typeError   = "error"
)

// envelope is every frame, both ways: {"type","seq","id","data"}.
type envelope struct {
	Type string          `json:"type"`
	Seq  int64           `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// request is a decoded, validated client frame; exactly one of the
// pointers is set, as Type says.
type request struct {
	Type    string
	ID      string
	Start   *startData
	Resume  *resumeData
	Send    *sendData
	Read    *readData
	History *historyRequest
	CSAT    *csatData
}

type startData struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	Topic string `json:"topic"`
	// Message is an optional first message; required to leave a message.
	Message string `json:"message,omitempty"`
	// LeaveMessage asks for an asynchronous contact, answered later.
	LeaveMessage bool `json:"leave_message,omitempty"`
}

type resumeData struct {
	ConversationID string `json:"conversation_id"`
	Token          string `json:"token"`
	// LastSeq is the highest message seq the client already has.
	LastSeq int `json:"last_seq"`
}

type sendData struct {
	Body     string `json:"body"`
	ClientID string `json:"client_id"`
}

type readData struct {
	UpToSeq int `json:"up_to_seq"`
}

// historyRequest asks for the messages before BeforeSeq.
type historyRequest struct {
	BeforeSeq int `json:"before_seq"`
}

// frameError is a refused frame: the code and message of the "error"
// frame, and the request id when it could be read.
type frameError struct {
	ID, Code, Msg string
}

func (e *frameError) Error() string { return e.Code + ": " + e.Msg }

func invalid(id, format string, a ...any) *frameError {
	return &frameError{ID: id, Code: codeInvalid, Msg: fmt.Sprintf(format, a...)}
}

// decodeData decodes a frame's data into v; the error names the frame's
// type and the field at fault.
func decodeData(typ string, b []byte, v any) error {
	if err := strictjson.Decode(b, v); err != nil {
		return &dataError{err.(*strictjson.Error).In(typ + " data")}
	}
	return nil
}

// dataError is a refused frame data, its message complete.
type dataError struct{ msg string }

func (e *dataError) Error() string { return e.msg }

// parseFrame decodes and validates one client frame of at most
// maxBody-byte message bodies. It never panics on any input; the fuzz
// test holds it to that.
func parseFrame(b []byte, maxBody int) (request, error) {
	var env envelope
	if err := strictjson.Decode(b, &env); err != nil {
		return request{}, invalid("", "%s", err.(*strictjson.Error).In("frame"))
	}
	r := request{Type: env.Type, ID: env.ID}
	if len(env.ID) > maxRequestID {
		return request{}, invalid("", "id longer than %d bytes", maxRequestID)
	}
	data := []byte(env.Data)
	if len(data) == 0 || string(data) == "null" {
		data = []byte("{}")
	}
	var err error
	switch env.Type {
	case typeStart:
		r.Start = new(startData)
		if err = decodeData(env.Type, data, r.Start); err == nil {
			err = r.Start.check(maxBody)
		}
	case typeResume:
		r.Resume = new(resumeData)
		if err = decodeData(env.Type, data, r.Resume); err == nil {
			err = r.Resume.check()
		}
	case typeSend:
		r.Send = new(sendData)
		if err = decodeData(env.Type, data, r.Send); err == nil {
			err = r.Send.check(maxBody)
		}
	case typeRead:
		r.Read = new(readData)
		if err = decodeData(env.Type, data, r.Read); err == nil && r.Read.UpToSeq < 0 {
			err = errors.New("up_to_seq is negative")
		}
	case typeHistory:
		r.History = new(historyRequest)
		if err = decodeData(env.Type, data, r.History); err == nil && r.History.BeforeSeq < 1 {
			err = errors.New("before_seq: want a message seq, 1 or more")
		}
	case typeCSAT:
		r.CSAT = new(csatData)
		if err = decodeData(env.Type, data, r.CSAT); err == nil {
			err = r.CSAT.check()
		}
	case typeTyping, typeLeave:
		err = decodeData(env.Type, data, &struct{}{})
	case "":
		err = errors.New("type is missing")
	default:
		err = fmt.Errorf("unknown type %q: want start, resume, send, typing, read, history, leave or csat", env.Type)
	}
	var de *dataError
	switch {
	case errors.As(err, &de):
		return request{}, invalid(r.ID, "%s", de.msg)
	case err != nil:
		return request{}, invalid(r.ID, "%s: %v", env.Type, err)
	}
	return r, nil
}

func (s *startData) check(maxBody int) error {
	s.Name = strings.TrimSpace(s.Name)
	s.Email = strings.TrimSpace(s.Email)
	s.Phone = strings.TrimSpace(s.Phone)
	s.Message = strings.TrimSpace(s.Message)
	// The customer's fields by the router's rule, before the form's own:
	// the router would refuse them at the start anyway.
	if errs := (router.Customer{Name: s.Name, Email: s.Email, Phone: s.Phone}).Validate(); len(errs) > 0 {
		return errors.New(errs[0].Detail())
	}
	switch {
	case s.Name == "":
		return fmt.Errorf("name: 1 to %d characters, no control characters", router.MaxCustomerNameLen)
	case s.Topic == "":
		return errors.New("topic is missing")
	case s.Email != "" && customers.CheckEmail(s.Email) != nil:
		return fmt.Errorf("email %q is not an address like ada@example.com", s.Email)
	case s.Phone != "" && customers.CheckPhone(s.Phone) != nil:
		return fmt.Errorf("phone %q: 7 to 15 digits, with + - ( ) . and spaces", s.Phone)
	case len(s.Message) > maxBody:
		return fmt.Errorf("message longer than %d bytes", maxBody)
	case s.LeaveMessage && s.Message == "":
		return errors.New("leave_message needs a message")
	case s.LeaveMessage && s.Email == "" && s.Phone == "":
		return errors.New("leave_message needs an email or a phone number to answer")
	}
	return nil
}

func (r *resumeData) check() error {
	switch {
	case r.ConversationID == "" || len(r.ConversationID) > router.MaxNameLen:
		return errors.New("conversation_id is missing or too long")
	case r.Token == "" || len(r.Token) > maxTokenLen:
		return errors.New("token is missing or too long")
	case r.LastSeq < 0:
		return errors.New("last_seq is negative")
	}
	return nil
}

func (s *sendData) check(maxBody int) error {
	switch {
	case strings.TrimSpace(s.Body) == "":
		return errors.New("body is empty")
	case len(s.Body) > maxBody:
		return fmt.Errorf("body longer than %d bytes", maxBody)
	case s.ClientID == "" || len(s.ClientID) > router.MaxClientIDLen || hasControl(s.ClientID):
		return fmt.Errorf("client_id: 1 to %d bytes, no control characters", router.MaxClientIDLen)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}
