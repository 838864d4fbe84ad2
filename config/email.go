package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
)

// Email configures the email channel (package channels/email): the
// mailboxes it reads and what its Message-IDs and sender checks use.
// Without mailboxes it is off.
type Email struct {
	// Domain is the right-hand side of the Message-IDs routerd generates
	// ("<…@support.example.com>"); a customer's reply is joined to its
	// conversation by them. Required with mailboxes.
	Domain string `yaml:"domain" json:"domain"`
	// AuthservID is the authserv-id of the firm's own receiving server:
	// only its Authentication-Results header (dmarc=pass, or an aligned
	// dkim or spf pass) makes a sender's address verified; any other
	// sender's address is a claim. Empty: every address is a claim.
	AuthservID string `yaml:"authserv_id,omitempty" json:"authserv_id,omitempty"`
	// Mailboxes are read one fetcher each; a failing one never stops the
	// others.
	Mailboxes []Mailbox `yaml:"mailboxes,omitempty" json:"mailboxes,omitempty"`
	// SMTP is where agents' replies are submitted. Required with
	// mailboxes.
	SMTP SMTP `yaml:"smtp,omitempty" json:"smtp,omitempty"`
	// Acknowledge answers an email that starts a contact with its
	// reference and, when its queue is closed, when it opens; never
	// automatic mail, and a sender at most once per AcknowledgeEvery
	// (default 1h).
	Acknowledge      bool            `yaml:"acknowledge,omitempty" json:"acknowledge,omitempty"`
	AcknowledgeEvery router.Duration `yaml:"acknowledge_every,omitempty" json:"acknowledge_every,omitempty"`
	// Queues say who each queue's replies come from; every queue a
	// mailbox feeds needs one. A contact transferred to a queue without
	// one is answered from the first.
	Queues []EmailQueue `yaml:"queues,omitempty" json:"queues,omitempty"`
}

// MailServer is how routerd reaches a mail server and logs in: what a
// mailbox (IMAP) and the SMTP server of replies share, written inline in
// each (host, port, security, allow_plaintext, user, password_env or
// password_file, oauth2) and checked by one rule. The password is never
// in the file: at most one of PasswordEnv and PasswordFile is set, and
// exactly one when User logs in without OAuth2.
type MailServer struct {
	Host string `yaml:"host" json:"host"`
	// Port defaults by Security: a mailbox's to 993 with tls and 143
	// otherwise, the SMTP server's to 465 with tls and 587 otherwise.
	Port int `yaml:"port" json:"port"`
	// Security is tls, starttls, or plain, which needs AllowPlaintext
	// and a loopback host (for tests and a local demo only). A
	// mailbox's defaults to tls, the SMTP server's to starttls.
	Security       string `yaml:"security" json:"security"`
	AllowPlaintext bool   `yaml:"allow_plaintext,omitempty" json:"allow_plaintext,omitempty"`
	// User is the login. A mailbox always has one; the SMTP server
	// without one submits without auth.
	User string `yaml:"user,omitempty" json:"user,omitempty"`
	// PasswordEnv names an environment variable holding the password;
	// PasswordFile a file holding it (trailing newline trimmed).
	PasswordEnv  string `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty" json:"password_file,omitempty"`
	// OAuth2 logs User in with OAuth 2.0 instead of a password.
	OAuth2 OAuth2 `yaml:"oauth2,omitempty" json:"oauth2,omitempty"`
}

