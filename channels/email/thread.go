package email

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// tokenLen is the length of a subject's reference token: the last
// characters of the contact's id (its random part).
const tokenLen = 6

// MinMessageIDKeyBytes is the shortest key Options.MessageIDKey and
// SenderOptions.MessageIDKey take.
const MinMessageIDKeyBytes = 32

// checkMessageIDKey refuses a key too short to tag our Message-IDs.
func checkMessageIDKey(key []byte) error {
	if len(key) < MinMessageIDKeyBytes {
		return fmt.Errorf("MessageIDKey has %d bytes, want at least %d", len(key), MinMessageIDKeyBytes)
	}
	return nil
}

// idTagBytes is how much of the HMAC-SHA256 an id's tag keeps: 120 bits,
// 24 base-32 characters.
const idTagBytes = 15

// idTagEncoding writes a tag in lower-case base 32 without padding:
// letters and digits, valid in a Message-ID's local part and unchanged
// by anything that lower-cases it.
var idTagEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// OutboundID is the Message-ID (without angle brackets) of message seq
// of contact contactID as routerd sends it,
// "sb.<contact>.<seq>.<tag>@<domain>": stable across retries, so that a
// receiver deduplicates a resend; naming the contact, so that a reply
// finds it; and tagged with the HMAC-SHA256 of "<contact>.<seq>" under
// key, so that nobody without key can make an id that names a contact
// (contact ids are not secret: consecutive ones differ by one).
func OutboundID(key []byte, domain, contactID string, seq int) string {
	return "sb." + contactID + "." + strconv.Itoa(seq) + "." + idTag(key, contactID, seq) + "@" + domain
}

// ParseOutboundID returns the contact and message of id, a Message-ID
// OutboundID made with key; ok is false for any other id, and for one
// whose tag does not verify.
func ParseOutboundID(key []byte, domain, id string) (contactID string, seq int, ok bool) {
	contactID, seq, tag, ok := splitOutboundID(domain, id)
	if !ok || !tagVerifies(key, contactID, seq, tag) {
		return "", 0, false
	}
	return contactID, seq, true
}

// idTag is the tag of message seq of contact contactID.
func idTag(key []byte, contactID string, seq int) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(contactID + "." + strconv.Itoa(seq)))
	return idTagEncoding.EncodeToString(mac.Sum(nil)[:idTagBytes])
}

// tagVerifies reports whether tag is the tag of message seq of contact
// contactID under key, in constant time; an empty tag never is.
func tagVerifies(key []byte, contactID string, seq int, tag string) bool {
	return tag != "" && subtle.ConstantTimeCompare([]byte(tag), []byte(idTag(key, contactID, seq))) == 1
}

// splitOutboundID reads id in the form of our Message-IDs without
// checking its tag: "sb.<contact>.<seq>.<tag>@<domain>", or, with tag
// "", "sb.<contact>.<seq>@<domain>" as routerd wrote them before they
// were tagged. ok is false for any other form.
func splitOutboundID(domain, id string) (contactID string, seq int, tag string, ok bool) {
	local, ok := strings.CutSuffix(id, "@"+domain)
	if !ok {
		return "", 0, "", false
	}
	rest, ok := strings.CutPrefix(local, "sb.")
	if !ok {
		return "", 0, "", false
	}
	parts := strings.Split(rest, ".")
	switch len(parts) {
	case 3:
		tag = parts[2]
		if len(tag) != idTagEncoding.EncodedLen(idTagBytes) {
			return "", 0, "", false
		}
	case 2:
	default:
		return "", 0, "", false
	}
	contactID = parts[0]
	if contactID == "" || len(contactID) > 64 {
		return "", 0, "", false
	}
	seq, err := strconv.Atoi(parts[1])
	if err != nil || seq < 0 || strconv.Itoa(seq) != parts[1] {
		return "", 0, "", false
	}
	return contactID, seq, tag, true
}

