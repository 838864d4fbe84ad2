package agents

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
	"github.com/switchboard/switchboard/strictjson"
)

// Server-to-client message types (docs/protocol.md).
const (
	msgSnapshot        = "snapshot"
	msgOffer           = "offer"
	msgOfferWithdrawn  = "offer_withdrawn"
	msgAssigned        = "assigned"
	msgMessage         = "message"
	msgContact         = "contact"
	msgContactClosed   = "contact_closed"
	msgState           = "state"
	msgDelivery        = "delivery"
	msgScreenPop       = "screen_pop"
	msgSessionReplaced = "session_replaced"
	msgAck             = "ack"
	msgError           = "error"
	// msgTyping and msgReceipt are best effort and, like acks, not
	// numbered: they are never replayed.
	msgTyping  = "typing"
	msgReceipt = "receipt"
)

// Client-to-server request types.
const (
	reqSetState = "set_state"
	reqAccept   = "accept"
	reqDecline  = "decline"
	reqSend     = "send"
	reqWrapUp   = "wrapup"
	reqClose    = "close"
	reqTransfer = "transfer"
	// reqTransferTargets lists where the agent may transfer a contact.
	reqTransferTargets = "transfer_targets"
	reqOfferOutcome    = "offer_outcome"
	reqTyping          = "typing"
	reqRead            = "read"
	reqVerify          = "verify"
	// reqTag adds and removes tags of the agent's contact.
	reqTag = "tag"
)

// Error codes, as in the HTTP API.
const (
	codeInvalid     = "invalid"
	codeNotFound    = "not_found"
	codeConflict    = "conflict"
	codeUnavailable = "unavailable"
	codeInternal    = "internal"
)

// Limits on what a request may carry, besides the frame limit: the
// router's, checked here before a command is queued.
const (
	maxRequestID = 64
	maxIDField   = router.MaxNameLen // contact, queue, agent and offer ids; dispositions
	maxText      = router.MaxTextLen
)

