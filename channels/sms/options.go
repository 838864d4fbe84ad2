package sms

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/switchboard/switchboard/publicurl"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/customers"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Defaults used where Options leaves a field zero.
const (
	// DefaultAPIBaseURL is Twilio's REST API.
	DefaultAPIBaseURL = "https://api.twilio.com"
	// DefaultMaxBodyBytes bounds a webhook's body: Twilio's forms are a
	// few KiB (a 1600-character text, ten media URLs).
	DefaultMaxBodyBytes = 64 << 10
	// DefaultHelpText answers HELP and INFO.
	DefaultHelpText = "Reply STOP to stop receiving texts, START to receive them again."
	// apiTimeout bounds one call of the REST API.
	apiTimeout = 15 * time.Second
	// commandTimeout bounds the work of one webhook (store and router).
	commandTimeout = 10 * time.Second
	// pendingWait is how long a status report of a message that Twilio
	// accepted but whose MessageSid is not stored yet waits for it.
	pendingWait = 5 * time.Second
)

// Route joins a queue and the number (or Messaging Service) it texts
// from. Texts to From go to Queue; replies on Queue's contacts go from
// From, or through MessagingServiceSID.
type Route struct {
	Queue string
	// From is a Twilio number in E.164 ("+15550001111"); empty for a
	// route that only receives (Routes[0], the default).
	From string
	// MessagingServiceSID sends through a Messaging Service ("MG…")
	// instead of From; texts whose MessagingServiceSid is it go to Queue.
	MessagingServiceSID string
}

// Store is what the channel reads and writes besides the router;
// *store.DB implements it.
type Store interface {
	MessageByExternalID(ctx context.Context, externalID string) (router.Message, bool, error)
	Contacts(ctx context.Context, f store.ContactFilter) (store.ContactPage, error)
	RecordConsent(ctx context.Context, e consent.Entry) (bool, error)
	ConsentState(ctx context.Context, channel, address string) (consent.Entry, bool, error)
	IdentityOwner(ctx context.Context, kind, value string) (store.Identity, error)
}

var _ Store = (*store.DB)(nil)

// ValidAPIBaseURL says whether s may be the REST API's base URL
// (Options.APIBaseURL, the configuration's twilio.api_base_url):
// scheme://host[:port][/path], http or https, no user, query or fragment.
func ValidAPIBaseURL(s string) bool {
	b, err := url.Parse(s)
	return err == nil && (b.Scheme == "http" || b.Scheme == "https") && b.Host != "" && b.User == nil && b.RawQuery == "" && b.Fragment == ""
}

// Options configure New. Router, Store, Intake, AccountSID, AuthToken,
// PublicURL and one Route are required; other zero fields mean their
// defaults.
type Options struct {
	Router *router.Router
	Store  Store
	// Intake is the way in of new contacts and messages (package
	// intake): it resolves the customer of the number.
	Intake *intake.Intake
	// AccountSID and AuthToken are the Twilio account's; the token keys
	// the webhooks' signatures and, with the SID, the REST API's basic
	// authentication. Neither is ever logged. Without AccountSID texts
	// are taken (their AccountSid unchecked: the signature proves the
	// account) and replies fail, saying why.
	AccountSID, AuthToken string
	// PublicURL is where Twilio reaches routerd, scheme://host[:port]
	// (at a proxy in front of it, for one): the signatures are computed
	// over it and the path and query as received, and the status
	// callback is PublicURL + StatusPath.
	PublicURL string
	// APIBaseURL is the REST API's (DefaultAPIBaseURL): another for a
	// Twilio-compatible provider or a local stand-in.
	APIBaseURL string
	// Routes are the queues and their numbers; Routes[0] also takes the
	// texts to numbers no route names. At least one.
	Routes []Route
	// HelpText answers HELP and INFO (DefaultHelpText).
	HelpText string
	// MaxBodyBytes bounds a webhook's body (DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Media, when set, keeps each MMS medium, fetched with the account's
	// credentials before the text is committed (fetchMedia); nil records
	// the media's URLs and types only. Fetching needs AccountSID.
	Media MediaStore
	// HTTPClient calls the REST API; nil: one with a 15 s timeout.
	HTTPClient *http.Client
	// Clock gives the time of consent entries and deliveries; nil:
	// time.Now.
	Clock func() time.Time
	// Logger; nil: slog.Default().
	Logger *slog.Logger
}

// Webhook paths, under PublicURL.
const (
	InboundPath = "/webhooks/twilio/sms"
	StatusPath  = "/webhooks/twilio/status"
)

// MaxCredentialLen bounds an account SID and an auth token, in bytes.
const MaxCredentialLen = 128

var (
	// credentialRE is what twilio-go accepts in an account SID and token.
	credentialRE = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	// serviceRE is a Messaging Service's SID.
	serviceRE = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
)

