package email

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"
)

// maxRefusals is how many sessions in a row the server must refuse a
// message (its body or its size: NO, or an answer without it), over at
// least Options.RefusalSpan, before it is taken in from what the server
// does serve (unserved): fewer would take a passing failure for a
// broken message (the mailbox reconnects with backoff in between, 1 s,
// 2 s, 4 s by default: sessions alone are seconds).
const maxRefusals = 3

// refusalCount is how long a message has been refused: in how many sessions
// in a row, since when.
type refusalCount struct {
	sessions int
	first    time.Time
}

// refusalKey names a message across sessions.
type refusalKey struct {
	uidValidity uint32
	uid         imap.UID
}

// fetchAll fetches what o asks of each of uids (UID FETCH); has says
// whether an answer holds it (nil: any answer does). A server that
// refuses the FETCH (NO: Exchange's "could not be converted to
// RFC-822", Gmail's "Some messages could not be FETCHed") or leaves some
// of the UIDs out of its answer is asked for those one at a time;
// refused has the server's words for each it still would not serve.
// Anything else failing (the connection, BAD, a NO of notTheMessage) is
// err: the session ends, as before.
func (f *fetcher) fetchAll(c imapConn, what string, uids []imap.UID, o *imap.FetchOptions, has func(*imapclient.FetchMessageBuffer) bool) (
	got map[imap.UID]*imapclient.FetchMessageBuffer, refused map[imap.UID]string, err error) {
	if has == nil {
		has = func(*imapclient.FetchMessageBuffer) bool { return true }
	}
	got = make(map[imap.UID]*imapclient.FetchMessageBuffer, len(uids))
	keep := func(msgs []*imapclient.FetchMessageBuffer) {
		for _, m := range msgs {
			if has(m) {
				got[m.UID] = m
			}
		}
	}
	msgs, no, err := fetchOrRefusal(c, what, imap.UIDSetNum(uids...), o)
	if err != nil {
		return nil, nil, err
	}
	keep(msgs) // all of them, or what a server that refused some served
	for _, u := range uids {
		if got[u] != nil {
			continue
		}
		if len(uids) > 1 {
			if msgs, no, err = fetchOrRefusal(c, what, imap.UIDSetNum(u), o); err != nil {
				return nil, nil, err
			}
			if keep(msgs); got[u] != nil {
				continue
			}
		}
		if no == "" {
			no = "the server answered without the message"
		}
		if refused == nil {
			refused = map[imap.UID]string{}
		}
		refused[u] = no
	}
	return got, refused, nil
}

// notTheMessage are the response codes of a NO that says nothing of
// the messages asked for (RFC 5530): the server busy or down, the login
// expired, the message expunged meanwhile. Such a NO fails the session
// like any other failure; it is no refusal to count.
var notTheMessage = []imap.ResponseCode{imap.ResponseCodeUnavailable, imap.ResponseCodeInUse, imap.ResponseCodeLimit,
	imap.ResponseCodeExpired, "EXPUNGEISSUED"}

// fetchOrRefusal runs one UID FETCH. The server's refusal (NO, but for
// notTheMessage) is no error: its words are refusal, with what it served
// before it.
func fetchOrRefusal(c imapConn, what string, set imap.UIDSet, o *imap.FetchOptions) (msgs []*imapclient.FetchMessageBuffer, refusal string, err error) {
	err = c.wait(what, func() (err error) {
		msgs, err = c.Fetch(set, o).Collect()
		return err
	})
	var ie *imap.Error
	switch {
	case err == nil:
		return msgs, "", nil
	case errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo && !slices.Contains(notTheMessage, ie.Code):
		words := "NO"
		if ie.Code != "" {
			words += " [" + string(ie.Code) + "]"
		}
		return msgs, serverWords(words + " " + ie.Text), nil
	}
	return nil, "", fmt.Errorf("%s: %w", what, err)
}

// serverWords is s, a server's free text, as it may be shown and
// logged: one line, printable, valid UTF-8, at most 300 bytes.
func serverWords(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, toUTF8([]byte(s)))
	return truncate(strings.Join(strings.Fields(s), " "), 300)
}

