package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// MaxTextChars is Twilio's limit of one text, in characters.
const MaxTextChars = 1600

// Limits of an inbound text.
const (
	// maxMedia is Twilio's limit of media on one MMS.
	maxMedia = 10
	// maxTextBytes bounds a text's body: MaxTextChars, in UTF-8.
	maxTextBytes = MaxTextChars * 4
)

// sidRE is a Twilio message SID: SM or MM and 32 hex digits.
var sidRE = regexp.MustCompile(`^(SM|MM)[0-9a-fA-F]{32}$`)

// emptyTwiML answers a webhook with nothing to send.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// webhookError is a webhook's refusal: its status and what it says.
type webhookError struct {
	status int
	msg    string
}

func (e *webhookError) Error() string { return e.msg }

func refuse(status int, format string, args ...any) *webhookError {
	return &webhookError{status: status, msg: fmt.Sprintf(format, args...)}
}

// fail answers err: a *webhookError as it says, anything else as 503
// (Twilio may try again; nothing was acknowledged).
func (c *Channel) fail(w http.ResponseWriter, r *http.Request, err error) {
	var we *webhookError
	if !errors.As(err, &we) {
		c.o.Logger.Error("sms: webhook", "path", r.URL.Path, "err", err)
		we = refuse(http.StatusServiceUnavailable, "sms: try again later")
	} else if we.status >= 500 {
		c.o.Logger.Warn("sms: webhook", "path", r.URL.Path, "status", we.status, "err", we.msg)
	} else {
		c.o.Logger.Info("sms: webhook refused", "path", r.URL.Path, "status", we.status, "err", we.msg)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(we.status)
	io.WriteString(w, we.msg+"\n")
}

// authenticate reads r's body and returns its parameters once its
// signature (and, for a JSON body, its bodySHA256) holds. Unknown
// parameters are kept: Twilio adds parameters over time, and each is
// signed.
func (c *Channel) authenticate(w http.ResponseWriter, r *http.Request) (params, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.o.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, refuse(http.StatusRequestEntityTooLarge, "sms: body larger than %d bytes", c.o.MaxBodyBytes)
		}
		return nil, refuse(http.StatusBadRequest, "sms: read body: %v", err)
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return nil, refuse(http.StatusForbidden, "sms: no X-Twilio-Signature")
	}
	signedURL := c.o.PublicURL + requestTarget(r)
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, refuse(http.StatusBadRequest, "sms: query: %v", err)
	}
	if hash := query.Get("bodySHA256"); hash != "" || mediaType(r) == "application/json" {
		// A JSON body: the URL (with the hash in its query) is signed,
		// the body is held to the hash.
		if !validSignature(c.o.AuthToken, signedURL, nil, sig) || !validBodyHash(body, hash) {
			return nil, refuse(http.StatusForbidden, "sms: bad signature")
		}
		return jsonParams(body)
	}
	if mt := mediaType(r); mt != "application/x-www-form-urlencoded" {
		return nil, refuse(http.StatusUnsupportedMediaType, "sms: content type %q: want application/x-www-form-urlencoded, or application/json with bodySHA256", mt)
	}
	ps, err := parseForm(string(body))
	if err != nil {
		// Unsigned as far as anyone can tell: refused before it says
		// anything.
		return nil, refuse(http.StatusBadRequest, "sms: %v", err)
	}
	if !validSignature(c.o.AuthToken, signedURL, ps, sig) {
		return nil, refuse(http.StatusForbidden, "sms: bad signature")
	}
	return paramsOf(ps), nil
}

// requestTarget is r's path and query as received, never rebuilt: what
// Twilio signed after the public URL.
func requestTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI() // an absolute-form target, or a request made in Go
}

func mediaType(r *http.Request) string {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// jsonParams reads a JSON webhook body: one object whose values are
// strings.
func jsonParams(body []byte) (params, error) {
	var raw map[string]json.RawMessage
	if !utf8.Valid(body) {
		return nil, refuse(http.StatusBadRequest, "sms: body is not UTF-8")
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, refuse(http.StatusBadRequest, "sms: JSON body: %v", err)
	}
	if len(raw) > maxParams {
		return nil, refuse(http.StatusBadRequest, "sms: %d parameters, want at most %d", len(raw), maxParams)
	}
	p := params{}
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, refuse(http.StatusBadRequest, "sms: parameter %q: want a string", k)
		}
		p[k] = []string{s}
	}
	return p, nil
}

// text is an inbound text, as checked.
type text struct {
	sid, accountSID, from, to, service, body, optOutType string
	media                                                []router.Attachment
}

