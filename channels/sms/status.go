package sms

import (
	"context"
	"fmt"
	"net/http"
	"regexp"

	"github.com/switchboard/switchboard/router"
)

// errorCodeRE is a Twilio error code.
var errorCodeRE = regexp.MustCompile(`^[0-9]{1,6}$`)

// serveStatus takes Twilio's report on one of our messages (POST
// /webhooks/twilio/status). A status is applied only when it moves the
// message forward (router.DeliveryStatus.Advances): a report that
// arrives after a later one changes nothing. A report on a message we
// never sent is refused with 404 and changes nothing; one with a status
// we do not know is logged and answered 204 (Twilio adds statuses).
func (c *Channel) serveStatus(w http.ResponseWriter, r *http.Request) {
	p, err := c.authenticate(w, r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var sid, acct, st, code string
	for key, dst := range map[string]*string{"MessageSid": &sid, "AccountSid": &acct, "MessageStatus": &st, "ErrorCode": &code} {
		v, err := p.one(key)
		if err != nil {
			c.fail(w, r, refuse(http.StatusBadRequest, "sms: %v", err))
			return
		}
		*dst = v
	}
	switch {
	case c.o.AccountSID != "" && acct != c.o.AccountSID:
		c.fail(w, r, refuse(http.StatusForbidden, "sms: AccountSid is not this account's"))
		return
	case !sidRE.MatchString(sid):
		c.fail(w, r, refuse(http.StatusBadRequest, "sms: MessageSid %q: want SM or MM and 32 hex digits", sid))
		return
	case code != "" && !errorCodeRE.MatchString(code):
		c.fail(w, r, refuse(http.StatusBadRequest, "sms: ErrorCode %q: want digits", code))
		return
	}
	status, reason, ok := statusOf(st)
	if !ok {
		c.o.Logger.Info("sms: status report with an unknown status ignored", "message", sid, "status", st)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if code != "" && status == router.DeliveryFailed {
		reason = fmt.Sprintf("%s (Twilio error %s)", reason, code)
	}
	ctx, cancel := context.WithTimeout(r.Context(), commandTimeout)
	defer cancel()
	unlock := c.reports.lock(sid)
	defer unlock()
	if err := c.applyStatus(ctx, sid, status, reason); err != nil {
		c.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// applyStatus raises the delivery of the message Twilio names sid to
// status, if that moves it forward. The caller holds sid's lock.
func (c *Channel) applyStatus(ctx context.Context, sid string, status router.DeliveryStatus, reason string) error {
	m, found, err := c.o.Store.MessageByExternalID(ctx, sid)
	if err != nil {
		return fmt.Errorf("sms: look up MessageSid: %w", err)
	}
	if !found {
		// Accepted by Twilio a moment ago, the outbox may be storing it
		// (or have stored it since the look above): wait for that, then
		// look again.
		c.waitPending(ctx, sid)
		if m, found, err = c.o.Store.MessageByExternalID(ctx, sid); err != nil {
			return fmt.Errorf("sms: look up MessageSid: %w", err)
		}
	}
	if !found || m.Direction != "out" || m.Delivery == nil {
		return refuse(http.StatusNotFound, "sms: no message of ours is %s", sid)
	}
	if !m.Delivery.Status.Advances(status) {
		c.o.Logger.Debug("sms: status report ignored: not forward", "message", sid, "stored", m.Delivery.Status, "reported", status)
		return nil
	}
	d := &router.Delivery{Status: status, Reason: reason, Attempts: m.Delivery.Attempts, At: c.o.Clock()}
	if err := c.o.Router.RecordDelivery(ctx, router.OutboxEntry{ContactID: m.ContactID, Seq: m.Seq}, d); err != nil {
		return fmt.Errorf("sms: record delivery: %w", err)
	}
	return nil
}