// ValidCredential reports whether s may be an account SID or an auth
// token: 1 to MaxCredentialLen letters and digits, what twilio-go
// accepts. This is the one rule of both: the channel and the
// configuration use it.
func ValidCredential(s string) bool { return len(s) <= MaxCredentialLen && credentialRE.MatchString(s) }

// ValidHelpText reports whether s may answer HELP: 1 to MaxTextChars
// bytes, one text whatever its characters. The channel and the
// configuration use it.
func ValidHelpText(s string) bool { return s != "" && len(s) <= MaxTextChars }

// RouteError is a problem of a route: the field at fault, as the
// configuration names it under twilio ("routes[1].from", "routes[0]" for
// the route as a whole), what is wrong and what would be valid, and for
// a number or a service routed twice the field of the first.
type RouteError struct {
	Field, Message string
	// First is the field of the first route of a duplicate; empty
	// otherwise.
	First string
}

// Error returns the field and the message.
func (e *RouteError) Error() string {
	if e.First != "" {
		return e.Field + ": " + e.Message + " (first at " + e.First + ")"
	}
	return e.Field + ": " + e.Message
}

// ValidateRoutes checks routes and returns every problem, in order; none
// is nil. Each route has a queue and at most one of a number (in E.164)
// and a Messaging Service (MG and 32 hex digits); no number or service
// is routed twice. Whether the queues exist is for whoever holds them
// (the configuration). This is the one rule of the routes: the channel
// (New) and the configuration (which adds file:line) use it.
func ValidateRoutes(routes []Route) []*RouteError {
	var errs []*RouteError
	add := func(field, format string, args ...any) *RouteError {
		e := &RouteError{Field: field, Message: fmt.Sprintf(format, args...)}
		errs = append(errs, e)
		return e
	}
	seen := map[string]string{}
	for i, r := range routes {
		p := fmt.Sprintf("routes[%d]", i)
		if r.Queue == "" {
			add(p+".queue", "missing (want the queue its texts go to)")
		}
		if r.From != "" && r.MessagingServiceSID != "" {
			add(p, "from and messaging_service_sid both set (want one: the number, or the Messaging Service, replies go from)")
		}
		if r.From != "" {
			if n, err := customers.NormalizePhone(r.From); err != nil || n != r.From {
				add(p+".from", "%q is not a number in E.164 (want + and the digits, such as \"+15550001111\")", r.From)
			}
		}
		if r.MessagingServiceSID != "" && !serviceRE.MatchString(r.MessagingServiceSID) {
			add(p+".messaging_service_sid", "%q: want MG and 32 hex digits", r.MessagingServiceSID)
		}
		for _, f := range []struct{ field, val string }{{"from", r.From}, {"messaging_service_sid", r.MessagingServiceSID}} {
			if f.val == "" {
				continue
			}
			if first, ok := seen[f.val]; ok {
				add(p+"."+f.field, "%q routes twice", f.val).First = first
				continue
			}
			seen[f.val] = p + "." + f.field
		}
	}
	return errs
}

// resolve checks o and fills in the defaults.
func (o Options) resolve() (Options, error) {
	switch {
	case o.Router == nil || o.Store == nil || o.Intake == nil:
		return o, fmt.Errorf("%w: Router, Store and Intake are required", ErrOptions)
	case o.AccountSID != "" && !ValidCredential(o.AccountSID):
		return o, fmt.Errorf("%w: account SID: want up to %d letters and digits (\"AC…\")", ErrOptions, MaxCredentialLen)
	case !ValidCredential(o.AuthToken):
		return o, fmt.Errorf("%w: auth token: want up to %d letters and digits", ErrOptions, MaxCredentialLen)
	case len(o.Routes) == 0:
		return o, fmt.Errorf("%w: at least one route is required", ErrOptions)
	}
	if errs := ValidateRoutes(o.Routes); len(errs) > 0 {
		return o, fmt.Errorf("%w: %w", ErrOptions, errs[0])
	}
	base, err := publicurl.Parse(o.PublicURL)
	if err != nil {
		return o, fmt.Errorf("%w: public URL %q: %w", ErrOptions, o.PublicURL, err)
	}
	o.PublicURL = base
	if o.APIBaseURL == "" {
		o.APIBaseURL = DefaultAPIBaseURL
	}
	if !ValidAPIBaseURL(o.APIBaseURL) {
		return o, fmt.Errorf("%w: API base URL %q: want scheme://host[:port][/path], such as %q", ErrOptions, o.APIBaseURL, DefaultAPIBaseURL)
	}
	if o.Media != nil && o.AccountSID == "" {
		return o, fmt.Errorf("%w: fetching media needs the account SID", ErrOptions)
	}
	switch {
	case o.HelpText == "":
		o.HelpText = DefaultHelpText
	case !ValidHelpText(o.HelpText):
		return o, fmt.Errorf("%w: help text of %d bytes: want at most %d", ErrOptions, len(o.HelpText), MaxTextChars)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: apiTimeout}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