// textOf checks an inbound text's parameters.
func textOf(p params) (text, error) {
	var t text
	var err error
	get := func(key string) string {
		v, e := p.one(key)
		if e != nil && err == nil {
			err = refuse(http.StatusBadRequest, "sms: %v", e)
		}
		return v
	}
	t.sid, t.accountSID, t.from, t.to = get("MessageSid"), get("AccountSid"), get("From"), get("To")
	t.service, t.body, t.optOutType = get("MessagingServiceSid"), get("Body"), get("OptOutType")
	numMedia := get("NumMedia")
	if err != nil {
		return text{}, err
	}
	switch {
	case !sidRE.MatchString(t.sid):
		return text{}, refuse(http.StatusBadRequest, "sms: MessageSid %q: want SM or MM and 32 hex digits", t.sid)
	case t.from == "":
		return text{}, refuse(http.StatusBadRequest, "sms: From is missing")
	case len(t.body) > maxTextBytes:
		return text{}, refuse(http.StatusRequestEntityTooLarge, "sms: Body longer than %d bytes", maxTextBytes)
	}
	if n, err := customers.NormalizePhone(t.from); err != nil || n != t.from {
		return text{}, refuse(http.StatusBadRequest, "sms: From %q: want a number in E.164, such as +15551234567", t.from)
	}
	n := 0
	if numMedia != "" {
		if n, err = strconv.Atoi(numMedia); err != nil || n < 0 || n > maxMedia {
			return text{}, refuse(http.StatusBadRequest, "sms: NumMedia %q: want 0 to %d", numMedia, maxMedia)
		}
	}
	for i := range n {
		u, typ := get("MediaUrl"+strconv.Itoa(i)), get("MediaContentType"+strconv.Itoa(i))
		if err != nil {
			return text{}, err
		}
		if pu, perr := url.Parse(u); perr != nil || pu.Scheme != "https" && pu.Scheme != "http" || pu.Host == "" || len(u) > 2000 {
			return text{}, refuse(http.StatusBadRequest, "sms: MediaUrl%d %q: want an http(s) URL", i, u)
		}
		if len(typ) > 100 {
			return text{}, refuse(http.StatusBadRequest, "sms: MediaContentType%d longer than 100 bytes", i)
		}
		t.media = append(t.media, router.Attachment{Name: "media-" + strconv.Itoa(i), Type: typ, URL: u})
	}
	if strings.TrimSpace(t.body) == "" && len(t.media) == 0 {
		return text{}, refuse(http.StatusBadRequest, "sms: Body is empty and there are no media")
	}
	return t, nil
}