// SubjectToken is the reference a contact's subject carries, "[#AB12CD]".
func SubjectToken(contactID string) string {
	return "[#" + contactID[max(0, len(contactID)-tokenLen):] + "]"
}

var tokenRE = regexp.MustCompile(`\[#([0-9A-Z]{` + strconv.Itoa(tokenLen) + `})\]`)

// thread returns the contact m answers, "" for a new conversation:
// first by the message a bounce reports on, then by its In-Reply-To and
// its References (newest first), each against our own Message-IDs
// (ourMessage) and the messages stored from the desk; then by the
// subject's token, for a contact of the same sender only (a subject
// alone never joins another's thread). A store that fails is an error:
// the message is taken in again later rather than split from its
// thread.
func (f *fetcher) thread(ctx context.Context, m *Mail) (string, error) {
	// claimant is who a reference's legacy form must come from
	// (ourMessage): the sender, or the recipient a report names.
	type ref struct{ id, claimant string }
	var refs []ref
	if m.Report != nil && m.Report.OriginalID != "" {
		refs = append(refs, ref{m.Report.OriginalID, m.Report.Recipient})
	}
	for _, r := range m.InReplyTo {
		refs = append(refs, ref{r, m.From.Address})
	}
	for _, r := range slices.Backward(m.References) {
		refs = append(refs, ref{r, m.From.Address})
	}
	for _, r := range refs {
		id, _, form, err := f.ourMessage(ctx, r.id, r.claimant)
		switch {
		case err != nil:
			return "", err
		case id != "":
			return id, nil
		case form:
			// Ours by its form but not verified: it names nothing, not
			// even a message stored under it (anyone may send one with
			// that Message-ID).
			continue
		}
		stored, found, err := f.ch.o.Store.MessageByExternalID(ctx, ExternalID(f.mb.desk(), r.id))
		if err != nil {
			return "", fmt.Errorf("look up a reference: %w", err)
		}
		if found {
			return stored.ContactID, nil
		}
	}
	tok := tokenRE.FindStringSubmatch(m.Subject)
	if tok == nil || m.From.Address == "" {
		return "", nil
	}
	page, err := f.ch.o.Store.Contacts(ctx, store.ContactFilter{Channel: router.ChannelEmail, Customer: m.From.Address, Limit: 100})
	if err != nil {
		return "", fmt.Errorf("look up the subject's token: %w", err)
	}
	for _, c := range page.Contacts {
		if strings.HasSuffix(c.ID, tok[1]) {
			return c.ID, nil
		}
	}
	return "", nil
}

// ourMessage returns the contact and message that ref names when it is
// one of our Message-IDs: tagged, and its tag verifies (whoever sends
// it: the customer, or someone they copied); or untagged, sent before
// the ids were tagged, and claimant (the sender of the mail carrying
// ref, or the recipient a delivery report names) is the email address
// of the contact's customer, as the subject's token asks of the sender
// (here in any case). contactID is "" for any other ref; form says
// whether ref has the form of ours at all.
func (f *fetcher) ourMessage(ctx context.Context, ref, claimant string) (contactID string, seq int, form bool, err error) {
	contactID, seq, tag, form := splitOutboundID(f.ch.o.Domain, ref)
	switch {
	case !form:
		return "", 0, false, nil
	case tag != "":
		if !tagVerifies(f.ch.o.MessageIDKey, contactID, seq, tag) {
			return "", 0, true, nil
		}
		return contactID, seq, true, nil
	case claimant == "":
		return "", 0, true, nil
	}
	c, err := f.ch.o.Store.Contact(ctx, contactID)
	if errors.Is(err, store.ErrNotFound) {
		return "", 0, true, nil
	}
	if err != nil {
		return "", 0, true, fmt.Errorf("look up a reference's contact: %w", err)
	}
	if c.Customer.Email == "" || !strings.EqualFold(c.Customer.Email, claimant) {
		return "", 0, true, nil
	}
	return contactID, seq, true, nil
}
