// Package config reads, checks and prints the configuration of the routerd
// daemon.
//
// A configuration is a YAML file. Load reads one from disk, Parse from
// bytes; both apply the defaults (see Default) to whatever the file leaves
// out, then check the result with Validate. Every error names the file, the
// line and column, and the field, and says what would be valid:
//
//	cfg, err := config.Load("/etc/switchboard/routerd.yaml")
//	if err != nil {
//		// config: /etc/switchboard/routerd.yaml:12:15: queues[1].strategy: unknown strategy "fastest" (want longest_idle, least_occupied, best_skill or round_robin)
//		log.Fatal(err)
//	}
//	tokens, err := cfg.ResolveTokens() // token_env resolved
//	...
//	opts := cfg.RouterOptions() // with the calendars that queues name
//	r, err := router.New(store, &opts)
//	...
//	for _, q := range cfg.RouterQueues() { // overflow targets first
//		r.PutQueue(ctx, q)
//	}
//	for _, a := range cfg.RouterAgents() {
//		r.PutAgent(ctx, a)
//	}
//
// Demo returns the embedded demo configuration (demo.yaml), which routerd
// uses when it is started without -config and which documents every field.
// YAML prints the effective configuration, with secrets redacted, for
// routerd -print-config.
//
// A Config is a plain value: it is not safe for concurrent use while it is
// being changed, and safe to read from several goroutines once it is not.
package config

import (
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/canned"
	"github.com/switchboard/switchboard/channels/sms"
	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/router"
)

// Defaults used by Default and applied by Parse to whatever a file leaves
// out.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultDataDir      = "./data"
	DefaultDBFile       = "switchboard.db"
	DefaultMaxBodyBytes = 1 << 20
	// DefaultSessionTTL is how long a login session lasts.
	DefaultSessionTTL = 12 * time.Hour
)

// Defaults of the SMS channel.
const (
	DefaultTwilioAPIBaseURL  = "https://api.twilio.com"
	DefaultTwilioHelpText    = "Reply STOP to stop receiving texts, START to receive them again."
	DefaultTwilioMaxSegments = 3
)

// Store drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// SQLite synchronous modes.
const (
	SyncFull   = "full"
	SyncNormal = "normal"
)

// Token roles.
const (
	RoleAdmin       = "admin"
	RoleSupervisor  = "supervisor"
	RoleIntegration = "integration"
	// RoleMetrics may only scrape GET /metrics (a Prometheus server's
	// token); the API refuses it everywhere else.
	RoleMetrics = "metrics"
	// RoleAgent is the role of an agent's login session; it is not a
	// token role.
	RoleAgent = "agent"
)

// Log levels and formats.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"

	FormatText = "text"
	FormatJSON = "json"
)

// Redacted is what YAML prints in place of every literal secret. Validate
// rejects it as a token, so a printed configuration pasted back into a file
// cannot silently make "REDACTED" a password.
const Redacted = "REDACTED"

