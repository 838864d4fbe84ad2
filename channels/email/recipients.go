package email

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/emersion/go-message/mail"

	"github.com/switchboard/switchboard/router"
)

// Recipients settles the recipients of an agent's reply on contact c
// that names its Cc (the desktop's send with cc, the API's message with
// cc): each of cc must be among the conversation's Cc, that of the
// customer's last email, which the reply answers; the agent may take
// recipients off, never add one. It returns the reply's To (the
// customer) and Cc (those of cc the reply goes to, as the customer's
// email wrote them: without the customer and our own addresses, which a
// reply never copies). A cc outside the conversation's, or not an
// address, or any cc on a contact that is not an email one, is refused
// with a *router.Error of CodeInvalid naming the field ("cc[1]").
//
// Send, given a reply with To set, sends it to the customer and to those
// of its Cc still in the Cc of the customer's mail it answers
// (keepChosen): never to anyone the agent took off.
func (s *Sender) Recipients(ctx context.Context, c router.Contact, cc []string) (to, kept []string, err error) {
	if c.Channel != router.ChannelEmail {
		return nil, nil, router.Errorf(router.CodeInvalid, "cc", "cc: only a reply by email has a Cc; contact %s is on channel %s", c.ID, c.Channel)
	}
	if !validEmail(c.Customer.Email) {
		return nil, nil, router.Errorf(router.CodeConflict, "", "the customer has no email address to reply to")
	}
	msgs, err := s.o.Store.Messages(ctx, c.ID, 0, maxConversation)
	if err != nil {
		return nil, nil, fmt.Errorf("email: read conversation: %w", err)
	}
	_, _, all, _ := threadOf(msgs, math.MaxInt)
	if kept, err = chooseCc(all, c.Customer.Email, s.o, cc); err != nil {
		return nil, nil, err
	}
	return []string{Address{Name: c.Customer.Name, Address: c.Customer.Email}.String()}, kept, nil
}

// chooseCc is the Cc a reply keeps of all (the Cc of the customer's
// mail it answers, as written) when its agent chose cc: those of cc,
// without the customer (to) and our own addresses, as all writes them.
// An entry of cc that is not an address, or not in all, is refused,
// naming it.
func chooseCc(all []string, to string, o SenderOptions, cc []string) ([]string, error) {
	theirs := map[string]bool{}
	for _, x := range all {
		if a, err := mail.ParseAddress(x); err == nil {
			theirs[strings.ToLower(a.Address)] = true
		}
	}
	chosen := make([]string, 0, len(cc))
	for i, x := range cc {
		field := fmt.Sprintf("cc[%d]", i)
		a, err := mail.ParseAddress(x)
		if err != nil {
			return nil, router.Errorf(router.CodeInvalid, field, "%s: %q is not an email address", field, x)
		}
		if !theirs[strings.ToLower(a.Address)] {
			if len(all) == 0 {
				return nil, router.Errorf(router.CodeInvalid, field, "%s: %s is not in the conversation's Cc, which is empty: a reply may take Cc recipients off, not add any", field, a.Address)
			}
			return nil, router.Errorf(router.CodeInvalid, field, "%s: %s is not in the conversation's Cc (%s): a reply may take Cc recipients off, not add any",
				field, a.Address, strings.Join(all, ", "))
		}
		chosen = append(chosen, a.Address)
	}
	var kept []string
	for _, a := range keepChosen(keepCc(all, to, o), chosen) {
		kept = append(kept, a.String())
	}
	return kept, nil
}

// keepChosen is ccs less the addresses not in chosen (addresses as
// written, "Name <address>" or an address alone): the Cc of a reply
// whose agent chose its recipients.
func keepChosen(ccs []*mail.Address, chosen []string) []*mail.Address {
	want := map[string]bool{}
	for _, x := range chosen {
		if a, err := mail.ParseAddress(x); err == nil {
			want[strings.ToLower(a.Address)] = true
		}
	}
	var out []*mail.Address
	for _, a := range ccs {
		if want[strings.ToLower(a.Address)] {
			out = append(out, a)
		}
	}
	return out
}
