package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEmail(t *testing.T) {
	t.Setenv("SUPPORT_IMAP_PASSWORD", "from-the-environment")
	pwFile := filepath.Join(t.TempDir(), "sales-password")
	if err := os.WriteFile(pwFile, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, "x.yaml", `
queues:
  - name: support
email:
  domain: support.example.com
  authserv_id: mx.example.com
  acknowledge: true
  acknowledge_every: 2h
  smtp:
    host: smtp.example.com
    user: support@example.com
    password_env: SUPPORT_IMAP_PASSWORD
  queues:
    - queue: support
      address: support@example.com
      display_name: Example Support
      signature: "Example Ltd"
  mailboxes:
    - name: support
      host: imap.example.com
      user: support@example.com
      password_env: SUPPORT_IMAP_PASSWORD
      queue: support
    - name: sales
      host: 127.0.0.1
      port: 1143
      security: plain
      allow_plaintext: true
      user: sales
      password_file: `+pwFile+`
      queue: support
      desk: support
      after: move
      move_to: Done
      start: "2026-01-31"
`)
	support, sales := c.Email.Mailboxes[0], c.Email.Mailboxes[1]
	if support.Port != 993 || support.Security != SecurityTLS || support.Folder != "INBOX" || support.After != AfterSeen ||
		support.Start != StartNow || support.PollInterval != DefaultPollInterval || support.Resync != DefaultResync {
		t.Errorf("defaults: got %+v", support)
	}
	if pw, err := support.Password(nil); err != nil || pw != "from-the-environment" {
		t.Errorf("password from the environment: got %q, %v", pw, err)
	}
	if pw, err := sales.Password(nil); err != nil || pw != "from-a-file" {
		t.Errorf("password from a file: got %q, %v; want the file's first line", pw, err)
	}
	if from, _ := sales.StartTime(); !from.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("StartTime: got %v", from)
	}
	if from, _ := support.StartTime(); !from.IsZero() {
		t.Errorf("StartTime of now: got %v, want zero", from)
	}
	if !c.Email.Acknowledge || c.Email.AcknowledgeEvery.D() != 2*time.Hour {
		t.Errorf("acknowledge: got %v every %s", c.Email.Acknowledge, c.Email.AcknowledgeEvery.D())
	}
	if sm := c.Email.SMTP; sm.Port != 587 || sm.Security != SecurityStartTLS {
		t.Errorf("smtp defaults: got %+v", sm)
	}
	if pw, err := c.Email.SMTP.Password(nil); err != nil || pw != "from-the-environment" {
		t.Errorf("smtp password: got %q, %v", pw, err)
	}
	if support.DeskName() != "support" || sales.DeskName() != "support" {
		t.Errorf("desks: got %q and %q, want both support", support.DeskName(), sales.DeskName())
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "from-the-environment") || !strings.Contains(string(out), "password_env: SUPPORT_IMAP_PASSWORD") {
		t.Errorf("printed configuration shows a password or hides password_env:\n%s", out)
	}
}

