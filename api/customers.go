package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// customerRequest is the body of PUT /api/v1/customers/{id}: the
// profile, whose rules customers.ProfileInput.Profile checks (the same
// for the import), and whether its identities are verified.
type customerRequest struct {
	customers.ProfileInput
	// Verified records the emails, phones and CRM id as verified; admins
	// only.
	Verified bool `json:"verified"`
}

// identityView is one identity of a customer.
type identityView struct {
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Verified  bool      `json:"verified"`
	CreatedAt time.Time `json:"created_at"`
}

// customerView is the body of GET /api/v1/customers/{id}.
type customerView struct {
	ID                  string         `json:"id"`
	Name                string         `json:"name"`
	Segment             string         `json:"segment"`
	Value               float64        `json:"value"`
	Language            string         `json:"language"`
	Consent             consent.Flags  `json:"consent"`
	RelationshipManager string         `json:"relationship_manager"`
	SMSOptOut           bool           `json:"sms_opt_out"`
	Products            []string       `json:"products"`
	Tags                []string       `json:"tags"`
	Identities          []identityView `json:"identities"`
	MergedInto          string         `json:"merged_into,omitempty"`
	CreatedAt           time.Time      `json:"created_at"`
	UpdatedAt           time.Time      `json:"updated_at"`
	// ErasedAt and the counts are set once the customer is erased.
	ErasedAt      *time.Time `json:"erased_at,omitempty"`
	ContactCount  *int       `json:"contact_count,omitempty"`
	IdentityCount *int       `json:"identity_count,omitempty"`
}

// mergeView is one merge audit record.
type mergeView struct {
	ID            string    `json:"id"`
	FromID        string    `json:"from_id"`
	IntoID        string    `json:"into_id"`
	IdentityKind  string    `json:"identity_kind"`
	IdentityValue string    `json:"identity_value"`
	At            time.Time `json:"at"`
	Reason        string    `json:"reason"`
}

// customerExport is the body of GET /api/v1/customers/{id}/export.
type customerExport struct {
	Customer customerView     `json:"customer"`
	Merges   []mergeView      `json:"merges"`
	Contacts []router.Contact `json:"contacts"`
	// OfferOutcomes are the outcomes of offers made to the customer.
	OfferOutcomes []offerOutcomeView `json:"offer_outcomes"`
	// Audit is who verified the customer's claims and which identities
	// were taken over from or by them, oldest first.
	Audit []auditView `json:"audit"`
	// Consent is the customer's consent ledger (opt-outs and opt-ins by
	// channel and address, such as an SMS's STOP), oldest first.
	Consent []consentView `json:"consent"`
	// CSAT are the customer's answers to the satisfaction survey, in the
	// order of Contacts; never nil.
	CSAT []csatAnswerView `json:"csat"`
}

// csatAnswerView is a survey answer in a customer's export.
type csatAnswerView struct {
	ContactID string    `json:"contact_id"`
	Queue     string    `json:"queue"`
	Score     int       `json:"score"`
	Comment   string    `json:"comment"`
	At        time.Time `json:"at"`
}

// consentView is one entry of a customer's consent ledger.
type consentView struct {
	At        time.Time `json:"at"`
	Channel   string    `json:"channel"`
	Address   string    `json:"address"`
	Action    string    `json:"action"`
	MessageID string    `json:"message_id"`
	Detail    string    `json:"detail"`
}

// auditView is one entry of a customer's audit.
type auditView struct {
	At        time.Time `json:"at"`
	Action    string    `json:"action"`
	Actor     string    `json:"actor"`
	ContactID string    `json:"contact_id,omitempty"`
	Detail    string    `json:"detail"`
}

// offerOutcomeView is one recorded outcome of an offer.
type offerOutcomeView struct {
	OfferID    string    `json:"offer_id"`
	ContactID  string    `json:"contact_id"`
	CustomerID string    `json:"customer_id"`
	Segment    string    `json:"segment"`
	AgentID    string    `json:"agent_id"`
	Outcome    string    `json:"outcome"`
	At         time.Time `json:"at"`
}

func (s *Server) putCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var req customerRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.ID != "" && req.ID != id {
		return invalidf("field \"id\" is %q but the path says %q; omit it or make them equal", req.ID, id)
	}
	if p, _ := PrincipalFrom(r.Context()); req.Verified && p.Role != config.RoleAdmin {
		return errorf(http.StatusForbidden, codeForbidden, "field \"verified\": only an admin may record identities as verified")
	}
	req.ID = id
	p, err := req.Profile(req.Verified, time.Now().UTC())
	var fe *customers.FieldError
	switch {
	case errors.As(err, &fe):
		return invalidf("%s", fe.Message)
	case err != nil:
		return internal("check customer", err)
	}
	principal, _ := PrincipalFrom(r.Context())
	created, err := s.store.PutCustomer(r.Context(), p.Customer, p.Identities, principal.Name)
	var ice *store.IdentityConflictError
	switch {
	case errors.As(err, &ice):
		return conflictf("field %q: %s %q belongs to another customer", req.FieldOf(ice.Kind, ice.Value), ice.Kind, ice.Value)
	case errors.Is(err, store.ErrConflict):
		return conflictf("customer %q was erased or merged into another; it cannot be changed", id)
	case err != nil:
		return internal("put customer", err)
	}
	view, err := s.customerView(r, id)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/customers/"+pathEscape(id))
	}
	return writeJSON(w, status, view)
}

