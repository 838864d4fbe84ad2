package router

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard/switchboard/inbound"
)

// Limits of the router's definitions, shared by every entry point (the
// configuration, the HTTP API, the router itself).
const (
	// MaxNameLen bounds an id or a name: agents, queues, skills, steps.
	MaxNameLen = maxIDLen
	// MaxRequirements bounds the requirements of a queue or a contact.
	MaxRequirements = maxRequirements
	// MaxLevel is the highest skill level.
	MaxLevel = maxLevel
	// MaxPriority bounds a priority and a boost, either way.
	MaxPriority = maxPriority
	// MaxSegmentLen bounds a customer segment's name, in bytes.
	MaxSegmentLen = maxSegmentLen
	// MaxTextLen bounds a free text an agent gives: a reason, notes.
	MaxTextLen = maxTextLen
	// MaxAgentNameLen bounds an agent's display name, in bytes.
	MaxAgentNameLen = 200
	// MaxSkills bounds the skills of an agent.
	MaxSkills = maxSkills
	// MaxCapacity bounds how many contacts of one channel an agent takes
	// at once.
	MaxCapacity = maxCapacity
	// MaxTags bounds the tags of a contact.
	MaxTags = 20
	// MaxTakeOvers bounds the supervisors who take one contact over.
	MaxTakeOvers = 10
	// MaxVerificationMethodLen bounds how an agent says they verified a
	// customer ("security questions"), in bytes.
	MaxVerificationMethodLen = 64
)

// Limits of what a new contact and a message carry (NewContact.Validate,
// and the router's check of every message), shared by every channel:
// a channel that fits what arrives to them (the email channel cuts a
// long display name) uses these.
const (
	// MaxSubjectLen bounds a contact's or a message's subject, an
	// author, a recipient and a file's name, in bytes.
	MaxSubjectLen = 1000
	// MaxBodyLen bounds a message's body, in bytes.
	MaxBodyLen = 64 << 10
	// MaxHTMLLen bounds a message's sanitized HTML, in bytes.
	MaxHTMLLen = 1 << 20
	// MaxExternalIDLen bounds a channel's id of a message and each of
	// its references, in bytes.
	MaxExternalIDLen = 1000
	// MaxReferences bounds a message's references, and its recipients
	// (To and Cc together).
	MaxReferences = 100
	// MaxAttachments bounds the files of one message.
	MaxAttachments = 50
	// MaxClientIDLen bounds the id a client gives a message to
	// deduplicate its resends, in bytes.
	MaxClientIDLen = maxIDLen
	// MaxPreferred bounds a contact's preferred agents.
	MaxPreferred = 8
	// MaxPreferredTimeout bounds how long preferred agents have a
	// contact to themselves.
	MaxPreferredTimeout = 10 * time.Minute
	// MaxIdempotencyKeyLen bounds an idempotency key, in bytes.
	MaxIdempotencyKeyLen = 200
	// MaxCustomerIDLen bounds a customer's id (a profile's), in bytes.
	MaxCustomerIDLen = 200
	// MaxCustomerNameLen bounds a customer's name, in characters, as
	// the router keeps it (package inbound).
	MaxCustomerNameLen = 100
	// MaxEmailLen bounds an email address: the longest RFC 5321 allows
	// in a path.
	MaxEmailLen = 254
	// MaxPhoneLen bounds a phone number as written, separators
	// included, in bytes.
	MaxPhoneLen = 32
)

// NormalizeTag is the one rule of a contact's tag: a name (ValidateName)
// in lower case, so that "VIP" and "vip" are one tag and a search finds
// both; field names it in errors.
func NormalizeTag(field, s string) (string, *Error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if err := ValidateName(field, "tag", t); err != nil {
		return "", err
	}
	return t, nil
}

