// Package screenpop builds what an agent sees when a contact arrives: who
// the customer is (only once identified), their history across channels
// and the few offers worth making, each with its reason. Its types are
// the screen pop document of docs/protocol.md; OfferSource is the port
// the offer engine plugs into. The agent desktop and the HTTP API show
// it; the offer engine fills its offers.
//
//	b := &screenpop.Builder{Router: rt, Store: db, Profiles: db, Offers: src}
//	pop, err := b.Build(ctx, contactID) // errors.Is(err, router.ErrNoContact) when unknown
package screenpop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Limits of the screen pop (docs/protocol.md, "The screen pop").
const (
	// MaxFirstMessages is how many of the contact's first messages it shows.
	MaxFirstMessages = 5
	// MaxHistory is how many of the customer's other contacts it lists.
	MaxHistory = 10
	// MaxOffers is how many offers it shows at most.
	MaxOffers = 3
	// DefaultProfileGrace is how long after a contact ended its screen
	// pop still shows the customer's profile, when Builder.ProfileGrace is
	// zero: long enough to finish the notes, not to keep watching.
	DefaultProfileGrace = 15 * time.Minute
)

// Reasons for offers withheld (Pop.OffersWithheld) and notices
// (Customer.Notice) of a customer the screen pop does not identify.
const (
	WithheldNotVerified  = "not verified"
	WithheldEnded        = "contact ended"
	noticeClaimsKnown    = "Claims to be a known customer: verify before discussing their account."
	noticeUnknown        = "Not identified: what the customer gave matches no known customer."
	noticeAccessEnded    = "The contact ended: the customer's profile is no longer shown."
	noticeProfileMissing = "Identified, but the customer's profile is gone (erased or unknown)."
)

// Store is what the agent desktop reads from the durable store: the
// contacts that ended, conversations, timelines and a customer's history.
// *store.DB implements it.
type Store interface {
	Contact(ctx context.Context, id string) (router.Contact, error)
	Messages(ctx context.Context, id string, afterSeq, limit int) ([]router.Message, error)
	Timeline(ctx context.Context, id string) ([]router.Event, error)
	CustomerTimeline(ctx context.Context, f store.TimelineFilter) (store.TimelinePage, error)
}

// Profiles is what the screen pop reads of customer profiles;
// *store.DB implements it.
type Profiles interface {
	Customer(ctx context.Context, id string) (store.Customer, error)
	CustomerIdentities(ctx context.Context, customerID string) ([]store.Identity, error)
}

// OfferSource proposes what is worth offering a customer during a
// contact (nextbest.Engine plugs in here). PopOffers must be safe for
// concurrent use.
type OfferSource interface {
	// PopOffers returns the offers worth making, best first, or, when no
	// offer at all may be made during the contact, why (withheld).
	PopOffers(ctx context.Context, r OfferRequest) (offers []Offer, withheld string, err error)
}

// MessageSensitive is an OfferSource whose offers a customer's message
// during the contact may change (a complaint typed after the first
// message withholds them): the desktop's screen pop is built again when
// ChangesOffers says so (Builder.Stale).
type MessageSensitive interface {
	ChangesOffers(c router.Contact, m router.Message) bool
}

// Stale reports whether m, a new message of contact c, changes what the
// contact's screen pop shows, so that the desktop should get it again.
func (b *Builder) Stale(c router.Contact, m router.Message) bool {
	s, ok := b.Offers.(MessageSensitive)
	return ok && s.ChangesOffers(c, m)
}

// OfferRequest is what the screen pop has read when it asks for offers,
// so that the offer source need not read it again.
type OfferRequest struct {
	Contact router.Contact
	// Profile is the customer's profile, at the end of its merges; nil
	// when the screen pop read none (no Builder.Profiles, no customer id,
	// an unknown or erased profile).
	Profile *store.Customer
	// FirstMessages are the contact's first messages, oldest first; none
	// for a contact not yet durable.
	FirstMessages []router.Message
	// History are the customer's earlier contacts, newest first, as the
	// screen pop shows them; nil when not read (the source reads what it
	// needs).
	History []History
	// Shown is set when the screen pop goes to the desktop of the agent
	// holding the contact (its offer, or its active contact), so that the
	// offers count as presented by that agent; not for one read over the
	// API, which nobody may have looked at.
	Shown bool
}