// Addr is the server's host:port.
func (s MailServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Password reads the password from its environment variable or file
// (env looks up variables; nil is os.LookupEnv).
func (s MailServer) Password(env func(string) (string, bool)) (string, error) {
	return readSecret(env, s.PasswordEnv, s.PasswordFile, "the password")
}

// hasPassword reports whether a password is configured, readable or not.
func (s MailServer) hasPassword() bool { return s.PasswordEnv != "" || s.PasswordFile != "" }

// mailRole is what a MailServer is for: its defaults and the words of
// its checks.
type mailRole struct {
	// security is the default security; tlsPort the default port with
	// tls, port without.
	security      string
	tlsPort, port int
	// hostWant is what the host should be, for the messages.
	hostWant string
	// plainSends is what plain would send unencrypted.
	plainSends string
	// login is the login wanted, such as "the IMAP login"; empty when
	// the server may have none.
	login string
}

// The roles of a mail server.
var (
	imapRole = mailRole{security: SecurityTLS, tlsPort: 993, port: 143,
		hostWant:   `the IMAP server's host name, such as "imap.example.com"`,
		plainSends: "the password", login: `the IMAP login, such as "support@example.com"`}
	smtpRole = mailRole{security: SecurityStartTLS, tlsPort: 465, port: 587,
		hostWant:   `the submission server's host name, such as "smtp.example.com"; replies are sent through it`,
		plainSends: "mail and password"}
)

// applyDefaults fills in the security and port a server of role r
// leaves out.
func (s *MailServer) applyDefaults(r mailRole) {
	if s.Security == "" {
		s.Security = r.security
	}
	if s.Port == 0 {
		s.Port = r.port
		if s.Security == SecurityTLS {
			s.Port = r.tlsPort
		}
	}
}

// SMTP is the submission server of replies.
type SMTP struct {
	MailServer `yaml:",inline"`
}

// OAuth2 logs in with OAuth 2.0 (Microsoft 365, Gmail) instead of a
// password: access tokens are refreshed at TokenURL with the refresh
// token, which the store keeps as the provider rotates it (the
// configured one is only the first).
type OAuth2 struct {
	// Mechanism is xoauth2 (the default) or oauthbearer.
	Mechanism string   `yaml:"mechanism" json:"mechanism"`
	TokenURL  string   `yaml:"token_url" json:"token_url"`
	ClientID  string   `yaml:"client_id" json:"client_id"`
	Scopes    []string `yaml:"scopes,omitempty" json:"scopes,omitempty"`
	// The client secret (optional: public clients have none) and the
	// first refresh token, each from an environment variable or a file.
	ClientSecretEnv  string `yaml:"client_secret_env,omitempty" json:"client_secret_env,omitempty"`
	ClientSecretFile string `yaml:"client_secret_file,omitempty" json:"client_secret_file,omitempty"`
	RefreshTokenEnv  string `yaml:"refresh_token_env,omitempty" json:"refresh_token_env,omitempty"`
	RefreshTokenFile string `yaml:"refresh_token_file,omitempty" json:"refresh_token_file,omitempty"`
}

// Set reports whether an OAuth 2.0 login is configured.
func (o OAuth2) Set() bool {
	return o.TokenURL != "" || o.ClientID != "" || o.RefreshTokenEnv != "" || o.RefreshTokenFile != "" || o.Mechanism != ""
}

// Secrets reads the client secret (empty when none is configured) and
// the first refresh token.
func (o OAuth2) Secrets(env func(string) (string, bool)) (clientSecret, refreshToken string, err error) {
	if o.ClientSecretEnv != "" || o.ClientSecretFile != "" {
		if clientSecret, err = readSecretAs(env, o.ClientSecretEnv, o.ClientSecretFile, "the OAuth client secret", "client_secret"); err != nil {
			return "", "", err
		}
	}
	refreshToken, err = readSecretAs(env, o.RefreshTokenEnv, o.RefreshTokenFile, "the OAuth refresh token", "refresh_token")
	return clientSecret, refreshToken, err
}

// EmailQueue is who a queue's replies come from.
type EmailQueue struct {
	Queue       string `yaml:"queue" json:"queue"`
	Address     string `yaml:"address" json:"address"`
	DisplayName string `yaml:"display_name,omitempty" json:"display_name,omitempty"`
	// Signature ends every reply's text.
	Signature string `yaml:"signature,omitempty" json:"signature,omitempty"`
	// NoQuote leaves the customer's mail out of the agents' replies
	// (by default a reply quotes the mail it answers, below its text).
	NoQuote bool `yaml:"no_quote,omitempty" json:"no_quote,omitempty"`
}

// Enabled reports whether the email channel runs.
func (e Email) Enabled() bool { return len(e.Mailboxes) > 0 }

// Mailbox security modes (Mailbox.Security).
const (
	SecurityTLS      = "tls"
	SecurityStartTLS = "starttls"
	SecurityPlain    = "plain"
)

// Mailbox actions after intake (Mailbox.After).
const (
	AfterSeen = "seen"
	AfterMove = "move"
)

// StartNow is Mailbox.Start's value that reads only mail arriving after
// the first connect.
const StartNow = "now"

// Defaults of a mailbox.
const (
	DefaultMailboxFolder = "INBOX"
	DefaultPollInterval  = router.Duration(time.Minute)
	DefaultResync        = router.Duration(15 * time.Minute)
	// DefaultCommandTimeout is how long an IMAP command waits with
	// nothing from the server.
	DefaultCommandTimeout = router.Duration(time.Minute)
)

// Mailbox is one IMAP mailbox the email channel reads, and the server
// that holds it (MailServer: a user, and a password or oauth2).
type Mailbox struct {
	// Name identifies the mailbox in logs, /readyz and the store's
	// checkpoint; unique. Renaming it reads the mailbox as new.
	Name       string `yaml:"name" json:"name"`
	MailServer `yaml:",inline"`
	// Folder is read (default INBOX). Never the Sent folder.
	Folder string `yaml:"folder" json:"folder"`
	// Queue takes the contacts the mailbox brings.
	Queue string `yaml:"queue" json:"queue"`
	// Desk names the mailboxes that are one desk: the same Message-ID in
	// two mailboxes of one desk is one message, in two desks two. Empty
	// is the mailbox's own name.
	Desk string `yaml:"desk,omitempty" json:"desk,omitempty"`
	// After is what is done to a message once its contact is committed:
	// seen (the default) sets \Seen, move moves it to MoveTo.
	After  string `yaml:"after" json:"after"`
	MoveTo string `yaml:"move_to,omitempty" json:"move_to,omitempty"`
	// Start is where a mailbox never read before starts: "now" (the
	// default: only mail arriving from the first connect on) or a date
	// "2006-01-02" (mail received since that day). Never the whole
	// history by surprise.
	Start string `yaml:"start" json:"start"`
	// PollInterval is how often a server without IDLE is asked for new
	// mail; Resync how often the mailbox is read again from its
	// checkpoint as a safety net, IDLE or not.
	PollInterval router.Duration `yaml:"poll_interval" json:"poll_interval"`
	Resync       router.Duration `yaml:"resync" json:"resync"`
	// CommandTimeout is how long a command waits with nothing from the
	// server before the connection counts as dead and is made again.
	CommandTimeout router.Duration `yaml:"command_timeout" json:"command_timeout"`
}

// DeskName is the desk the mailbox belongs to (Desk, or its Name).
func (m Mailbox) DeskName() string {
	if m.Desk != "" {
		return m.Desk
	}
	return m.Name
}

// StartTime is the day a never-read mailbox starts from; zero for "now".
func (m Mailbox) StartTime() (time.Time, error) {
	if m.Start == "" || m.Start == StartNow {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, m.Start)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid start %q (want %q or a date such as \"2026-01-31\")", m.Start, StartNow)
	}
	return t, nil
}

