package config

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard/switchboard/publicurl"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/channels/sms"
	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/webhooks"
	"github.com/switchboard/switchboard/wsconn"
)

// Limits, the same as the router's own checks, so that a configuration
// that passes Validate is one the router accepts.
const (
	// maxProfileAccessGrace caps how long an ended contact's screen pop
	// shows the customer's profile.
	maxProfileAccessGrace = 24 * time.Hour
	// maxRecentComplaint caps offers.complaints.recent_window: a year.
	maxRecentComplaint = 366 * 24 * time.Hour
	// minSessionTTL is the shortest auth.session_ttl.
	minSessionTTL = time.Minute
)

// validator collects the problems Validate finds.
type validator struct {
	c    *Config
	errs errorList
}

// errf records a problem with the field at path, placing it in the file
// when the Config was parsed.
func (v *validator) errf(path, format string, args ...any) {
	e := &Error{Field: path, Msg: fmt.Sprintf(format, args...)}
	if s := v.c.src; s != nil {
		e.File = s.file
		p := s.where(path)
		e.Line, e.Column = p.line, p.col
	}
	v.errs.add(e)
}

// line returns the line of the field at path, 0 when unknown.
func (v *validator) line(path string) int {
	if v.c.src == nil {
		return 0
	}
	return v.c.src.where(path).line
}

// firstAt says where an earlier, clashing field was: " (first at line 7)"
// or " (first at agents[0].id)".
func (v *validator) firstAt(path string) string {
	if l := v.line(path); l > 0 {
		return fmt.Sprintf(" (first at line %d)", l)
	}
	return " (first at " + path + ")"
}

// Validate checks the configuration and returns every problem it finds (up
// to a limit), each an *Error, joined with errors.Join; nil when there is
// none. It looks up the environment variables that tokens name, through
// c.Env.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.top()
	v.deploy()
	v.auth()
	v.routing()
	v.http()
	v.ha()
	v.desktop()
	if r := v.c.Dashboards.AgentStateRetention; r != 0 && r.D() < MinAgentStateRetention {
		v.errf("dashboards.agent_state_retention", "%s is too short (want at least %s, such as \"9600h\" for 400 days)", r.D(), MinAgentStateRetention)
	}
	if tz := v.c.Dashboards.TimeZone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			v.errf("dashboards.time_zone", "unknown time zone %q (want an IANA name such as \"Europe/Paris\" or \"UTC\", or leave it out for the server's)", tz)
		}
	}
	v.customers()
	v.attachments()
	if d := v.c.Disk; d.MinFreeBytes < 0 || d.ReserveBytes < 0 {
		v.errf("disk", "min_free_bytes %d, reserve_bytes %d (want 0 or more; 0 turns each off)", d.MinFreeBytes, d.ReserveBytes)
	}
	v.chat()
	v.twilio()
	v.email()
	v.calendars()
	v.agents()
	v.supervisors()
	v.queues()
	v.offers()
	v.canned()
	v.webhooks()
	v.sorted()
	return v.errs.err()
}

func (v *validator) top() {
	c := v.c
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || !validPort(port) {
		v.errf("listen", "invalid address %q (want host:port, such as %q or \":8080\")", c.Listen, DefaultListen)
	}
	if c.DataDir == "" {
		v.errf("data_dir", "empty (want a directory, such as %q)", DefaultDataDir)
	}
	switch c.Store.Driver {
	case DriverSQLite:
		if c.Store.Path == "" {
			v.errf("store.path", "empty (want the SQLite database file, such as %q)", "./data/switchboard.db")
		}
		if c.Store.DSNEnv != "" || c.Store.DSNFile != "" {
			v.errf("store.driver", "sqlite with dsn_env or dsn_file (want driver: postgres for a DSN)")
		}
	case DriverPostgres:
		if c.Store.DSNEnv != "" && c.Store.DSNFile != "" {
			v.errf("store.dsn_env", "both dsn_env and dsn_file are set (want one, or neither to read %s)", DatabaseURLEnv)
		}
	default:
		v.errf("store.driver", "unknown driver %q (want sqlite or postgres)", c.Store.Driver)
	}
	switch c.Store.Synchronous {
	case SyncFull, SyncNormal:
	default:
		v.errf("store.synchronous", "unknown mode %q (want full or normal)", c.Store.Synchronous)
	}
	switch c.Log.Level {
	case LevelDebug, LevelInfo, LevelWarn, LevelError:
	default:
		v.errf("log.level", "unknown level %q (want debug, info, warn or error)", c.Log.Level)
	}
	switch c.Log.Format {
	case FormatText, FormatJSON:
	default:
		v.errf("log.format", "unknown format %q (want text or json)", c.Log.Format)
	}
}

