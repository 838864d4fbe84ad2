package offers

import (
	"slices"
	"strings"
	"time"
)

// channelSMS is the router's name of the SMS channel.
const channelSMS = "sms"

// Outcome is what became of an offer made during a contact.
type Outcome string

// Outcomes. Accepted counts as a success of the offer, Declined and
// NotRelevant as failures; Presented alone teaches nothing.
const (
	Presented   Outcome = "presented"
	Accepted    Outcome = "accepted"
	Declined    Outcome = "declined"
	NotRelevant Outcome = "not_relevant"
)

// Valid reports whether o is one of the outcomes.
func (o Outcome) Valid() bool { return o == Presented || o.Decision() }

// Decision reports whether o is an agent's decision on the offer
// (accepted, declined, not relevant), which teaches the learner and
// replaces an earlier decision; a presentation alone does neither.
func (o Outcome) Decision() bool { return o == Accepted || o == Declined || o == NotRelevant }

// Result is one recorded outcome of an offer to a customer.
type Result struct {
	OfferID   string
	ContactID string
	Outcome   Outcome
	At        time.Time
}

// Rules are the suppression rules from the configuration. The zero value
// suppresses only on consent, SMS opt-out, the "complaint" disposition,
// cooldowns and caps.
type Rules struct {
	// ComplaintQueues are queues whose contacts are complaints.
	ComplaintQueues []string
	// ComplaintDispositions mark a contact as a complaint (compared
	// case-insensitively); nil means {"complaint"}.
	ComplaintDispositions []string
	// ComplaintKeywords are searched, case-insensitively, in the
	// contact's subject and every message of the customer.
	ComplaintKeywords []string
	// RecentComplaint is how long a contact that ended with a complaint
	// disposition withholds offers from its customer's later contacts
	// (CustomerView.RecentComplaint); zero: not at all.
	RecentComplaint time.Duration
}

// Suppression reasons returned by Rules.Suppressed.
const (
	NoMarketingConsent = "no marketing consent"
	NoProfiling        = "profiling refused"
	Complaint          = "complaint"
	RecentComplaint    = "recent complaint"
	SMSOptOut          = "sms opt-out"
	SMSStopped         = "opted out by sms (STOP)"
)

// Suppressed reports whether no offer at all may be made during the
// contact, and why: the customer's marketing consent is not true, their
// profiling consent is false (unknown is allowed), the contact is a
// complaint, the customer opted out of SMS and the contact is by SMS, or
// the customer texted STOP (on any channel: a customer who told us to
// stop is offered nothing).
func (r Rules) Suppressed(env Env) (reason string, suppressed bool) {
	cu, co := env.Customer, env.Contact
	switch {
	case cu.SMSStopped:
		return SMSStopped, true
	case !cu.Consent.MarketingGiven():
		return NoMarketingConsent, true
	case cu.Consent.ProfilingRefused():
		return NoProfiling, true
	case r.complaint(co):
		return Complaint, true
	case cu.RecentComplaint:
		return RecentComplaint, true
	case cu.SMSOptOut && co.Channel == channelSMS:
		return SMSOptOut, true
	}
	return "", false
}

func (r Rules) complaint(co ContactView) bool {
	if co.Queue != "" && slices.Contains(r.ComplaintQueues, co.Queue) {
		return true
	}
	if r.ComplaintDisposition(co.Disposition) {
		return true
	}
	if r.ComplaintText(co.Subject) || r.ComplaintText(co.FirstMessage) {
		return true
	}
	return slices.ContainsFunc(co.CustomerMessages, r.ComplaintText)
}

// ComplaintDisposition reports whether a wrap-up code marks a complaint
// (ComplaintDispositions, compared without regard to case).
func (r Rules) ComplaintDisposition(d string) bool {
	disps := r.ComplaintDispositions
	if disps == nil {
		disps = []string{Complaint}
	}
	return d != "" && slices.ContainsFunc(disps, func(x string) bool { return strings.EqualFold(x, d) })
}

// ComplaintText reports whether text holds a complaint keyword
// (ComplaintKeywords, without regard to case): a customer's message that
// says so makes its contact a complaint.
func (r Rules) ComplaintText(text string) bool {
	if text == "" {
		return false
	}
	text = strings.ToLower(text)
	for _, kw := range r.ComplaintKeywords {
		if kw = strings.TrimSpace(kw); kw != "" && strings.Contains(text, strings.ToLower(kw)) {
			return true
		}
	}
	return false
}

// Allowed reports whether offer o may be made now during contact
// contactID given the customer's recent results: not if they declined it
// less than o.Cooldown ago, nor if it was already presented
// o.CapPerContact times during this contact.
func Allowed(o Offer, contactID string, now time.Time, history []Result) bool {
	presented := 0
	for _, h := range history {
		if h.OfferID != o.ID {
			continue
		}
		if h.Outcome == Declined && o.Cooldown > 0 && now.Sub(h.At) < o.Cooldown {
			return false
		}
		if h.Outcome == Presented && contactID != "" && h.ContactID == contactID {
			presented++
		}
	}
	return o.CapPerContact == 0 || presented < o.CapPerContact
}

// Request is what Candidates and Recommend need to know about one contact.
type Request struct {
	Env       Env
	ContactID string
	Now       time.Time
	// History holds the customer's recent results, in any order.
	History []Result
}

// Candidates returns the offers of c that may be made during the
// contact: none if the contact is suppressed, else the eligible offers
// (channel and expression) that are not in cooldown or at their cap.
func (c *Catalog) Candidates(rules Rules, req Request) ([]Offer, error) {
	if _, ok := rules.Suppressed(req.Env); ok {
		return nil, nil
	}
	eligible, err := c.Eligible(req.Env)
	if err != nil {
		return nil, err
	}
	var out []Offer
	for _, o := range eligible {
		if Allowed(o, req.ContactID, req.Now, req.History) {
			out = append(out, o)
		}
	}
	return out, nil
}