// Config is the configuration of the routerd daemon. The zero value is not
// useful: start from Default, Demo, Load or Parse.
type Config struct {
	// Listen is the HTTP listen address, host:port.
	Listen string `yaml:"listen" json:"listen"`
	// DataDir holds the daemon's files; Store.Path defaults to a file in it.
	DataDir string `yaml:"data_dir" json:"data_dir"`
	// PublicURL is where users reach routerd, scheme://host[:port]
	// ("https://contact.example.com"): at routerd itself or at the proxy
	// in front of it. Empty means unknown. When it is https, the session
	// cookie is Secure. The environment variable ROUTERD_PUBLIC_URL, when
	// set and not empty, overrides the file (see Parse).
	PublicURL string `yaml:"public_url" json:"public_url"`
	// TrustedProxies are the networks (CIDRs, or single addresses) of the
	// reverse proxies in front of routerd: only from a peer within them
	// are X-Forwarded-For, X-Forwarded-Proto and Forwarded believed (see
	// package clientaddr). Empty trusts none.
	TrustedProxies []string `yaml:"trusted_proxies" json:"trusted_proxies"`
	// TLS makes routerd serve HTTPS itself.
	TLS TLS `yaml:"tls" json:"tls"`

	Store   Store   `yaml:"store" json:"store"`
	Auth    Auth    `yaml:"auth" json:"auth"`
	Routing Routing `yaml:"routing" json:"routing"`
	HTTP    HTTP    `yaml:"http" json:"http"`
	Log     Log     `yaml:"log" json:"log"`
	// HA is the leadership of several nodes on one PostgreSQL
	// (docs/ha.md); SQLite serves one node and ignores it.
	HA HA `yaml:"ha" json:"ha"`

	// Agents are upserted into the store when the daemon starts.
	// Desktop configures the agent desktop.
	Desktop Desktop `yaml:"desktop" json:"desktop"`
	// Dashboards configures the supervisors' page.
	Dashboards Dashboards `yaml:"dashboards" json:"dashboards"`
	// Customers configures how customer profiles feed routing.
	Customers Customers `yaml:"customers" json:"customers"`
	// Attachments bounds the files messages carry.
	Attachments Attachments `yaml:"attachments" json:"attachments"`
	// Disk guards the data directory's disk (package diskspace).
	Disk Disk `yaml:"disk" json:"disk"`
	// Chat configures the web chat channel; without topics it is off.
	Chat Chat `yaml:"chat" json:"chat"`
	// Twilio configures the SMS channel; it is on with routes and an
	// auth token (TwilioEnabled).
	Twilio Twilio `yaml:"twilio" json:"twilio"`
	// Email configures the email channel; without mailboxes it is off.
	Email  Email   `yaml:"email,omitempty" json:"email,omitempty"`
	Agents []Agent `yaml:"agents,omitempty" json:"agents,omitempty"`
	// Supervisors are the supervisors who log in with a password; their
	// password hashes are set in the store when the daemon starts.
	Supervisors []Supervisor `yaml:"supervisors,omitempty" json:"supervisors,omitempty"`
	// Calendars are business hours by name; a queue names one in its
	// hours (queues[].hours).
	Calendars map[string]Calendar `yaml:"calendars,omitempty" json:"calendars,omitempty"`
	// Queues are upserted into the store when the daemon starts. An empty
	// Strategy is set to router.LongestIdle by Parse.
	Queues []Queue `yaml:"queues,omitempty" json:"queues,omitempty"`
	// Offers configures what the screen pop offers customers: the
	// catalog, the complaints during which nothing is offered, and the
	// learner's prior.
	Offers Offers `yaml:"offers" json:"offers"`

	// CannedResponses are the fixed canned responses agents insert from
	// the composer ("/"); the API adds others.
	CannedResponses []CannedResponse `yaml:"canned_responses,omitempty" json:"canned_responses,omitempty"`

	// Webhooks are the outbound webhooks of the configuration: read only
	// over the API, which adds others (docs/api.md, "Webhooks").
	Webhooks []Webhook `yaml:"webhooks,omitempty" json:"webhooks,omitempty"`
	// WebhookAllowHTTP accepts webhook URLs in plain http to any host;
	// without it only a loopback address may be plain http.
	WebhookAllowHTTP bool `yaml:"webhook_allow_http" json:"webhook_allow_http"`
	// EventLogRetention is how long the event log keeps the entries that
	// every webhook is done with.
	EventLogRetention router.Duration `yaml:"event_log_retention" json:"event_log_retention"`

	// Env looks up the environment variables named by token_env, for
	// Validate and ResolveTokens; nil means os.LookupEnv.
	Env func(key string) (string, bool) `yaml:"-" json:"-"`

	// src remembers where each field was in the parsed file, so that
	// Validate can name the line; nil for a Config built in Go.
	src *source
	// publicURLFromEnv says that PublicURL came from EnvPublicURL, for
	// Validate's message.
	publicURLFromEnv bool
	// twilioTokenEnv and twilioAccountEnv are EnvTwilioAuthToken and
	// EnvTwilioAccountSID, read by Parse; kept apart from the file's
	// fields so that -print-config never shows them.
	twilioTokenEnv, twilioAccountEnv string
}

// Twilio configures the SMS channel (package channels/sms): the
// account, where its REST API is, and which queue each number serves.
type Twilio struct {
	// AccountSID is the account's SID ("AC…"); TWILIO_ACCOUNT_SID, when
	// set, is used when this is empty. Without one, replies cannot be
	// sent (they fail with that reason) but texts are still taken.
	AccountSID string `yaml:"account_sid,omitempty" json:"account_sid,omitempty"`
	// AuthToken is the account's auth token: it keys the webhooks'
	// signatures and the REST API's authentication. Prefer the
	// environment variable TWILIO_AUTH_TOKEN, used when this is empty.
	// Never logged; -print-config shows REDACTED.
	AuthToken string `yaml:"auth_token,omitempty" json:"-"`
	// APIBaseURL is the REST API's base URL (Twilio's by default): a
	// Twilio-compatible provider's, or a local stand-in.
	// ROUTERD_TWILIO_API_BASE_URL, when set, overrides it.
	APIBaseURL string `yaml:"api_base_url" json:"api_base_url"`
	// HelpText answers HELP and INFO.
	HelpText string `yaml:"help_text" json:"help_text"`
	// MaxSegments is how many segments an agent's reply may take before
	// the composer asks for confirmation.
	MaxSegments int `yaml:"max_segments" json:"max_segments"`
	// FetchMedia fetches each MMS medium (with the account's
	// credentials) into the attachment store before the text is
	// committed; without it the media's URLs and types are recorded.
	FetchMedia bool `yaml:"fetch_media" json:"fetch_media"`
	// Routes join queues and numbers. Texts to a route's number (or
	// Messaging Service) go to its queue, and replies on the queue's
	// contacts go from it; the first route also takes the texts to
	// numbers no route names. Without routes the channel is off.
	Routes []TwilioRoute `yaml:"routes,omitempty" json:"routes,omitempty"`
}

// SMSRoutes are the routes as the SMS channel takes them.
func (t Twilio) SMSRoutes() []sms.Route {
	out := make([]sms.Route, 0, len(t.Routes))
	for _, r := range t.Routes {
		out = append(out, sms.Route{Queue: r.Queue, From: r.From, MessagingServiceSID: r.MessagingServiceSID})
	}
	return out
}