// deploy checks public_url, trusted_proxies and tls. The certificate and
// key are loaded, so that a wrong file is reported with its line here
// rather than when the daemon starts serving.
func (v *validator) deploy() {
	c := v.c
	if c.PublicURL != "" {
		from := ""
		if c.publicURLFromEnv {
			from = " (from " + EnvPublicURL + ")"
		}
		if _, err := publicurl.Parse(c.PublicURL); err != nil {
			v.errf("public_url", "%q%s is %v", c.PublicURL, from, err)
		}
	}
	for i, p := range c.TrustedProxies {
		if _, err := clientaddr.ParsePrefix(p); err != nil {
			v.errf(indexPath("trusted_proxies", i), "%q is not a network (want a CIDR such as \"10.0.0.0/8\" or an address such as \"192.0.2.7\")", p)
		}
	}
	t := c.TLS
	switch {
	case t.CertFile == "" && t.KeyFile != "":
		v.errf("tls.key_file", "set without cert_file (want both, or neither to serve plain HTTP)")
	case t.CertFile != "" && t.KeyFile == "":
		v.errf("tls.cert_file", "set without key_file (want both, or neither to serve plain HTTP)")
	case t.CertFile != "":
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			v.errf("tls.cert_file", "cannot load the certificate %s with the key %s: %v (want PEM files: the certificate chain, then its private key)", t.CertFile, t.KeyFile, err)
		}
	}
	if t.RedirectHTTP != "" {
		_, port, err := net.SplitHostPort(t.RedirectHTTP)
		switch {
		case err != nil || !validPort(port):
			v.errf("tls.redirect_http", "invalid address %q (want host:port, such as \":80\")", t.RedirectHTTP)
		case !t.Enabled():
			v.errf("tls.redirect_http", "set without cert_file and key_file (want HTTPS configured to redirect to)")
		case t.RedirectHTTP == c.Listen && port != "0":
			v.errf("tls.redirect_http", "%q is also listen (want another address, such as \":80\")", t.RedirectHTTP)
		}
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535 && s == strconv.Itoa(n)
}

func (v *validator) auth() {
	a := v.c.Auth
	if a.AdminToken == Redacted {
		v.errf("auth.admin_token", "%q is what -print-config shows in place of a secret (want the token itself, or leave it out to have one generated)", Redacted)
	}
	secrets := map[string]string{} // secret → path of the first token with it
	if a.AdminToken != "" && a.AdminToken != Redacted {
		secrets[a.AdminToken] = "auth.admin_token"
	}
	if a.SessionTTL < router.Duration(minSessionTTL) {
		v.errf("auth.session_ttl", "%s is too short (want at least %s, such as \"12h\")", a.SessionTTL.D(), minSessionTTL)
	}
	names := map[string]string{}
	lookup := v.c.lookupEnv()
	for i, t := range a.Tokens {
		p := indexPath("auth.tokens", i)
		switch {
		case t.Name == "":
			v.errf(p+".name", "empty (want a name for the token, used in logs)")
		case names[t.Name] != "":
			v.errf(p+".name", "duplicate token name %q%s", t.Name, v.firstAt(names[t.Name]))
		default:
			names[t.Name] = p + ".name"
		}
		switch t.Role {
		case RoleAdmin, RoleSupervisor, RoleIntegration, RoleMetrics:
		default:
			v.errf(p+".role", "unknown role %q (want admin, supervisor, integration or metrics)", t.Role)
		}
		secret, field := "", ""
		switch {
		case t.Token != "" && t.TokenEnv != "":
			v.errf(p, "both token and token_env are set (want exactly one)")
			continue
		case t.Token == "" && t.TokenEnv == "":
			v.errf(p, "neither token nor token_env is set (want exactly one; token_env names an environment variable holding the token)")
			continue
		case t.Token == Redacted:
			v.errf(p+".token", "%q is what -print-config shows in place of a secret (want the token itself, or token_env)", Redacted)
			continue
		case t.Token != "":
			secret, field = t.Token, p+".token"
		default:
			field = p + ".token_env"
			val, ok := lookup(t.TokenEnv)
			switch {
			case !ok:
				v.errf(field, "environment variable %s is not set (want it to hold the token)", t.TokenEnv)
				continue
			case val == "":
				v.errf(field, "environment variable %s is empty (want it to hold the token)", t.TokenEnv)
				continue
			}
			secret = val
		}
		if first, dup := secrets[secret]; dup {
			v.errf(field, "same secret as %s (want a distinct token for each)", first)
			continue
		}
		secrets[secret] = field
	}
}