// readSecret reads a secret from the environment variable envName or
// the file (trailing newline trimmed); exactly one is set.
func readSecret(env func(string) (string, bool), envName, file, what string) (string, error) {
	return readSecretAs(env, envName, file, what, "password")
}

// readSecretAs is readSecret for fields named <field>_env and <field>_file.
func readSecretAs(env func(string) (string, bool), envName, file, what, field string) (string, error) {
	if env == nil {
		env = os.LookupEnv
	}
	switch {
	case envName != "" && file != "":
		return "", fmt.Errorf("both %[1]s_env and %[1]s_file are set (want exactly one)", field)
	case envName != "":
		v, ok := env(envName)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set or empty (want it to hold %s)", envName, what)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("cannot read %s: %v (want a file holding %s)", file, err, what)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%s is empty (want %s)", file, what)
		}
		return v, nil
	}
	return "", fmt.Errorf("neither %[1]s_env nor %[1]s_file is set (want exactly one)", field)
}

// applyDefaults fills in what a mailbox leaves out.
func (m *Mailbox) applyDefaults() {
	m.MailServer.applyDefaults(imapRole)
	if m.Folder == "" {
		m.Folder = DefaultMailboxFolder
	}
	if m.After == "" {
		m.After = AfterSeen
	}
	if m.Start == "" {
		m.Start = StartNow
	}
	if m.PollInterval == 0 {
		m.PollInterval = DefaultPollInterval
	}
	if m.Resync == 0 {
		m.Resync = DefaultResync
	}
	if m.CommandTimeout == 0 {
		m.CommandTimeout = DefaultCommandTimeout
	}
}

