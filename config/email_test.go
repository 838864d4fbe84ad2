package config

import (
	"os"
	"path/filepath"
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
