package customers

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/inbound"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Limits of a profile, the same for the HTTP API and the import. The id
// and the segment, which a verified contact takes from its profile, are
// bounded by the router's limits of a contact's customer
// (router.MaxCustomerIDLen, router.MaxSegmentLen), so that no profile
// makes its customer's contacts refused.
const (
	// MaxIdentities bounds the emails and phones of one profile together.
	MaxIdentities = 20
	// MaxText bounds the language and relationship manager, and each
	// product and tag, in bytes. The name is a contact's customer's
	// (router.MaxCustomerNameLen characters on one line).
	MaxText = 200
	// MaxList bounds the products and the tags.
	MaxList = 100
	// maxNameBytes bounds the name as given, in bytes: four times
	// router.MaxCustomerNameLen characters of UTF-8.
	maxNameBytes = 4 * router.MaxCustomerNameLen
)

// ProfileInput is a customer profile as an integration or an operator
// writes it: the body of PUT /api/v1/customers/{id} (without "verified")
// and one row of an import file. Nothing in it is checked until Profile.
type ProfileInput struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Emails []string `json:"emails"`
	Phones []string `json:"phones"`
	// CRMID is the customer's id in an external CRM, kept as an identity
	// of kind KindExternal; empty for none.
	CRMID               string        `json:"crm_id"`
	Segment             string        `json:"segment"`
	Value               float64       `json:"value"`
	Language            string        `json:"language"`
	Consent             consent.Flags `json:"consent"`
	RelationshipManager string        `json:"relationship_manager"`
	// SMSOptOut records that the customer asked for no marketing by SMS.
	SMSOptOut bool     `json:"sms_opt_out"`
	Products  []string `json:"products"`
	Tags      []string `json:"tags"`
}

// FieldError says which field of a ProfileInput (or of a row of an
// import file) is wrong. It matches ErrInvalidProfile.
type FieldError struct {
	// Field names the field as the client wrote it: "value",
	// "phones[1]", "consent.marketing"; empty when the message names
	// what is wrong itself.
	Field string
	// Message says what is wrong, and what would be valid, without the
	// package prefix: `field "phones[1]": phone "555": want E.164 ...`.
	Message string
}

func (e *FieldError) Error() string { return "customers: " + e.Message }

// Is makes the error match ErrInvalidProfile.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidProfile }

// fieldErrorf returns a *FieldError for field whose message is `field
// "<field>": ` and the formatted text.
func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf("field %q: ", field) + fmt.Sprintf(format, args...)}
}