// TwilioRoute joins a queue and a number or Messaging Service.
type TwilioRoute struct {
	Queue string `yaml:"queue" json:"queue"`
	// From is a Twilio number in E.164; MessagingServiceSID ("MG…")
	// sends through a Messaging Service instead. Neither: the route only
	// receives (replies on its queue fail with that reason).
	From                string `yaml:"from,omitempty" json:"from,omitempty"`
	MessagingServiceSID string `yaml:"messaging_service_sid,omitempty" json:"messaging_service_sid,omitempty"`
}

// Environment variables of the SMS channel: Twilio's own for the
// credentials, and routerd's for the API's base URL.
const (
	EnvTwilioAccountSID = "TWILIO_ACCOUNT_SID"
	EnvTwilioAuthToken  = "TWILIO_AUTH_TOKEN"
	EnvTwilioAPIBaseURL = "ROUTERD_TWILIO_API_BASE_URL"
)

// TwilioAuthToken is the auth token: the file's, else TWILIO_AUTH_TOKEN.
func (c *Config) TwilioAuthToken() string {
	if c.Twilio.AuthToken != "" {
		return c.Twilio.AuthToken
	}
	return c.twilioTokenEnv
}

// TwilioAccountSID is the account SID: the file's, else
// TWILIO_ACCOUNT_SID.
func (c *Config) TwilioAccountSID() string {
	if c.Twilio.AccountSID != "" {
		return c.Twilio.AccountSID
	}
	return c.twilioAccountEnv
}

// TwilioEnabled reports whether the SMS channel is on: it has routes
// and an auth token.
func (c *Config) TwilioEnabled() bool {
	return len(c.Twilio.Routes) > 0 && c.TwilioAuthToken() != ""
}

// TLS configures HTTPS. Without a certificate routerd serves plain HTTP
// (behind a proxy that terminates TLS, or for a demo).
type TLS struct {
	// CertFile and KeyFile are the PEM certificate chain and private key;
	// both or neither. They are read again on SIGHUP.
	CertFile string `yaml:"cert_file" json:"cert_file"`
	KeyFile  string `yaml:"key_file" json:"key_file"`
	// RedirectHTTP, when set, is a host:port where routerd listens for
	// plain HTTP and redirects every request to HTTPS. It needs CertFile.
	RedirectHTTP string `yaml:"redirect_http" json:"redirect_http"`
}

// Enabled reports whether routerd serves HTTPS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// DatabaseURLEnv is the environment variable that, set and not empty,
// selects PostgreSQL with its value as the connection URL, whatever the
// configuration's store says (UseDatabaseURL); it is also where a
// "postgres" store without dsn_env or dsn_file finds its URL.
const DatabaseURLEnv = "ROUTERD_DATABASE_URL"

// Store chooses and tunes the database.
type Store struct {
	// Driver is "sqlite" (the default) or "postgres".
	Driver string `yaml:"driver" json:"driver"`
	// Path is the SQLite database file; it defaults to switchboard.db in
	// the data directory. PostgreSQL ignores it.
	Path string `yaml:"path" json:"path"`
	// Synchronous is "full" (the default): every commit durable before
	// it is answered; or "normal": faster, a crash may lose the last
	// commits (SQLite's synchronous pragma, PostgreSQL's
	// synchronous_commit off).
	Synchronous string `yaml:"synchronous" json:"synchronous"`
	// DSNEnv names the environment variable holding PostgreSQL's
	// connection URL (postgres://user:password@host/db); DSNFile is a
	// file holding it instead. At most one is set; with neither the URL
	// is in DatabaseURLEnv. The URL itself (it holds a password) is never
	// in the configuration, and never logged.
	DSNEnv  string `yaml:"dsn_env,omitempty" json:"dsn_env,omitempty"`
	DSNFile string `yaml:"dsn_file,omitempty" json:"dsn_file,omitempty"`
}

// AttachmentsDir is where message files are kept: attachments.dir, or
// the data directory's "attachments".
func (c *Config) AttachmentsDir() string {
	if c.Attachments.Dir != "" {
		return c.Attachments.Dir
	}
	return filepath.Join(c.DataDir, DefaultAttachmentsDir)
}

// DefaultAttachmentsDir is the data directory's folder of message files.
const DefaultAttachmentsDir = "attachments"

// DefaultSweepEvery is how often the leading node looks for files no
// message holds (attachments.sweep_every): a sweep lists every file, and
// an hour more is little beside the grace of a day.
const DefaultSweepEvery = time.Hour

// HA times the leader's lease (docs/ha.md). The leader renews every
// Renew, each attempt given at most RetryTimeout; it steps down when the
// lease runs out unrenewed. Renew plus two RetryTimeouts must stay below
// Lease, so that a renewal that failed once is tried again in time. A
// standby tries to take the lease every Renew: a dead leader is replaced
// within Lease plus Renew.
type HA struct {
	// Node names this node in logs and in the lease; empty is the host's
	// name.
	Node string `yaml:"node" json:"node"`
	// AdvertiseURL is where the other nodes reach this one, for proxying
	// to the leader (scheme://host:port); empty is http:// (https:// with
	// tls) and the listen address, which must then name a host.
	AdvertiseURL string          `yaml:"advertise_url" json:"advertise_url"`
	Lease        router.Duration `yaml:"lease" json:"lease"`
	Renew        router.Duration `yaml:"renew" json:"renew"`
	RetryTimeout router.Duration `yaml:"retry_timeout" json:"retry_timeout"`
}