// refusedAgain counts this session's refusal of each message of uids
// that refused names, and fails while one of them has been refused in
// fewer than maxRefusals sessions: the session ends, nothing of the
// batch after the checkpoint is marked taken in, and the next session
// asks again. Only the mailbox's goroutine calls it.
func (f *fetcher) refusedAgain(uidValidity uint32, uids []imap.UID, refused map[imap.UID]string) error {
	var errs []error
	for _, u := range uids {
		why, ok := refused[u]
		if !ok {
			continue
		}
		if f.refusals == nil {
			f.refusals = map[refusalKey]*refusalCount{}
		}
		k := refusalKey{uidValidity, u}
		r := f.refusals[k]
		if r == nil {
			r = &refusalCount{first: time.Now()}
			f.refusals[k] = r
		}
		r.sessions++
		if r.sessions < maxRefusals || time.Since(r.first) < f.ch.o.RefusalSpan {
			errs = append(errs, fmt.Errorf("UID %d refused in session %d since %s (taken in from what is served after %d over %s): %s",
				u, r.sessions, r.first.UTC().Format(time.RFC3339), maxRefusals, f.ch.o.RefusalSpan, why))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("the server would not serve a message: %w", errors.Join(errs...))
	}
	return nil
}

// forgetRefusals drops the count of uids, once their batch is done.
func (f *fetcher) forgetRefusals(uidValidity uint32, uids []imap.UID) {
	if len(f.refusals) == 0 {
		return
	}
	for _, u := range uids {
		delete(f.refusals, refusalKey{uidValidity, u})
	}
}

// unserved is the message of sized (its UID, and its size and
// internal date when the server gave them), which the server refused in
// maxRefusals sessions or more (why, its words), as it is taken in: from
// its header (BODY.PEEK[HEADER]), else its envelope, else nothing but
// where it is, with a text that says so, so that an agent gets a contact
// and looks in the mailbox, and the checkpoint moves past it. A
// connection that fails is err.
func (f *fetcher) unserved(c imapConn, uidValidity uint32, sized *imapclient.FetchMessageBuffer, why string) (fetched, error) {
	uid := sized.UID
	in := fetched{uid: uint32(uid), size: sized.RFC822Size, internalDate: sized.InternalDate, refused: why}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	msgs, _, err := fetchOrRefusal(c, "fetch a header", imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{header}})
	if err != nil {
		return in, err
	}
	for _, m := range msgs {
		if m.UID == uid && len(m.BodySection) > 0 && len(m.BodySection[0].Bytes) > 0 {
			in.raw = m.BodySection[0].Bytes
		}
	}
	served := "only its header was read"
	if in.raw != nil {
		in.mail = f.parse(in)
	} else {
		msgs, _, err = fetchOrRefusal(c, "fetch an envelope", imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, Envelope: true})
		if err != nil {
			return in, err
		}
		for _, m := range msgs {
			if m.UID == uid && m.Envelope != nil {
				in.mail = envelopeMail(m.Envelope)
			}
		}
		served = "only its envelope (sender, recipients, subject) was read"
		if in.mail == nil {
			in.mail = &Mail{Subject: "(an email the mail server would not serve)", Header: map[string][]string{}}
			served = "nothing of it could be read, not even its header"
		}
	}
	m := in.mail
	if m.Key == "" {
		// Stable across sessions and restarts: never taken in twice.
		sum := sha256.Sum256([]byte(strings.Join([]string{"unserved", f.mb.Name, f.mb.Folder,
			strconv.FormatUint(uint64(uidValidity), 10), strconv.FormatUint(uint64(uid), 10)}, "\x00")))
		m.Key = "synthetic:" + hex.EncodeToString(sum[:16])
	}
	n := maxRefusals
	if r := f.refusals[refusalKey{uidValidity, uid}]; r != nil {
		n = max(r.sessions, n)
	}
	m.Text = fmt.Sprintf("(The mail server would not give this email to Switchboard: it answered “%s” in %d sessions in a row, "+
		"so %s. The email stays in the mailbox %s, folder %s, UID %d: look at it there.)", why, n, served, f.mb.Name, f.mb.Folder, uid)
	m.Problems = append(m.Problems, "the mail server would not serve the message; "+served)
	f.log.Warn("email: the server would not serve a message; taken in from what it served", "folder", f.mb.Folder, "uid", uid,
		"served", served, "reason", why)
	return in, nil
}

// envelopeMail is what an IMAP envelope says of a message.
func envelopeMail(e *imap.Envelope) *Mail {
	m := &Mail{Subject: truncate(strings.Join(strings.Fields(toUTF8([]byte(e.Subject))), " "), 900), Date: e.Date,
		Header: map[string][]string{}}
	if id := e.MessageID; id != "" && len(id) <= maxIDLen && !strings.ContainsAny(id, " \t<>") {
		m.MessageID, m.Key = id, id
	}
	addrs := func(l []imap.Address) []Address {
		var out []Address
		for _, a := range l {
			if a.Addr() == "" {
				continue // a group's start or end
			}
			out = append(out, address(&mail.Address{Name: a.Name, Address: a.Addr()}))
		}
		return out
	}
	if from := addrs(e.From); len(from) > 0 {
		m.From = from[0]
	}
	m.ReplyTo, m.To, m.Cc = addrs(e.ReplyTo), addrs(e.To), addrs(e.Cc)
	m.InReplyTo = validIDs(e.InReplyTo)
	return m
}