// ErrNotRecorded is wrapped by an offer outcome's recorder's error
// (agents.Options.OnOfferOutcome) that a retry may cure (the store
// failed); the agent is told unavailable.
var ErrNotRecorded = errors.New("screenpop: not recorded")

// OfferOutcome is what an agent reports of an offer made during one of
// its contacts (the desktop's offer_outcome request).
type OfferOutcome struct {
	ContactID string
	OfferID   string
	// Outcome is presented, accepted, declined or not_relevant.
	Outcome string
	AgentID string
}

// Pop is what an agent sees when a contact arrives: the contact,
// the customer, their history and the offers worth making. Its JSON form
// is the document of docs/protocol.md.
type Pop struct {
	Contact  Contact   `json:"contact"`
	Customer Customer  `json:"customer"`
	History  []History `json:"history"` // never nil
	Offers   []Offer   `json:"offers"`  // never nil
	// OffersWithheld says why no offer may be made during the contact,
	// when none may: "not verified" (the customer is not identified),
	// "contact ended" (past the profile grace), "complaint", "no
	// marketing consent", "profiling refused", "sms opt-out" or "no
	// profile"; empty otherwise (offers, or none eligible).
	OffersWithheld string `json:"offers_withheld,omitempty"`
}

// Contact summarises the contact of a screen pop.
type Contact struct {
	ID      string              `json:"id"`
	Channel router.Channel      `json:"channel"`
	Queue   string              `json:"queue"`
	Subject string              `json:"subject"`
	State   router.ContactState `json:"state"`
	// WaitedSeconds is how long the customer waited: until the contact
	// was offered or assigned, until it ended, or until now.
	WaitedSeconds int64 `json:"waited_seconds"`
	// RoutedBecause is the reason of the latest routing decision (the
	// contact's latest "offered" event); empty if it was never offered.
	RoutedBecause string `json:"routed_because"`
	// WhyYou says in an agent's words why the contact is theirs ("Ada's
	// relationship manager · billing 5 (needs 3)"), RoutedBecause being
	// the router's exact reason behind it; empty while nobody holds it.
	WhyYou        string           `json:"why_you,omitempty"`
	FirstMessages []router.Message `json:"first_messages"` // never nil
}

// Customer is who the customer is, as far as the router knows.
//
// Only an identified customer (Identified: the channel proved who they
// are, or an agent verified their claim) shows a profile. Until then it
// shows what the customer typed, as claims, with ID empty, no profile
// data, no history and no offers; ClaimsKnownCustomer says whether the
// claim matches a known customer, whom an agent may then verify.
type Customer struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Identified bool   `json:"identified"`
	// ClaimsKnownCustomer is set while an unverified claim matches a
	// known customer (never saying which).
	ClaimsKnownCustomer bool `json:"claims_known_customer"`
	// Notice, when set, is what the agent must know before trusting the
	// customer part ("Claims to be a known customer: verify …").
	Notice     string     `json:"notice,omitempty"`
	Identities []Identity `json:"identities"` // never nil
	// Segment, Consent, Products and Language come from the customer's
	// profile (Builder.Profiles); without one they are null or empty.
	Segment  *string       `json:"segment"`
	Value    float64       `json:"value"`
	Consent  consent.Flags `json:"consent"`
	Products []string      `json:"products"` // never nil
	Language *string       `json:"language"`
}

// Identity is one way to reach the customer. Verified is true only
// where the channel proved it; anything else is a claim.
type Identity struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	Verified bool   `json:"verified"`
}

// History is one of the customer's other contacts.
type History struct {
	ID          string              `json:"id"`
	Channel     router.Channel      `json:"channel"`
	CreatedAt   time.Time           `json:"created_at"`
	Queue       string              `json:"queue"`
	AgentID     string              `json:"agent_id"`
	State       router.ContactState `json:"state"`
	Disposition string              `json:"disposition"`
	EndedAt     time.Time           `json:"ended_at,omitzero"`
}

// Offer is something worth offering the customer (a product, an
// upgrade), with a one-line reason. It is not the router's offer of a
// contact to an agent.
type Offer struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Reason string `json:"reason"`
	// TalkingPoints are what the agent may say of it (the catalog's).
	TalkingPoints []string `json:"talking_points,omitempty"`
}

