package email

import (
	"context"
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

// OutboundID is the Message-ID (without angle brackets) of message seq
// of contact contactID as routerd sends it: stable across retries, so
// that a receiver deduplicates a resend, and naming the contact, so that
// the customer's reply finds it.
func OutboundID(domain, contactID string, seq int) string {
	return "sb." + contactID + "." + strconv.Itoa(seq) + "@" + domain
}

// ParseOutboundID returns the contact and message of one of our
// Message-IDs; ok is false for any other id.
func ParseOutboundID(domain, id string) (contactID string, seq int, ok bool) {
	local, ok := strings.CutSuffix(id, "@"+domain)
	if !ok {
		return "", 0, false
	}
	rest, ok := strings.CutPrefix(local, "sb.")
	if !ok {
		return "", 0, false
	}
	contactID, n, ok := strings.Cut(rest, ".")
	if !ok || contactID == "" || len(contactID) > 64 {
		return "", 0, false
	}
	seq, err := strconv.Atoi(n)
	if err != nil || seq < 0 {
		return "", 0, false
	}
	return contactID, seq, true
}

// SubjectToken is the reference a contact's subject carries, "[#AB12CD]".
func SubjectToken(contactID string) string {
	return "[#" + contactID[max(0, len(contactID)-tokenLen):] + "]"
}

var tokenRE = regexp.MustCompile(`\[#([0-9A-Z]{` + strconv.Itoa(tokenLen) + `})\]`)

// thread returns the contact m answers, "" for a new conversation:
// first by its references (newest first) against our own Message-IDs,
// the messages stored from the desk, and for a bounce the message it
// reports on; then by the subject's token, for a contact of the same
// sender only (a subject alone never joins another's thread). A store
// that fails is an error: the message is taken in again later rather
// than split from its thread.
func (f *fetcher) thread(ctx context.Context, m *Mail) (string, error) {
	refs := slices.Clone(m.InReplyTo)
	for _, r := range slices.Backward(m.References) {
		refs = append(refs, r)
	}
	if m.Report != nil && m.Report.OriginalID != "" {
		refs = append([]string{m.Report.OriginalID}, refs...)
	}
	for _, ref := range refs {
		if id, _, ok := ParseOutboundID(f.ch.o.Domain, ref); ok {
			return id, nil
		}
		stored, found, err := f.ch.o.Store.MessageByExternalID(ctx, ExternalID(f.mb.desk(), ref))
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