// plainKey is a map key that a field path names with a dot
// ("min.english"); any other is quoted in brackets (`min["a b"]`), as
// the configuration's paths do.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// KeyPath is the field path of key in the map (or struct) at path; at
// the top (path empty) a plain key is the path itself. The HTTP API's
// and the configuration's paths are written by it.
func KeyPath(path, key string) string {
	switch {
	case !plainKey.MatchString(key):
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	}
	return path + "." + key
}

// nameRule is what a valid name is, for the messages.
const nameRule = `want up to 64 letters, digits and "._@+-", starting with a letter or digit`

// ValidateName reports a name (an id, a queue, a skill, a channel, a
// step, a calendar, a code) that is empty or not valid, naming it by what
// it is; nil if it is valid. This is the one rule of what a name looks
// like.
func ValidateName(field, what, s string) *Error {
	switch {
	case s == "":
		return invalidf(field, "empty %s (%s)", what, nameRule)
	case len(s) > MaxNameLen || !validName.MatchString(s):
		if len(s) > MaxNameLen {
			s = s[:MaxNameLen] + "..."
		}
		return invalidf(field, "invalid %s %q (%s)", what, s, nameRule)
	}
	return nil
}

// Validate checks everything a queue says of itself and returns every
// problem, each naming its field relative to the queue
// ("relaxation[1].after"), in the order of the fields; none is nil. What
// needs other definitions (that the overflow queue and the calendar
// exist, that names are unique across queues) is checked by whoever
// holds them: the router when it takes the queue, the configuration for
// its file. This is the one rule of a queue: the configuration, the HTTP
// API and the router all use it.
func (q Queue) Validate() []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	add(ValidateName("name", "queue name", q.Name))
	errs = append(errs, validateRequirements("requirements", q.Requirements)...)
	if q.Priority < -MaxPriority || q.Priority > MaxPriority {
		add(invalidf("priority", "%d is out of range (want %d to %d)", q.Priority, -MaxPriority, MaxPriority))
	}
	if !q.Strategy.Valid() {
		add(invalidf("strategy", "unknown strategy %q (want longest_idle, least_occupied, best_skill or round_robin)", q.Strategy))
	}
	sl := q.ServiceLevel
	if math.IsNaN(sl.Target) || sl.Target < 0 || sl.Target > 1 {
		add(invalidf("service_level.target", "%v is outside 0..1 (want a fraction, such as 0.8 for 80 %%)", sl.Target))
	}
	if sl.Within < 0 {
		add(invalidf("service_level.within", "negative duration %s (want such as \"20s\")", sl.Within.D()))
	} else if sl.Target > 0 && sl.Within == 0 {
		add(invalidf("service_level.within", "missing (want the time within which the target share is answered, such as \"20s\")"))
	}
	if sl.ShortAbandon < 0 || sl.ShortAbandon.D() > MaxShortAbandon {
		add(invalidf("service_level.short_abandon", "%s (want 0 to count every abandon, or up to %s, such as \"5s\")", sl.ShortAbandon.D(), MaxShortAbandon))
	}
	errs = append(errs, validateRelaxation(q.Relaxation)...)
	switch {
	case q.MaxWait < 0:
		add(invalidf("max_wait", "negative duration %s (want 0 for no limit, or such as \"5m\")", q.MaxWait.D()))
	case q.MaxWait > 0 && q.Overflow == "":
		add(invalidf("max_wait", "set without an overflow queue (want overflow naming the queue contacts move to)"))
	}
	if q.Overflow != "" && q.Overflow == q.Name {
		add(invalidf("overflow", "queue %q overflows into itself (want another queue)", q.Name))
	}
	if q.WrapUp < 0 {
		add(invalidf("wrapup", "negative duration %s (want 0 for the routing default, or such as \"30s\")", q.WrapUp.D()))
	}
	for j, t := range q.ValueTiers {
		tp := fmt.Sprintf("value_tiers[%d]", j)
		if math.IsNaN(t.Min) || math.IsInf(t.Min, 0) || t.Min < 0 {
			add(invalidf(tp+".min", "%v is not a customer value (want 0 or more)", t.Min))
		} else if j > 0 && t.Min <= q.ValueTiers[j-1].Min {
			add(invalidf(tp+".min", "%v is not above the previous tier's %v (want tiers in increasing order of min)", t.Min, q.ValueTiers[j-1].Min))
		}
		if t.Boost < 0 || t.Boost > MaxPriority {
			add(invalidf(tp+".boost", "%d is out of range (want 0 to %d)", t.Boost, MaxPriority))
		}
	}
	for _, seg := range slices.Sorted(maps.Keys(q.SegmentBoosts)) {
		if seg == "" || len(seg) > MaxSegmentLen {
			add(invalidf("segment_boosts", "segment %q: want 1 to %d bytes", seg, MaxSegmentLen))
		} else if b := q.SegmentBoosts[seg]; b < 0 || b > MaxPriority {
			add(invalidf(KeyPath("segment_boosts", seg), "%d is out of range (want 0 to %d)", b, MaxPriority))
		}
	}
	return errs
}