// DSN reads PostgreSQL's connection URL from DSNEnv, DSNFile or
// DatabaseURLEnv (env looks up variables; nil is os.LookupEnv).
func (s Store) DSN(env func(string) (string, bool)) (string, error) {
	if s.DSNEnv == "" && s.DSNFile == "" {
		return readSecretAs(env, DatabaseURLEnv, "", "PostgreSQL's connection URL", "dsn")
	}
	return readSecretAs(env, s.DSNEnv, s.DSNFile, "PostgreSQL's connection URL", "dsn")
}

// UseDatabaseURL switches the store to PostgreSQL when DatabaseURLEnv is
// set and not empty (env looks up variables; nil is os.LookupEnv), so
// that the variable alone starts routerd on PostgreSQL, the demo
// configuration included. It reports whether it did.
func (c *Config) UseDatabaseURL(env func(string) (string, bool)) bool {
	if env == nil {
		env = os.LookupEnv
	}
	if v, ok := env(DatabaseURLEnv); !ok || v == "" {
		return false
	}
	c.Store.Driver = DriverPostgres
	c.Store.Path = ""
	c.Store.DSNEnv, c.Store.DSNFile = "", ""
	return true
}

// Auth holds the API tokens.
type Auth struct {
	// AdminToken is an admin token; when empty the daemon generates one.
	AdminToken string `yaml:"admin_token,omitempty" json:"admin_token,omitempty"`
	// Tokens are further named tokens, each with a role.
	Tokens []TokenConfig `yaml:"tokens,omitempty" json:"tokens,omitempty"`
	// SessionTTL is how long a login session (POST /api/v1/login) lasts.
	SessionTTL router.Duration `yaml:"session_ttl" json:"session_ttl"`
}

// TokenConfig is one API token as written in the file. Exactly one of
// Token and TokenEnv is set.
type TokenConfig struct {
	// Name identifies the token in logs and audit trails; unique.
	Name string `yaml:"name" json:"name"`
	// Role is admin, supervisor or integration.
	Role string `yaml:"role" json:"role"`
	// Token is the secret itself.
	Token string `yaml:"token,omitempty" json:"token,omitempty"`
	// TokenEnv names an environment variable that holds the secret.
	TokenEnv string `yaml:"token_env,omitempty" json:"token_env,omitempty"`
}

// Routing holds the router's defaults per channel.
type Routing struct {
	// OfferTimeout is how long an offer rings before it counts as missed,
	// per channel. Never nil after Default or Parse.
	OfferTimeout map[string]router.Duration `yaml:"offer_timeout" json:"offer_timeout"`
	// Capacity is how many contacts of a channel an agent takes at once
	// when the agent's own capacity does not name the channel. Its keys
	// are the channels the router accepts. Never nil after Default or
	// Parse.
	Capacity map[string]int `yaml:"capacity" json:"capacity"`
	// WrapUp is the wrap-up time after a contact, for queues that do not
	// set their own.
	WrapUp router.Duration `yaml:"wrapup" json:"wrapup"`
	// CustomerMessages bounds the messages from the customer that one
	// contact holds, whatever the channel (router.Options.CustomerMessages).
	CustomerMessages int `yaml:"customer_messages" json:"customer_messages"`
	// CustomerBytes bounds the bytes of those messages.
	CustomerBytes int `yaml:"customer_bytes" json:"customer_bytes"`
}

// HTTP tunes the HTTP server.
type HTTP struct {
	// MaxBodyBytes caps the size of a request body.
	MaxBodyBytes int64           `yaml:"max_body_bytes" json:"max_body_bytes"`
	ReadTimeout  router.Duration `yaml:"read_timeout" json:"read_timeout"`
	WriteTimeout router.Duration `yaml:"write_timeout" json:"write_timeout"`
	// ShutdownTimeout is how long a graceful shutdown waits for requests
	// in flight.
	ShutdownTimeout router.Duration `yaml:"shutdown_timeout" json:"shutdown_timeout"`
}

// Log chooses the log level and format.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level" json:"level"`
	// Format is text or json.
	Format string `yaml:"format" json:"format"`
}

// Webhook is one outbound webhook (package webhooks). Exactly one of
// Secret and SecretEnv is set.
type Webhook struct {
	// ID names it in the API and the logs; unique.
	ID string `yaml:"id" json:"id"`
	// URL is where events are POSTed: https, or http to a loopback
	// address (or anywhere with webhook_allow_http).
	URL string `yaml:"url" json:"url"`
	// Events are the event types it takes ("contact.created", ...), or
	// ["*"] for all.
	Events []string `yaml:"events" json:"events"`
	// Secret signs the deliveries (HMAC-SHA256); SecretEnv names an
	// environment variable that holds it.
	Secret    string `yaml:"secret,omitempty" json:"secret,omitempty"`
	SecretEnv string `yaml:"secret_env,omitempty" json:"secret_env,omitempty"`
}

