package webhooks

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/switchboard/switchboard/backoff"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// outcome is what one attempt at an event came to.
type outcome int

const (
	// delivered: the receiver answered 2xx.
	delivered outcome = iota
	// refused: the receiver refused this event (most 4xx and 5xx): its
	// contact is held, the others' events go on.
	refused
	// down: the receiver takes nothing now (receiverDown): the whole
	// webhook waits.
	down
	// gone: 410, the receiver unsubscribed.
	gone
	// stopped: the worker is stopping; nothing was learned.
	stopped
)

// receiverDown reports whether a failed attempt that got status (0: no
// answer) says that the receiver takes no event now, rather than that it
// refuses this one: no answer (no connection, a timeout), a redirect
// (not followed: the URL is wrong), 401 (it does not take the
// signature), 408, 429, and 502 to 504 (busy, or not there). Another
// contact's event would fare no better, so the whole webhook waits
// instead of trying the next contact's.
func receiverDown(status int) bool {
	switch {
	case status == 0, status >= 300 && status <= 399:
		return true
	}
	switch status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// pass is one run of a webhook's worker over the log: it owns st, the
// webhook's state, until it returns it.
type pass struct {
	d   *Dispatcher
	ctx context.Context
	h   *hook
	st  store.WebhookState
	// readAgain, when set, is when to run again after the log could not
	// be read.
	readAgain time.Time
	// refusals counts the events refused in a row in this pass, none
	// taken between (refusedDown).
	refusals int
}

// refusedDown is how many events in a row, of different contacts, a
// receiver refuses with a status that names no outage (a 500, say)
// before it counts as down: it answers everything so, and the whole
// webhook waits rather than hold every contact, one probe each.
const refusedDown = 3

// refused counts one more refusal in a row and reports whether the
// receiver now counts as down.
func (p *pass) refused() bool {
	p.refusals++
	return p.refusals >= refusedDown
}

// deliver delivers what the log holds for h after st: first the events
// of the held contacts whose retry is due, each contact's in order, then
// the entries after st.Scanned, in order. It returns the state it leaves
// and when it wants to run again (zero: when woken).
//
// An event the receiver refuses holds back only its contact's later
// events (st.Held, at most Options.MaxHeld contacts); when that many
// are held, the pass reads no further than the next event of another
// contact until one is released. A receiver that takes nothing (down)
// makes the whole webhook wait.
func (d *Dispatcher) deliver(ctx context.Context, h *hook, st store.WebhookState) (_ store.WebhookState, next time.Time) {
	p := &pass{d: d, ctx: ctx, h: h, st: st}
	for !p.st.Disabled && ctx.Err() == nil {
		if now := d.o.Clock.Now(); now.Before(p.st.NextAttemptAt) {
			return p.st, p.st.NextAttemptAt
		}
		if !p.retryDue() || !p.scan() {
			break
		}
		next = p.nextRetry()
		if next.IsZero() || next.After(d.o.Clock.Now()) {
			return p.st, next
		}
		// A held contact came due during the pass: once more.
	}
	if p.st.Disabled || ctx.Err() != nil {
		return p.st, time.Time{}
	}
	return p.st, p.nextRetry()
}

// nextRetry is when the pass wants to run again: when the whole webhook
// waits, at the end of its wait; after a failed read, a little later;
// else at the earliest retry of a held contact (now, if one is due);
// zero when nothing waits.
func (p *pass) nextRetry() time.Time {
	now := p.d.o.Clock.Now()
	switch {
	case p.st.NextAttemptAt.After(now):
		return p.st.NextAttemptAt
	case !p.readAgain.IsZero():
		return p.readAgain
	}
	var next time.Time
	for _, hc := range p.st.Held {
		at := hc.NextAttemptAt
		if at.Before(now) {
			at = now
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next
}

// retryDue retries the held contacts whose retry is due, by their first
// owed event. It reports whether the pass goes on (false: the receiver
// is down, gone, or the worker stops).
func (p *pass) retryDue() bool {
	now := p.d.o.Clock.Now()
	var due []string
	for _, hc := range p.st.Held {
		if !now.Before(hc.NextAttemptAt) {
			due = append(due, hc.ContactID)
		}
	}
	for _, contact := range due {
		if !p.retry(contact) {
			return false
		}
	}
	return true
}

// retry delivers the owed events of held contact, in order, until one
// is refused again (the contact stays held, with its next retry) or
// none is left up to st.Scanned (the contact is released). It reports
// whether the pass goes on.
func (p *pass) retry(contact string) bool {
	for {
		i := p.held(contact)
		if i < 0 {
			return true
		}
		entries, err := p.d.o.Store.EventLogOf(p.ctx, contact, p.st.Held[i].Next, p.st.Scanned, pageSize)
		if err != nil {
			return p.readFailed(err)
		}
		for _, e := range entries {
			i := p.held(contact)
			if !p.h.def.subscribed(e.Type) {
				p.st.Held[i].Next = e.ID + 1
				continue
			}
			e, ok, err := p.current(e)
			if err != nil {
				return p.readFailed(err)
			}
			if !ok {
				p.st.Held[i].Next = e.ID + 1
				continue
			}
			out, status, errText := p.attempt(e)
			switch out {
			case delivered:
				p.refusals = 0
				p.st.Held[i] = store.HeldContact{ContactID: contact, Next: e.ID + 1}
			case refused:
				if p.giveUp(e, errText) {
					p.st.Held[i] = store.HeldContact{ContactID: contact, Next: e.ID + 1}
					break
				}
				hc := &p.st.Held[i]
				hc.Next, hc.Attempts, hc.LastStatus, hc.LastError = e.ID, hc.Attempts+1, status, errText
				hc.NextAttemptAt = p.d.o.Clock.Now().UTC().Add(backoff.Delay(hc.Attempts, p.d.o.MinBackoff, p.d.o.MaxBackoff))
				if p.refused() {
					p.pause()
					return false
				}
				p.save(true)
				return true
			case down:
				if p.giveUp(e, errText) {
					p.st.Held[i] = store.HeldContact{ContactID: contact, Next: e.ID + 1}
					break
				}
				p.pause()
				return false
			default: // gone, stopped
				return false
			}
			p.save(true)
		}
		if len(entries) < pageSize {
			// Every owed event of the contact is done with: its later
			// ones are read in log order again.
			if i := p.held(contact); i >= 0 {
				p.st.Held = slices.Delete(p.st.Held, i, i+1)
				p.save(true)
			}
			return true
		}
	}
}

// scan delivers the log's entries after st.Scanned, in order: those of
// held contacts are passed over (they are owed, and go when their
// contact is released), those of the others are tried. It reports
// whether the pass goes on.
func (p *pass) scan() bool {
	for {
		if len(p.st.Held) >= p.d.o.MaxHeld {
			// No room to hold one more contact: read no further until
			// a held one is released (not even the same page again at
			// every wake-up).
			return true
		}
		entries, err := p.d.o.Store.EventLog(p.ctx, p.st.Scanned, pageSize)
		if err != nil {
			return p.readFailed(err)
		}
		dirty := false
		for _, e := range entries {
			if !p.h.def.subscribed(e.Type) || p.held(e.ContactID) >= 0 {
				p.st.Scanned, dirty = e.ID, true
				continue
			}
			if len(p.st.Held) >= p.d.o.MaxHeld {
				// No room to hold one more contact: read no further
				// until a held one is released.
				p.save(dirty)
				return true
			}
			e, ok, err := p.current(e)
			if err != nil {
				p.save(dirty)
				return p.readFailed(err)
			}
			if !ok {
				p.st.Scanned, dirty = e.ID, true
				continue
			}
			out, status, errText := p.attempt(e)
			switch out {
			case delivered:
				p.refusals = 0
			case refused:
				if p.giveUp(e, errText) {
					break
				}
				p.st.Held = append(p.st.Held, store.HeldContact{ContactID: e.ContactID, Next: e.ID, Attempts: 1,
					NextAttemptAt: p.d.o.Clock.Now().UTC().Add(backoff.Delay(1, p.d.o.MinBackoff, p.d.o.MaxBackoff)),
					LastStatus:    status, LastError: errText})
				p.d.log.Info("webhooks: the receiver refused an event; the contact's later events wait for its retry",
					"webhook", p.h.def.ID, "event", EventID(e.ID), "contact", e.ContactID, "status", status, "err", errText)
				if p.refused() {
					// It refuses everything: the whole webhook waits.
					p.st.Scanned = e.ID
					p.pause()
					return false
				}
			case down:
				if p.giveUp(e, errText) {
					break
				}
				p.pause()
				return false
			default: // gone, stopped
				return false
			}
			p.st.Scanned, dirty = e.ID, false
			p.save(true)
		}
		p.save(dirty)
		if len(entries) < pageSize {
			return true
		}
	}
}

// current reads e again, just before its attempt: since the page it
// came in was read (up to pageSize deliveries ago, each up to
// deliveryTimeout), an erasure may have rewritten it
// (store.EraseCustomer), and what is posted must be what the log holds
// now, not the customer's personal data. It reports false when the log
// no longer holds e (it keeps every entry a webhook owes, so this is
// only a safeguard): e is then not delivered.
func (p *pass) current(e router.LogEntry) (router.LogEntry, bool, error) {
	now, err := p.d.o.Store.EventLogOf(p.ctx, e.ContactID, e.ID, e.ID, 1)
	if err != nil || len(now) == 0 {
		return e, false, err
	}
	return now[0], true, nil
}

// held returns the index in st.Held of contact, -1 if it is not held.
func (p *pass) held(contact string) int {
	return slices.IndexFunc(p.st.Held, func(hc store.HeldContact) bool { return hc.ContactID == contact })
}

// readFailed logs a failed read of the log; the pass stops and the
// worker runs again after MinBackoff.
func (p *pass) readFailed(err error) bool {
	if p.ctx.Err() == nil {
		p.d.log.Error("webhooks: read the event log", "webhook", p.h.def.ID, "err", err)
		p.readAgain = p.d.o.Clock.Now().Add(p.d.o.MinBackoff)
	}
	return false
}

// attempt posts e once and records it in st: the webhook's last attempt,
// and for a delivery its count and the end of any wait for the
// receiver; for gone, the webhook disabled (durably). It returns the
// outcome, the answer's status and the error's text.
func (p *pass) attempt(e router.LogEntry) (_ outcome, status int, errText string) {
	status, err := p.d.post(p.ctx, p.h.def, e)
	if p.ctx.Err() != nil {
		return stopped, 0, ""
	}
	now := p.d.o.Clock.Now().UTC()
	st := &p.st
	st.LastAttemptAt, st.LastStatus = now, status
	if err == nil {
		st.Delivered, st.Attempts, st.LastError, st.NextAttemptAt = st.Delivered+1, 0, "", time.Time{}
		return delivered, status, ""
	}
	errText = err.Error()
	st.LastError = errText
	switch {
	case status == http.StatusGone:
		st.Disabled, st.DisabledAt, st.DisabledURL, st.Held = true, now, p.h.def.URL, nil
		p.d.log.Warn("webhooks: the receiver answered 410 Gone; the webhook is unsubscribed", "webhook", p.h.def.ID)
		p.save(true)
		return gone, status, errText
	case receiverDown(status):
		return down, status, errText
	}
	// It answered: whatever it refuses, it is not down.
	st.Attempts, st.NextAttemptAt = 0, time.Time{}
	return refused, status, errText
}

// pause makes the whole webhook wait for its next attempt, the receiver
// being down.
func (p *pass) pause() {
	p.st.Attempts++
	p.st.NextAttemptAt = p.d.o.Clock.Now().UTC().Add(backoff.Delay(p.st.Attempts, p.d.o.MinBackoff, p.d.o.MaxBackoff))
	p.save(true)
}

// giveUp reports whether e, whose attempt just failed with errText, is
// older than GiveUpAfter; if so it is counted as failed and the webhook
// no longer waits for it.
func (p *pass) giveUp(e router.LogEntry, errText string) bool {
	now := p.d.o.Clock.Now().UTC()
	if now.Sub(e.At) < p.d.o.GiveUpAfter {
		return false
	}
	p.d.log.Warn("webhooks: delivery given up", "webhook", p.h.def.ID, "event", EventID(e.ID), "contact", e.ContactID, "err", errText)
	st := &p.st
	st.Failures, st.LastFailedEvent, st.LastFailure = st.Failures+1, e.ID, errText
	st.Attempts, st.NextAttemptAt = 0, time.Time{}
	return true
}

// save makes st, with its Cursor brought up to date, h's state, durable
// when dirty.
func (p *pass) save(dirty bool) {
	p.st.Cursor = cursorOf(p.st)
	if dirty {
		if err := p.d.o.Store.PutWebhookState(p.ctx, p.h.def.ID, p.st); err != nil && p.ctx.Err() == nil {
			// The next save writes it; until then a restart may deliver
			// again what was delivered (at least once).
			p.d.log.Error("webhooks: save the delivery state", "webhook", p.h.def.ID, "err", err)
		}
	}
	p.d.mu.Lock()
	p.h.st = p.st
	p.h.st.Held = slices.Clone(p.st.Held)
	p.d.mu.Unlock()
}

// cursorOf is the id up to which st is done with every entry: Scanned,
// or just before the earliest event a held contact still owes.
func cursorOf(st store.WebhookState) int64 {
	c := st.Scanned
	for _, hc := range st.Held {
		c = min(c, hc.Next-1)
	}
	return c
}
