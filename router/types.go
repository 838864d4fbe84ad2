package router

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Channel names a contact's channel: "api", "chat", "email", "sms".
type Channel = string

// Channels known to the router. Other names are accepted where the
// configuration gives them a capacity.
const (
	ChannelAPI   Channel = "api"
	ChannelChat  Channel = "chat"
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// ContactState is a step of a contact's lifecycle:
// queued → offered → assigned → wrapup → closed, plus abandoned and
// transferred.
type ContactState string

// Contact states.
const (
	ContactQueued      ContactState = "queued"
	ContactOffered     ContactState = "offered"
	ContactAssigned    ContactState = "assigned"
	ContactWrapUp      ContactState = "wrapup"
	ContactClosed      ContactState = "closed"
	ContactAbandoned   ContactState = "abandoned"
	ContactTransferred ContactState = "transferred"
)

// Final reports whether the state ends the contact's life.
func (s ContactState) Final() bool {
	return s == ContactClosed || s == ContactAbandoned
}

// AgentState is what an agent is doing, across every queue.
type AgentState string

// Agent states.
const (
	AgentOffline   AgentState = "offline"
	AgentAvailable AgentState = "available"
	AgentAway      AgentState = "away"
	AgentWrapUp    AgentState = "wrapup"
)

// Settable reports whether an agent (or a supervisor for them) may set
// state s: available, away or offline. Wrap-up is entered by wrapping a
// contact up. The router's SetAgentState, the HTTP API and the desktop's
// socket ask it.
func (s AgentState) Settable() bool {
	return s == AgentAvailable || s == AgentAway || s == AgentOffline
}

// Working reports whether an agent in state s is at work: available
// (free or busy) or in wrap-up, not away or offline.
func (s AgentState) Working() bool { return s == AgentAvailable || s == AgentWrapUp }

// Strategy chooses among several eligible agents.
type Strategy string

// Strategies.
const (
	LongestIdle   Strategy = "longest_idle"
	LeastOccupied Strategy = "least_occupied"
	BestSkill     Strategy = "best_skill"
	RoundRobin    Strategy = "round_robin"
)

// Valid reports whether s names a strategy; the empty string means LongestIdle.
func (s Strategy) Valid() bool {
	switch s {
	case "", LongestIdle, LeastOccupied, BestSkill, RoundRobin:
		return true
	}
	return false
}

// Duration is a time.Duration written as "20s", "4h" in JSON and YAML.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes d as Go's duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads Go's duration syntax ("90s", "1h30m").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"20s\", \"4h\")", b)
	}
	if v < 0 {
		return fmt.Errorf("invalid duration %q: negative", b)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON accepts a duration string ("20s").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("invalid duration %s (want a string such as \"20s\")", b)
	}
	return d.UnmarshalText([]byte(s))
}

// Requirement is the condition skill ≥ Min.
type Requirement struct {
	Skill string `json:"skill"`
	Min   int    `json:"min"`
}

func (r Requirement) String() string { return fmt.Sprintf("%s≥%d", r.Skill, r.Min) }