// Customers configures how a customer's profile feeds the routing of
// their contacts: the preferred agents. (Value and segment feed the rank
// through each queue's value_tiers and segment_boosts.)
type Customers struct {
	// PreferRelationshipManager offers a customer's contacts first to the
	// relationship manager named on their profile, when that is an agent.
	PreferRelationshipManager bool `yaml:"prefer_relationship_manager" json:"prefer_relationship_manager"`
	// PreferLastAgent offers a customer's contacts first to the agent who
	// last handled one of their contacts, within LastAgentWithin.
	PreferLastAgent bool            `yaml:"prefer_last_agent" json:"prefer_last_agent"`
	LastAgentWithin router.Duration `yaml:"last_agent_within" json:"last_agent_within"`
	// PreferredTimeout is how long the preferred agents have the contact
	// to themselves before any eligible agent may take it.
	PreferredTimeout router.Duration `yaml:"preferred_timeout" json:"preferred_timeout"`
	// ProfileAccessGrace is how long after a contact ended its screen pop
	// still shows the customer's profile, history and offers.
	ProfileAccessGrace router.Duration `yaml:"profile_access_grace" json:"profile_access_grace"`
}

// Attachments bounds the files of messages, kept under Dir by their
// SHA-256.
type Attachments struct {
	// Dir is where the files are kept; empty is <data_dir>/attachments.
	// Nodes on one PostgreSQL share it (docs/ha.md).
	Dir string `yaml:"dir,omitempty" json:"dir,omitempty"`
	// MaxFileBytes bounds one file.
	MaxFileBytes int64 `yaml:"max_file_bytes" json:"max_file_bytes"`
	// MaxMessageBytes bounds the files of one message together.
	MaxMessageBytes int64 `yaml:"max_message_bytes" json:"max_message_bytes"`
	// SweepAfter is the grace of a file no message holds: how long
	// after it was last uploaded or named it is kept (an upload on its
	// way to its message), before the sweeper removes it.
	SweepAfter router.Duration `yaml:"sweep_after" json:"sweep_after"`
	// SweepEvery is how often the leading node sweeps.
	SweepEvery router.Duration `yaml:"sweep_every" json:"sweep_every"`
	// UploadBytesPerHour bounds the bytes each caller (a login or a
	// token) uploads in an hour.
	UploadBytesPerHour int64 `yaml:"upload_bytes_per_hour" json:"upload_bytes_per_hour"`
}

// Disk guards the data directory's disk: below MinFreeBytes free, new
// contacts are refused (everything else keeps working), and a reserve
// file of ReserveBytes kept while space is plenty is freed for the rest.
type Disk struct {
	// MinFreeBytes: 0 turns the guard off.
	MinFreeBytes int64 `yaml:"min_free_bytes" json:"min_free_bytes"`
	// ReserveBytes: 0 keeps no reserve.
	ReserveBytes int64 `yaml:"reserve_bytes" json:"reserve_bytes"`
}

// Desktop configures the agent desktop and its WebSocket.
type Desktop struct {
	// Dispositions are the wrap-up codes an agent chooses from.
	Dispositions []Disposition `yaml:"dispositions" json:"dispositions"`
	// Segments and Products name, for agents, the codes that customer
	// records carry (a profile's segment "premium", its products
	// "credit_card"); a code without a label is shown as it is.
	Segments []Label `yaml:"segments,omitempty" json:"segments,omitempty"`
	Products []Label `yaml:"products,omitempty" json:"products,omitempty"`
	// AwayReasons are the reason codes of the away state.
	AwayReasons []string `yaml:"away_reasons" json:"away_reasons"`
	// Grace is how long a disconnected agent keeps its assigned contacts
	// before they return to their queues.
	Grace router.Duration `yaml:"grace" json:"grace"`
	// AllowedOrigins lists the origins (scheme://host[:port]) allowed to
	// open the agent WebSocket besides the daemon's own.
	AllowedOrigins []string `yaml:"allowed_origins,omitempty" json:"allowed_origins,omitempty"`
	// VerificationMethods are the ways an agent may verify that a
	// customer is the known customer they claim to be (the firm's
	// security questions, a one-time code); the desktop offers one
	// button per method, and the customer's audit records which.
	VerificationMethods []string `yaml:"verification_methods" json:"verification_methods"`
}

// CannedResponse is one canned response; see canned.Response. Its text
// may name {first_name}, {agent} and {reference}.
type CannedResponse struct {
	ID     string   `yaml:"id" json:"id"`
	Title  string   `yaml:"title" json:"title"`
	Text   string   `yaml:"text" json:"text"`
	Queues []string `yaml:"queues,omitempty" json:"queues,omitempty"`
}

// Canned returns the configured canned responses as the canned package's.
func (c *Config) Canned() []canned.Response {
	out := make([]canned.Response, 0, len(c.CannedResponses))
	for _, r := range c.CannedResponses {
		out = append(out, canned.Response{ID: r.ID, Title: r.Title, Text: r.Text, Queues: slices.Clone(r.Queues)})
	}
	return out
}

// Dashboards configures the supervisors' page (/dashboard/).
type Dashboards struct {
	// TimeZone is where "today" starts at midnight (an IANA name such as
	// "Europe/Paris"); empty: the server's local time zone.
	TimeZone string `yaml:"time_zone,omitempty" json:"time_zone,omitempty"`
	// AgentStateRetention is how long agents' state history is kept for
	// the reports; older entries are deleted (hourly). Zero is
	// DefaultAgentStateRetention.
	AgentStateRetention router.Duration `yaml:"agent_state_retention,omitempty" json:"agent_state_retention,omitempty"`
}

// DefaultAgentStateRetention keeps 400 days of agents' state history:
// a year's reports, and the same period of last year's.
const DefaultAgentStateRetention = 400 * 24 * time.Hour

