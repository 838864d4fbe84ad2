package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/router"
)

// fetched is a message as read from the mailbox.
type fetched struct {
	uid          uint32
	raw          []byte // the whole message, or its header when headerOnly
	size         int64
	internalDate time.Time
	headerOnly   bool // over Options.MaxMessageBytes
	// refused is, for a message the server would not serve (refused.go),
	// its words; raw is then its header, or nil when it would not serve
	// that either, and mail what is taken in.
	refused string
	mail    *Mail
}

// whole says whether raw is the whole message.
func (in fetched) whole() bool { return !in.headerOnly && in.refused == "" }

// ExternalID is the key a message of desk is stored under
// (router.Message.ExternalID): one message per desk and Message-ID (or
// synthetic key), forever.
func ExternalID(desk, key string) string { return "email:" + desk + ":" + key }

// parse reads in's message; an unreadable one is kept raw.
func (f *fetcher) parse(in fetched) *Mail {
	m, err := Parse(in.raw)
	if err != nil {
		f.log.Warn("email: unreadable message kept raw", "uid", in.uid, "size", in.size, "err", err)
		m = unreadable(in.raw, err)
	}
	return m
}

// takeAll takes in the messages of ins (in UID order), several at a
// time: the messages of one sender, and those that name one another
// (a reply and what it answers, a report and its original), one after
// the other in their order; the others at once, at most
// takeParallel. Each waits for its commits (the contact, the
// acknowledgement): one at a time, a mailbox took 17.5 messages a second
// while the store committed 430 batches a second (the soak,
// docs/performance.md), less than the 20 that came. Every group runs to
// its end or its first error; the groups' errors are returned joined.
func (f *fetcher) takeAll(ctx context.Context, ins []fetched) error {
	mails := make([]*Mail, len(ins))
	for i, in := range ins {
		if mails[i] = in.mail; mails[i] == nil {
			mails[i] = f.parse(in)
		}
	}
	groups := takeGroups(mails)
	sem := make(chan struct{}, takeParallel)
	errs := make([]error, len(groups))
	var wg sync.WaitGroup
	for g, idx := range groups {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, i := range idx {
				if err := f.takeParsed(ctx, ins[i], mails[i]); err != nil {
					errs[g] = fmt.Errorf("take in UID %d: %w", ins[i].uid, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// takeGroups splits mails into the groups takeAll takes in one after the
// other, each a list of indexes in order: mails of one sender (address,
// lower case), or naming another's Message-ID (In-Reply-To, References,
// a report's original), are in one group.
func takeGroups(mails []*Mail) [][]int {
	parent := make([]int, len(mails))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{} // a key (sender, Message-ID) → the first mail holding it
	join := func(i int, key string) {
		if j, ok := owner[key]; ok {
			if a, b := find(i), find(j); a != b {
				parent[max(a, b)] = min(a, b)
			}
			return
		}
		owner[key] = i
	}
	for i, m := range mails {
		if m.From.Address != "" {
			join(i, "from:"+strings.ToLower(m.From.Address))
		}
		if m.MessageID != "" {
			join(i, "id:"+m.MessageID)
		}
		refs := append(slices.Clone(m.InReplyTo), m.References...)
		if m.Report != nil && m.Report.OriginalID != "" {
			refs = append(refs, m.Report.OriginalID)
		}
		for _, r := range refs {
			join(i, "id:"+r)
		}
	}
	byRoot := map[int]int{}
	var groups [][]int
	for i := range mails {
		r := find(i)
		g, ok := byRoot[r]
		if !ok {
			g = len(groups)
			byRoot[r] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// takeParsed takes one message in: m, the message of in, joined to its
// conversation or made a new contact, committed. An error means nothing
// may be assumed stored and the message must be taken in again (the
// session ends and the mailbox reconnects); a message that cannot be
// read or that the router refuses is still taken in, with the reason
// shown, never dropped.
func (f *fetcher) takeParsed(ctx context.Context, in fetched, m *Mail) error {
	if in.headerOnly {
		m.Text = fmt.Sprintf("(This email of %d bytes is over the limit of %d: only its header was read. The whole message stays in the mailbox %s, folder %s.)",
			in.size, f.ch.o.MaxMessageBytes, f.mb.Name, f.mb.Folder)
		m.Problems = append(m.Problems, "over the size limit; header only")
		f.log.Warn("email: message over the size limit taken in by its header", "uid", in.uid, "size", in.size)
	}
	msg := f.message(m, in)
	if len(m.Problems) > 0 {
		f.log.Info("email: message read with problems", "uid", in.uid, "key", m.Key, "problems", strings.Join(m.Problems, "; "))
	}
	id, err := f.thread(ctx, m)
	if err != nil {
		return err
	}
	if id != "" {
		_, _, _, err := f.ch.o.Intake.Message(ctx, id, msg)
		switch router.CodeOf(err) {
		case "":
			if err == nil {
				err = f.bounced(ctx, m)
			}
			return err // nil, or the router or store failing: again later
		case router.CodeNoContact, router.CodeLimit:
			// Gone, or full: a contact of its own instead.
			f.log.Info("email: reply starts a new contact", "uid", in.uid, "joined", id, "err", err)
		case router.CodeInvalid:
			f.log.Warn("email: router refused the message; kept with the reason", "uid", in.uid, "err", err)
			msg = f.quarantine(msg, err)
			if _, _, _, err := f.ch.o.Intake.Message(ctx, id, msg); router.CodeOf(err) != router.CodeNoContact {
				return err
			}
		default:
			return err
		}
	}
	c, created, err := f.ch.o.Intake.Contact(ctx, f.newContact(m, msg))
	if router.CodeOf(err) == router.CodeInvalid {
		f.log.Warn("email: router refused the contact; kept with the reason", "uid", in.uid, "err", err)
		msg = f.quarantine(msg, err)
		c, created, err = f.ch.o.Intake.Contact(ctx, f.newContact(m, msg))
	}
	// Acknowledged at most once, when the contact is created: a replay
	// sends none (the rate limit that held one back is not kept across
	// a restart, and a second would be worse than one lost to a crash).
	// Never to a message whose header the server would not serve: its
	// fields say whether the mail is automatic.
	if err != nil || !created || f.ch.ack == nil || Automatic(m) != "" || in.refused != "" && in.raw == nil {
		return err
	}
	if err := f.ch.ack.acknowledge(ctx, c, f.mb.Queue, m); err != nil {
		f.log.Warn("email: acknowledgement not sent", "uid", in.uid, "contact", c.ID, "err", err)
	}
	return nil
}

// bounced marks the message of ours that m, a delivery report, says
// failed: its delivery becomes failed with the report's status, once m
// is committed (a replay records it again, harmlessly). The report must
// name the message as ourMessage accepts it: a forged report marks
// nothing.
func (f *fetcher) bounced(ctx context.Context, m *Mail) error {
	r := m.Report
	if r == nil || r.Action != "failed" || f.ch.o.Deliveries == nil {
		return nil
	}
	contactID, seq, _, err := f.ourMessage(ctx, r.OriginalID, r.Recipient)
	if err != nil || contactID == "" || seq < 1 {
		return err
	}
	reason := strings.TrimSpace("bounced: " + r.Status + " " + r.Diagnostic)
	err = f.ch.o.Deliveries.RecordDelivery(ctx, router.OutboxEntry{ContactID: contactID, Seq: seq},
		&router.Delivery{Status: router.DeliveryFailed, Reason: truncate(reason, 500), Attempts: 1})
	if router.CodeOf(err) == router.CodeInvalid {
		f.log.Warn("email: a bounce names no message of ours", "original", r.OriginalID, "err", err)
		return nil
	}
	return err
}

// unreadable is what is shown of a message Parse refused.
func unreadable(raw []byte, err error) *Mail {
	sum := sha256.Sum256(raw)
	return &Mail{Key: "synthetic:" + hex.EncodeToString(sum[:16]), Subject: "(unreadable email)",
		Text:     "(This email could not be read: " + err.Error() + unreadableNote,
		Problems: []string{err.Error()}, Header: map[string][]string{}}
}

// message is m as the router's message, its files kept.
func (f *fetcher) message(m *Mail, in fetched) router.Message {
	msg := router.Message{Direction: "in", AuthorKind: router.AuthorCustomer, Author: m.From.Address, AuthorName: m.From.Name,
		Subject: m.Subject, HTML: m.HTML, ExternalID: ExternalID(f.mb.desk(), m.Key), To: recipients(m.To), Cc: recipients(m.Cc)}
	for _, r := range append(append([]string(nil), m.References...), m.InReplyTo...) {
		if !slices.Contains(msg.References, r) {
			msg.References = append(msg.References, r)
		}
	}
	if len(msg.References) > maxRefs {
		msg.References = msg.References[len(msg.References)-maxRefs:]
	}
	notes := append([]string(nil), m.Problems...)
	if why := Automatic(m); why != "" {
		notes = append(notes, "automatic mail ("+why+"): no automatic answer")
	}
	if m.Report != nil && m.Report.Action != "" {
		notes = append(notes, fmt.Sprintf("delivery report: %s %s %s", m.Report.Action, m.Report.Status, m.Report.Diagnostic))
	}
	var rawKept bool
	msg.Attachments, notes, rawKept = f.keepFiles(m, in, notes)
	msg.Body = m.Text
	if !rawKept {
		// The notes Parse (a text cut) and unreadable end the text with
		// say where the whole is: not there. Only their own ending is
		// changed, never the customer's words (a quoted note).
		for _, note := range []string{cutNote, unreadableNote} {
			if strings.HasSuffix(msg.Body, note) {
				msg.Body = strings.TrimSuffix(msg.Body, note) + strings.Replace(note, "is in "+rawName, rawWhere(false), 1)
			}
		}
	}
	if msg.Body == "" {
		msg.Body = "(no text)"
	}
	if len(notes) > 0 {
		msg.Body = truncate(msg.Body, MaxBodyBytes-2048) + "\n\n[switchboard: " + truncate(strings.Join(notes, "; "), 1800) + "]"
	}
	return msg
}

// quarantine strips msg down to what the router always takes, with the
// reason it refused the rest; the raw message stays attached.
func (f *fetcher) quarantine(msg router.Message, refused error) router.Message {
	q := router.Message{Direction: "in", AuthorKind: router.AuthorCustomer, Author: truncate(msg.Author, 320),
		ExternalID: msg.ExternalID, Subject: truncate(msg.Subject, 200)}
	for _, a := range msg.Attachments {
		if a.Name == rawName {
			q.Attachments = append(q.Attachments, a)
		}
	}
	where := "It " + rawWhere(len(q.Attachments) > 0)
	q.Body = "(This email was refused as written: " + truncate(refused.Error(), 500) + ". " + where + ".)\n\n" + truncate(msg.Body, 8<<10)
	return q
}

// newContact is the contact m starts.
func (f *fetcher) newContact(m *Mail, msg router.Message) router.NewContact {
	cu := router.Customer{Name: router.FitCustomerName(m.From.Name), Email: m.From.Address}
	if cu.Email != "" && Verified(m, f.ch.o.AuthservID) {
		cu.Verified = true
	}
	if !validEmail(cu.Email) {
		cu.Email = ""
	}
	return router.NewContact{Channel: router.ChannelEmail, Queue: f.mb.Queue, Customer: cu, Subject: msg.Subject,
		Body: msg.Body, First: msg}
}

// rawName is the name the raw message is kept under.
const rawName = "message.eml"

// The notes that end a message's text and say where the whole message
// is: a text cut (Parse) and an unreadable email. message changes them
// when the raw message was not kept.
const (
	cutNote        = "\n[… cut at 64 KiB; the whole message is in " + rawName + "]"
	unreadableNote = ". The whole message is in " + rawName + ".)"
)

// rawWhere says where the whole message is: "is in message.eml" when
// it was kept, else "stays in the mailbox".
func rawWhere(kept bool) string {
	if kept {
		return "is in " + rawName
	}
	return "stays in the mailbox"
}

// keepFiles puts the raw message and m's files in Options.Files, within
// the limits; what is not kept is noted, with where it is then. rawKept
// says whether the raw message was.
func (f *fetcher) keepFiles(m *Mail, in fetched, notes []string) (_ []router.Attachment, _ []string, rawKept bool) {
	files := f.ch.o.Files
	if files == nil {
		return nil, notes, false
	}
	var out []router.Attachment
	if in.whole() {
		if sha, size, err := files.Put(bytes.NewReader(in.raw)); err == nil {
			out = append(out, router.Attachment{Name: rawName, Type: "message/rfc822", Size: size, SHA256: sha})
			rawKept = true
		} else {
			notes = append(notes, fmt.Sprintf("raw message not kept (%v); it stays in the mailbox", err))
		}
	}
	total := int64(0)
	for _, file := range m.Files {
		size := int64(len(file.Data))
		switch {
		case len(out) >= router.MaxAttachments:
			notes = append(notes, fmt.Sprintf("%s not kept: too many attachments", file.Name))
			continue
		case f.ch.o.MaxAttachmentBytes > 0 && total+size > f.ch.o.MaxAttachmentBytes:
			notes = append(notes, fmt.Sprintf("%s (%d bytes) not kept: the attachments of one message are limited to %d bytes; the whole message %s", file.Name, size, f.ch.o.MaxAttachmentBytes, rawWhere(rawKept)))
			continue
		}
		sha, n, err := files.Put(bytes.NewReader(file.Data))
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s (%d bytes) not kept: %v; the whole message %s", file.Name, size, err, rawWhere(rawKept)))
			continue
		}
		total += n
		name := file.Name
		if file.ContentID != "" {
			name = "cid:" + file.ContentID + " " + name
		}
		out = append(out, router.Attachment{Name: truncate(name, 400), Type: truncate(file.Type, 100), Size: n, SHA256: sha})
	}
	return out, notes, rawKept
}

// recipients are addrs as the router keeps them, at most maxRecipients.
func recipients(addrs []Address) []string {
	var out []string
	for _, a := range addrs {
		if a.Address == "" {
			continue
		}
		out = append(out, truncate(a.String(), 400))
		if len(out) == maxRecipients {
			break
		}
	}
	return out
}

// maxRecipients bounds the To and the Cc of a message kept.
const maxRecipients = 40

// validEmail reports whether s is an address the customers package
// keeps (its one rule, customers.CheckEmail).
func validEmail(s string) bool { return customers.CheckEmail(s) == nil }
