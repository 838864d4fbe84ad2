package customers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// VerifyStore is what Verify reads and writes; *store.DB implements it.
type VerifyStore interface {
	ProfileReader
	CustomerIdentities(ctx context.Context, customerID string) ([]store.Identity, error)
	AddAudit(ctx context.Context, e store.AuditEntry) error
}

var _ VerifyStore = (*store.DB)(nil)

// ContactVerifier records a verification on a live contact;
// *router.Router implements it.
type ContactVerifier interface {
	Snapshot() *router.Snapshot
	VerifyCustomer(ctx context.Context, v router.Verification) (router.Contact, error)
}

var _ ContactVerifier = (*router.Router)(nil)

// Verify records that agentID, holding contactID, verified by method
// (the firm's security questions) that the customer is the known
// customer their claim matched: first in the customer's audit (who, when,
// how, in which contact), then on the contact (router.VerifyCustomer),
// which from then on is identified, routes with the profile's value and
// segment (with profiling consent) and shows the profile in its screen
// pop. It returns the contact as verified.
//
// A contact that is not the agent's wraps router.ErrNotYours; one whose
// customer claims nobody, is verified already, or claims a customer who
// was erased since wraps router.ErrConflict.
func Verify(ctx context.Context, s VerifyStore, rt ContactVerifier, contactID, agentID, method string, now time.Time) (router.Contact, error) {
	c, ok := rt.Snapshot().Contact(contactID)
	switch {
	case !ok:
		return router.Contact{}, fmt.Errorf("customers: verify: %w", router.Errorf(router.CodeNoContact, "contact_id", "no such contact: %q", contactID))
	case c.AgentID != agentID:
		return router.Contact{}, fmt.Errorf("customers: verify: %w", router.Errorf(router.CodeNotYours, "contact_id", "%s is not with %s", contactID, agentID))
	case c.State != router.ContactAssigned:
		return router.Contact{}, fmt.Errorf("customers: verify: %w", router.Errorf(router.CodeConflict, "", "contact %s is %s; accept it first", contactID, c.State))
	case c.Customer.Verified:
		return router.Contact{}, fmt.Errorf("customers: verify: %w", router.Errorf(router.CodeConflict, "", "the customer of %s is already verified", contactID))
	case c.Customer.ClaimedID == "":
		return router.Contact{}, fmt.Errorf("customers: verify: %w", router.Errorf(router.CodeConflict, "", "the customer of %s claims to be no known customer", contactID))
	}
	p, err := Current(ctx, s, c.Customer.ClaimedID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return router.Contact{}, fmt.Errorf("customers: verify: %w", router.Errorf(router.CodeConflict, "", "the claimed customer no longer exists"))
	case err != nil:
		return router.Contact{}, fmt.Errorf("customers: verify: read profile: %w", err)
	case !p.ErasedAt.IsZero():
		return router.Contact{}, fmt.Errorf("customers: verify: %w", router.Errorf(router.CodeConflict, "", "the claimed customer was erased"))
	}
	held, err := s.CustomerIdentities(ctx, p.ID)
	if err != nil {
		return router.Contact{}, fmt.Errorf("customers: verify: read identities: %w", err)
	}
	v := router.Verification{ContactID: contactID, AgentID: agentID, CustomerID: p.ID, Method: method}
	v.Email, v.Phone = kept(c, held)
	if p.Consent.ProfilingGiven() {
		v.Value, v.Segment = max(p.Value, 0), p.Segment
	}
	// The audit first: a verification nobody can account for must not
	// exist; one audited but refused by the router (the contact moved on
	// in between) says so in the next entry's absence on the timeline.
	err = s.AddAudit(ctx, store.AuditEntry{
		CustomerID: p.ID, At: now.UTC(), Action: store.AuditVerified, Actor: agentID, ContactID: contactID, Detail: method,
	})
	if err != nil {
		return router.Contact{}, fmt.Errorf("customers: verify: audit: %w", err)
	}
	return rt.VerifyCustomer(ctx, v)
}

// kept is the email and phone of contact c that stay on it once its
// customer is verified. On a web chat, whose pre-chat form anyone may
// fill with anyone's phone beside their own email, only those the
// profile holds (held) stay. Elsewhere they stay: the address its
// channel answers on (an email's sender, a text's number), and what an
// integration's channel (a callback number, say) says, which is how the
// firm reaches the customer.
func kept(c router.Contact, held []store.Identity) (email, phone string) {
	cu := c.Customer
	if c.Channel != router.ChannelChat {
		return cu.Email, cu.Phone
	}
	holds := func(kind, value string) bool {
		n, err := Normalize(Identity{Kind: kind, Value: value})
		return err == nil && slices.ContainsFunc(held, func(id store.Identity) bool { return id.Kind == n.Kind && id.Value == n.Value })
	}
	if cu.Email != "" && holds(store.IdentityEmail, cu.Email) {
		email = cu.Email
	}
	if cu.Phone != "" && holds(store.IdentityPhone, cu.Phone) {
		phone = cu.Phone
	}
	return email, phone
}