// MinAgentStateRetention is the shortest retention: more than the week
// the reports look back for the state an agent was in when a period
// began (store.stateLookback).
const MinAgentStateRetention = 8 * 24 * time.Hour

// StateRetention is AgentStateRetention or its default.
func (d Dashboards) StateRetention() time.Duration {
	if d.AgentStateRetention <= 0 {
		return DefaultAgentStateRetention
	}
	return d.AgentStateRetention.D()
}

// Location is the time zone of Dashboards.TimeZone (the server's when
// empty); Validate refuses an unknown one.
func (d Dashboards) Location() *time.Location {
	if d.TimeZone == "" {
		return time.Local
	}
	if loc, err := time.LoadLocation(d.TimeZone); err == nil {
		return loc
	}
	return time.Local
}

// Chat configures the web chat channel (/chat/, /chat/widget.js, /ws/chat).
type Chat struct {
	// Topics are the pre-chat form's choices; each maps to a queue.
	Topics []ChatTopic `yaml:"topics" json:"topics"`
	// AllowedOrigins are the sites that embed the widget.
	AllowedOrigins []string `yaml:"allowed_origins,omitempty" json:"allowed_origins,omitempty"`
	// OpeningHours is deprecated: give the topics' queues hours instead.
	// When set (a time zone or spans), it is the calendar ChatCalendar
	// and the hours of the topics' queues, none of which may name a
	// calendar of its own.
	OpeningHours OpeningHours `yaml:"opening_hours" json:"opening_hours"`
	// MaxMessageBytes bounds one chat message.
	MaxMessageBytes int `yaml:"max_message_bytes" json:"max_message_bytes"`
	// ConversationsPerMinute bounds the chats one address may start.
	ConversationsPerMinute int `yaml:"conversations_per_minute" json:"conversations_per_minute"`
	// MessagesPer10s bounds the messages of one conversation.
	MessagesPer10s int `yaml:"messages_per_10s" json:"messages_per_10s"`
	// ConnectionsPerAddress bounds the chat sockets one client address
	// holds open at once.
	ConnectionsPerAddress int `yaml:"connections_per_address" json:"connections_per_address"`
	// LeaveMessageWindow is how long after leaving a message the customer
	// may add to it.
	LeaveMessageWindow router.Duration `yaml:"leave_message_window" json:"leave_message_window"`
	// TokenTTL is how long a customer may resume a conversation.
	TokenTTL router.Duration `yaml:"token_ttl" json:"token_ttl"`
	// CSAT is the satisfaction survey at the end of a conversation.
	CSAT ChatCSAT `yaml:"csat" json:"csat"`
}

// ChatCSAT configures the satisfaction survey (package csat): the
// customers of Queues are asked Question when their conversation ends,
// and may answer within Window.
type ChatCSAT struct {
	Queues   []string        `yaml:"queues,omitempty" json:"queues,omitempty"`
	Question string          `yaml:"question,omitempty" json:"question,omitempty"`
	Window   router.Duration `yaml:"window,omitempty" json:"window,omitempty"`
}

// ChatTopic is one choice of the pre-chat form.
type ChatTopic struct {
	ID    string `yaml:"id" json:"id"`
	Label string `yaml:"label" json:"label"`
	Queue string `yaml:"queue" json:"queue"`
	// OfflineQueue takes the messages left outside opening hours or when
	// nobody is online; empty means Queue.
	OfflineQueue string `yaml:"offline_queue,omitempty" json:"offline_queue,omitempty"`
}

// OpeningHours are weekly opening spans ("09:00-17:30") in a time zone.
type OpeningHours struct {
	TimeZone  string   `yaml:"time_zone" json:"time_zone"`
	Monday    []string `yaml:"monday,omitempty" json:"monday,omitempty"`
	Tuesday   []string `yaml:"tuesday,omitempty" json:"tuesday,omitempty"`
	Wednesday []string `yaml:"wednesday,omitempty" json:"wednesday,omitempty"`
	Thursday  []string `yaml:"thursday,omitempty" json:"thursday,omitempty"`
	Friday    []string `yaml:"friday,omitempty" json:"friday,omitempty"`
	Saturday  []string `yaml:"saturday,omitempty" json:"saturday,omitempty"`
	Sunday    []string `yaml:"sunday,omitempty" json:"sunday,omitempty"`
}

// Set reports whether opening hours are configured.
func (h OpeningHours) Set() bool {
	for _, d := range h.Days() {
		if len(d) > 0 {
			return true
		}
	}
	return h.TimeZone != ""
}

// Days returns the spans by time.Weekday, Sunday first.
func (h OpeningHours) Days() [7][]string {
	return [7][]string{h.Sunday, h.Monday, h.Tuesday, h.Wednesday, h.Thursday, h.Friday, h.Saturday}
}

// Label names a code for the people who read it: a wrap-up code, a
// customer segment, a product.
type Label struct {
	Code  string `yaml:"code" json:"code"`
	Label string `yaml:"label" json:"label"`
}

// Disposition is one wrap-up code.
type Disposition = Label

