package store

import (
	"fmt"
	"time"

	"github.com/switchboard/switchboard/router"
)

// contactRecordVersion is the version of contactRecord this store writes.
const contactRecordVersion = 1

// contactRecord is how the store keeps a contact, as JSON in the data
// column of contacts. It is the store's own type, not the router's or the
// API's JSON: renaming a field of those can no longer drop a stored field
// on restart. Its names are those written since version 1 (the router's
// JSON of the time, which earlier releases wrote). Change one only with a
// new version and a reader of the old one; TestContactRecordGolden reads
// records as earlier versions wrote them, and TestContactRecordRoundTrip
// fails when the router's Contact gains a field this type does not keep.
type contactRecord struct {
	// Version is contactRecordVersion when written; absent in records
	// written before versions were recorded, which are version 1.
	Version        int                 `json:"v,omitempty"`
	ID             string              `json:"id"`
	Channel        string              `json:"channel"`
	Queue          string              `json:"queue"`
	Customer       customerRecord      `json:"customer"`
	Subject        string              `json:"subject,omitempty"`
	Requirements   []requirementRecord `json:"requirements"`
	Effective      []requirementRecord `json:"effective_requirements"`
	Step           int                 `json:"relaxation_step"`
	Priority       int                 `json:"priority"`
	Rank           int                 `json:"rank"`
	Preferred      []string            `json:"preferred_agents,omitempty"`
	PreferredUntil time.Time           `json:"preferred_until,omitzero"`
	State          string              `json:"state"`
	AgentID        string              `json:"agent_id,omitempty"`
	Declined       []string            `json:"declined_by,omitempty"`
	CreatedAt      time.Time           `json:"created_at"`
	Returned       bool                `json:"returned,omitempty"`
	EnqueuedAt     time.Time           `json:"enqueued_at"`
	QueuedAt       time.Time           `json:"queued_at"`
	OfferedAt      time.Time           `json:"offered_at,omitzero"`
	OfferExpires   time.Time           `json:"offer_expires,omitzero"`
	AssignedAt     time.Time           `json:"assigned_at,omitzero"`
	EndedAt        time.Time           `json:"ended_at,omitzero"`
	Disposition    string              `json:"disposition,omitempty"`
	Notes          string              `json:"notes,omitempty"`
	Follows        string              `json:"follows,omitempty"`
	// The idempotency key and hash have columns of their own.
}

// customerRecord is the customer of a contactRecord.
type customerRecord struct {
	ID        string  `json:"id,omitempty"`
	Name      string  `json:"name,omitempty"`
	Email     string  `json:"email,omitempty"`
	Phone     string  `json:"phone,omitempty"`
	Verified  bool    `json:"verified,omitempty"`
	Value     float64 `json:"value,omitempty"`
	Segment   string  `json:"segment,omitempty"`
	ClaimedID string  `json:"claimed_id,omitempty"`
}

// requirementRecord is a requirement of a contactRecord.
type requirementRecord struct {
	Skill string `json:"skill"`
	Min   int    `json:"min"`
}

// recordOfContact is what the store writes of c (but its idempotency key
// and hash).
func recordOfContact(c *router.Contact) contactRecord {
	cu := c.Customer
	return contactRecord{
		Version: contactRecordVersion,
		ID:      c.ID, Channel: c.Channel, Queue: c.Queue, Subject: c.Subject,
		Customer: customerRecord{ID: cu.ID, Name: cu.Name, Email: cu.Email, Phone: cu.Phone,
			Verified: cu.Verified, Value: cu.Value, Segment: cu.Segment, ClaimedID: cu.ClaimedID},
		Requirements: requirementRecords(c.Requirements), Effective: requirementRecords(c.Effective), Step: c.Step,
		Priority: c.Priority, Rank: c.Rank, Preferred: c.Preferred, PreferredUntil: c.PreferredUntil,
		State: string(c.State), AgentID: c.AgentID, Declined: c.Declined,
		CreatedAt: c.CreatedAt, Returned: c.Returned, EnqueuedAt: c.EnqueuedAt, QueuedAt: c.QueuedAt,
		OfferedAt: c.OfferedAt, OfferExpires: c.OfferExpires, AssignedAt: c.AssignedAt, EndedAt: c.EndedAt,
		Disposition: c.Disposition, Notes: c.Notes, Follows: c.Follows,
	}
}

// contact is the contact r keeps, its times in UTC; an error for a record
// written by a later version, which this one cannot be sure to read whole.
func (r contactRecord) contact() (router.Contact, error) {
	if r.Version > contactRecordVersion {
		return router.Contact{}, fmt.Errorf("contact %q: record version %d is newer than this release reads (%d): upgrade switchboard", r.ID, r.Version, contactRecordVersion)
	}
	cu := r.Customer
	return router.Contact{
		ID: r.ID, Channel: r.Channel, Queue: r.Queue, Subject: r.Subject,
		Customer: router.Customer{ID: cu.ID, Name: cu.Name, Email: cu.Email, Phone: cu.Phone,
			Verified: cu.Verified, Value: cu.Value, Segment: cu.Segment, ClaimedID: cu.ClaimedID},
		Requirements: requirements(r.Requirements), Effective: requirements(r.Effective), Step: r.Step,
		Priority: r.Priority, Rank: r.Rank, Preferred: r.Preferred, PreferredUntil: utc(r.PreferredUntil),
		State: router.ContactState(r.State), AgentID: r.AgentID, Declined: r.Declined,
		CreatedAt: utc(r.CreatedAt), Returned: r.Returned, EnqueuedAt: utc(r.EnqueuedAt), QueuedAt: utc(r.QueuedAt),
		OfferedAt: utc(r.OfferedAt), OfferExpires: utc(r.OfferExpires), AssignedAt: utc(r.AssignedAt), EndedAt: utc(r.EndedAt),
		Disposition: r.Disposition, Notes: r.Notes, Follows: r.Follows,
	}, nil
}

func requirementRecords(rs []router.Requirement) []requirementRecord {
	if rs == nil {
		return nil
	}
	out := make([]requirementRecord, len(rs))
	for i, r := range rs {
		out[i] = requirementRecord{Skill: r.Skill, Min: r.Min}
	}
	return out
}

func requirements(rs []requirementRecord) []router.Requirement {
	if rs == nil {
		return nil
	}
	out := make([]router.Requirement, len(rs))
	for i, r := range rs {
		out[i] = router.Requirement{Skill: r.Skill, Min: r.Min}
	}
	return out
}

// utc is t in UTC; the zero time stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
