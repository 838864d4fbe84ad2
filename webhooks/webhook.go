package webhooks

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
)

// Limits of a webhook's definition.
const (
	MaxIDLen     = router.MaxNameLen
	MaxURLLen    = 2048
	MinSecretLen = 16
	MaxSecretLen = 256
	MaxEvents    = 16
)

// AllEvents subscribes a webhook to every type of event.
const AllEvents = "*"

// Sources of a webhook.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Errors of Put and Delete.
var (
	// ErrReadOnly refuses to change a configured webhook over the API.
	ErrReadOnly = errors.New("webhooks: the webhook is configured in the file; change it there")
	// ErrUnknown is a webhook that does not exist.
	ErrUnknown = errors.New("webhooks: no such webhook")
)

// Webhook is one subscription to the event log: where to POST which
// events, signed with which secret.
type Webhook struct {
	ID  string
	URL string
	// Events are router.LogTypes, or AllEvents.
	Events []string
	// Secret is the HMAC-SHA256 key of the signatures; never shown.
	Secret string
	// Source is SourceConfig or SourceAPI.
	Source    string
	UpdatedAt time.Time
}

// Error is a webhook definition that Validate refuses: the field (as
// the API's JSON and the configuration spell it) and why.
type Error struct {
	Field string
	Msg   string
}

func (e *Error) Error() string { return fmt.Sprintf("webhooks: %s: %s", e.Field, e.Msg) }

// Validate checks w: its id, its URL (CheckURL, with allowHTTP), its
// events and its secret. The error is an *Error.
func (w Webhook) Validate(allowHTTP bool) error {
	switch {
	case router.ValidateName("id", "webhook id", w.ID) != nil: // the one rule of a name
		return &Error{"id", fmt.Sprintf("%q: want up to %d letters, digits and \"._@+-\", starting with a letter or digit", w.ID, MaxIDLen)}
	case len(w.Secret) < MinSecretLen || len(w.Secret) > MaxSecretLen:
		return &Error{"secret", fmt.Sprintf("want %d to %d bytes, such as 32 random bytes in hex", MinSecretLen, MaxSecretLen)}
	case len(w.Events) == 0 || len(w.Events) > MaxEvents:
		return &Error{"events", fmt.Sprintf("want 1 to %d event types, or [%q] for all", MaxEvents, AllEvents)}
	}
	if err := CheckURL(w.URL, allowHTTP); err != nil {
		return &Error{"url", err.Error()}
	}
	for i, ev := range w.Events {
		if ev != AllEvents && !slices.Contains(router.LogTypes, ev) {
			return &Error{fmt.Sprintf("events[%d]", i), fmt.Sprintf("unknown event type %q; want %q or one of %s", ev, AllEvents, strings.Join(router.LogTypes, ", "))}
		}
	}
	return nil
}

// CheckURL checks a webhook's URL: absolute, without credentials or a
// fragment, and https unless its host is a loopback address (localhost,
// 127.0.0.0/8, ::1) or allowHTTP is set.
func CheckURL(raw string, allowHTTP bool) error {
	if len(raw) > MaxURLLen {
		return fmt.Errorf("longer than %d bytes", MaxURLLen)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute URL (want such as https://crm.example/hook)", raw)
	case u.User != nil:
		return fmt.Errorf("%q carries credentials; the signature authenticates the deliveries", raw)
	case u.Fragment != "":
		return fmt.Errorf("%q has a fragment", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("scheme %q: want https", u.Scheme)
	case allowHTTP || loopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q is plain http to a host that is not a loopback address; want https (or webhook_allow_http)", raw)
}

// loopback reports whether host names this machine: localhost or a
// loopback IP. Names are not resolved.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// subscribed reports whether w takes events of type typ.
func (w *Webhook) subscribed(typ string) bool {
	return slices.Contains(w.Events, AllEvents) || slices.Contains(w.Events, typ)
}