func (v *validator) routing() {
	r := v.c.Routing
	for _, ch := range sortedKeys(r.OfferTimeout) {
		p := fieldPath("routing.offer_timeout", ch)
		v.channel(p, ch)
		if d := r.OfferTimeout[ch]; d <= 0 {
			v.errf(p, "%s is not positive (want how long an offer rings, such as \"30s\")", d.D())
		}
	}
	for _, ch := range sortedKeys(r.Capacity) {
		p := fieldPath("routing.capacity", ch)
		v.name(p, ch, "channel")
		v.capacity(p, r.Capacity[ch])
	}
	if r.WrapUp <= 0 {
		v.errf("routing.wrapup", "%s is not positive (want a duration such as \"30s\")", r.WrapUp.D())
	}
	if r.CustomerMessages < 1 {
		v.errf("routing.customer_messages", "%d (want at least 1, such as %d)", r.CustomerMessages, router.DefaultCustomerMessages)
	}
	if r.CustomerBytes < 1 {
		v.errf("routing.customer_bytes", "%d (want a size in bytes, at least 1, such as %d)", r.CustomerBytes, router.DefaultCustomerBytes)
	}
}

func (v *validator) http() {
	h := v.c.HTTP
	if h.MaxBodyBytes <= 0 {
		v.errf("http.max_body_bytes", "%d is not positive (want a size in bytes, such as %d)", h.MaxBodyBytes, DefaultMaxBodyBytes)
	}
	v.positive("15s", namedDuration{"http.read_timeout", h.ReadTimeout},
		namedDuration{"http.write_timeout", h.WriteTimeout}, namedDuration{"http.shutdown_timeout", h.ShutdownTimeout})
}

// namedDuration is a duration of the configuration and its field.
type namedDuration struct {
	field string
	d     router.Duration
}

// positive checks that each duration is positive (example is one, for
// the message), and reports whether all are.
func (v *validator) positive(example string, ds ...namedDuration) bool {
	ok := true
	for _, t := range ds {
		if t.d <= 0 {
			v.errf(t.field, "%s is not positive (want a duration such as %q)", t.d.D(), example)
			ok = false
		}
	}
	return ok
}

func (v *validator) ha() {
	h := v.c.HA
	ok := v.positive("1s", namedDuration{"ha.lease", h.Lease}, namedDuration{"ha.renew", h.Renew},
		namedDuration{"ha.retry_timeout", h.RetryTimeout})
	if ok && h.Renew+2*h.RetryTimeout >= h.Lease {
		v.errf("ha.lease", "%s is not longer than renew (%s) plus twice retry_timeout (%s): a leader could lose its lease between two renewals", h.Lease.D(), h.Renew.D(), h.RetryTimeout.D())
	}
	if u := h.AdvertiseURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || (p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.User != nil {
			v.errf("ha.advertise_url", "%q is not scheme://host:port (want such as \"http://10.0.0.2:8080\")", u)
		}
	}
}