// Builder builds screen pops from the router's live state and the store.
// Router and Store are required; Offers and Logger may be nil. A Builder
// is safe for concurrent use.
type Builder struct {
	Router *router.Router
	Store  Store
	// Profiles fills the customer part from the contact's customer
	// profile (segment, value, consent, products, language, and which
	// identities are verified); nil means the contact's customer alone,
	// every identity a claim.
	Profiles Profiles
	// Offers proposes the offers; nil means none.
	Offers OfferSource
	// Logger hears about an offer source that fails (the screen pop is
	// still built, without offers); nil discards.
	Logger *slog.Logger
	// ProfileGrace is how long after a contact ended its screen pop
	// still shows the customer's profile, history and offers; zero means
	// DefaultProfileGrace, negative none at all.
	ProfileGrace time.Duration
}

// profileShown reports whether the screen pop of c, built at now, may
// show the customer's profile: the customer is identified, and the
// contact is live or ended within the grace.
func (b *Builder) profileShown(c router.Contact, now time.Time) bool {
	if !c.Customer.Identified() {
		return false
	}
	if c.EndedAt.IsZero() {
		return true
	}
	grace := b.ProfileGrace
	if grace == 0 {
		grace = DefaultProfileGrace
	}
	return grace > 0 && now.Before(c.EndedAt.Add(grace))
}

// Build returns the screen pop of a contact, live (from the router's
// snapshot) or ended (from the store). An unknown contact gives an error
// wrapping router.ErrNoContact.
func (b *Builder) Build(ctx context.Context, contactID string) (Pop, error) {
	snap := b.Router.Snapshot()
	if c, ok := snap.Contact(contactID); ok {
		return b.BuildFor(ctx, c, "", snap.At, false)
	}
	c, err := b.Store.Contact(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return Pop{}, fmt.Errorf("screenpop: screen pop of %q: %w", contactID, router.ErrNoContact)
	}
	if err != nil {
		return Pop{}, fmt.Errorf("screenpop: screen pop of %q: read contact: %w", contactID, err)
	}
	return b.BuildFor(ctx, c, "", snap.At, false)
}

// BuildFor makes the screen pop of c, a contact the caller holds.
// routedBecause, when known (an offer being delivered; else
// c.OfferReason, while the router keeps it), saves reading the timeline;
// now counts the wait of a contact still queued; shown is
// OfferRequest.Shown. On a store error it returns what it has so far (the
// contact part at least) together with the error.
func (b *Builder) BuildFor(ctx context.Context, c router.Contact, routedBecause string, now time.Time, shown bool) (Pop, error) {
	if routedBecause == "" {
		routedBecause = c.OfferReason
	}
	sp := Pop{
		Contact: Contact{
			ID: c.ID, Channel: c.Channel, Queue: c.Queue, Subject: c.Subject, State: c.State,
			WaitedSeconds: int64(waitEnd(c, now).Sub(c.EnqueuedAt) / time.Second),
			RoutedBecause: routedBecause,
			FirstMessages: []router.Message{},
		},
		Customer: customerOf(c.Customer),
		History:  []History{},
		Offers:   []Offer{},
	}
	if sp.Contact.WaitedSeconds < 0 {
		sp.Contact.WaitedSeconds = 0
	}
	msgs, err := b.Store.Messages(ctx, c.ID, 0, MaxFirstMessages)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Live in memory, not yet durable: no message to show yet.
	case err != nil:
		return sp, fmt.Errorf("screenpop: screen pop of %q: first messages: %w", c.ID, err)
	default:
		sp.Contact.FirstMessages = append(sp.Contact.FirstMessages, msgs...)
	}
	if routedBecause == "" {
		reason, err := b.routedBecause(ctx, c.ID)
		if err != nil {
			return sp, err
		}
		sp.Contact.RoutedBecause = reason
	}
	if !b.profileShown(c, b.clock(now)) {
		// Nobody's data: what the customer typed, and why nothing more.
		sp.Contact.WhyYou = b.whyYou(c, nil, "", nil)
		sp.Customer = claimOf(c.Customer)
		sp.OffersWithheld = WithheldNotVerified
		if c.Customer.Identified() {
			sp.Customer.Notice, sp.OffersWithheld = noticeAccessEnded, WithheldEnded
		}
		return sp, nil
	}
	var prof *store.Customer
	if b.Profiles != nil {
		if prof, err = b.profile(ctx, &sp.Customer, c.Customer.ID); err != nil {
			return sp, fmt.Errorf("screenpop: screen pop of %q: %w", c.ID, err)
		}
		if prof == nil {
			sp.Customer.Notice = noticeProfileMissing
		}
	}
	// sp.Customer.ID is now the profile's (after its merge, if any) or
	// the contact's own.
	if sp.History, err = b.history(ctx, c, sp.Customer.ID); err != nil {
		return sp, err
	}
	sp.Contact.WhyYou = b.whyYou(c, prof, sp.Customer.Name, sp.History)
	if b.Offers != nil {
		offers, withheld, err := b.Offers.PopOffers(ctx, OfferRequest{Contact: c, Profile: prof, FirstMessages: sp.Contact.FirstMessages, History: sp.History, Shown: shown})
		sp.OffersWithheld = withheld
		if err != nil {
			if b.Logger != nil {
				b.Logger.Warn("screenpop: offer source failed; screen pop without offers", "contact", c.ID, "err", err)
			}
		} else {
			sp.Offers = append(sp.Offers, offers[:min(len(offers), MaxOffers)]...)
		}
	}
	return sp, nil
}