// applyDefaults fills in what the SMTP server leaves out.
func (s *SMTP) applyDefaults() { s.MailServer.applyDefaults(smtpRole) }

// email checks the email channel's configuration.
func (v *validator) email() {
	e := v.c.Email
	if !e.Enabled() {
		return
	}
	if e.Domain == "" || strings.ContainsAny(e.Domain, "<>@ \t") || !strings.Contains(e.Domain, ".") && e.Domain != "localhost" {
		v.errf("email.domain", "%q (want the domain of routerd's Message-IDs, such as \"support.example.com\")", e.Domain)
	}
	queues := map[string]bool{}
	for _, q := range v.c.Queues {
		queues[q.Name] = true
	}
	v.mailServer("email.smtp", e.SMTP.MailServer, smtpRole)
	if e.AcknowledgeEvery < 0 || e.AcknowledgeEvery > router.Duration(7*24*time.Hour) {
		v.errf("email.acknowledge_every", "%s (want up to 168h, such as \"1h\")", e.AcknowledgeEvery.D())
	}
	senders := map[string]bool{}
	for i, q := range e.Queues {
		p := indexPath("email.queues", i)
		if !queues[q.Queue] {
			v.errf(p+".queue", "queue %q is not declared under queues", q.Queue)
		} else if senders[q.Queue] {
			v.errf(p+".queue", "queue %q has another entry before", q.Queue)
		}
		senders[q.Queue] = true
		if a, err := mail.ParseAddress(q.Address); err != nil || a.Address != q.Address {
			v.errf(p+".address", "%q (want a bare address replies come from, such as \"support@example.com\")", q.Address)
		}
		if len(q.DisplayName) > 100 || strings.ContainsAny(q.DisplayName, "\r\n") {
			v.errf(p+".display_name", "over 100 bytes or several lines (want a name such as \"Example Support\")")
		}
		if len(q.Signature) > 2000 {
			v.errf(p+".signature", "over 2000 bytes")
		}
	}
	names := map[string]string{}
	for i, m := range e.Mailboxes {
		p := indexPath("email.mailboxes", i)
		if v.name(p+".name", m.Name, "mailbox name") {
			if first, dup := names[m.Name]; dup {
				v.errf(p+".name", "duplicate mailbox name %q%s", m.Name, v.firstAt(first))
			}
			names[m.Name] = p + ".name"
		}
		if m.Desk != "" {
			v.name(p+".desk", m.Desk, "desk name")
		}
		v.mailServer(p, m.MailServer, imapRole)
		if strings.EqualFold(m.Folder, "Sent") || strings.EqualFold(m.Folder, "Sent Items") {
			v.errf(p+".folder", "%q is the sent folder: routerd's own copies are never read (want the folder customers write to, such as INBOX)", m.Folder)
		}
		if !queues[m.Queue] {
			v.errf(p+".queue", "queue %q is not declared under queues", m.Queue)
		} else if !senders[m.Queue] {
			v.errf(p+".queue", "queue %q has no entry under email.queues (want one with the address its replies come from)", m.Queue)
		}
		switch m.After {
		case AfterSeen:
			if m.MoveTo != "" {
				v.errf(p+".move_to", "set with after: seen (want after: move, or no move_to)")
			}
		case AfterMove:
			if m.MoveTo == "" || m.MoveTo == m.Folder {
				v.errf(p+".move_to", "%q (want the folder taken-in mail moves to, other than %q)", m.MoveTo, m.Folder)
			}
		default:
			v.errf(p+".after", "unknown action %q (want seen or move)", m.After)
		}
		if _, err := m.StartTime(); err != nil {
			v.errf(p+".start", "%v", err)
		}
		if m.PollInterval < router.Duration(time.Second) {
			v.errf(p+".poll_interval", "%s (want at least 1s, such as \"60s\")", m.PollInterval.D())
		}
		if m.Resync < router.Duration(time.Minute) {
			v.errf(p+".resync", "%s (want at least 1m, such as \"15m\")", m.Resync.D())
		}
		if m.CommandTimeout < router.Duration(time.Second) {
			v.errf(p+".command_timeout", "%s (want at least 1s, such as \"60s\")", m.CommandTimeout.D())
		}
	}
}