// Agent is an agent seeded (upserted) into the store when the daemon
// starts.
type Agent struct {
	// ID is unique and never changes.
	ID string `yaml:"id" json:"id"`
	// Name is shown to supervisors; Parse sets it to ID when empty.
	Name string `yaml:"name" json:"name"`
	// Skills maps a skill to a level; 0 or more.
	Skills map[string]int `yaml:"skills,omitempty" json:"skills,omitempty"`
	// Capacity maps a channel to how many contacts of it the agent takes
	// at once; channels it leaves out take Routing.Capacity (the router
	// applies that default, so a later change of it reaches the agent).
	Capacity map[string]int `yaml:"capacity,omitempty" json:"capacity,omitempty"`
	// PasswordHash, when set, is the bcrypt hash of the agent's desktop
	// password; it replaces the stored one when the daemon starts.
	PasswordHash string `yaml:"password_hash,omitempty" json:"password_hash,omitempty"`
}

// Supervisor is a supervisor who logs in with a password.
type Supervisor struct {
	// ID is the login name; unique among supervisors and agents.
	ID string `yaml:"id" json:"id"`
	// Name is shown in the desktop; Parse sets it to ID when empty.
	Name string `yaml:"name" json:"name"`
	// PasswordHash is the bcrypt hash of the password; required. It
	// replaces the stored one when the daemon starts.
	PasswordHash string `yaml:"password_hash" json:"password_hash"`
}

// Offers configures the offers of the screen pop (docs/configuration.md).
type Offers struct {
	// Prior is the Beta prior of every offer's acceptance probability,
	// before any outcome is recorded; Beta(1,1) (uniform) by default.
	Prior OfferPrior `yaml:"prior" json:"prior"`
	// Complaints mark a contact as a complaint: no offer is made during it.
	Complaints Complaints `yaml:"complaints" json:"complaints"`
	// Catalog is the offers; one put over the API with the same id
	// replaces it, and one deleted over the API is withdrawn.
	Catalog []Offer `yaml:"catalog,omitempty" json:"catalog,omitempty"`
}

// OfferPrior is a Beta(Alpha, Beta) prior; both positive.
type OfferPrior struct {
	Alpha float64 `yaml:"alpha" json:"alpha"`
	Beta  float64 `yaml:"beta" json:"beta"`
}

// Complaints say which contacts are complaints.
type Complaints struct {
	// Queues whose contacts are complaints.
	Queues []string `yaml:"queues" json:"queues"`
	// Dispositions (wrap-up codes) that mark a complaint, compared
	// without regard to case; empty means "complaint".
	Dispositions []string `yaml:"dispositions" json:"dispositions"`
	// Keywords searched, without regard to case, in the contact's
	// subject and every message of the customer.
	Keywords []string `yaml:"keywords" json:"keywords"`
	// RecentWindow: a customer one of whose contacts ended with a
	// complaint disposition this recently gets no offers; 0 turns it off.
	RecentWindow router.Duration `yaml:"recent_window" json:"recent_window"`
}

// Offer is one offer of the catalog; see offers.Offer.
type Offer struct {
	ID            string   `yaml:"id" json:"id"`
	Title         string   `yaml:"title" json:"title"`
	TalkingPoints []string `yaml:"talking_points,omitempty" json:"talking_points,omitempty"`
	// Value is what an acceptance is worth; 0 or more.
	Value float64 `yaml:"value" json:"value"`
	// Channels the offer may be made on; empty means every channel.
	Channels []string `yaml:"channels,omitempty" json:"channels,omitempty"`
	// Eligible is an expression over customer and contact; empty means
	// every customer.
	Eligible string `yaml:"eligible,omitempty" json:"eligible,omitempty"`
	// Why is the fact the screen pop's reason line shows.
	Why string `yaml:"why,omitempty" json:"why,omitempty"`
	// Cooldown is how long the offer is not made again to a customer who
	// declined it; 0 means no cooldown.
	Cooldown router.Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	// CapPerContact is how many times it may be presented during one
	// contact; 0 means no cap.
	CapPerContact int `yaml:"cap_per_contact,omitempty" json:"cap_per_contact,omitempty"`
}

// DefaultComplaintKeywords are the complaint keywords of Default.
var DefaultComplaintKeywords = []string{
	"complaint", "complain", "charged twice", "double charged", "overcharged", "refund", "cancel",
	"unacceptable", "angry", "disappointed", "ombudsman", "lawyer",
}