// Customer is who the contact is from, as far as the channel or the
// integration told us.
//
// A customer is identified only when Verified: the channel proved the
// identity (an SMS from the number, an integration that says so) or an
// agent verified a claim (VerifyCustomer). Until then ID is empty, Value
// and Segment count for nothing (rank ignores them), and ClaimedID at
// most names the known customer the claim matches, which may pick the
// preferred agents but shows nobody's data.
type Customer struct {
	// ID is the customer's profile; only set when Verified.
	ID    string `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Verified says the identity was proven (see above).
	Verified bool    `json:"verified,omitempty"`
	Value    float64 `json:"value,omitempty"`
	// Segment is the customer's segment ("premium"), for the queue's
	// segment boosts; empty when unknown or when the customer refused
	// profiling.
	Segment string `json:"segment,omitempty"`
	// ClaimedID is the known customer that the unverified identities
	// (email, phone, an integration's id) match; empty when Verified or
	// when the claim matches nobody.
	ClaimedID string `json:"claimed_id,omitempty"`
}

// Identified reports whether the customer's profile may be used: the
// identity was verified and names a profile.
func (cu Customer) Identified() bool { return cu.Verified && cu.ID != "" }

// Contact is one customer request moving through the router. Values read
// from the router are copies and safe to keep.
type Contact struct {
	ID       string   `json:"id"`
	Channel  Channel  `json:"channel"`
	Queue    string   `json:"queue"`
	Customer Customer `json:"customer"`
	Subject  string   `json:"subject,omitempty"`

	// Requirements are what the contact asked for (or its queue's
	// defaults); Effective is what is in force after Step relaxation
	// steps of the queue.
	Requirements []Requirement `json:"requirements"`
	Effective    []Requirement `json:"effective_requirements"`
	Step         int           `json:"relaxation_step"`

	// Priority is as requested; Rank is the priority used for ordering
	// (Priority + queue priority + customer-value boost).
	Priority int `json:"priority"`
	Rank     int `json:"rank"`

	// Preferred agents get the contact first, until PreferredUntil.
	Preferred      []string  `json:"preferred_agents,omitempty"`
	PreferredUntil time.Time `json:"preferred_until,omitzero"`

	State   ContactState `json:"state"`
	AgentID string       `json:"agent_id,omitempty"`
	// Declined lists agents who declined or missed the contact; it is
	// never offered to them again.
	Declined []string `json:"declined_by,omitempty"`

	// IdempotencyKey is the client's key for safe retries of the create;
	// IdempotencyHash is a digest of the request it came with.
	IdempotencyKey  string `json:"-"`
	IdempotencyHash string `json:"-"`

	CreatedAt time.Time `json:"created_at"`
	// Returned is set on a contact taken back from an agent who did not
	// come back in time; it waits at the front of its queue.
	Returned bool `json:"returned,omitempty"`
	// EnqueuedAt orders waiting contacts (age); a declined contact keeps it.
	EnqueuedAt time.Time `json:"enqueued_at"`
	// QueuedAt is when the contact entered its current queue; relaxation
	// steps and the maximum wait count from it.
	QueuedAt     time.Time `json:"queued_at"`
	OfferedAt    time.Time `json:"offered_at,omitzero"`
	OfferExpires time.Time `json:"offer_expires,omitzero"`
	AssignedAt   time.Time `json:"assigned_at,omitzero"`
	EndedAt      time.Time `json:"ended_at,omitzero"`
	// OfferReason is why the contact was last offered (its offered
	// event's reason), kept in memory only: the screen pop reads it
	// instead of the timeline; a contact restored from the store has
	// none until offered again.
	OfferReason string `json:"-"`

	Disposition string `json:"disposition,omitempty"`
	Notes       string `json:"notes,omitempty"`
	// Tags are the agents' and supervisors' labels of the contact (SetTags),
	// sorted; never shown to the customer.
	Tags []string `json:"tags,omitempty"`

	// Follows is the ended contact this one continues: a customer wrote
	// again after it ended.
	Follows string `json:"follows,omitempty"`

	// TakenOverBy are the supervisors who took the contact over
	// (Router.TakeOver), in the order they did, each once, at most
	// MaxTakeOvers: each writes to the customer beside the agent, who
	// keeps the contact.
	TakenOverBy []TakeOver `json:"taken_over_by,omitempty"`
}

// TakeOver is a supervisor's take-over of a contact (Router.TakeOver).
type TakeOver struct {
	// ID is the supervisor's login id, or the name of the API token
	// that took the contact over; never shown to the customer.
	ID string `json:"id"`
	// Name is the supervisor's display name, the author's name of their
	// messages; empty when they have none (an API token).
	Name string    `json:"name,omitempty"`
	At   time.Time `json:"at"`
}

// TakenOver reports whether supervisor id took c over.
func (c Contact) TakenOver(id string) (TakeOver, bool) {
	for _, t := range c.TakenOverBy {
		if t.ID == id {
			return t, true
		}
	}
	return TakeOver{}, false
}

// ForAgent is the contact as an agent may see it: without the id of the
// known customer that an unverified claim matches (Customer.ClaimedID),
// whose existence alone the screen pop tells.
func (c Contact) ForAgent() Contact {
	c.Customer.ClaimedID = ""
	return c
}

// Names of a contact's timeline events (Event.Event), which readers may
// act on: the screen pop's routing reason, the event log, the stats.
const (
	EventAbandoned        = "abandoned"
	EventAssigned         = "assigned"
	EventClaimForgotten   = "claim_forgotten"
	EventClosed           = "closed"
	EventCreated          = "created"
	EventCustomerLeft     = "customer_left"
	EventDeclined         = "declined"
	EventOfferTimeout     = "offer_timeout"
	EventOfferWithdrawn   = "offer_withdrawn"
	EventOffered          = "offered"
	EventOverflowed       = "overflowed"
	EventPreferredTimeout = "preferred_timeout"
	EventRelaxed          = "relaxed"
	EventReturned         = "returned"
	// EventSupervisorMessage: a supervisor who took the contact over
	// wrote to the customer (the reason names the message's seq).
	EventSupervisorMessage = "supervisor_message"
	EventTagged            = "tagged"
	// EventTakenOver: a supervisor took the contact over (TakeOver).
	EventTakenOver   = "taken_over"
	EventTransferred = "transferred"
	EventVerified    = "verified"
	// EventWhisper: a supervisor wrote a note to the contact's agent (a
	// whisper; the reason names the note's seq).
	EventWhisper = "whisper"
	EventWrapup  = "wrapup"
)

// Event is one entry of a contact's timeline.
type Event struct {
	ContactID string    `json:"-"`
	Seq       int       `json:"seq"`
	At        time.Time `json:"at"`
	Event     string    `json:"event"`
	AgentID   string    `json:"agent_id,omitempty"`
	// Queue is the contact's queue when the event happened; for a
	// transfer, the queue it left (Reason says where it went).
	Queue  string `json:"queue,omitempty"`
	Reason string `json:"reason,omitempty"`
	// By is who asked for what the event records (WithActor: "sam
	// (supervisor)", "alice (agent)", "crm (integration)"); empty for
	// what the router decided itself (routing, timers).
	By string `json:"by,omitempty"`
}

// Message is one message of a contact's conversation.
//
// The same model serves every channel: the chat and the API fill in
// little, email fills in the subject, the HTML, the threading references
// and attachments, SMS the attachments of an MMS. ExternalID is the
// channel's own id of the message (an email's Message-ID, an SMS's
// MessageSid): a message with an ExternalID already stored, on any
// contact, live or ended, is never stored twice.
type Message struct {
	ContactID string    `json:"-"`
	Seq       int       `json:"seq"`
	At        time.Time `json:"at"`
	// Direction is "in" (from the customer), "out" (to the customer) or
	// "note" (DirectionNote: an agent's or supervisor's internal note, a
	// supervisor's whisper to the agent; never shown or sent to the
	// customer: Message.ForCustomer).
	Direction string `json:"direction"`
	// Author identifies who wrote it: an agent's id, a supervisor's login
	// id; for a customer the name they gave (as AuthorName).
	Author string `json:"author,omitempty"`
	// AuthorKind is AuthorCustomer, AuthorAgent, AuthorSupervisor (a
	// whisper, or a message to the customer of a supervisor who took the
	// contact over) or AuthorSystem; empty in messages stored before it
	// existed.
	AuthorKind string `json:"author_kind,omitempty"`
	// AuthorName is the author's display name, kept apart from Author.
	AuthorName string `json:"author_name,omitempty"`
	// Body is the message as text.
	Body string `json:"body"`
	// Subject is an email's subject; HTML its HTML alternative, sanitized
	// by the channel before it reaches the router.
	Subject string `json:"subject,omitempty"`
	HTML    string `json:"html,omitempty"`
	// ClientID deduplicates resends from the same client.
	ClientID string `json:"client_id,omitempty"`
	// ExternalID is the channel's id of the message (see above).
	ExternalID string `json:"external_id,omitempty"`
	// References are the channel's ids of the messages this one answers
	// (an email's In-Reply-To and References), oldest first.
	References []string `json:"references,omitempty"`
	// To and Cc are an email's recipients as written, "Name <address>"
	// or an address; an agent's reply copies the customer's Cc.
	To          []string     `json:"to,omitempty"`
	Cc          []string     `json:"cc,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Delivery is an outbound message's delivery; nil for inbound ones.
	Delivery *Delivery `json:"delivery,omitempty"`
}