// validateRequirements checks requirements at field: their number, each
// skill's name once, each level.
func validateRequirements(field string, reqs []Requirement) []*Error {
	var errs []*Error
	if len(reqs) > MaxRequirements {
		errs = append(errs, invalidf(field, "%d requirements (want at most %d)", len(reqs), MaxRequirements))
	}
	seen := map[string]string{}
	for j, r := range reqs {
		rp := fmt.Sprintf("%s[%d]", field, j)
		if e := ValidateName(rp+".skill", "skill", r.Skill); e != nil {
			errs = append(errs, e)
		} else if first, dup := seen[r.Skill]; dup {
			e := invalidf(rp+".skill", "skill %q is required twice", r.Skill)
			e.First = first
			errs = append(errs, e)
		} else {
			seen[r.Skill] = rp + ".skill"
		}
		if e := validateLevel(rp+".min", "level", r.Min); e != nil {
			errs = append(errs, e)
		}
	}
	return errs
}

// validateLevel checks a skill level, which the message calls what
// ("level", "skill level"): 0 to MaxLevel.
func validateLevel(field, what string, n int) *Error {
	switch {
	case n < 0:
		return invalidf(field, "negative %s %d (want 0 to %d)", what, n, MaxLevel)
	case n > MaxLevel:
		return invalidf(field, "%s %d is too high (want 0 to %d)", what, n, MaxLevel)
	}
	return nil
}

// ValidateCapacity checks how many contacts of one channel an agent
// takes at once: 0 to MaxCapacity.
func ValidateCapacity(field string, n int) *Error {
	switch {
	case n < 0:
		return invalidf(field, "negative capacity %d (want 0 to %d)", n, MaxCapacity)
	case n > MaxCapacity:
		return invalidf(field, "capacity %d is too high (want 0 to %d)", n, MaxCapacity)
	}
	return nil
}

// Validate checks everything an agent's definition says of itself (its
// id, name, skills and levels, and capacity per channel) and returns
// every problem, each naming its field relative to the agent
// ("skills.billing"), in the order of the fields; none is nil. What
// needs other definitions (that ids are unique, that a channel is one
// the daemon routes) is checked by whoever holds them. This is the one
// rule of an agent: the configuration, the HTTP API and the router all
// use it.
func (a Agent) Validate() []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	add(ValidateName("id", "agent id", a.ID))
	switch {
	case a.Name == "":
		add(invalidf("name", "empty agent name (want the name supervisors see)"))
	case len(a.Name) > MaxAgentNameLen:
		add(invalidf("name", "agent name %d bytes long (want at most %d)", len(a.Name), MaxAgentNameLen))
	}
	if len(a.Skills) > MaxSkills {
		add(invalidf("skills", "%d skills (want at most %d)", len(a.Skills), MaxSkills))
	}
	for _, skill := range slices.Sorted(maps.Keys(a.Skills)) {
		p := KeyPath("skills", skill)
		add(ValidateName(p, "skill", skill))
		add(validateLevel(p, "skill level", a.Skills[skill]))
	}
	for _, ch := range slices.Sorted(maps.Keys(a.Capacity)) {
		p := KeyPath("capacity", ch)
		add(ValidateName(p, "channel", ch))
		add(ValidateCapacity(p, a.Capacity[ch]))
	}
	return errs
}