// Default returns the default configuration: no agents, no queues, no
// tokens (the daemon generates an admin token).
func Default() *Config {
	return &Config{
		Listen:  DefaultListen,
		DataDir: DefaultDataDir,
		Store: Store{
			Driver:      DriverSQLite,
			Path:        filepath.Join(DefaultDataDir, DefaultDBFile),
			Synchronous: SyncFull,
		},
		Routing: Routing{
			OfferTimeout: map[string]router.Duration{
				router.ChannelChat:  router.Duration(30e9),
				router.ChannelEmail: router.Duration(120e9),
				router.ChannelSMS:   router.Duration(60e9),
				router.ChannelAPI:   router.Duration(30e9),
			},
			Capacity: map[string]int{
				router.ChannelChat:  3,
				router.ChannelEmail: 5,
				router.ChannelSMS:   3,
				router.ChannelAPI:   1,
			},
			WrapUp:           router.Duration(30e9),
			CustomerMessages: router.DefaultCustomerMessages,
			CustomerBytes:    router.DefaultCustomerBytes,
		},
		HTTP: HTTP{
			MaxBodyBytes:    DefaultMaxBodyBytes,
			ReadTimeout:     router.Duration(15e9),
			WriteTimeout:    router.Duration(30e9),
			ShutdownTimeout: router.Duration(10e9),
		},
		Log:               Log{Level: LevelInfo, Format: FormatText},
		HA:                HA{Lease: router.Duration(4e9), Renew: router.Duration(1e9), RetryTimeout: router.Duration(1e9)},
		EventLogRetention: router.Duration(7 * 24 * time.Hour),
		Auth:              Auth{SessionTTL: router.Duration(DefaultSessionTTL)},
		Desktop: Desktop{
			Dispositions: []Disposition{
				{Code: "solved", Label: "Solved"},
				{Code: "follow_up", Label: "Follow-up needed"},
				{Code: "sale", Label: "Sale"},
				{Code: "complaint", Label: "Complaint"},
				{Code: "no_answer", Label: "No answer needed"},
			},
			AwayReasons:         []string{"break", "lunch", "meeting", "training"},
			Grace:               router.Duration(60e9),
			VerificationMethods: []string{"security questions"},
		},
		Disk: Disk{MinFreeBytes: 128 << 20, ReserveBytes: 32 << 20},
		Attachments: Attachments{MaxFileBytes: attachments.DefaultMaxFileBytes, MaxMessageBytes: attachments.DefaultMaxMessageBytes, UploadBytesPerHour: 1 << 30,
			SweepAfter: router.Duration(attachments.DefaultSweepAfter), SweepEvery: router.Duration(DefaultSweepEvery)},
		Customers: Customers{
			PreferRelationshipManager: true,
			PreferLastAgent:           true,
			LastAgentWithin:           router.Duration(30 * 24 * time.Hour),
			PreferredTimeout:          router.Duration(20 * time.Second),
			ProfileAccessGrace:        router.Duration(15 * time.Minute),
		},
		Offers: Offers{
			Prior: OfferPrior{Alpha: 1, Beta: 1},
			Complaints: Complaints{
				Queues:       []string{"complaints"},
				Dispositions: []string{"complaint"},
				Keywords:     slices.Clone(DefaultComplaintKeywords),
				RecentWindow: router.Duration(30 * 24 * time.Hour),
			},
		},
		Twilio: Twilio{
			APIBaseURL:  DefaultTwilioAPIBaseURL,
			HelpText:    DefaultTwilioHelpText,
			MaxSegments: DefaultTwilioMaxSegments,
		},
		Chat: Chat{
			MaxMessageBytes:        4096,
			ConversationsPerMinute: 5,
			MessagesPer10s:         20,
			ConnectionsPerAddress:  20,
			LeaveMessageWindow:     router.Duration(10 * time.Minute),
			TokenTTL:               router.Duration(24 * 3600e9),
		},
	}
}

// applyDefaults fills what a parsed file left out that depends on other
// fields; the rest of the defaults were in place before decoding.
func (c *Config) applyDefaults() {
	if c.Store.Path == "" && c.Store.Driver == DriverSQLite {
		c.Store.Path = filepath.Join(c.DataDir, DefaultDBFile)
	}
	if c.Routing.OfferTimeout == nil {
		c.Routing.OfferTimeout = map[string]router.Duration{}
	}
	if c.Routing.Capacity == nil {
		c.Routing.Capacity = map[string]int{}
	}
	for i := range c.Agents {
		if c.Agents[i].Name == "" {
			c.Agents[i].Name = c.Agents[i].ID
		}
	}
	for i := range c.Supervisors {
		if c.Supervisors[i].Name == "" {
			c.Supervisors[i].Name = c.Supervisors[i].ID
		}
	}
	for i := range c.Email.Mailboxes {
		c.Email.Mailboxes[i].applyDefaults()
	}
	if c.Email.Enabled() {
		c.Email.SMTP.applyDefaults()
	}
	for i := range c.Queues {
		if c.Queues[i].Strategy == "" {
			c.Queues[i].Strategy = router.LongestIdle
		}
	}
}

// lookupEnv returns c.Env, or os.LookupEnv when it is nil.
func (c *Config) lookupEnv() func(string) (string, bool) {
	if c.Env != nil {
		return c.Env
	}
	return os.LookupEnv
}

// EnvPublicURL names the environment variable that overrides public_url.
const EnvPublicURL = "ROUTERD_PUBLIC_URL"

// applyEnv applies the environment's overrides (EnvPublicURL) to a parsed
// file.
func (c *Config) applyEnv() {
	env := c.lookupEnv()
	if v, ok := env(EnvPublicURL); ok && v != "" {
		c.PublicURL = v
		c.publicURLFromEnv = true
	}
	if v, ok := env(EnvTwilioAPIBaseURL); ok && v != "" {
		c.Twilio.APIBaseURL = v
	}
	c.twilioTokenEnv, _ = env(EnvTwilioAuthToken)
	c.twilioAccountEnv, _ = env(EnvTwilioAccountSID)
}

// PublicHTTPS reports whether PublicURL is an https URL.
func (c *Config) PublicHTTPS() bool {
	u, err := url.Parse(c.PublicURL)
	return err == nil && u.Scheme == "https"
}

// TrustedPrefixes returns TrustedProxies as networks; entries that do not
// parse (which Validate reports) are left out.
func (c *Config) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := clientaddr.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}
