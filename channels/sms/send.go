package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// errorOptedOut is Twilio's error for a recipient who opted out.
const errorOptedOut = 21610

// messageCreator is the part of twilio-go's API service the channel
// uses.
type messageCreator interface {
	CreateMessage(params *openapi.CreateMessageParams) (*openapi.ApiV2010Message, error)
}

// newAPI returns twilio-go's Messages API for o: authenticated with the
// account's SID and token, through o.HTTPClient, at o.APIBaseURL.
func newAPI(o Options) (messageCreator, error) {
	base, err := url.Parse(o.APIBaseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: API base URL: %v", ErrOptions, err)
	}
	cl := &twclient.Client{Credentials: twclient.NewCredentials(o.AccountSID, o.AuthToken), HTTPClient: o.HTTPClient}
	cl.SetAccountSid(o.AccountSID)
	var bc twclient.BaseClient = cl
	if strings.TrimSuffix(o.APIBaseURL, "/") != DefaultAPIBaseURL {
		bc = rebased{Client: cl, base: base}
	}
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: bc})
	// The edge and region come from the configuration, never from
	// TWILIO_EDGE or TWILIO_REGION behind its back.
	rc.SetEdge("")
	rc.SetRegion("")
	return rc.Api, nil
}

// rebased sends twilio-go's requests to another base URL (a
// Twilio-compatible provider, a local stand-in) instead of Twilio's.
type rebased struct {
	*twclient.Client
	base *url.URL
}

// SendRequest rewrites the scheme and host of rawURL (and prefixes the
// base's path) before sending it.
func (r rebased) SendRequest(method string, rawURL string, data url.Values, headers map[string]interface{}, body ...byte) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Scheme, u.Host = r.base.Scheme, r.base.Host
	u.Path = strings.TrimSuffix(r.base.Path, "/") + u.Path
	return r.Client.SendRequest(method, u.String(), data, headers, body...)
}

// Send delivers an agent's message (outbox.Sender); see SendID.
func (c *Channel) Send(ctx context.Context, o outbox.Outbound) (router.DeliveryStatus, error) {
	s, err := c.SendID(ctx, o)
	return s.Status, err
}

// SendID creates the message o through Twilio's Messages API, from the
// route of the contact's queue, with the status callback, and returns
// its status and MessageSid (outbox.IDSender). It refuses (permanently)
// a number whose opt-out is in force. Twilio's 429 and 5xx and network
// failures are retried by the outbox; error 21610 (the recipient opted
// out) records the opt-out in the consent ledger and fails the message
// with that reason; other 4xx fail it.
func (c *Channel) SendID(ctx context.Context, o outbox.Outbound) (outbox.Sent, error) {
	to := o.Contact.Customer.Phone
	if to == "" {
		return outbox.Sent{}, fmt.Errorf("%w: sms: the contact has no phone number", outbox.ErrPermanent)
	}
	e, found, err := c.o.Store.ConsentState(ctx, router.ChannelSMS, to)
	if err != nil {
		return outbox.Sent{}, fmt.Errorf("sms: consent of the number: %w", err)
	}
	if found && e.Blocks() {
		return outbox.Sent{}, fmt.Errorf("%w: %w: %s", outbox.ErrPermanent, ErrOptedOut, optOutReason(e.Detail, e.At))
	}
	if c.api == nil {
		return outbox.Sent{}, fmt.Errorf("%w: sms: no Twilio account SID to send with (twilio.account_sid or TWILIO_ACCOUNT_SID)", outbox.ErrPermanent)
	}
	route := c.routeOf(o.Contact.Queue)
	p := &openapi.CreateMessageParams{}
	p.SetTo(to).SetBody(o.Message.Body).SetStatusCallback(c.o.PublicURL + StatusPath)
	switch {
	case route.MessagingServiceSID != "":
		p.SetMessagingServiceSid(route.MessagingServiceSID)
	case route.From != "":
		p.SetFrom(route.From)
	default:
		return outbox.Sent{}, fmt.Errorf("%w: sms: queue %s has no number to text from (twilio.routes: from or messaging_service_sid)", outbox.ErrPermanent, o.Contact.Queue)
	}
	if err := ctx.Err(); err != nil {
		return outbox.Sent{}, err
	}
	// twilio-go takes no context: the HTTP client's timeout bounds it.
	defer c.creation()()
	msg, err := c.api.CreateMessage(p)
	if err != nil {
		return outbox.Sent{}, c.sendError(ctx, o, err)
	}
	if msg == nil || msg.Sid == nil || !sidRE.MatchString(*msg.Sid) {
		return outbox.Sent{}, fmt.Errorf("sms: Twilio accepted the message without a valid sid")
	}
	status := router.DeliveryQueued
	if msg.Status != nil {
		if s, _, ok := statusOf(*msg.Status); ok && s != router.DeliveryFailed {
			status = s
		}
	}
	// Its status reports may come before the outbox stores the sid:
	// they wait for it (waitPending).
	c.pend(*msg.Sid)
	return outbox.Sent{Status: status, ExternalID: *msg.Sid}, nil
}

// sendError classifies a failure of the REST API.
func (c *Channel) sendError(ctx context.Context, o outbox.Outbound, err error) error {
	code, status, msg := 0, 0, ""
	var v0 *twclient.TwilioRestError
	var v1 *twclient.RestErrorV1
	switch {
	case errors.As(err, &v0):
		code, status, msg = v0.Code, v0.Status, v0.Message
	case errors.As(err, &v1):
		code, status, msg = v1.Code, v1.HttpStatusCode, v1.Message
	default:
		// The network, or an answer that was not Twilio's: try again.
		return fmt.Errorf("sms: Twilio: %w", err)
	}
	reason := fmt.Sprintf("Twilio error %d: %s", code, msg)
	switch {
	case code == errorOptedOut:
		_, rerr := c.o.Store.RecordConsent(ctx, consent.Entry{CustomerID: o.Contact.Customer.ID, Channel: router.ChannelSMS,
			Address: o.Contact.Customer.Phone, Action: consent.OptOut, At: c.o.Clock(),
			MessageID: fmt.Sprintf("error-%d:%s", errorOptedOut, o.ID), Detail: fmt.Sprintf("STOP (Twilio error %d)", errorOptedOut)})
		if rerr != nil {
			// Not recorded: retried, and Twilio refuses again.
			return fmt.Errorf("sms: record the opt-out Twilio told of: %w", rerr)
		}
		return fmt.Errorf("%w: %w: %s", outbox.ErrPermanent, ErrOptedOut, reason)
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("sms: %s", reason)
	}
	return fmt.Errorf("%w: sms: %s", outbox.ErrPermanent, reason)
}

// statusOf maps Twilio's MessageStatus to a delivery status, with the
// reason of a failure; ok is false for a status it does not know.
func statusOf(s string) (_ router.DeliveryStatus, reason string, ok bool) {
	switch s {
	case "accepted", "scheduled", "queued", "sending":
		return router.DeliveryQueued, "", true
	case "sent":
		return router.DeliverySent, "", true
	case "delivered":
		return router.DeliveryDelivered, "", true
	case "read":
		return router.DeliveryRead, "", true
	case "undelivered", "failed", "canceled":
		return router.DeliveryFailed, s, true
	}
	return "", "", false
}