func (v *validator) chat() {
	c := v.c.Chat
	queues := map[string]bool{}
	for _, q := range v.c.Queues {
		queues[q.Name] = true
	}
	ids := map[string]bool{}
	for i, t := range c.Topics {
		p := indexPath("chat.topics", i)
		if v.name(p+".id", t.ID, "topic id") && ids[t.ID] {
			v.errf(p+".id", "duplicate topic id %q", t.ID)
		}
		ids[t.ID] = true
		if t.Label == "" || len(t.Label) > 100 {
			v.errf(p+".label", "empty or over 100 bytes (want what the customer reads, e.g. \"Billing and invoices\")")
		}
		for _, f := range []struct{ field, q string }{{"queue", t.Queue}, {"offline_queue", t.OfflineQueue}} {
			if f.q == "" && f.field == "offline_queue" {
				continue
			}
			if !queues[f.q] {
				v.errf(p+"."+f.field, "queue %q is not declared under queues", f.q)
			}
		}
	}
	for i, o := range c.AllowedOrigins {
		v.origin(indexPath("chat.allowed_origins", i), o)
	}
	for i, q := range c.CSAT.Queues {
		if !queues[q] {
			v.errf(indexPath("chat.csat.queues", i), "queue %q is not declared under queues", q)
		}
	}
	if len(c.CSAT.Question) > csat.MaxQuestionBytes {
		v.errf("chat.csat.question", "over %d bytes", csat.MaxQuestionBytes)
	}
	if w := c.CSAT.Window.D(); w < 0 || w > 7*24*time.Hour {
		v.errf("chat.csat.window", "%s (want up to 168h; 0 means %s)", w, csat.DefaultWindow)
	}
	if c.MaxMessageBytes < 1 || c.MaxMessageBytes > router.MaxBodyLen {
		v.errf("chat.max_message_bytes", "%d (want 1 to %d, the router's limit of a message)", c.MaxMessageBytes, router.MaxBodyLen)
	}
	if c.ConversationsPerMinute < 1 {
		v.errf("chat.conversations_per_minute", "%d (want at least 1)", c.ConversationsPerMinute)
	}
	if c.MessagesPer10s < 1 {
		v.errf("chat.messages_per_10s", "%d (want at least 1)", c.MessagesPer10s)
	}
	if c.ConnectionsPerAddress < 1 {
		v.errf("chat.connections_per_address", "%d (want at least 1, such as 20)", c.ConnectionsPerAddress)
	}
	if c.LeaveMessageWindow <= 0 {
		v.errf("chat.leave_message_window", "%s is not positive (want a duration such as \"10m\")", c.LeaveMessageWindow.D())
	}
	if c.TokenTTL < router.Duration(time.Minute) {
		v.errf("chat.token_ttl", "%s (want at least 1m, e.g. \"24h\")", c.TokenTTL.D())
	}
}

// twilio checks the SMS channel's section.
func (v *validator) twilio() {
	c := v.c.Twilio
	if c.AccountSID != "" && !sms.ValidCredential(c.AccountSID) {
		v.errf("twilio.account_sid", "%q: want letters and digits, such as \"AC0123…\" (or leave it out and set %s)", c.AccountSID, EnvTwilioAccountSID)
	}
	switch {
	case c.AuthToken == Redacted:
		v.errf("twilio.auth_token", "%q is what -print-config shows in place of a secret (want the token itself, or leave it out and set %s)", Redacted, EnvTwilioAuthToken)
	case c.AuthToken != "" && !sms.ValidCredential(c.AuthToken):
		v.errf("twilio.auth_token", "want letters and digits, as Twilio's tokens are (or leave it out and set %s)", EnvTwilioAuthToken)
	case c.AuthToken == "" && v.c.twilioTokenEnv != "" && !sms.ValidCredential(v.c.twilioTokenEnv):
		v.errf("twilio.auth_token", "%s: want letters and digits, as Twilio's tokens are", EnvTwilioAuthToken)
	}
	if !sms.ValidAPIBaseURL(c.APIBaseURL) {
		v.errf("twilio.api_base_url", "%q is not a base URL (want scheme://host[:port][/path], such as %q; %s overrides it)", c.APIBaseURL, DefaultTwilioAPIBaseURL, EnvTwilioAPIBaseURL)
	}
	if !sms.ValidHelpText(c.HelpText) {
		v.errf("twilio.help_text", "empty or over %d bytes (want the text that answers HELP, such as %q)", sms.MaxTextChars, DefaultTwilioHelpText)
	}
	if c.FetchMedia && len(c.Routes) > 0 && v.c.TwilioAuthToken() != "" && v.c.TwilioAccountSID() == "" {
		v.errf("twilio.fetch_media", "needs the account SID (twilio.account_sid or %s) to fetch with", EnvTwilioAccountSID)
	}
	if c.MaxSegments < 1 || c.MaxSegments > 10 {
		v.errf("twilio.max_segments", "%d (want 1 to 10: the segments a reply may take before the composer asks)", c.MaxSegments)
	}
	queues := map[string]bool{}
	for _, q := range v.c.Queues {
		queues[q.Name] = true
	}
	for i, r := range c.Routes {
		if r.Queue != "" && !queues[r.Queue] {
			v.errf(indexPath("twilio.routes", i)+".queue", "queue %q is not declared under queues", r.Queue)
		}
	}
	for _, e := range sms.ValidateRoutes(c.SMSRoutes()) {
		first := ""
		if e.First != "" {
			first = v.firstAt("twilio." + e.First)
		}
		v.errf("twilio."+e.Field, "%s%s", e.Message, first)
	}
}