// validateRelaxation checks a queue's relaxation steps: each named once,
// in strictly increasing order of after, each changing something, with
// valid skills and levels.
func validateRelaxation(steps []RelaxStep) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	names := map[string]string{}
	for j, s := range steps {
		sp := fmt.Sprintf("relaxation[%d]", j)
		switch {
		case s.Name == "":
			add(invalidf(sp+".name", "missing (want a name for the step, shown on dashboards)"))
		case names[s.Name] != "":
			e := invalidf(sp+".name", "duplicate step name %q", s.Name)
			e.First = names[s.Name]
			add(e)
		default:
			names[s.Name] = sp + ".name"
		}
		switch {
		case s.After < 0:
			add(invalidf(sp+".after", "negative duration %s (want such as \"30s\")", s.After.D()))
		case j > 0 && s.After <= steps[j-1].After:
			add(invalidf(sp+".after", "%s is not after the previous step's %s (want steps in increasing order of after)", s.After.D(), steps[j-1].After.D()))
		}
		if len(s.Drop) == 0 && len(s.Min) == 0 {
			add(invalidf(sp, "step %q changes nothing (want drop, min or both)", s.Name))
		}
		for k, d := range s.Drop {
			if d != "*" {
				add(ValidateName(fmt.Sprintf("%s.drop[%d]", sp, k), `skill (or "*" for all)`, d))
			}
		}
		for _, skill := range slices.Sorted(maps.Keys(s.Min)) {
			mp := KeyPath(sp+".min", skill)
			add(ValidateName(mp, "skill", skill))
			add(validateLevel(mp, "level", s.Min[skill]))
		}
	}
	return errs
}

// Validate checks what a customer of a new contact says of themselves:
// the id, name, email and phone within their limits (the name, as the
// router keeps it, without control characters), the value and the
// segment. It returns every problem, each naming its field relative to
// the customer ("name"), in the order of the fields; none is nil. Whether
// an email or a phone identifies anybody is the customers package's
// rule: a claim that does not is kept as given and identifies nobody.
func (cu Customer) Validate() []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if len(cu.ID) > MaxCustomerIDLen {
		add(invalidf("id", "customer id of %d bytes (want at most %d)", len(cu.ID), MaxCustomerIDLen))
	}
	name := inbound.Text(cu.Name)
	if n := utf8.RuneCountInString(name); n > MaxCustomerNameLen {
		add(invalidf("name", "customer name of %d characters (want at most %d)", n, MaxCustomerNameLen))
	} else if strings.ContainsFunc(name, unicode.IsControl) {
		add(invalidf("name", "customer name with a control character (want a name on one line, such as \"Ada Lovelace\")"))
	}
	if len(cu.Email) > MaxEmailLen {
		add(invalidf("email", "email of %d bytes (want at most %d)", len(cu.Email), MaxEmailLen))
	}
	if len(cu.Phone) > MaxPhoneLen {
		add(invalidf("phone", "phone of %d bytes (want at most %d)", len(cu.Phone), MaxPhoneLen))
	}
	if cu.Value < 0 || math.IsNaN(cu.Value) || math.IsInf(cu.Value, 0) {
		add(invalidf("value", "customer value %v (want 0 or more)", cu.Value))
	}
	if len(cu.Segment) > MaxSegmentLen {
		add(invalidf("segment", "customer segment longer than %d bytes", MaxSegmentLen))
	}
	return errs
}

