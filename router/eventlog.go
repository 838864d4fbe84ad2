package router

import (
	"encoding/json"
	"fmt"
	"time"
)

// Types of the durable event log's entries (LogEntry.Type), which the
// outbound webhooks deliver. The router writes the contact and message
// ones (Options.EventLog); the store writes customer.changed and
// offer.outcome in the transactions that make those changes.
const (
	LogContactCreated  = "contact.created"
	LogContactOffered  = "contact.offered"
	LogContactAssigned = "contact.assigned"
	LogContactEnded    = "contact.ended"
	LogMessageIn       = "message.in"
	LogMessageOut      = "message.out"
	LogMessageNote     = "message.note"
	LogCustomerChanged = "customer.changed"
	LogOfferOutcome    = "offer.outcome"
)

// LogTypes are every type of the event log, in the order the
// documentation lists them. The slice is shared: do not change it.
var LogTypes = []string{
	LogContactCreated, LogContactOffered, LogContactAssigned, LogContactEnded,
	LogMessageIn, LogMessageOut, LogMessageNote, LogCustomerChanged, LogOfferOutcome,
}

// LogEntry is one entry of the durable event log: something that
// happened, committed in the same store transaction as the change itself,
// so that a crash never loses one. The store numbers the entries (ID) in
// the order it commits them.
type LogEntry struct {
	// ID is the entry's place in the log, given by the store; 0 until it
	// is stored. IDs only grow and are never reused.
	ID int64
	// Type is one of LogTypes.
	Type      string
	ContactID string
	At        time.Time
	// Data is the entry's JSON payload (LogData).
	Data json.RawMessage
}

// LogData is the payload of the contact and message entries of the
// event log: the contact as it stood, and the message for message.in and
// message.out.
type LogData struct {
	Contact *LogContact `json:"contact,omitempty"`
	Message *LogMessage `json:"message,omitempty"`
}

// LogContact is a contact as the event log tells it: a summary, without
// the routing details.
type LogContact struct {
	ID       string       `json:"id"`
	Channel  Channel      `json:"channel"`
	Queue    string       `json:"queue"`
	State    ContactState `json:"state"`
	AgentID  string       `json:"agent_id,omitempty"`
	Customer LogCustomer  `json:"customer"`
	Subject  string       `json:"subject,omitempty"`
	// Disposition is the agent's, once the contact is wrapped up.
	Disposition string `json:"disposition,omitempty"`
	// Follows is the ended contact this one continues.
	Follows   string    `json:"follows,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// LogCustomer is a contact's customer as the event log tells it: the
// profile's id only when the identity was verified.
type LogCustomer struct {
	ID       string `json:"id,omitempty"`
	Verified bool   `json:"verified"`
}

// LogMessage is a message as the event log tells it.
type LogMessage struct {
	Seq        int       `json:"seq"`
	At         time.Time `json:"at"`
	Direction  string    `json:"direction"`
	AuthorKind string    `json:"author_kind,omitempty"`
	// Author is the agent's id for an agent's message.
	Author     string   `json:"author,omitempty"`
	AuthorName string   `json:"author_name,omitempty"`
	Body       string   `json:"body"`
	Subject    string   `json:"subject,omitempty"`
	ExternalID string   `json:"external_id,omitempty"`
	References []string `json:"references,omitempty"`
}

// Erased returns d as it must read once the contact's customer is
// erased (store.EraseCustomer): what the store keeps of the contact and
// the message, and nothing more. The contact keeps its id, channel,
// queue, state, agent, customer id and verification, disposition,
// follows and creation time, and loses its subject. The message keeps
// its seq, time, direction, author kind and external id (as the stored
// message does, so that a channel's message delivered again is still
// recognised), and its author and author name unless it is the
// customer's ("in"); it loses its body, subject and references. The
// fields are copied by name: one added to LogContact or LogMessage is
// left out of the erased form until it is listed here.
func (d LogData) Erased() LogData {
	var out LogData
	if c := d.Contact; c != nil {
		out.Contact = &LogContact{
			ID: c.ID, Channel: c.Channel, Queue: c.Queue, State: c.State, AgentID: c.AgentID,
			Customer: c.Customer, Disposition: c.Disposition, Follows: c.Follows, CreatedAt: c.CreatedAt,
		}
	}
	if m := d.Message; m != nil {
		out.Message = &LogMessage{Seq: m.Seq, At: m.At, Direction: m.Direction, AuthorKind: m.AuthorKind, ExternalID: m.ExternalID}
		if m.Direction != "in" {
			out.Message.Author, out.Message.AuthorName = m.Author, m.AuthorName
		}
	}
	return out
}

// contactSummary summarises c.
func contactSummary(c *Contact) *LogContact {
	lc := &LogContact{
		ID: c.ID, Channel: c.Channel, Queue: c.Queue, State: c.State, AgentID: c.AgentID,
		Customer: LogCustomer{Verified: c.Customer.Verified}, Subject: c.Subject,
		Disposition: c.Disposition, Follows: c.Follows, CreatedAt: c.CreatedAt,
	}
	if c.Customer.Identified() {
		lc.Customer.ID = c.Customer.ID
	}
	return lc
}

// messageSummary summarises m.
func messageSummary(m *Message) *LogMessage {
	lm := &LogMessage{
		Seq: m.Seq, At: m.At, Direction: m.Direction, AuthorKind: m.AuthorKind, AuthorName: m.AuthorName,
		Body: m.Body, Subject: m.Subject, ExternalID: m.ExternalID, References: m.References,
	}
	if m.AuthorKind == AuthorAgent || m.AuthorKind == AuthorSupervisor {
		lm.Author = m.Author
	}
	return lm
}

// logEvent appends to the batch's event log what a timeline event of c
// tells integrations, if anything: its creation, an offer, its
// assignment, or its end. Only with Options.EventLog.
func (w *write) logEvent(c *Contact, name string) {
	if !w.r.eventLog.Load() {
		return
	}
	var typ string
	switch {
	case c.State.Final():
		typ = LogContactEnded
	case name == EventCreated:
		typ = LogContactCreated
	case name == EventOffered:
		typ = LogContactOffered
	case name == EventAssigned:
		typ = LogContactAssigned
	default:
		return
	}
	w.appendLog(typ, c.ID, LogData{Contact: contactSummary(c)})
}

// logMessage appends message.in or message.out for m, a message of c.
// Only with Options.EventLog.
func (w *write) logMessage(c *Contact, m *Message) {
	if !w.r.eventLog.Load() {
		return
	}
	typ := LogMessageIn
	switch m.Direction {
	case "out":
		typ = LogMessageOut
	case DirectionNote:
		typ = LogMessageNote
	}
	w.appendLog(typ, c.ID, LogData{Contact: contactSummary(c), Message: messageSummary(m)})
}

func (w *write) appendLog(typ, contactID string, d LogData) {
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("router: encode log entry: %v", err)) // only plain fields
	}
	w.batch.Log = append(w.batch.Log, LogEntry{Type: typ, ContactID: contactID, At: w.now, Data: b})
}

// SetEventLog turns the event log (Options.EventLog) on or off for the
// batches sealed from now on: routerd keeps it on while a webhook may
// read it. Safe for concurrent use.
func (r *Router) SetEventLog(on bool) { r.eventLog.Store(on) }