// origin checks a scheme://host[:port] origin.
func (v *validator) origin(path, o string) {
	// As a browser sends it, without a path, not even "/": the sockets
	// compare origins whole, by wsconn's rule.
	if _, ok := wsconn.ParseOrigin(o); !ok {
		v.errf(path, "%q is not an origin (want scheme://host[:port] without a path or a trailing slash, e.g. https://www.example.com)", o)
	}
}

// labels checks a list of labels: each code a name, once; each label
// what an agent reads.
func (v *validator) labels(path, what string, list []Label) {
	codes := map[string]string{}
	for i, l := range list {
		p := indexPath(path, i)
		if v.name(p+".code", l.Code, what) {
			if first, dup := codes[l.Code]; dup {
				v.errf(p+".code", "duplicate %s %q%s", what, l.Code, v.firstAt(first))
			} else {
				codes[l.Code] = p + ".code"
			}
		}
		if l.Label == "" || len(l.Label) > 100 {
			v.errf(p+".label", "empty or over 100 bytes (want the label agents see)")
		}
	}
}

func (v *validator) desktop() {
	d := v.c.Desktop
	if len(d.Dispositions) == 0 {
		v.errf("desktop.dispositions", "empty (want at least one wrap-up code)")
	}
	v.labels("desktop.dispositions", "disposition code", d.Dispositions)
	v.labels("desktop.segments", "segment", d.Segments)
	v.labels("desktop.products", "product", d.Products)
	reasons := map[string]bool{}
	for i, r := range d.AwayReasons {
		p := indexPath("desktop.away_reasons", i)
		if v.name(p, r, "away reason") && reasons[r] {
			v.errf(p, "duplicate away reason %q", r)
		}
		reasons[r] = true
	}
	if d.Grace <= 0 {
		v.errf("desktop.grace", "%s (want a positive duration such as \"60s\")", d.Grace.D())
	}
	if len(d.VerificationMethods) == 0 {
		v.errf("desktop.verification_methods", "empty (want at least one, such as \"security questions\")")
	}
	methods := map[string]bool{}
	for i, m := range d.VerificationMethods {
		p := indexPath("desktop.verification_methods", i)
		switch {
		case strings.TrimSpace(m) == "" || len(m) > router.MaxVerificationMethodLen || strings.ContainsFunc(m, unicode.IsControl):
			v.errf(p, "%q (want 1 to %d bytes of text, such as \"security questions\")", m, router.MaxVerificationMethodLen)
		case methods[m]:
			v.errf(p, "duplicate verification method %q", m)
		}
		methods[m] = true
	}
	for i, o := range d.AllowedOrigins {
		v.origin(indexPath("desktop.allowed_origins", i), o)
	}
}

// maxAttachmentBytes caps the attachments' limits: files live on disk and
// pass through memory-bounded copies, but a message of gigabytes is
// nobody's conversation.
const maxAttachmentBytes = 1 << 30

func (v *validator) attachments() {
	a := v.c.Attachments
	if a.MaxFileBytes <= 0 || a.MaxFileBytes > maxAttachmentBytes {
		v.errf("attachments.max_file_bytes", "%d (want 1 to %d, such as 10485760 for 10 MiB)", a.MaxFileBytes, maxAttachmentBytes)
	}
	if a.MaxMessageBytes < a.MaxFileBytes || a.MaxMessageBytes > maxAttachmentBytes {
		v.errf("attachments.max_message_bytes", "%d (want at least max_file_bytes and at most %d)", a.MaxMessageBytes, maxAttachmentBytes)
	}
	if a.UploadBytesPerHour < a.MaxFileBytes {
		v.errf("attachments.upload_bytes_per_hour", "%d (want at least max_file_bytes, such as 1073741824 for 1 GiB)", a.UploadBytesPerHour)
	}
	if d := a.SweepAfter.D(); d < attachments.MinSweepAfter || d > maxSweepAfter {
		v.errf("attachments.sweep_after", "%s (want %s to %s, such as \"24h\": an upload no message names within it is removed)", d, attachments.MinSweepAfter, maxSweepAfter)
	}
	if d := a.SweepEvery.D(); d < minSweepEvery || d > a.SweepAfter.D() {
		v.errf("attachments.sweep_every", "%s (want %s to sweep_after, such as \"1h\")", d, minSweepEvery)
	}
}

// The bounds of the sweeper's settings: a sweep lists every file, so not
// more often than a minute; a grace of a year keeps what nobody sent
// long enough.
const (
	maxSweepAfter = 365 * 24 * time.Hour
	minSweepEvery = time.Minute
)