// serveInbound takes a text (POST /webhooks/twilio/sms).
func (c *Channel) serveInbound(w http.ResponseWriter, r *http.Request) {
	p, err := c.authenticate(w, r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	t, err := textOf(p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if c.o.AccountSID != "" && t.accountSID != c.o.AccountSID {
		c.fail(w, r, refuse(http.StatusForbidden, "sms: AccountSid is not this account's"))
		return
	}
	// Before the number's lock: fetching takes time, and a retry of the
	// text fetches again into the same files (kept by content hash).
	t.media = c.fetchMedia(r.Context(), t.media)
	ctx, cancel := context.WithTimeout(r.Context(), commandTimeout)
	defer cancel()
	unlock := c.numbers.lock(t.from)
	answer, err := c.receive(ctx, t)
	unlock()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// Committed: only now is Twilio told.
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if answer == "" {
		io.WriteString(w, emptyTwiML)
		return
	}
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>`+html.EscapeString(answer)+`</Message></Response>`)
}

// receive commits text t and returns what to answer the customer with
// (HELP's text, or nothing). The caller holds t.from's lock.
func (c *Channel) receive(ctx context.Context, t text) (string, error) {
	kw, word := consent.KeywordOf(t.body)
	if len(t.media) > 0 {
		kw, word = consent.NoKeyword, "" // a picture with "stop" under it is a message, not a keyword
	}
	// Twilio's own opt-out handling says what the text was, media or not.
	switch strings.ToUpper(t.optOutType) {
	case "STOP":
		kw, word = consent.KeywordStop, "OptOutType=STOP"
	case "START":
		kw, word = consent.KeywordStart, "OptOutType=START"
	case "HELP":
		kw = consent.KeywordHelp
	}
	m := router.Message{Direction: "in", Body: t.body, ExternalID: t.sid, Attachments: t.media}
	if strings.TrimSpace(m.Body) == "" {
		m.Body = fmt.Sprintf("[%d media]", len(t.media))
	}
	switch kw {
	case consent.KeywordStop:
		if err := c.record(ctx, t, consent.OptOut, word); err != nil {
			return "", err
		}
		return "", c.joinLive(ctx, t.from, m)
	case consent.KeywordStart:
		e, found, err := c.o.Store.ConsentState(ctx, router.ChannelSMS, t.from)
		if err != nil {
			return "", err
		}
		// The number opted out; or this very text opted it back in
		// already (Twilio's retry of a START whose answer was lost).
		// Not a text taken in before the opt-out as an answer ("yes")
		// and retried, or replayed, since: it opts nothing back in.
		if found && e.Blocks() && e.MessageID != t.sid {
			_, earlier, err := c.o.Store.MessageByExternalID(ctx, t.sid)
			if err != nil {
				return "", fmt.Errorf("sms: look up %s: %w", t.sid, err)
			}
			found = !earlier
		}
		if found && (e.Blocks() || e.MessageID == t.sid) {
			if err := c.record(ctx, t, consent.OptIn, word); err != nil {
				return "", err
			}
			return "", c.joinLive(ctx, t.from, m)
		}
		// YES from a number that never opted out is an answer.
	case consent.KeywordHelp:
		return c.o.HelpText, c.joinLive(ctx, t.from, m)
	}
	return "", c.deliver(ctx, t, m)
}

// record appends t's opt-out or opt-in to the consent ledger, for the
// customer who holds the number, if any.
func (c *Channel) record(ctx context.Context, t text, a consent.Action, word string) error {
	owner, err := c.o.Store.IdentityOwner(ctx, store.IdentityPhone, t.from)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("sms: owner of the number: %w", err)
	}
	_, err = c.o.Store.RecordConsent(ctx, consent.Entry{CustomerID: owner.CustomerID, Channel: router.ChannelSMS, Address: t.from,
		Action: a, At: c.o.Clock(), MessageID: t.sid, Detail: word})
	if err != nil {
		return fmt.Errorf("sms: record %s: %w", a, err)
	}
	c.o.Logger.Info("sms: consent recorded", "action", a, "message", t.sid, "customer", owner.CustomerID)
	return nil
}

// latest returns the newest SMS contact of number, if any.
func (c *Channel) latest(ctx context.Context, number string) (router.Contact, bool, error) {
	page, err := c.o.Store.Contacts(ctx, store.ContactFilter{Channel: router.ChannelSMS, Customer: number, Limit: 1})
	if err != nil {
		return router.Contact{}, false, fmt.Errorf("sms: contacts of the number: %w", err)
	}
	if len(page.Contacts) == 0 {
		return router.Contact{}, false, nil
	}
	return page.Contacts[0], true, nil
}

// joinLive adds a keyword's message m to the live contact of number, if
// there is one, so that its agent sees it; a keyword starts no contact.
func (c *Channel) joinLive(ctx context.Context, number string, m router.Message) error {
	last, ok, err := c.latest(ctx, number)
	if err != nil || !ok {
		return err
	}
	if _, live := c.o.Router.Snapshot().Contact(last.ID); !live {
		return nil
	}
	_, _, _, err = c.o.Intake.Message(ctx, last.ID, m)
	return c.intakeError(err)
}

// deliver commits a customer's text m: on the number's live contact, as
// a follow-up of its last one, or on a new contact of the route of the
// number it was sent to.
func (c *Channel) deliver(ctx context.Context, t text, m router.Message) error {
	if stored, found, err := c.o.Store.MessageByExternalID(ctx, t.sid); err != nil {
		return fmt.Errorf("sms: look up MessageSid: %w", err)
	} else if found {
		if stored.Direction != "in" {
			return refuse(http.StatusConflict, "sms: MessageSid %s is an outbound message's", t.sid)
		}
		return nil // Twilio's retry: stored already
	}
	last, ok, err := c.latest(ctx, t.from)
	if err != nil {
		return err
	}
	if ok {
		_, _, _, err := c.o.Intake.Message(ctx, last.ID, m)
		return c.intakeError(err)
	}
	route := c.o.Routes[0]
	if r, ok := c.byFrom[t.service]; ok && t.service != "" {
		route = r
	} else if r, ok := c.byFrom[t.to]; ok && t.to != "" {
		route = r
	}
	_, _, err = c.o.Intake.Contact(ctx, router.NewContact{Channel: router.ChannelSMS, Queue: route.Queue,
		Customer: router.Customer{Phone: t.from, Verified: true}, // the number is proven: Twilio delivered from it
		Body:     m.Body, First: m})
	return c.intakeError(err)
}

// intakeError maps the router's refusals of a text to what Twilio hears.
func (c *Channel) intakeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, router.ErrLimit):
		// The conversation holds all it may from the customer: the text
		// is not kept, and Twilio's retry would not change that.
		return refuse(http.StatusUnprocessableEntity, "sms: %v", err)
	case errors.Is(err, router.ErrInvalid):
		return refuse(http.StatusBadRequest, "sms: %v", err)
	case errors.Is(err, router.ErrConflict):
		return refuse(http.StatusServiceUnavailable, "sms: %v", err) // a contact ending: try again
	case errors.Is(err, intake.ErrRefused):
		return refuse(http.StatusServiceUnavailable, "sms: %v", err) // Twilio tries again later
	}
	return err
}