// FitCustomerName returns name fitted to the rule of a customer's name
// (Customer.Validate): as the router keeps it (package inbound), control
// characters made spaces, cut at MaxCustomerNameLen characters. A channel
// whose names come as they are (an email's display name) and the follow-up
// of a contact stored before the rule use it, so that a name is never why
// a contact is refused.
func FitCustomerName(name string) string {
	name = strings.Join(strings.FieldsFunc(inbound.Text(name), unicode.IsControl), " ")
	n := 0
	for i := range name {
		if n == MaxCustomerNameLen {
			return strings.TrimSpace(name[:i])
		}
		n++
	}
	return strings.TrimSpace(name)
}

// Fitted returns cu fitted to the rule of a customer (Validate): the
// name by FitCustomerName, an id, email or phone over its limit left
// out, a value that is not one made 0, a segment over its limit left
// out. What was stored before the rule (a contact whose follow-up
// starts, one a replay submits again) is fitted so, never refused.
func (cu Customer) Fitted() Customer {
	cu.Name = FitCustomerName(cu.Name)
	for _, e := range cu.Validate() {
		switch e.Field {
		case "id":
			cu.ID = ""
		case "email":
			cu.Email = ""
		case "phone":
			cu.Phone = ""
		case "value":
			cu.Value = 0
		case "segment":
			cu.Segment = ""
		}
	}
	return cu
}

// ValidateIdempotencyKey checks an idempotency key, which the message
// calls what ("header Idempotency-Key"): empty (none), or 1 to
// MaxIdempotencyKeyLen bytes of printable ASCII without spaces.
func ValidateIdempotencyKey(field, what, key string) *Error {
	if len(key) > MaxIdempotencyKeyLen {
		return invalidf(field, "%s is %d bytes long; want at most %d", what, len(key), MaxIdempotencyKeyLen)
	}
	for _, c := range []byte(key) {
		if c < 0x21 || c > 0x7e {
			return invalidf(field, "%s: want printable ASCII without spaces", what)
		}
	}
	return nil
}

// Validate checks everything a new contact says of itself and returns
// every problem, each naming its field as the HTTP API's JSON spells it
// ("customer.name", "preferred_agents[1]"), in the order of the fields;
// none is nil. What needs the router's state (that the channel is
// configured, that the queue exists, the customer's limits of bytes) is
// checked when the router takes the contact (Router.Check, Submit).
// This is the one rule of a new contact: the router, the HTTP API and
// every channel use it.
func (nc NewContact) Validate() []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	add(ValidateName("channel", "channel", nc.Channel))
	add(ValidateName("queue", "queue name", nc.Queue))
	for _, e := range nc.Customer.Validate() {
		e.Field = "customer." + e.Field
		add(e)
	}
	if len(nc.Subject) > MaxSubjectLen {
		add(invalidf("subject", "subject longer than %d bytes", MaxSubjectLen))
	}
	if len(nc.Body) > MaxBodyLen {
		add(invalidf("body", "body longer than %d bytes", MaxBodyLen))
	}
	if nc.Requirements != nil {
		errs = append(errs, validateRequirements("requirements", nc.Requirements)...)
	}
	if nc.Priority < -MaxPriority || nc.Priority > MaxPriority {
		add(invalidf("priority", "priority %d: want %d to %d", nc.Priority, -MaxPriority, MaxPriority))
	}
	if len(nc.Preferred) > MaxPreferred {
		add(invalidf("preferred_agents", "at most %d preferred agents", MaxPreferred))
	}
	for i, id := range nc.Preferred {
		add(ValidateName(fmt.Sprintf("preferred_agents[%d]", i), "agent id", id))
	}
	if nc.PreferredTimeout < 0 || nc.PreferredTimeout > MaxPreferredTimeout {
		add(invalidf("preferred_timeout", "%s (want 0 for the router's default, or up to %s, such as \"30s\")", nc.PreferredTimeout, MaxPreferredTimeout))
	}
	add(ValidateIdempotencyKey("idempotency_key", "idempotency key", nc.IdempotencyKey))
	if len(nc.Follows) > maxIDLen {
		add(invalidf("follows", "follows longer than %d bytes", maxIDLen))
	}
	add(validateMessage(nc.First))
	return errs
}