// waitEnd is when c stopped waiting: assigned, offered, ended, or not
// yet (now).
func waitEnd(c router.Contact, now time.Time) time.Time {
	switch {
	case !c.AssignedAt.IsZero():
		return c.AssignedAt
	case !c.OfferedAt.IsZero():
		return c.OfferedAt
	case !c.EndedAt.IsZero():
		return c.EndedAt
	}
	return now
}

// whyYou says why c's agent holds it, in the words of an agent: what
// made them preferred (the customer's relationship manager, the agent of
// the contact this one follows, or the customer's last), then their
// level in each skill the contact needs. prof, name and history are the
// identified customer's profile, name and earlier contacts (newest
// first); nil, "" and nil for a claim, of which nobody may see them.
func (b *Builder) whyYou(c router.Contact, prof *store.Customer, name string, history []History) string {
	if c.AgentID == "" {
		return ""
	}
	whose := "the customer's"
	if first, _, _ := strings.Cut(strings.TrimSpace(name), " "); first != "" {
		whose = first + "'s"
	}
	var parts []string
	if slices.Contains(c.Preferred, c.AgentID) {
		switch {
		case prof != nil && prof.RelationshipManager == c.AgentID:
			parts = append(parts, whose+" relationship manager")
		case c.Follows != "":
			parts = append(parts, "you handled "+whose+" earlier contact")
		case len(history) > 0 && history[0].AgentID == c.AgentID:
			parts = append(parts, "you handled "+whose+" last contact")
		default:
			parts = append(parts, "preferred agent")
		}
	}
	if a, ok := b.Router.Snapshot().Agent(c.AgentID); ok {
		for _, req := range c.Effective {
			parts = append(parts, fmt.Sprintf("%s %d (needs %d)", req.Skill, a.Skills[req.Skill], req.Min))
		}
	}
	if len(parts) == 0 {
		return "next in line"
	}
	return strings.Join(parts, " · ")
}

// routedBecause is the reason of the latest "offered" event of a
// contact's timeline.
func (b *Builder) routedBecause(ctx context.Context, id string) (string, error) {
	events, err := b.Store.Timeline(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("screenpop: screen pop of %q: timeline: %w", id, err)
	}
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Event == router.EventOffered {
			return events[i].Reason, nil
		}
	}
	return "", nil
}

// clock is the time the screen pop is built at: now when set (the
// router's snapshot time), else the wall clock.
func (b *Builder) clock(now time.Time) time.Time {
	if now.IsZero() {
		return time.Now()
	}
	return now
}