// oauth2 checks an OAuth 2.0 login.
func (v *validator) oauth2(p string, o OAuth2) {
	switch strings.ToLower(o.Mechanism) {
	case "", "xoauth2", "oauthbearer":
	default:
		v.errf(p+".mechanism", "unknown mechanism %q (want xoauth2 or oauthbearer)", o.Mechanism)
	}
	if u, err := url.Parse(o.TokenURL); err != nil || u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) || u.Host == "" {
		v.errf(p+".token_url", "%q (want the provider's https token endpoint, such as \"https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token\")", o.TokenURL)
	}
	if o.ClientID == "" {
		v.errf(p+".client_id", "empty (want the application's client id)")
	}
	if _, _, err := o.Secrets(v.c.lookupEnv()); err != nil {
		v.errf(p, "%v", err)
	}
}

func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || ip != nil && ip.IsLoopback()
}

// mailServer checks the mail server s of role r at path p: the one rule
// of a mailbox's and the SMTP server's endpoint and login. The host and
// port; the security, tls or starttls, plain only when allowed and only
// to a loopback address (tests), since plain sends what it carries
// unencrypted; the login: a user when the role needs one or a password
// or oauth2 is set, oauth2 or a password (never both), a password
// readable where it is named.
func (v *validator) mailServer(p string, s MailServer, r mailRole) {
	example := r.port
	if r.security == SecurityTLS {
		example = r.tlsPort
	}
	if s.Host == "" || strings.ContainsAny(s.Host, " /") {
		v.errf(p+".host", "%q (want %s)", s.Host, r.hostWant)
	}
	if s.Port < 1 || s.Port > 65535 {
		v.errf(p+".port", "%d (want 1 to 65535, such as %d)", s.Port, example)
	}
	switch s.Security {
	case SecurityTLS, SecurityStartTLS:
	case SecurityPlain:
		if !s.AllowPlaintext {
			v.errf(p+".security", "plain sends %s unencrypted (want tls or starttls; plain only with allow_plaintext: true, for tests)", r.plainSends)
		} else if !isLoopbackHost(s.Host) {
			v.errf(p+".security", "plain to %s, which is not a loopback address (want tls or starttls)", s.Host)
		}
	default:
		v.errf(p+".security", "unknown security %q (want tls, starttls or plain)", s.Security)
	}
	switch {
	case s.User == "" && r.login != "":
		v.errf(p+".user", "empty (want %s)", r.login)
	case s.User == "" && s.OAuth2.Set():
		v.errf(p+".user", "empty with oauth2 (want the login the token is for)")
	case s.User == "" && s.hasPassword():
		v.errf(p+".user", "empty while a password is set (want the login)")
	}
	switch {
	case s.OAuth2.Set():
		if s.hasPassword() {
			v.errf(p+".oauth2", "set with a password (want oauth2 or password_env/password_file, not both)")
		}
		v.oauth2(p+".oauth2", s.OAuth2)
	case s.User != "" || r.login != "":
		if _, err := s.Password(v.c.lookupEnv()); err != nil {
			field := p + ".password_env"
			if s.PasswordFile != "" && s.PasswordEnv == "" {
				field = p + ".password_file"
			}
			v.errf(field, "%v", err)
		}
	}
}