// Profile checks in and returns the customer it describes with the
// identities it names (emails, phones, then the CRM id, normalized and
// without duplicates), recorded as verified or claimed as given, created
// and updated at now. A field that breaks a rule fails with a
// *FieldError naming it; only the first field found is reported (the id,
// the texts, value, products and tags, then the identities).
func (in *ProfileInput) Profile(verified bool, now time.Time) (Profile, error) {
	switch {
	case in.ID == "":
		return Profile{}, fieldErrorf("id", "is empty; want 1 to %d bytes", router.MaxCustomerIDLen)
	case len(in.ID) > router.MaxCustomerIDLen:
		return Profile{}, &FieldError{Field: "id", Message: fmt.Sprintf("customer id is longer than %d bytes", router.MaxCustomerIDLen)}
	}
	// The name is a contact's customer's name once verified: one rule
	// for both (router.Customer.Validate), or the profile's name would
	// be cut on its contacts.
	// Kept as the router keeps a contact's (package inbound: invisible
	// and bidirectional-override characters go), bounded in bytes too
	// since those do not count as characters.
	name := inbound.Text(in.Name)
	if len(in.Name) > maxNameBytes {
		return Profile{}, &FieldError{Field: "name", Message: fmt.Sprintf("field \"name\" is longer than %d bytes", maxNameBytes)}
	}
	if errs := (router.Customer{Name: name}).Validate(); len(errs) > 0 {
		return Profile{}, &FieldError{Field: "name", Message: errs[0].Message}
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"segment", in.Segment, router.MaxSegmentLen}, {"language", in.Language, MaxText},
		{"relationship_manager", in.RelationshipManager, MaxText},
	} {
		if len(f.v) > f.max {
			return Profile{}, &FieldError{Field: f.name, Message: fmt.Sprintf("field %q is longer than %d bytes", f.name, f.max)}
		}
	}
	if in.Value < 0 || math.IsInf(in.Value, 0) || math.IsNaN(in.Value) {
		return Profile{}, fieldErrorf("value", "%v is negative; want 0 or more", in.Value)
	}
	for _, l := range []struct {
		name string
		v    []string
	}{{"products", in.Products}, {"tags", in.Tags}} {
		if len(l.v) > MaxList {
			return Profile{}, &FieldError{Field: l.name, Message: fmt.Sprintf("field %q has %d entries; at most %d", l.name, len(l.v), MaxList)}
		}
		for i, v := range l.v {
			if v == "" || len(v) > MaxText {
				return Profile{}, fieldErrorf(fmt.Sprintf("%s[%d]", l.name, i), "want 1 to %d bytes", MaxText)
			}
		}
	}
	if n := len(in.Emails) + len(in.Phones); n > MaxIdentities {
		return Profile{}, &FieldError{Field: "emails",
			Message: fmt.Sprintf("fields \"emails\" and \"phones\" hold %d identities; at most %d", n, MaxIdentities)}
	}
	var ids []store.Identity
	seen := make(map[store.Identity]bool, len(in.Emails)+len(in.Phones)+1) // identity (unverified, no time) already named
	for _, s := range in.identitySources() {
		n, err := Normalize(Identity{Kind: s.kind, Value: s.value})
		if err != nil {
			return Profile{}, fieldErrorf(s.field, "%s", invalidMessage(err))
		}
		key := store.Identity{Kind: n.Kind, Value: n.Value}
		if seen[key] {
			continue
		}
		seen[key] = true
		ids = append(ids, store.Identity{Kind: n.Kind, Value: n.Value, Verified: verified, CreatedAt: now})
	}
	c := store.Customer{
		ID: in.ID, Name: name, Segment: in.Segment, Value: in.Value, Language: in.Language,
		Consent:             in.Consent,
		RelationshipManager: in.RelationshipManager, SMSOptOut: in.SMSOptOut, Products: in.Products, Tags: in.Tags,
		CreatedAt: now, UpdatedAt: now,
	}
	return Profile{Customer: c, Identities: ids}, nil
}

// FieldOf returns the field of in that names the identity (kind, value),
// normalized as Profile normalizes it ("emails[0]", "crm_id"), or "" if
// none does: what to tell the client when the store says the identity
// belongs to another customer.
func (in *ProfileInput) FieldOf(kind, value string) string {
	for _, s := range in.identitySources() {
		if s.kind != kind {
			continue
		}
		if n, err := Normalize(Identity{Kind: s.kind, Value: s.value}); err == nil && n.Value == value {
			return s.field
		}
	}
	return ""
}

// identitySource is one identity a ProfileInput names, with its field.
type identitySource struct {
	field, kind, value string
}

// identitySources lists the identities of in in the order Profile
// checks them.
func (in *ProfileInput) identitySources() []identitySource {
	out := make([]identitySource, 0, len(in.Emails)+len(in.Phones)+1)
	for _, l := range []struct {
		field, kind string
		values      []string
	}{{"emails", KindEmail, in.Emails}, {"phones", KindPhone, in.Phones}} {
		for i, v := range l.values {
			out = append(out, identitySource{fmt.Sprintf("%s[%d]", l.field, i), l.kind, v})
		}
	}
	if in.CRMID != "" {
		out = append(out, identitySource{"crm_id", KindExternal, in.CRMID})
	}
	return out
}

// invalidMessage is the message of a Normalize error without the
// package prefix and the sentinel's words.
func invalidMessage(err error) string {
	msg, _ := strings.CutPrefix(err.Error(), ErrInvalid.Error()+": ")
	return msg
}