// customerOf turns what the contact of an identified customer carried
// into the customer part: its identities are verified as the contact's
// customer is.
func customerOf(cu router.Customer) Customer {
	pc := Customer{ID: cu.ID, Name: cu.Name, Value: cu.Value, Identified: cu.Identified(), Identities: []Identity{}, Products: []string{}}
	if cu.Email != "" {
		pc.Identities = append(pc.Identities, Identity{Type: "email", Value: cu.Email, Verified: cu.Verified})
	}
	if cu.Phone != "" {
		pc.Identities = append(pc.Identities, Identity{Type: "phone", Value: cu.Phone, Verified: cu.Verified})
	}
	return pc
}

// claimOf is the customer part of a customer the screen pop does not
// identify: the name and identities they gave, as claims, and nothing
// of any profile (not even its id).
func claimOf(cu router.Customer) Customer {
	pc := Customer{Name: cu.Name, Identities: []Identity{}, Products: []string{}, Notice: noticeUnknown}
	if cu.Email != "" {
		pc.Identities = append(pc.Identities, Identity{Type: "email", Value: cu.Email})
	}
	if cu.Phone != "" {
		pc.Identities = append(pc.Identities, Identity{Type: "phone", Value: cu.Phone})
	}
	if cu.ClaimedID != "" && !cu.Verified {
		pc.ClaimsKnownCustomer, pc.Notice = true, noticeClaimsKnown
	}
	return pc
}

// profile fills pc from the profile of customerID (or of the customer it
// was merged into, following a chain of merges): the name if the contact
// gave none, segment, value, consent, products, language, and the
// profile's other identities, verified or claimed as the store holds
// them. It is called for identified customers only. An unknown or erased
// profile leaves pc as it is. It returns the profile it read, nil for
// none.
func (b *Builder) profile(ctx context.Context, pc *Customer, customerID string) (*store.Customer, error) {
	prof, err := customers.Current(ctx, b.Profiles, customerID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("profile: %w", err)
	case !prof.ErasedAt.IsZero():
		return nil, nil
	}
	ids, err := b.Profiles.CustomerIdentities(ctx, prof.ID)
	if err != nil {
		return nil, fmt.Errorf("profile identities: %w", err)
	}
	pc.ID = prof.ID
	if pc.Name == "" {
		pc.Name = prof.Name
	}
	if prof.Segment != "" {
		pc.Segment = &prof.Segment
	}
	if prof.Language != "" {
		pc.Language = &prof.Language
	}
	pc.Value = prof.Value
	pc.Consent = prof.Consent
	pc.Products = append([]string{}, prof.Products...)
	seen := map[Identity]bool{}
	for _, pi := range pc.Identities {
		key := Identity{Type: pi.Type, Value: pi.Value}
		if n, err := customers.Normalize(customers.Identity{Kind: pi.Type, Value: pi.Value}); err == nil {
			key.Value = n.Value
		}
		seen[key] = true
	}
	for _, id := range ids {
		if key := (Identity{Type: id.Kind, Value: id.Value}); !seen[key] {
			pc.Identities = append(pc.Identities, Identity{Type: id.Kind, Value: id.Value, Verified: id.Verified})
		}
	}
	return &prof, nil
}

// history lists the customer's most recent other contacts on every
// channel, newest first, in one store query: those of customerID, of the
// customers merged into it and by its emails and phones, and those by
// the contact's own email and phone, which no profile may hold.
func (b *Builder) history(ctx context.Context, c router.Contact, customerID string) ([]History, error) {
	page, err := b.Store.CustomerTimeline(ctx, store.TimelineFilter{
		CustomerID: customerID, Email: c.Customer.Email, Phone: c.Customer.Phone, Limit: MaxHistory + 1, Brief: true,
	})
	if err != nil {
		return []History{}, fmt.Errorf("screenpop: screen pop of %q: history: %w", c.ID, err)
	}
	out := make([]History, 0, min(len(page.Contacts), MaxHistory))
	for _, h := range page.Contacts {
		if h.ID == c.ID {
			continue
		}
		if len(out) == MaxHistory {
			break
		}
		out = append(out, History{
			ID: h.ID, Channel: h.Channel, CreatedAt: h.CreatedAt, Queue: h.Queue,
			AgentID: h.AgentID, State: h.State, Disposition: h.Disposition, EndedAt: h.EndedAt,
		})
	}
	return out, nil
}