// frame appends the envelope {"type","seq","id","data"} around data (a
// JSON value). typ is one of the msg constants; id is the client's
// request id of an ack or error.
func frame(typ string, seq uint64, id string, data []byte) []byte {
	b := make([]byte, 0, len(data)+len(typ)+len(id)+48)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"id":`...)
	idJSON, _ := json.Marshal(id) // a string always marshals
	b = append(b, idJSON...)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, '}')
}

// request is one decoded client frame. Args points to the type's
// arguments (*setStateArgs, *contactArgs, ...).
type request struct {
	Type string
	ID   string
	Args any
}

type setStateArgs struct {
	State  router.AgentState `json:"state"`
	Reason string            `json:"reason,omitempty"`
}

type acceptArgs struct {
	ContactID string `json:"contact_id"`
}

type declineArgs struct {
	ContactID string `json:"contact_id"`
	Reason    string `json:"reason,omitempty"`
}

type sendArgs struct {
	ContactID string `json:"contact_id"`
	Body      string `json:"body"`
	ClientID  string `json:"client_id,omitempty"`
	// Note makes the message an internal note (router.DirectionNote):
	// the conversation keeps it, the customer never sees it.
	Note bool `json:"note,omitempty"`
	// Attachments are files uploaded before (POST /api/v1/attachments)
	// that an email reply carries.
	Attachments []sendFile `json:"attachments"`
	// Cc, when given (even empty), is the Cc an email reply keeps of the
	// conversation's: nil keeps them all (Options.Recipients).
	Cc []string `json:"cc"`
}

// sendFile is a file a reply carries, by the hash its upload answered.
type sendFile struct {
	SHA256 string `json:"sha256"`
	Name   string `json:"name"`
	Type   string `json:"type,omitempty"`
}

// dispositionArgs are the arguments of wrapup and close.
type dispositionArgs struct {
	ContactID   string `json:"contact_id"`
	Disposition string `json:"disposition,omitempty"`
	Notes       string `json:"notes,omitempty"`
}

type transferArgs struct {
	ContactID string `json:"contact_id"`
	Queue     string `json:"queue,omitempty"`
	ToAgent   string `json:"to_agent,omitempty"`
}

// tagArgs are the arguments of tag: tags to add and to remove
// (router.SetTags checks and normalizes them).
type tagArgs struct {
	ContactID string   `json:"contact_id"`
	Add       []string `json:"add"`
	Remove    []string `json:"remove"`
}

// transferTargetsArgs are the (no) arguments of transfer_targets.
type transferTargetsArgs struct{}

// transferTargets is transfer_targets' answer: every queue, and every
// other agent who is working (available, busy or in wrap-up) or away,
// by name; offline agents take no transfer.
type transferTargets struct {
	Queues []transferQueue `json:"queues"`
	Agents []transferAgent `json:"agents"`
}

type transferQueue struct {
	Name    string `json:"name"`
	Waiting int    `json:"waiting"`
}

type transferAgent struct {
	ID    string            `json:"id"`
	Name  string            `json:"name"`
	State router.AgentState `json:"state"`
}

type outcomeArgs struct {
	ContactID string `json:"contact_id"`
	OfferID   string `json:"offer_id"`
	Outcome   string `json:"outcome"`
}

// verifyArgs are the arguments of verify: the agent verified, by
// Method, that the customer of the contact is the known customer they
// claim to be.
type verifyArgs struct {
	ContactID string `json:"contact_id"`
	Method    string `json:"method"`
}

// typingArgs are the arguments of typing: the agent types a reply.
type typingArgs struct {
	ContactID string `json:"contact_id"`
}

// readArgs are the arguments of read: the agent has seen the contact's
// messages up to UpToSeq.
type readArgs struct {
	ContactID string `json:"contact_id"`
	UpToSeq   int    `json:"up_to_seq"`
}

// errInvalidFrame is wrapped by every error of decodeFrame.
var errInvalidFrame = errors.New("invalid frame")

// invalid returns a refusal of code invalid wrapping errInvalidFrame.
func invalid(format string, args ...any) error {
	return &refusal{code: codeInvalid, msg: fmt.Sprintf(format, args...), err: errInvalidFrame}
}

// decodeFrame parses and checks one client frame. Unknown fields, unknown
// types, missing or oversized arguments and trailing data are errors
// wrapping errInvalidFrame; the returned request carries the frame's id
// whenever it could be read, so that the error can answer it.
func decodeFrame(b []byte) (request, error) {
	var env struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Data json.RawMessage `json:"data"`
	}
	if err := strictjson.Decode(b, &env); err != nil {
		return request{ID: bestEffortID(b)}, invalid("%s", err.(*strictjson.Error).In("frame"))
	}
	req := request{Type: env.Type, ID: env.ID}
	if len(env.ID) > maxRequestID {
		req.ID = ""
		return req, invalid("id longer than %d bytes", maxRequestID)
	}
	var args any
	switch env.Type {
	case reqSetState:
		args = &setStateArgs{}
	case reqAccept:
		args = &acceptArgs{}
	case reqDecline:
		args = &declineArgs{}
	case reqSend:
		args = &sendArgs{}
	case reqWrapUp, reqClose:
		args = &dispositionArgs{}
	case reqTransfer:
		args = &transferArgs{}
	case reqTransferTargets:
		args = &transferTargetsArgs{}
	case reqOfferOutcome:
		args = &outcomeArgs{}
	case reqTyping:
		args = &typingArgs{}
	case reqRead:
		args = &readArgs{}
	case reqVerify:
		args = &verifyArgs{}
	case reqTag:
		args = &tagArgs{}
	case "":
		return req, invalid("type is missing")
	default:
		return req, invalid("unknown type %q", env.Type)
	}
	data := env.Data
	if len(data) == 0 || string(data) == "null" {
		data = []byte("{}")
	}
	if err := strictjson.Decode(data, args); err != nil {
		return req, invalid("%s", err.(*strictjson.Error).In(env.Type+" data"))
	}
	if err := checkArgs(args); err != nil {
		return req, invalid("%s: %v", env.Type, err)
	}
	req.Args = args
	return req, nil
}

// bestEffortID reads the id of a frame that failed strict decoding (an
// unknown field, say), so that the error answers the right request.
func bestEffortID(b []byte) string {
	var env struct {
		ID string `json:"id"`
	}
	if json.NewDecoder(bytes.NewReader(b)).Decode(&env) != nil || len(env.ID) > maxRequestID {
		return ""
	}
	return env.ID
}

// checkArgs checks the arguments the router does not check itself (or
// checks only after queueing a command).
func checkArgs(args any) error {
	switch a := args.(type) {
	case *setStateArgs:
		if !a.State.Settable() {
			return fmt.Errorf("state %q: want available, away or offline", a.State)
		}
		return checkLen("reason", a.Reason, maxIDField, false)
	case *acceptArgs:
		return checkLen("contact_id", a.ContactID, maxIDField, true)
	case *declineArgs:
		return errors.Join(checkLen("contact_id", a.ContactID, maxIDField, true), checkLen("reason", a.Reason, maxText, false))
	case *sendArgs:
		errs := []error{checkLen("contact_id", a.ContactID, maxIDField, true),
			checkLen("body", a.Body, maxFrameSize, true), checkLen("client_id", a.ClientID, router.MaxClientIDLen, false)}
		if a.Note && (len(a.Attachments) > 0 || a.Cc != nil) {
			errs = append(errs, errors.New("a note carries text only: no attachments, no cc"))
		}
		// How many files and recipients, and how long their names: the
		// router's limits, checked when it writes the message (the frame
		// bounds them until then).
		for i, f := range a.Attachments {
			errs = append(errs, checkLen(fmt.Sprintf("attachments[%d].sha256", i), f.SHA256, maxFrameSize, true),
				checkLen(fmt.Sprintf("attachments[%d].name", i), f.Name, maxFrameSize, true))
		}
		for i, x := range a.Cc {
			errs = append(errs, checkLen(fmt.Sprintf("cc[%d]", i), x, maxFrameSize, true))
		}
		return errors.Join(errs...)
	case *dispositionArgs:
		return errors.Join(checkLen("contact_id", a.ContactID, maxIDField, true),
			checkLen("disposition", a.Disposition, maxIDField, false), checkLen("notes", a.Notes, maxText, false))
	case *transferArgs:
		if (a.Queue == "") == (a.ToAgent == "") {
			return errors.New("give either queue or to_agent")
		}
		return errors.Join(checkLen("contact_id", a.ContactID, maxIDField, true),
			checkLen("queue", a.Queue, maxIDField, false), checkLen("to_agent", a.ToAgent, maxIDField, false))
	case *outcomeArgs:
		if !offers.Outcome(a.Outcome).Valid() {
			return fmt.Errorf("outcome %q: want presented, accepted, declined or not_relevant", a.Outcome)
		}
		return errors.Join(checkLen("contact_id", a.ContactID, maxIDField, true), checkLen("offer_id", a.OfferID, maxIDField, true))
	case *typingArgs:
		return checkLen("contact_id", a.ContactID, maxIDField, true)
	case *tagArgs:
		if len(a.Add)+len(a.Remove) == 0 {
			return errors.New("give add, remove or both")
		}
		return checkLen("contact_id", a.ContactID, maxIDField, true)
	case *verifyArgs:
		return errors.Join(checkLen("contact_id", a.ContactID, maxIDField, true), checkLen("method", a.Method, router.MaxVerificationMethodLen, true))
	case *readArgs:
		if a.UpToSeq < 1 {
			return fmt.Errorf("up_to_seq %d: want a message seq, 1 or more", a.UpToSeq)
		}
		return checkLen("contact_id", a.ContactID, maxIDField, true)
	case *transferTargetsArgs:
		return nil // no arguments: strict decoding refused any
	}
	return fmt.Errorf("no checks for %T", args) // a programming error, caught by FuzzFrame
}

func checkLen(field, v string, limit int, required bool) error {
	switch {
	case required && v == "":
		return fmt.Errorf("%s is missing", field)
	case len(v) > limit:
		return fmt.Errorf("%s longer than %d bytes", field, limit)
	}
	return nil
}

// Payloads of server messages.

// activeContact is a contact an agent holds, with its conversation.
type activeContact struct {
	Contact   router.Contact   `json:"contact"`
	Messages  []router.Message `json:"messages"`
	ScreenPop screenpop.Pop    `json:"screen_pop"`
}

// screenPopData is a contact's screen pop built again (a complaint typed
// during the contact withholds its offers).
type screenPopData struct {
	ContactID string        `json:"contact_id"`
	ScreenPop screenpop.Pop `json:"screen_pop"`
}

type offerData struct {
	ContactID string        `json:"contact_id"`
	ExpiresAt time.Time     `json:"expires_at"`
	Reason    string        `json:"reason"`
	ScreenPop screenpop.Pop `json:"screen_pop"`
}

type snapshotData struct {
	Agent        router.Agent         `json:"agent"`
	Contacts     []activeContact      `json:"contacts"`
	Offer        *offerData           `json:"offer"`
	Dispositions []config.Disposition `json:"dispositions"`
	// Segments and Products label the codes of customer records.
	Segments    []config.Label `json:"segments"`
	Products    []config.Label `json:"products"`
	AwayReasons []string       `json:"away_reasons"`
	// VerificationMethods are the ways an agent may verify a customer's
	// claim (the verify request's method).
	VerificationMethods []string `json:"verification_methods"`
	// SMSMaxSegments is how many segments a reply by SMS may take before
	// the composer asks for confirmation; 0: no limit.
	SMSMaxSegments int `json:"sms_max_segments,omitempty"`
	// OwnEmailAddresses are the addresses email replies are sent from
	// (lower case), which a reply's Cc never holds.
	OwnEmailAddresses []string `json:"own_email_addresses,omitempty"`
	// Attachments are the limits of the files an email reply carries;
	// nil when the hub has no Files.
	Attachments *fileLimits `json:"attachments,omitempty"`
}

// fileLimits are the limits of a reply's files, as configured
// (attachments.max_file_bytes, attachments.max_message_bytes).
type fileLimits struct {
	MaxFileBytes    int64 `json:"max_file_bytes"`
	MaxMessageBytes int64 `json:"max_message_bytes"`
}

type withdrawnData struct {
	ContactID string `json:"contact_id"`
	Reason    string `json:"reason"`
}

type messageData struct {
	ContactID string         `json:"contact_id"`
	Message   router.Message `json:"message"`
}

type contactData struct {
	Contact router.Contact `json:"contact"`
	Reason  string         `json:"reason"`
}

type closedData struct {
	ContactID string `json:"contact_id"`
	State     string `json:"state"`
	Reason    string `json:"reason"`
}

type stateData struct {
	Agent  router.Agent `json:"agent"`
	Reason string       `json:"reason"`
}

// typingData is the data of typing: the customer of the contact types.
type typingData struct {
	ContactID string `json:"contact_id"`
}

// receiptData is the data of receipt: how far the agent's messages of the
// contact reached the customer's screen and how far the customer read
// them (message seqs; 0: none yet).
type receiptData struct {
	ContactID    string `json:"contact_id"`
	DeliveredSeq int    `json:"delivered_seq"`
	ReadSeq      int    `json:"read_seq"`
}

// readData is the ack of read.
type readData struct {
	UpToSeq int `json:"up_to_seq"`
}

type errorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// deliveryData is the delivery of an agent's message that changed: queued
// (with the attempts so far and the last reason), sent, delivered, read,
// or failed with the provider's reason.
type deliveryData struct {
	ContactID string          `json:"contact_id"`
	Seq       int             `json:"seq"`
	Delivery  router.Delivery `json:"delivery"`
}