func (v *validator) customers() {
	c := &v.c.Customers
	if c.LastAgentWithin <= 0 {
		v.errf("customers.last_agent_within", "%s (want a positive duration such as \"720h\")", c.LastAgentWithin.D())
	}
	if c.PreferredTimeout <= 0 || c.PreferredTimeout.D() > router.MaxPreferredTimeout {
		v.errf("customers.preferred_timeout", "%s (want a positive duration up to %s, such as \"20s\")", c.PreferredTimeout.D(), router.MaxPreferredTimeout)
	}
	if c.ProfileAccessGrace <= 0 || c.ProfileAccessGrace.D() > maxProfileAccessGrace {
		v.errf("customers.profile_access_grace", "%s (want a positive duration up to %s, such as \"15m\")", c.ProfileAccessGrace.D(), maxProfileAccessGrace)
	}
}

func (v *validator) agents() {
	ids := map[string]string{}
	for i, a := range v.c.Agents {
		p := indexPath("agents", i)
		// What an agent says of itself is the router's rule
		// (Agent.Validate); what needs the file (unique ids, channels
		// that are routed) is here.
		spec := router.Agent{ID: a.ID, Name: a.Name, Skills: a.Skills, Capacity: a.Capacity}
		for _, e := range spec.Validate() {
			v.errf(p+"."+e.Field, "%s", e.Message)
		}
		if router.ValidateName("", "", a.ID) == nil {
			if first, dup := ids[a.ID]; dup {
				v.errf(p+".id", "duplicate agent id %q%s", a.ID, v.firstAt(first))
			} else {
				ids[a.ID] = p + ".id"
			}
		}
		for _, ch := range sortedKeys(a.Capacity) {
			if router.ValidateName("", "", ch) == nil {
				v.routedChannel(fieldPath(p+".capacity", ch), ch)
			}
		}
		if a.PasswordHash != "" {
			v.passwordHash(p+".password_hash", a.PasswordHash)
		}
	}
}

func (v *validator) supervisors() {
	agents := map[string]string{}
	for i, a := range v.c.Agents {
		if _, dup := agents[a.ID]; !dup {
			agents[a.ID] = indexPath("agents", i) + ".id"
		}
	}
	ids := map[string]string{}
	for i, s := range v.c.Supervisors {
		p := indexPath("supervisors", i)
		if v.name(p+".id", s.ID, "supervisor id") {
			switch {
			case ids[s.ID] != "":
				v.errf(p+".id", "duplicate supervisor id %q%s", s.ID, v.firstAt(ids[s.ID]))
			case agents[s.ID] != "":
				v.errf(p+".id", "%q is also an agent id%s (want a login name no agent has)", s.ID, v.firstAt(agents[s.ID]))
			default:
				ids[s.ID] = p + ".id"
			}
		}
		if len(s.Name) > router.MaxAgentNameLen {
			v.errf(p+".name", "%d bytes long (want at most %d)", len(s.Name), router.MaxAgentNameLen)
		}
		if s.PasswordHash == "" {
			v.errf(p+".password_hash", "empty (want the bcrypt hash of the supervisor's password, from `routerd passwd -hash`)")
			continue
		}
		v.passwordHash(p+".password_hash", s.PasswordHash)
	}
}

// passwordHash checks a bcrypt password hash.
func (v *validator) passwordHash(path, hash string) {
	if hash == Redacted {
		v.errf(path, "%q is what -print-config shows in place of a hash (want the bcrypt hash itself)", Redacted)
		return
	}
	if _, err := bcrypt.Cost([]byte(hash)); err != nil {
		v.errf(path, "not a bcrypt hash (want one such as \"$2a$12$...\", from `routerd passwd -hash`)")
	}
}

func (v *validator) queues() {
	qs := v.c.Queues
	byName := map[string]int{}
	for i, q := range qs {
		p := indexPath("queues", i)
		if v.name(p+".name", q.Name, "queue name") {
			if first, dup := byName[q.Name]; dup {
				v.errf(p+".name", "duplicate queue name %q%s", q.Name, v.firstAt(indexPath("queues", first)+".name"))
			} else {
				byName[q.Name] = i
			}
		}
	}
	for i, q := range qs {
		v.queue(indexPath("queues", i), q.Router(), byName)
	}
	v.overflowCycles(byName)
}

// sorted orders the problems found by their place in the file.
func (v *validator) sorted() {
	slices.SortStableFunc(v.errs.errs, func(a, b error) int {
		ea, eb := a.(*Error), b.(*Error)
		return cmp.Or(cmp.Compare(ea.Line, eb.Line), cmp.Compare(ea.Column, eb.Column))
	})
}