// DirectionNote is the direction of an internal note (Message.Direction).
const DirectionNote = "note"

// ForCustomer reports whether the customer may see m: every message but
// an internal note. Every channel's view of a conversation asks it.
func (m Message) ForCustomer() bool { return m.Direction != DirectionNote }

// Kinds of message authors (Message.AuthorKind).
const (
	AuthorCustomer   = "customer"
	AuthorAgent      = "agent"
	AuthorSupervisor = "supervisor"
	AuthorSystem     = "system"
)

// Attachment describes a file of a message; its content is kept apart,
// by its hash.
type Attachment struct {
	Name string `json:"name"`
	// Type is the media type the sender declared.
	Type string `json:"type"`
	Size int64  `json:"size"`
	// SHA256 is the hex digest of the content; empty while it is only
	// referenced (URL).
	SHA256 string `json:"sha256,omitempty"`
	// URL is where the channel's provider keeps it (an MMS's media),
	// when the content is not fetched.
	URL string `json:"url,omitempty"`
}

// DeliveryStatus is where an outbound message stands.
type DeliveryStatus string

// Delivery statuses, in their usual order; failed ends it.
const (
	DeliveryQueued    DeliveryStatus = "queued"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Advances reports whether a message whose delivery is s may move to
// next: statuses only move forward (queued, sent, delivered, read), a
// message not yet delivered may fail, and a failed one stays failed. A
// provider's late report of an earlier status is ignored by this rule.
func (s DeliveryStatus) Advances(next DeliveryStatus) bool {
	if s == DeliveryFailed {
		return false
	}
	if next == DeliveryFailed {
		return s == "" || s == DeliveryQueued || s == DeliverySent
	}
	return deliveryRank[next] > deliveryRank[s]
}

// deliveryRank orders the statuses that follow each other; failed is
// apart (Advances).
var deliveryRank = map[DeliveryStatus]int{
	DeliveryQueued: 1, DeliverySent: 2, DeliveryDelivered: 3, DeliveryRead: 4,
}

// Delivery is the delivery state of an outbound message.
type Delivery struct {
	Status DeliveryStatus `json:"status"`
	// Reason is the provider's, for a failure.
	Reason   string    `json:"reason,omitempty"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
	// ExternalID is the provider's id of the message (an SMS's
	// MessageSid), named when it accepted the message: RecordDelivery
	// stores it as the message's ExternalID, by which the provider's
	// status reports find the message (store.MessageByExternalID). Empty
	// changes nothing; it is not part of the delivery's record.
	ExternalID string `json:"-"`
}

// Agent is a person who takes contacts. Name, Skills and Capacity are
// durable; the rest is runtime state (agents start offline).
type Agent struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	Skills   map[string]int `json:"skills"`
	Capacity map[string]int `json:"capacity"`

	State  AgentState `json:"state"`
	Reason string     `json:"reason,omitempty"`
	// StateSince is when State last changed.
	StateSince time.Time `json:"state_since"`
	// WrapUpUntil is when the agent's wrap-up ends, while State is wrapup.
	WrapUpUntil time.Time `json:"wrapup_until,omitzero"`
	// IdleSince is when the agent last became available, was last given a
	// contact, or last finished one, whichever is latest; longest idle
	// routing picks the smallest.
	IdleSince time.Time `json:"idle_since,omitzero"`
	// Active counts the agent's contacts (offered, assigned, wrap-up) per
	// channel; it never exceeds Capacity.
	Active map[string]int `json:"active"`
	// Offer is the id of the contact being offered to the agent, if any.
	// An agent has at most one offer ringing at a time.
	Offer string `json:"offer,omitempty"`
	// Contacts are the ids of the agent's offered, assigned and wrap-up
	// contacts.
	Contacts []string `json:"contacts"`
	// GraceUntil is set while a disconnected agent's contacts wait for it
	// to come back; after it they return to their queues.
	GraceUntil time.Time `json:"grace_until,omitzero"`
	// Connected is set while a client of the agent (a desktop) is
	// connected: AgentConnected until AgentDisconnected or AgentSignedOut.
	// With Options.RequirePresence only a connected agent is available.
	Connected bool `json:"connected"`

	// skillsRev changes whenever Skills is replaced.
	skillsRev uint64
	// resume is the state to restore when a dropped desktop comes back
	// before resumeUntil (AgentDisconnected), with its reason.
	resume       AgentState
	resumeReason string
	resumeUntil  time.Time
}

// RelaxStep loosens a queue's requirements once a contact has waited
// After in the queue. Steps are cumulative, applied in order.
type RelaxStep struct {
	Name  string   `json:"name"`
	After Duration `json:"after"`
	// Drop removes the requirements on these skills ("*" drops all).
	Drop []string `json:"drop,omitempty"`
	// Min lowers (or raises) the minimum level of a skill's requirement.
	Min map[string]int `json:"min,omitempty"`
}

// ServiceLevel is the target share of contacts answered within a time.
type ServiceLevel struct {
	// Target is a fraction, 0.8 for 80 %.
	Target float64  `json:"target"`
	Within Duration `json:"within"`
	// ShortAbandon: a contact abandoned within it (a wrong number, a
	// customer who changed their mind at once) counts in no service
	// level (docs/metrics.md); 0 counts every abandon.
	ShortAbandon Duration `json:"short_abandon,omitempty"`
}

// MaxShortAbandon bounds ServiceLevel.ShortAbandon.
const MaxShortAbandon = 5 * time.Minute

// ValueTier raises the rank of contacts from customers worth at least Min.
type ValueTier struct {
	Min   float64 `json:"min"`
	Boost int     `json:"boost"`
}

// Queue is where contacts wait, with the rules that route them.
type Queue struct {
	Name         string        `json:"name"`
	Requirements []Requirement `json:"requirements"`
	Priority     int           `json:"priority"`
	Strategy     Strategy      `json:"strategy"`
	ServiceLevel ServiceLevel  `json:"service_level"`
	Relaxation   []RelaxStep   `json:"relaxation,omitempty"`
	// MaxWait moves a contact still queued after this long to Overflow
	// (0: no limit).
	MaxWait  Duration `json:"max_wait,omitempty"`
	Overflow string   `json:"overflow,omitempty"`
	// WrapUp is how long an agent stays in wrap-up after a contact of this
	// queue (0: the router's default).
	WrapUp     Duration    `json:"wrapup,omitempty"`
	ValueTiers []ValueTier `json:"value_tiers,omitempty"`
	// SegmentBoosts raise the rank of contacts from customers of a
	// segment; added to the value tier's boost.
	SegmentBoosts map[string]int `json:"segment_boosts,omitempty"`
	// Hours names the queue's business hours, one of Options.Calendars;
	// empty means always open. Readers ask Snapshot.Hours.
	Hours string `json:"hours,omitempty"`
}

// Batch is one atomic, durable commit: everything a group of router
// commands changed.
type Batch struct {
	// Agents are upserted (durable fields only: ID, Name, Skills, Capacity).
	Agents        []Agent
	DeletedAgents []string
	Queues        []Queue
	DeletedQueues []string
	// Contacts are upserted whole (the current state row).
	Contacts []Contact
	// Events are appended to contact timelines.
	Events   []Event
	Messages []Message
	// Outbox entries are upserted by ID: new ones with their outbound
	// message, changed ones as their delivery goes.
	Outbox []OutboxEntry
	// Deliveries set the delivery of messages already stored.
	Deliveries []DeliveryUpdate
	// Log entries are appended to the durable event log, in order
	// (Options.EventLog); the store numbers them.
	Log []LogEntry
	// Tags replace the tags stored for a contact (the search index of
	// Contact.Tags), in order: a later entry for the same contact wins.
	Tags []ContactTags
	// AgentStates are appended to the agents' state histories, in order.
	AgentStates []AgentStateChange
}

// AgentStateChange is one entry of an agent's state history: from At on,
// the agent was State (with Reason, for away and offline), because of Why
// (the router's words), at the request of By (WithActor; empty for what
// the router decided itself: a wrap-up ending, a desktop dropping).
type AgentStateChange struct {
	AgentID string     `json:"agent_id"`
	At      time.Time  `json:"at"`
	State   AgentState `json:"state"`
	Reason  string     `json:"reason,omitempty"`
	Why     string     `json:"why,omitempty"`
	By      string     `json:"by,omitempty"`
}

// ContactTags are the tags a contact carries now.
type ContactTags struct {
	ContactID string
	Tags      []string
}

// OutboxEntry asks for an outbound message to be delivered on its
// contact's channel. It is committed with the message, so that a crash
// between the commit and the delivery loses nothing: the dispatcher
// delivers what is not Done, again after a restart (at least once).
type OutboxEntry struct {
	// ID is stable across attempts and restarts (OutboxID): what
	// providers and receivers deduplicate by.
	ID        string
	Channel   Channel
	ContactID string
	Seq       int
	CreatedAt time.Time
	// DueAt is when the next attempt may start.
	DueAt    time.Time
	Attempts int
	// LastError is the last attempt's failure, empty after a success.
	LastError string
	// Done is set once it was delivered or given up on.
	Done bool
}

// OutboxID is the outbox entry of message seq of a contact.
func OutboxID(contactID string, seq int) string { return contactID + "/" + strconv.Itoa(seq) }

// DeliveryUpdate is the new delivery state of a stored message; a
// Delivery.ExternalID not empty becomes the message's ExternalID.
type DeliveryUpdate struct {
	ContactID string
	Seq       int
	Delivery  Delivery
}

// Empty reports whether the batch changes nothing.
func (b *Batch) Empty() bool {
	return len(b.Agents) == 0 && len(b.DeletedAgents) == 0 && len(b.Queues) == 0 &&
		len(b.DeletedQueues) == 0 && len(b.Contacts) == 0 && len(b.Events) == 0 && len(b.Messages) == 0 &&
		len(b.Outbox) == 0 && len(b.Deliveries) == 0 && len(b.Log) == 0 && len(b.Tags) == 0 && len(b.AgentStates) == 0
}

// Inbound counts the messages from a contact's customer (direction "in")
// and the bytes of their bodies.
type Inbound struct {
	Messages, Bytes int
}

// Loaded is what the router reads back from its store on start.
type Loaded struct {
	Agents []Agent
	Queues []Queue
	// Contacts are those not in a final state, with NextEventSeq and
	// NextMessageSeq giving the next sequence numbers to use.
	Contacts       []Contact
	NextEventSeq   map[string]int
	NextMessageSeq map[string]int
	// Inbound is what the customer of each of those contacts has sent,
	// for the customer limits; a contact not in it has sent nothing.
	Inbound map[string]Inbound
	// ClientMessages are the messages of those contacts that carry a
	// ClientID, so that a resend after a restart is still recognised.
	ClientMessages []Message
}