func TestEmailErrors(t *testing.T) {
	const head = "queues:\n  - name: support\n  - name: sales\nemail:\n  domain: support.example.com\n  smtp: {host: smtp.example.com}\n" +
		"  queues:\n    - {queue: support, address: support@example.com}\n  mailboxes:\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"plain-without-allow", `    - {name: a, host: 127.0.0.1, security: plain, user: u, password_env: HOME, queue: support}
`, `x.yaml:10:44: email.mailboxes[0].security: plain sends the password unencrypted`},
		{"plain-to-remote", `    - {name: a, host: imap.example.com, security: plain, allow_plaintext: true, user: u, password_env: HOME, queue: support}
`, `email.mailboxes[0].security: plain to imap.example.com, which is not a loopback address`},
		{"no-password", `    - {name: a, host: imap.example.com, user: u, queue: support}
`, `email.mailboxes[0].password_env: neither password_env nor password_file is set`},
		{"unset-env", `    - {name: a, host: imap.example.com, user: u, password_env: NOT_SET_ANYWHERE_42, queue: support}
`, `email.mailboxes[0].password_env: environment variable NOT_SET_ANYWHERE_42 is not set`},
		{"missing-file", `    - {name: a, host: imap.example.com, user: u, password_file: /nonexistent/pw, queue: support}
`, `email.mailboxes[0].password_file: cannot read /nonexistent/pw`},
		{"unknown-queue", `    - {name: a, host: imap.example.com, user: u, password_env: HOME, queue: billing}
`, `email.mailboxes[0].queue: queue "billing" is not declared under queues`},
		{"queue-without-address", `    - {name: a, host: imap.example.com, user: u, password_env: HOME, queue: sales}
`, `email.mailboxes[0].queue: queue "sales" has no entry under email.queues`},
		{"move-without-folder", `    - {name: a, host: imap.example.com, user: u, password_env: HOME, queue: support, after: move}
`, `email.mailboxes[0].move_to: "" (want the folder taken-in mail moves to`},
		{"sent-folder", `    - {name: a, host: imap.example.com, user: u, password_env: HOME, queue: support, folder: Sent}
`, `email.mailboxes[0].folder: "Sent" is the sent folder`},
		{"bad-start", `    - {name: a, host: imap.example.com, user: u, password_env: HOME, queue: support, start: yesterday}
`, `email.mailboxes[0].start: invalid start "yesterday"`},
		{"duplicate", `    - {name: a, host: imap.example.com, user: u, password_env: HOME, queue: support}
    - {name: a, host: imap.example.com, user: v, password_env: HOME, queue: support}
`, `email.mailboxes[1].name: duplicate mailbox name "a" (first at line 10)`},
		{"fast-poll", `    - {name: a, host: imap.example.com, user: u, password_env: HOME, queue: support, poll_interval: 10ms}
`, `email.mailboxes[0].poll_interval: 10ms (want at least 1s`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", "/root-password-stand-in")
			_, err := Parse("x.yaml", []byte(head+tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	t.Setenv("OAUTH_REFRESH", "rt-0")
	c, err := Parse("x.yaml", []byte("queues:\n  - name: q\nemail:\n  domain: example.com\n  smtp: {host: smtp.example.com}\n  queues:\n    - {queue: q, address: s@example.com}\n"+
		"  mailboxes:\n    - {name: a, host: outlook.office365.com, user: s@example.com, queue: q, oauth2: {token_url: \"https://login.example/token\", client_id: app, refresh_token_env: OAUTH_REFRESH}}\n"))
	if err != nil {
		t.Fatalf("oauth2 mailbox: %v", err)
	}
	if secret, rt, err := c.Email.Mailboxes[0].OAuth2.Secrets(nil); err != nil || secret != "" || rt != "rt-0" {
		t.Errorf("oauth2 secrets: got %q %q %v", secret, rt, err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"  smtp: {host: smtp.example.com, user: u, oauth2: {token_url: \"http://login.example/token\", client_id: app, refresh_token_env: OAUTH_REFRESH}}\n", "email.smtp.oauth2.token_url"},
		{"  smtp: {host: smtp.example.com, user: u, oauth2: {token_url: \"https://login.example/token\", client_id: app}}\n", "email.smtp.oauth2: neither refresh_token_env nor refresh_token_file"},
		{"  smtp: {host: smtp.example.com, security: plain}\n", "email.smtp.security: plain sends mail and password unencrypted"},
		{"  smtp: {host: smtp.example.com, user: u}\n", "email.smtp.password_env: neither password_env nor password_file is set"},
		{"  smtp: {host: \"\"}\n", "email.smtp.host"},
		{"  smtp: {host: smtp.example.com}\n  queues:\n    - {queue: q, address: \"Support <s@example.com>\"}\n", "email.queues[0].address"},
	} {
		y := "queues:\n  - name: q\nemail:\n  domain: example.com\n  mailboxes:\n    - {name: a, host: h.example, user: u, password_env: PATH, queue: q}\n" + tc.yaml
		if _, err := Parse("x.yaml", []byte(y)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error with %q", err, tc.want)
		}
	}
	if _, err := Parse("x.yaml", []byte("email:\n  domain: \"not a domain\"\n  mailboxes:\n    - {name: a, host: h.example, user: u, password_env: PATH, queue: q}\nqueues:\n  - name: q\n")); err == nil || !strings.Contains(err.Error(), "email.domain") {
		t.Errorf("bad domain: got %v, want an email.domain error", err)
	}
}

// TestOneMailServerRule: a mailbox's server and the SMTP server are
// checked by one rule (MailServer, validator.mailServer): the same fault
// is refused in both, naming the same field in the same words.
func TestOneMailServerRule(t *testing.T) {
	t.Setenv("OAUTH_REFRESH", "rt-0")
	const oauth = `oauth2: {token_url: "https://login.example/token", client_id: app, refresh_token_env: OAUTH_REFRESH}`
	tests := []struct {
		name   string
		fields string // of the server, besides host when they do not set it
		field  string
		msg    string
	}{
		{"port", "port: 70000, user: u, password_env: PATH", "port", "70000 (want 1 to 65535"},
		{"security", "security: ssl, user: u, password_env: PATH", "security", `unknown security "ssl" (want tls, starttls or plain)`},
		{"plain to a remote host", "security: plain, allow_plaintext: true, user: u, password_env: PATH", "security", "plain to h.example, which is not a loopback address"},
		{"oauth2 and a password", "user: u, password_env: PATH, " + oauth, "oauth2", "set with a password (want oauth2 or password_env/password_file, not both)"},
		{"both password_env and password_file", "user: u, password_env: PATH, password_file: /etc/hostname", "password_env", "both password_env and password_file are set (want exactly one)"},
		{"unreadable password_file", "user: u, password_file: /nonexistent/pw", "password_file", "cannot read /nonexistent/pw"},
		{"a password without a user", "password_env: PATH", "user", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := "{host: h.example, " + tt.fields + "}"
			mailbox := "{name: a, queue: q, host: h.example, " + tt.fields + "}"
			for where, y := range map[string]string{
				"email.mailboxes[0]": "  smtp: {host: smtp.example.com}\n  mailboxes:\n    - " + mailbox + "\n",
				"email.smtp":         "  smtp: " + server + "\n  mailboxes:\n    - {name: a, queue: q, host: h.example, user: u, password_env: PATH}\n",
			} {
				y = "queues:\n  - name: q\nemail:\n  domain: example.com\n  queues:\n    - {queue: q, address: s@example.com}\n" + y
				_, err := Parse("x.yaml", []byte(y))
				if want := where + "." + tt.field + ": " + tt.msg; err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: got %v, want %q", where, err, want)
				}
			}
		})
	}
}

// yamlBlocks returns the ```yaml blocks of the Markdown file at path.
func yamlBlocks(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(b), "```yaml\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatalf("%s: a yaml block is not closed", path)
		}
		blocks = append(blocks, block)
	}
	return blocks
}

// TestMailServersStillLoad: the mailboxes and the SMTP server share one
// MailServer (written inline), and the files written before it load as
// they did: docs/email.md's configuration and its OAuth 2.0 mailbox,
// scripts/email-demo.sh's, each printed by -print-config in the same
// shape and parsed back the same; and docs/configuration.md names the
// fields a mailbox and the SMTP server take.
func TestMailServersStillLoad(t *testing.T) {
	t.Setenv("SMTP_PASSWORD", "smtp-secret")
	t.Setenv("IMAP_PASSWORD", "imap-secret")
	t.Setenv("M365_CLIENT_SECRET", "client-secret")
	t.Setenv("M365_REFRESH_TOKEN", "refresh-token")
	docs := yamlBlocks(t, filepath.Join("..", "docs", "email.md"))
	if len(docs) < 2 {
		t.Fatalf("docs/email.md: %d yaml blocks, want the configuration and the OAuth 2.0 mailbox", len(docs))
	}
	oauthHead := "queues:\n  - name: support\nemail:\n  domain: support.example.com\n  smtp: {host: smtp.example.com}\n" +
		"  queues:\n    - {queue: support, address: support@example.com}\n  mailboxes:\n"
	script, err := os.ReadFile(filepath.Join("..", "scripts", "email-demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	_, demoEmail, _ := strings.Cut(string(script), `routerd.yaml" <<CONF`+"\n")
	demoEmail, _, _ = strings.Cut(demoEmail, "CONF\n")
	pwFile := filepath.Join(t.TempDir(), "imap-password")
	if err := os.WriteFile(pwFile, []byte("demo-imap-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	demoEmail = strings.NewReplacer("$SMTP_PORT", "2525", "$IMAP_PORT", "1143", "$dir/imap-password", pwFile).Replace(demoEmail)
	tests := []struct {
		name     string
		yaml     string
		smtp     MailServer
		mailbox  MailServer
		password string // the mailbox's
	}{
		{"docs/email.md", docs[0],
			MailServer{Host: "smtp.example.com", Port: 587, Security: SecurityStartTLS, User: "support@example.com", PasswordEnv: "SMTP_PASSWORD"},
			MailServer{Host: "imap.example.com", Port: 993, Security: SecurityTLS, User: "support@example.com", PasswordEnv: "IMAP_PASSWORD"},
			"imap-secret"},
		{"docs/email.md OAuth 2.0", oauthHead + docs[1],
			MailServer{Host: "smtp.example.com", Port: 587, Security: SecurityStartTLS},
			MailServer{Host: "outlook.office365.com", Port: 993, Security: SecurityTLS, User: "support@example.com",
				OAuth2: OAuth2{Mechanism: "xoauth2", TokenURL: "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token",
					ClientID: "00000000-0000-0000-0000-000000000000", ClientSecretEnv: "M365_CLIENT_SECRET", RefreshTokenEnv: "M365_REFRESH_TOKEN",
					Scopes: []string{"https://outlook.office365.com/IMAP.AccessAsUser.All", "offline_access"}}},
			""},
		// The script appends it to config/demo.yaml, whose support queue
		// it feeds.
		{"scripts/email-demo.sh", "queues:\n  - name: support\n" + demoEmail,
			MailServer{Host: "127.0.0.1", Port: 2525, Security: SecurityPlain, AllowPlaintext: true},
			MailServer{Host: "127.0.0.1", Port: 1143, Security: SecurityPlain, AllowPlaintext: true, User: "support", PasswordFile: pwFile},
			"demo-imap-password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.name, tt.yaml)
			if got := c.Email.SMTP.MailServer; !reflect.DeepEqual(got, tt.smtp) {
				t.Errorf("smtp: got %+v, want %+v", got, tt.smtp)
			}
			if len(c.Email.Mailboxes) != 1 {
				t.Fatalf("got %d mailboxes, want 1", len(c.Email.Mailboxes))
			}
			mb := c.Email.Mailboxes[0]
			if !reflect.DeepEqual(mb.MailServer, tt.mailbox) || mb.Name != "support" || mb.Queue != "support" {
				t.Errorf("mailbox: got %+v, want %+v", mb, tt.mailbox)
			}
			if tt.password != "" {
				if pw, err := mb.Password(nil); err != nil || pw != tt.password {
					t.Errorf("mailbox password: got %q, %v; want %q", pw, err, tt.password)
				}
			}
			out, err := c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "mailserver") || !strings.Contains(string(out), "    - name: support\n      host: "+tt.mailbox.Host+"\n") {
				t.Errorf("printed mailbox is not in the file's shape:\n%s", out)
			}
			back, err := Parse("printed.yaml", out)
			if err != nil {
				t.Fatalf("printed configuration does not parse: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(back.Email, c.Email) {
				t.Errorf("printed and parsed back: got %+v, want %+v", back.Email, c.Email)
			}
		})
	}

	// docs/configuration.md's rows of email.smtp and email.mailboxes[]
	// name the fields the file takes.
	b, err := os.ReadFile(filepath.Join("..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	mailbox, smtp := structFields(reflect.TypeFor[Mailbox]()), structFields(reflect.TypeFor[SMTP]())
	oauth2 := structFields(reflect.TypeFor[OAuth2]())
	for _, row := range []struct {
		prefix string
		fields fieldSet
	}{{"| `email.smtp` |", smtp}, {"| `email.mailboxes[]` |", mailbox}} {
		_, line, ok := strings.Cut(string(b), row.prefix)
		if !ok {
			t.Fatalf("docs/configuration.md has no row %s", row.prefix)
		}
		line, _, _ = strings.Cut(line, "\n")
		named := map[string]bool{}
		for i, part := range strings.Split(line, "`") {
			if i%2 == 1 && !strings.HasPrefix(part, "_") {
				named[part] = true
			}
		}
		for name := range named {
			if _, ok := row.fields.index[name]; !ok && oauth2.index[name] == nil {
				t.Errorf("%s names %q, which the file does not take", row.prefix, name)
			}
		}
		for _, name := range row.fields.names {
			if !named[name] && name != "allow_plaintext" {
				t.Errorf("%s does not name %q", row.prefix, name)
			}
		}
	}
}
