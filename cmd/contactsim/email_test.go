package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// emailScenario plays only email, against emailConfig's routerd.
const emailScenario = `
name: email
streams:
  - {channel: email, share: 1}
customers:
  patience: {mean: 30s}
agents:
  password: "{id}-email-test"
  staff: [{prefix: m, count: 2}]
  think: {mean: 50ms}
  handle: {mean: 200ms}
  wrapup: {mean: 10ms}
`

// TestEmailAgainstRouterd has contactsim append mail to the Dovecot
// mailbox a real routerd reads, and checks from routerd's API that the
// emails became contacts that agents took, with nothing lost or
// duplicated.
func TestEmailAgainstRouterd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs routerd")
	}
	dove := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	sink := emailtest.NewSMTPSink(t, "smtp-user", "smtp-pass")
	dir := t.TempDir()
	for name, secret := range map[string]string{"imap-password": "s3cret", "smtp-password": sink.Pass} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var agents strings.Builder
	for i := 1; i <= 2; i++ {
		id := fmt.Sprintf("m%03d", i)
		hash, err := bcrypt.GenerateFromPassword([]byte(id+"-email-test"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&agents, "  - {id: %s, name: Agent %d, capacity: {email: 5}, password_hash: %q}\n", id, i, hash)
	}
	imapHost, imapPort, _ := net.SplitHostPort(dove.Addr)
	smtpHost, smtpPort, _ := net.SplitHostPort(sink.Addr)
	const token = "contactsim-email-test-admin-token"
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %[1]s/data
auth: {admin_token: %[2]s}
agents:
%[3]squeues:
  - name: support
email:
  domain: support.example.com
  smtp: {host: %[4]s, port: %[5]s, security: plain, allow_plaintext: true, user: %[6]s, password_file: %[1]s/smtp-password}
  queues:
    - {queue: support, address: support@example.com, display_name: Example Support}
  mailboxes:
    - {name: support, host: %[7]s, port: %[8]s, security: plain, allow_plaintext: true, user: support,
       password_file: %[1]s/imap-password, queue: support, start: "2000-01-01"}
`, dir, token, agents.String(), smtpHost, smtpPort, sink.User, imapHost, imapPort)
	cfgPath := filepath.Join(dir, "routerd.yaml")
	scPath := filepath.Join(dir, "email-scenario.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scPath, []byte(emailScenario), 0o600); err != nil {
		t.Fatal(err)
	}
	base := runRouterd(t, dir, []string{"-config", cfgPath})

	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := run(ctx, []string{
		"-url", base, "-token", token, "-scenario", scPath, "-duration", "3s", "-rate", "4", "-seed", "9", "-json",
		"-drain", "30s", "-imap-addr", dove.Addr, "-imap-user", "support", "-imap-password-file", filepath.Join(dir, "imap-password"),
		"-email-replies",
	}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("contactsim: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var sm struct {
		Lost, Duplicated, Errors int
		Acknowledged             int    `json:"acknowledged"`
		RunID                    string `json:"run_id"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sm); err != nil {
		t.Fatal(err)
	}
	if sm.Lost != 0 || sm.Duplicated != 0 || sm.Errors != 0 || sm.Acknowledged == 0 {
		t.Errorf("got %d acknowledged, lost %d, duplicated %d, errors %d; want some, 0, 0, 0:\n%s", sm.Acknowledged, sm.Lost, sm.Duplicated, sm.Errors, stdout.String())
	}

	// From routerd: email contacts of the run that an agent closed.
	req, _ := http.NewRequest("GET", base+"/api/v1/contacts?channel=email&state=closed&limit=500", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Contacts []struct {
			AgentID string `json:"agent_id"`
			Subject string `json:"subject"`
		} `json:"contacts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	closed := 0
	for _, c := range page.Contacts {
		if c.AgentID != "" && strings.Contains(c.Subject, "sim "+sm.RunID+"-") {
			closed++
		}
	}
	if closed == 0 {
		t.Errorf("routerd holds no email contact of the run closed by an agent (of %d closed email contacts)", len(page.Contacts))
	}
	t.Logf("%d emails acknowledged; routerd: %d closed by agents; %d replies reached the SMTP sink", sm.Acknowledged, closed, len(sink.Received))
}
