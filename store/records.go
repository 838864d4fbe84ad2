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
	Tags           []string            `json:"tags,omitempty"`
	Follows        string              `json:"follows,omitempty"`
	// TakenOverBy was added within version 1: absent in earlier records,
	// which no supervisor took over.
	TakenOverBy []takeOverRecord `json:"taken_over_by,omitempty"`
	// The idempotency key and hash have columns of their own.
}

// takeOverRecord is a supervisor's take-over of a contactRecord.
type takeOverRecord struct {
	ID   string    `json:"id"`
	Name string    `json:"name,omitempty"`
	At   time.Time `json:"at"`
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
		Disposition: c.Disposition, Notes: c.Notes, Tags: c.Tags, Follows: c.Follows,
		TakenOverBy: takeOverRecords(c.TakenOverBy),
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
		Disposition: r.Disposition, Notes: r.Notes, Tags: r.Tags, Follows: r.Follows,
		TakenOverBy: takeOvers(r.TakenOverBy),
	}, nil
}

func takeOverRecords(ts []router.TakeOver) []takeOverRecord {
	if ts == nil {
		return nil
	}
	out := make([]takeOverRecord, len(ts))
	for i, t := range ts {
		out[i] = takeOverRecord{ID: t.ID, Name: t.Name, At: t.At}
	}
	return out
}

func takeOvers(rs []takeOverRecord) []router.TakeOver {
	if rs == nil {
		return nil
	}
	out := make([]router.TakeOver, len(rs))
	for i, r := range rs {
		out[i] = router.TakeOver{ID: r.ID, Name: r.Name, At: utc(r.At)}
	}
	return out
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

// queueRecordVersion is the version of queueRecord this store writes.
const queueRecordVersion = 1

// queueRecord is how the store keeps a queue's definition, as JSON in the
// def column of queues: the store's own type, as contactRecord is, whose
// names are those written since version 1 (the router's JSON of the
// time). TestQueueRecordGolden and TestQueueRecordRoundTrip hold it.
type queueRecord struct {
	// Version is queueRecordVersion when written; absent (version 1) in
	// records written before versions were recorded.
	Version       int                 `json:"v,omitempty"`
	Name          string              `json:"name"`
	Requirements  []requirementRecord `json:"requirements"`
	Priority      int                 `json:"priority"`
	Strategy      string              `json:"strategy"`
	ServiceLevel  serviceLevelRecord  `json:"service_level"`
	Relaxation    []relaxStepRecord   `json:"relaxation,omitempty"`
	MaxWait       durationRecord      `json:"max_wait,omitempty"`
	Overflow      string              `json:"overflow,omitempty"`
	WrapUp        durationRecord      `json:"wrapup,omitempty"`
	ValueTiers    []valueTierRecord   `json:"value_tiers,omitempty"`
	SegmentBoosts map[string]int      `json:"segment_boosts,omitempty"`
	Hours         string              `json:"hours,omitempty"`
}

type serviceLevelRecord struct {
	Target       float64        `json:"target"`
	Within       durationRecord `json:"within"`
	ShortAbandon durationRecord `json:"short_abandon,omitempty"`
}

type relaxStepRecord struct {
	Name  string         `json:"name"`
	After durationRecord `json:"after"`
	Drop  []string       `json:"drop,omitempty"`
	Min   map[string]int `json:"min,omitempty"`
}

type valueTierRecord struct {
	Min   float64 `json:"min"`
	Boost int     `json:"boost"`
}

// durationRecord is a duration kept in Go's syntax ("1m30s").
type durationRecord time.Duration

func (d durationRecord) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

func (d *durationRecord) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	*d = durationRecord(v)
	return nil
}

// recordOfQueue is what the store writes of q.
func recordOfQueue(q router.Queue) queueRecord {
	r := queueRecord{
		Version: queueRecordVersion, Name: q.Name, Requirements: requirementRecords(q.Requirements),
		Priority: q.Priority, Strategy: string(q.Strategy),
		ServiceLevel: serviceLevelRecord{Target: q.ServiceLevel.Target, Within: durationRecord(q.ServiceLevel.Within),
			ShortAbandon: durationRecord(q.ServiceLevel.ShortAbandon)},
		MaxWait: durationRecord(q.MaxWait), Overflow: q.Overflow, WrapUp: durationRecord(q.WrapUp),
		SegmentBoosts: q.SegmentBoosts, Hours: q.Hours,
	}
	for _, s := range q.Relaxation {
		r.Relaxation = append(r.Relaxation, relaxStepRecord{Name: s.Name, After: durationRecord(s.After), Drop: s.Drop, Min: s.Min})
	}
	for _, t := range q.ValueTiers {
		r.ValueTiers = append(r.ValueTiers, valueTierRecord{Min: t.Min, Boost: t.Boost})
	}
	return r
}

// queue is the queue r keeps; an error for a record written by a later
// version.
func (r queueRecord) queue() (router.Queue, error) {
	if r.Version > queueRecordVersion {
		return router.Queue{}, fmt.Errorf("queue %q: record version %d is newer than this release reads (%d): upgrade switchboard", r.Name, r.Version, queueRecordVersion)
	}
	q := router.Queue{
		Name: r.Name, Requirements: requirements(r.Requirements), Priority: r.Priority, Strategy: router.Strategy(r.Strategy),
		ServiceLevel: router.ServiceLevel{Target: r.ServiceLevel.Target, Within: router.Duration(r.ServiceLevel.Within),
			ShortAbandon: router.Duration(r.ServiceLevel.ShortAbandon)},
		MaxWait: router.Duration(r.MaxWait), Overflow: r.Overflow, WrapUp: router.Duration(r.WrapUp),
		SegmentBoosts: r.SegmentBoosts, Hours: r.Hours,
	}
	for _, s := range r.Relaxation {
		q.Relaxation = append(q.Relaxation, router.RelaxStep{Name: s.Name, After: router.Duration(s.After), Drop: s.Drop, Min: s.Min})
	}
	for _, t := range r.ValueTiers {
		q.ValueTiers = append(q.ValueTiers, router.ValueTier{Min: t.Min, Boost: t.Boost})
	}
	return q, nil
}