func (s *Server) exportCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	x, err := s.store.ExportCustomer(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundf("customer %q does not exist", id)
	}
	if err != nil {
		return internal("export customer", err)
	}
	out := customerExport{Customer: newCustomerView(x.Customer, x.Identities), Merges: []mergeView{}, Contacts: x.Contacts}
	for _, m := range x.Merges {
		out.Merges = append(out.Merges, mergeView(m))
	}
	out.OfferOutcomes = []offerOutcomeView{}
	for _, o := range x.OfferOutcomes {
		out.OfferOutcomes = append(out.OfferOutcomes, offerOutcomeView{OfferID: o.OfferID, ContactID: o.ContactID,
			CustomerID: o.CustomerID, Segment: o.Segment, AgentID: o.AgentID, Outcome: o.Outcome, At: o.At})
	}
	out.Audit = []auditView{}
	for _, a := range x.Audit {
		out.Audit = append(out.Audit, auditView{At: a.At, Action: a.Action, Actor: a.Actor, ContactID: a.ContactID, Detail: a.Detail})
	}
	out.Consent = []consentView{}
	for _, e := range x.Consent {
		out.Consent = append(out.Consent, consentView{At: e.At, Channel: e.Channel, Address: e.Address, Action: string(e.Action), MessageID: e.MessageID, Detail: e.Detail})
	}
	out.CSAT = []csatAnswerView{}
	for _, a := range x.CSAT {
		out.CSAT = append(out.CSAT, csatAnswerView{ContactID: a.ContactID, Queue: a.Queue, Score: a.Score, Comment: a.Comment, At: a.At})
	}
	if out.Contacts == nil {
		out.Contacts = []router.Contact{}
	}
	return writeJSON(w, http.StatusOK, out)
}

// maxNamedContacts is how many open contacts a refused erase names.
const maxNamedContacts = 10

func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	// A refusal changes nothing: checked before the claims go.
	if err := eraseRefusal(id, s.store.CheckErasable(r.Context(), id)); err != nil {
		return err
	}
	// Live contacts that merely claimed to be the customer are not
	// theirs and do not hold up the erasure; what they typed of the
	// customer's goes first.
	claims, err := s.claimsOf(r.Context(), id)
	if err != nil {
		return err
	}
	if _, err := s.router.ForgetClaims(r.Context(), claims); err != nil {
		return internal("forget claims of the customer", err)
	}
	if err := eraseRefusal(id, s.store.EraseCustomer(r.Context(), id, time.Now().UTC())); err != nil {
		return err
	}
	if s.onErased != nil {
		s.onErased(id)
	}
	s.removeOrphanedFiles(r.Context())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// eraseRefusal is the answer to an erasure of customer id that err
// refused (store.EraseCustomer, CheckErasable); nil for none.
func eraseRefusal(id string, err error) error {
	var oce *store.OpenContactsError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return notFoundf("customer %q does not exist", id)
	case errors.As(err, &oce):
		named := oce.ContactIDs[:min(len(oce.ContactIDs), maxNamedContacts)]
		more := ""
		if n := len(oce.ContactIDs) - len(named); n > 0 {
			more = fmt.Sprintf(" and %d more", n)
		}
		return conflictf("customer %q has contacts that have not ended: %s%s; close or abandon them, then erase again",
			id, strings.Join(named, ", "), more)
	}
	return internal("erase customer", err)
}

// claimsOf returns whether a contact's unverified customer claims to be
// customer id: the claim matched id, or names one of its emails or
// phones (normalized as the profile holds them).
func (s *Server) claimsOf(ctx context.Context, id string) (func(router.Customer) bool, error) {
	ids, err := s.store.CustomerIdentities(ctx, id)
	if err != nil {
		return nil, internal("read customer identities", err)
	}
	held := map[customers.Identity]bool{}
	for _, i := range ids {
		held[customers.Identity{Kind: i.Kind, Value: i.Value}] = true
	}
	has := func(kind, value string) bool {
		n, err := customers.Normalize(customers.Identity{Kind: kind, Value: value})
		return err == nil && held[customers.Identity{Kind: n.Kind, Value: n.Value}]
	}
	return func(cu router.Customer) bool {
		return cu.ClaimedID == id || cu.Email != "" && has(customers.KindEmail, cu.Email) || cu.Phone != "" && has(customers.KindPhone, cu.Phone)
	}, nil
}

// customerView reads a customer and its identities.
func (s *Server) customerView(r *http.Request, id string) (customerView, error) {
	c, err := s.store.Customer(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return customerView{}, notFoundf("customer %q does not exist", id)
	}
	if err != nil {
		return customerView{}, internal("read customer", err)
	}
	ids, err := s.store.CustomerIdentities(r.Context(), id)
	if err != nil {
		return customerView{}, internal("read customer identities", err)
	}
	return newCustomerView(c, ids), nil
}

func newCustomerView(c store.Customer, ids []store.Identity) customerView {
	v := customerView{
		ID: c.ID, Name: c.Name, Segment: c.Segment, Value: c.Value, Language: c.Language,
		Consent:             c.Consent,
		RelationshipManager: c.RelationshipManager, SMSOptOut: c.SMSOptOut, Products: c.Products, Tags: c.Tags,
		Identities: []identityView{}, MergedInto: c.MergedInto, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	for _, id := range ids {
		v.Identities = append(v.Identities, identityView{Kind: id.Kind, Value: id.Value, Verified: id.Verified, CreatedAt: id.CreatedAt})
	}
	if !c.ErasedAt.IsZero() {
		at, contacts, identities := c.ErasedAt, c.ContactCount, c.IdentityCount
		v.ErasedAt, v.ContactCount, v.IdentityCount = &at, &contacts, &identities
	}
	return v
}