func (v *validator) queue(p string, q router.Queue, byName map[string]int) {
	// What a queue says of itself is the router's rule (Queue.Validate);
	// what needs the file (the queues it names, the calendars) is here.
	for _, e := range q.Validate() {
		if e.Field == "name" {
			continue // checked with the duplicates (queues)
		}
		msg := e.Message
		if e.First != "" {
			msg += v.firstAt(p + "." + e.First)
		}
		v.errf(p+"."+e.Field, "%s", msg)
	}
	if q.Overflow != "" && q.Overflow != q.Name {
		if _, ok := byName[q.Overflow]; !ok {
			v.errf(p+".overflow", "unknown queue %q (%s)", q.Overflow, queueNames(v.c.Queues, q.Name))
		}
	}
	v.queueHours(p, q.Hours)
}

// capacity checks a number of contacts at once (router.ValidateCapacity).
func (v *validator) capacity(path string, n int) {
	if e := router.ValidateCapacity("", n); e != nil {
		v.errf(path, "%s", e.Message)
	}
}

// channel checks a channel's name and that it is routed (routedChannel).
func (v *validator) channel(path, ch string) {
	if v.name(path, ch, "channel") {
		v.routedChannel(path, ch)
	}
}

// routedChannel checks that a channel named outside routing.capacity,
// whose keys are the channels the router accepts, is one of them.
func (v *validator) routedChannel(path, ch string) {
	if _, ok := v.c.Routing.Capacity[ch]; !ok {
		v.errf(path, "channel %q is not in routing.capacity (want one of %s, or add it there)", ch, strings.Join(sortedKeys(v.c.Routing.Capacity), ", "))
	}
}

// overflowCycles reports chains of overflow queues that come back to
// where they started, once per cycle.
func (v *validator) overflowCycles(byName map[string]int) {
	qs := v.c.Queues
	for i := range qs {
		chain := []string{qs[i].Name}
		seen := map[int]bool{i: true}
		j := i
		for {
			next, ok := byName[qs[j].Overflow]
			if !ok || qs[j].Overflow == qs[j].Name {
				break // reported by queue
			}
			chain = append(chain, qs[next].Name)
			if next == i {
				if minIndex(seen) == i {
					v.errf(indexPath("queues", i)+".overflow", "overflow cycle %s (want a chain that ends in a queue without overflow)", strings.Join(chain, " → "))
				}
				break
			}
			if seen[next] {
				break // a cycle that does not include i
			}
			seen[next] = true
			j = next
		}
	}
}

func minIndex(m map[int]bool) int {
	lo := math.MaxInt
	for i := range m {
		lo = min(lo, i)
	}
	return lo
}

// queueNames lists the queues other than self, for "want one of".
func queueNames(qs []Queue, self string) string {
	var names []string
	for _, q := range qs {
		if q.Name != self && q.Name != "" {
			names = append(names, q.Name)
		}
	}
	if len(names) == 0 {
		return "no other queue is configured"
	}
	return "want one of " + strings.Join(names, ", ")
}

// name checks an id, name, skill or channel (router.ValidateName),
// which the message calls what. It reports whether s is valid.
func (v *validator) name(path, s, what string) bool {
	if e := router.ValidateName("", what, s); e != nil {
		v.errf(path, "%s", e.Message)
		return false
	}
	return true
}

// offers checks offers: the prior, the complaints, and each offer of the
// catalog, whose expression is compiled as the daemon will.
func (v *validator) offers() {
	o := v.c.Offers
	for _, f := range []struct {
		field string
		x     float64
	}{{"offers.prior.alpha", o.Prior.Alpha}, {"offers.prior.beta", o.Prior.Beta}} {
		if !(f.x > 0) || math.IsInf(f.x, 0) {
			v.errf(f.field, "%v (want a positive number; 1 and 1 make the uniform prior)", f.x)
		}
	}
	for i, q := range o.Complaints.Queues {
		v.name(indexPath("offers.complaints.queues", i), q, "queue name")
	}
	for i, d := range o.Complaints.Dispositions {
		v.name(indexPath("offers.complaints.dispositions", i), d, "disposition code")
	}
	for i, k := range o.Complaints.Keywords {
		if strings.TrimSpace(k) == "" || len(k) > 100 {
			v.errf(indexPath("offers.complaints.keywords", i), "%q (want 1 to 100 bytes of text, such as \"charged twice\")", k)
		}
	}
	if w := o.Complaints.RecentWindow.D(); w < 0 || w > maxRecentComplaint {
		v.errf("offers.complaints.recent_window", "%s (want 0 to turn it off, or up to %s, such as \"720h\" for 30 days)", w, maxRecentComplaint)
	}
	ids := map[string]string{}
	catalog := v.c.OfferCatalog()
	for i, off := range o.Catalog {
		p := indexPath("offers.catalog", i)
		if v.name(p+".id", off.ID, "offer id") {
			if first, dup := ids[off.ID]; dup {
				v.errf(p+".id", "duplicate offer id %q%s", off.ID, v.firstAt(first))
			} else {
				ids[off.ID] = p + ".id"
			}
		}
		for j, ch := range off.Channels {
			v.channel(indexPath(p+".channels", j), ch)
		}
		single := catalog[i]
		single.ID = cmp.Or(single.ID, "?") // an empty id is reported above
		if _, err := offers.NewCatalog([]offers.Offer{single}); err != nil {
			var oe *offers.OfferError
			if errors.As(err, &oe) {
				v.errf(p+"."+oe.Field, "offer %q: %s", off.ID, oe.Msg)
			} else {
				v.errf(p, "%v", err)
			}
		}
	}
}

