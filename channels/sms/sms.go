package sms

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
)

// Channel is the SMS channel. It serves Twilio's webhooks (Handler), is
// the outbox's sender of router.ChannelSMS (Send, SendID) and follows the
// router's event stream (Notify, Resync). It is safe for concurrent use.
type Channel struct {
	o      Options          // resolved, never changed
	api    messageCreator   // nil without an account SID
	byFrom map[string]Route // routes by From and by MessagingServiceSID
	byQ    map[string]Route // routes by queue
	// apiScheme and apiHost are the REST API's: the only place media are
	// fetched from with the account's credentials (never over another
	// scheme: https for Twilio's).
	apiScheme, apiHost string

	// inbound and status count the webhooks' answers (Stats).
	inbound, status counters

	numbers keyedLocks // one text of a number at a time
	reports keyedLocks // one status report of a message at a time

	pmu sync.Mutex
	// pending are the MessageSids Twilio named for a message whose
	// delivery (which stores the sid) is not committed yet; closed when
	// it is (Notify). Guarded by pmu.
	pending map[string]*pendingSID
	// creating are the Messages API calls in flight, each closed when its
	// answer is read (and its sid pending): a report may name the sid of
	// one of them before routerd has read the answer. Guarded by pmu.
	creating map[chan struct{}]struct{}
}

type pendingSID struct {
	done  chan struct{}
	since time.Time
}

var _ router.Notifier = (*Channel)(nil)

// New checks o and returns the channel.
func New(o Options) (*Channel, error) {
	o, err := o.resolve()
	if err != nil {
		return nil, err
	}
	c := &Channel{o: o, byFrom: map[string]Route{}, byQ: map[string]Route{}, pending: map[string]*pendingSID{},
		creating: map[chan struct{}]struct{}{}}
	for _, r := range o.Routes {
		for _, k := range []string{r.From, r.MessagingServiceSID} {
			if k != "" {
				c.byFrom[k] = r
			}
		}
		if _, ok := c.byQ[r.Queue]; !ok {
			c.byQ[r.Queue] = r
		}
	}
	if u, err := url.Parse(o.APIBaseURL); err == nil {
		c.apiScheme, c.apiHost = u.Scheme, u.Host
	}
	if o.AccountSID != "" {
		if c.api, err = newAPI(o); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Handler serves POST /webhooks/twilio/sms and POST
// /webhooks/twilio/status. Both are public (Twilio calls them) and
// authenticated by their signature.
func (c *Channel) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+InboundPath, counted(&c.inbound, c.serveInbound))
	mux.HandleFunc("POST "+StatusPath, counted(&c.status, c.serveStatus))
	return mux
}

// CheckReply refuses a reply on contact ct when its customer's number
// opted out: a *router.Error of router.CodeConflict that says why, which
// the desktop and the API show. Contacts of other channels pass.
func (c *Channel) CheckReply(ctx context.Context, ct router.Contact) error {
	if ct.Channel != router.ChannelSMS || ct.Customer.Phone == "" {
		return nil
	}
	e, found, err := c.o.Store.ConsentState(ctx, router.ChannelSMS, ct.Customer.Phone)
	if err != nil {
		return fmt.Errorf("sms: consent of the contact's number: %w", err)
	}
	if found && e.Blocks() {
		return router.Errorf(router.CodeConflict, "", "the customer opted out of SMS: %s", optOutReason(e.Detail, e.At))
	}
	return nil
}

// optOutReason says how and when a number opted out.
func optOutReason(detail string, at time.Time) string {
	return fmt.Sprintf("they sent %s on %s; nothing more may be texted to them until they text START", detail, at.UTC().Format("2006-01-02 15:04 MST"))
}

// Notify learns which MessageSids the store now names (the deliveries
// the outbox recorded): their status reports may apply. It never blocks.
func (c *Channel) Notify(ns []router.Notification) {
	for _, n := range ns {
		if n.Kind != router.NoteDelivery || n.Message == nil || n.Message.ExternalID == "" {
			continue
		}
		c.pmu.Lock()
		if p := c.pending[n.Message.ExternalID]; p != nil {
			close(p.done)
			delete(c.pending, n.Message.ExternalID)
		}
		c.pmu.Unlock()
	}
}

// Resync catches up after missed notifications: every waiting report
// looks in the store again.
func (c *Channel) Resync(*router.Snapshot) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	for sid, p := range c.pending {
		close(p.done)
		delete(c.pending, sid)
	}
}

// pend records that Twilio named sid for a message whose delivery is
// about to be recorded. Entries older than a minute (whose delivery was
// never recorded: the router stopped) are dropped.
func (c *Channel) pend(sid string) {
	now := time.Now()
	c.pmu.Lock()
	defer c.pmu.Unlock()
	for k, p := range c.pending {
		if now.Sub(p.since) > time.Minute {
			close(p.done)
			delete(c.pending, k)
		}
	}
	if _, ok := c.pending[sid]; !ok {
		c.pending[sid] = &pendingSID{done: make(chan struct{}), since: now}
	}
}

// creation records a call of the Messages API in flight; the returned
// func ends it, after pend of the sid Twilio answered (if any).
func (c *Channel) creation() (end func()) {
	ch := make(chan struct{})
	c.pmu.Lock()
	c.creating[ch] = struct{}{}
	c.pmu.Unlock()
	return func() {
		c.pmu.Lock()
		delete(c.creating, ch)
		c.pmu.Unlock()
		close(ch)
	}
}

// waitPending waits, if sid is pending, until its delivery is recorded
// or pendingWait passes. A sid not pending may be in the answer of a
// Messages API call not read yet (Twilio's report can overtake its
// answer): the calls in flight are waited for first. The caller looks in
// the store again afterwards, whatever happened: the delivery may have
// been recorded between its first look and this wait.
func (c *Channel) waitPending(ctx context.Context, sid string) {
	t := time.NewTimer(pendingWait)
	defer t.Stop()
	c.pmu.Lock()
	p := c.pending[sid]
	var inFlight []chan struct{}
	if p == nil {
		for ch := range c.creating {
			inFlight = append(inFlight, ch)
		}
	}
	c.pmu.Unlock()
	if p == nil {
		for _, ch := range inFlight {
			select {
			case <-ch:
			case <-t.C:
				return
			case <-ctx.Done():
				return
			}
		}
		c.pmu.Lock()
		p = c.pending[sid]
		c.pmu.Unlock()
		if p == nil {
			return
		}
	}
	select {
	case <-p.done:
	case <-t.C:
	case <-ctx.Done():
	}
}

// routeOf returns the route of a contact's queue, or the default.
func (c *Channel) routeOf(queue string) Route {
	if r, ok := c.byQ[queue]; ok {
		return r
	}
	return c.o.Routes[0]
}

// keyedLocks serialises work by key (a number, a MessageSid).
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock // guarded by mu
}

type keyedLock struct {
	mu   sync.Mutex
	refs int // guarded by keyedLocks.mu
}

// lock waits for key and returns its unlock.
func (k *keyedLocks) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