// webhooks checks webhooks: unique ids, one secret each (literal or from
// the environment), and what webhooks.Webhook.Validate checks, under
// webhook_allow_http; and event_log_retention.
func (v *validator) webhooks() {
	if v.c.EventLogRetention < router.Duration(time.Hour) {
		v.errf("event_log_retention", "%s is too short (want at least 1h, such as \"168h\")", v.c.EventLogRetention.D())
	}
	ids := map[string]string{}
	for i, w := range v.c.Webhooks {
		p := indexPath("webhooks", i)
		if first, dup := ids[w.ID]; dup && w.ID != "" {
			v.errf(p+".id", "duplicate webhook id %q%s", w.ID, v.firstAt(first))
			continue
		}
		ids[w.ID] = p + ".id"
		secret, ok := v.webhookSecret(p, w)
		if !ok {
			secret = strings.Repeat("x", webhooks.MinSecretLen) // checked; go on with the rest
		}
		err := webhooks.Webhook{ID: w.ID, URL: w.URL, Events: w.Events, Secret: secret}.Validate(v.c.WebhookAllowHTTP)
		var we *webhooks.Error
		if errors.As(err, &we) {
			field := p + "." + we.Field
			if we.Field == "secret" && w.SecretEnv != "" {
				field = p + ".secret_env"
			}
			v.errf(field, "%s", we.Msg)
		}
	}
}

// webhookSecret returns w's secret; ok is false when a problem with it
// was reported.
func (v *validator) webhookSecret(p string, w Webhook) (string, bool) {
	switch {
	case w.Secret != "" && w.SecretEnv != "":
		v.errf(p, "both secret and secret_env are set (want exactly one)")
	case w.Secret == "" && w.SecretEnv == "":
		v.errf(p, "neither secret nor secret_env is set (want exactly one; secret_env names an environment variable holding the secret)")
	case w.Secret == Redacted:
		v.errf(p+".secret", "%q is what -print-config shows in place of a secret (want the secret itself, or secret_env)", Redacted)
	case w.Secret != "":
		return w.Secret, true
	default:
		val, ok := v.c.lookupEnv()(w.SecretEnv)
		if !ok || val == "" {
			v.errf(p+".secret_env", "environment variable %s is not set or empty (want it to hold the webhook's secret)", w.SecretEnv)
			return "", false
		}
		return val, true
	}
	return "", false
}

// canned checks the canned responses: each by its own rule
// (canned.Response.Validate), ids unique, queues that exist.
func (v *validator) canned() {
	ids := map[string]string{}
	queues := map[string]bool{}
	for _, q := range v.c.Queues {
		queues[q.Name] = true
	}
	for i, r := range v.c.Canned() {
		p := indexPath("canned_responses", i)
		var re *router.Error
		if err := r.Validate(); errors.As(err, &re) {
			v.errf(p+"."+re.Field, "%s", re.Message)
		} else if err != nil {
			v.errf(p, "%s", err)
		}
		if first, dup := ids[r.ID]; dup && r.ID != "" {
			v.errf(p+".id", "duplicate canned response id %q%s", r.ID, v.firstAt(first))
		} else {
			ids[r.ID] = p + ".id"
		}
		for j, q := range r.Queues {
			if !queues[q] {
				v.errf(fmt.Sprintf("%s.queues[%d]", p, j), "no queue %q in the configuration", q)
			}
		}
	}
}
