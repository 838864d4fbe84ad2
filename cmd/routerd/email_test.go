package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// emailWait bounds the waits for routerd to take mail in.
const emailWait = 60 * time.Second

// writeEmailConfig is a configuration with one agent and the email
// channel over Dovecot at imapAddr and the SMTP sink.
func writeEmailConfig(t *testing.T, dir, imapAddr string, sink *emailtest.SMTPSink) string {
	t.Helper()
	host, port := splitAddr(t, imapAddr)
	smtpHost, smtpPort := splitAddr(t, sink.Addr)
	// a0 signs in (crashAgentPassword) to open a desktop: only then does
	// it take contacts.
	hash, err := bcrypt.GenerateFromPassword([]byte(crashAgentPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"imap-password": "s3cret", "smtp-password": sink.Pass} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %[1]s/data
auth:
  admin_token: %[2]s
agents:
  - id: a0
    name: Ann
    capacity: {email: 5}
    password_hash: %[8]q
queues:
  - name: support
email:
  domain: support.example.com
  smtp:
    host: %[5]s
    port: %[6]s
    security: plain
    allow_plaintext: true
    user: %[7]s
    password_file: %[1]s/smtp-password
  queues:
    - queue: support
      address: support@example.com
      display_name: Example Support
  mailboxes:
    - name: support
      host: %[3]s
      port: %[4]s
      security: plain
      allow_plaintext: true
      user: support
      password_file: %[1]s/imap-password
      queue: support
      start: "2000-01-01"
`, dir, testAdminToken, host, port, smtpHost, smtpPort, sink.User, hash)
	path := filepath.Join(dir, "routerd.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func splitAddr(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}

// mailboxUID is the mailbox's committed UID as /readyz shows it.
func mailboxUID(t *testing.T, base string) uint32 {
	t.Helper()
	var r struct {
		Details struct {
			Email []email.MailboxStatus `json:"email"`
		} `json:"details"`
	}
	if _, err := call(base, "GET", "/readyz", nil, nil, &r); err != nil || len(r.Details.Email) != 1 {
		return 0
	}
	return r.Details.Email[0].LastUID
}

// eventually polls cond, from outside the daemon, until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(emailWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, emailWait)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's state
	}
}

// emailContacts lists the daemon's email contacts.
func emailContacts(t *testing.T, base string) []contactReply {
	t.Helper()
	var out []contactReply
	cursor := ""
	for {
		var page struct {
			Contacts []contactReply `json:"contacts"`
			Next     string         `json:"next"`
		}
		q := url.Values{"channel": {"email"}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if code, err := call(base, "GET", "/api/v1/contacts?"+q.Encode(), nil, nil, &page); err != nil || code != http.StatusOK {
			t.Fatalf("list contacts: %d %v", code, err)
		}
		out = append(out, page.Contacts...)
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

func mkMail(id, from, subject, body string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <%s>\r\n", from, subject, id)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	return b.String()
}

// emailDaemon starts Dovecot with the mailbox "support", the SMTP sink,
// and routerd in dir reading the one and sending to the other; agent a0
// is signed in (its session's token in session.Token).
func emailDaemon(t *testing.T, dir string) (d *daemon, dv *emailtest.Dovecot, sink *emailtest.SMTPSink, session struct {
	Token string `json:"token"`
}) {
	t.Helper()
	dv = emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	sink = emailtest.NewSMTPSink(t, "relay", "relay-pass")
	d = startDaemon(t, "-config", writeEmailConfig(t, dir, dv.Addr, sink))
	if code, err := call(d.base, "POST", "/api/v1/login", map[string]string{"id": "a0", "password": crashAgentPassword}, nil, &session); err != nil || code != 200 {
		t.Fatalf("log a0 in: %d %v", code, err)
	}
	return d, dv, sink, session
}

// acceptedMail makes a0 (signed in with token, its desktop open)
// available, appends Ada's mail "Invoice" to the mailbox, and has a0
// accept the contact it becomes: its id.
func acceptedMail(t *testing.T, d *daemon, dv *emailtest.Dovecot, token string) string {
	t.Helper()
	drain(agentSocket(t, d.base, token))
	if code, err := call(d.base, "PUT", "/api/v1/agents/a0/state", map[string]string{"state": "available"}, nil, nil); err != nil || code != http.StatusOK {
		t.Fatalf("set a0 available: %d %v", code, err)
	}
	emailtest.Append(t, dv.Addr, "support", "s3cret", "INBOX", mkMail("q1@customer.example", "Ada <ada@customer.example>", "Invoice", "Where is it?"))
	eventually(t, "the mail taken in", func() bool { return mailboxUID(t, d.base) >= 1 })
	cs := emailContacts(t, d.base)
	if len(cs) != 1 {
		t.Fatalf("got %d contacts, want 1", len(cs))
	}
	id := cs[0].ID
	var a struct {
		Offer string `json:"offer"`
	}
	eventually(t, "the contact offered to a0", func() bool {
		_, _ = call(d.base, "GET", "/api/v1/agents/a0", nil, nil, &a)
		return a.Offer == id
	})
	if code, err := call(d.base, "POST", "/api/v1/contacts/"+id+"/accept", map[string]string{"agent_id": "a0"}, nil, nil); err != nil || code != http.StatusOK {
		t.Fatalf("accept: %d %v", code, err)
	}
	return id
}

// An email becomes a routed contact, the agent's reply reaches the SMTP
// server threaded, and the customer's answer joins the conversation.
func TestEmailEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	dir := t.TempDir()
	d, dv, sink, session := emailDaemon(t, dir)
	id := acceptedMail(t, d, dv, session.Token)
	if code, err := call(d.base, "POST", "/api/v1/contacts/"+id+"/messages", map[string]string{"direction": "out", "author": "a0", "body": "Here it is."}, nil, nil); err != nil || code >= 300 {
		t.Fatalf("reply: %d %v", code, err)
	}
	got := sink.Wait(t, emailWait)
	mr, err := mail.CreateReader(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	ourID, _ := mr.Header.MessageID()
	irt, _ := mr.Header.MsgIDList("In-Reply-To")
	subject, _ := mr.Header.Subject()
	if !strings.HasPrefix(ourID, "sb."+id+".") || !strings.HasSuffix(ourID, "@support.example.com") ||
		strings.Join(irt, ",") != "q1@customer.example" || subject != "Re: Invoice "+email.SubjectToken(id) || got.To[0] != "ada@customer.example" {
		t.Fatalf("sent: Message-ID %q, In-Reply-To %v, Subject %q, To %v", ourID, irt, subject, got.To)
	}
	emailtest.Append(t, dv.Addr, "support", "s3cret", "INBOX",
		mkMail("q2@customer.example", "ada@customer.example", "Re: Invoice", "Got it, thanks.", "In-Reply-To: <"+ourID+">"))
	eventually(t, "the answer taken in", func() bool { return mailboxUID(t, d.base) >= 2 })
	var detail struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	if code, err := call(d.base, "GET", "/api/v1/contacts/"+id, nil, nil, &detail); err != nil || code != http.StatusOK {
		t.Fatalf("get contact: %d %v", code, err)
	}
	if n := len(detail.Messages); n != 3 || detail.Messages[2].Body != "Got it, thanks." {
		t.Errorf("got %d messages %+v, want the answer joined as the third", n, detail.Messages)
	}
	if n := len(emailContacts(t, d.base)); n != 1 {
		t.Errorf("got %d contacts, want the answer in the first", n)
	}
	// The mailbox in the metrics.
	req, _ := http.NewRequest("GET", d.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	scrape, _ := io.ReadAll(res.Body)
	for _, want := range []string{`switchboard_email_mailbox_up{mailbox="support"} 1`, `switchboard_email_messages_taken_total{mailbox="support"} 2`,
		`switchboard_email_mailbox_failures{mailbox="support"} 0`, `switchboard_email_mailbox_last_uid{mailbox="support"} 2`} {
		if !strings.Contains(string(scrape), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// SIGKILL in the middle of a backlog: after the restart every message is
// exactly one contact.
func TestEmailKillMidBacklog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	dir := t.TempDir()
	dv := emailtest.StartDovecot(t, map[string]string{"support": "s3cret"})
	sink := emailtest.NewSMTPSink(t, "relay", "relay-pass")
	const n = 400
	var mails []string
	for i := 0; i < n; i++ {
		mails = append(mails, mkMail(fmt.Sprintf("b%d@customer.example", i), fmt.Sprintf("c%d@customer.example", i), fmt.Sprintf("Backlog %d", i), "Hello"))
	}
	emailtest.Append(t, dv.Addr, "support", "s3cret", "INBOX", mails...)
	cfg := writeEmailConfig(t, dir, dv.Addr, sink)
	d := startDaemon(t, "-config", cfg)
	var at uint32
	eventually(t, "part of the backlog taken in", func() bool { at = mailboxUID(t, d.base); return at >= 30 })
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if at >= n {
		t.Fatalf("the backlog was done (UID %d) before the kill; the test proves nothing", at)
	}
	d.wait()
	d2 := startDaemon(t, "-config", cfg)
	eventually(t, "the whole backlog taken in", func() bool { return mailboxUID(t, d2.base) >= n })
	cs := emailContacts(t, d2.base)
	seen := map[string]bool{}
	for _, c := range cs {
		var detail struct {
			Subject string `json:"subject"`
		}
		if _, err := call(d2.base, "GET", "/api/v1/contacts/"+c.ID, nil, nil, &detail); err != nil {
			t.Fatal(err)
		}
		if seen[detail.Subject] {
			t.Errorf("%q is two contacts", detail.Subject)
		}
		seen[detail.Subject] = true
	}
	if len(cs) != n || len(seen) != n {
		t.Errorf("got %d contacts (%d distinct), want %d", len(cs), len(seen), n)
	}
}

// The agent's reply from the desktop's socket carries a file uploaded
// over the API and keeps only the Cc the agent chose: the SMTP server
// gets the file, exactly, and only the kept Cc.
func TestEmailReplyFilesAndCc(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	dir := t.TempDir()
	d, dv, sink, session := emailDaemon(t, dir)
	ws := agentSocket(t, d.base, session.Token)
	send := func(typ, id string, data any) frame {
		t.Helper()
		if err := ws.WriteJSON(frame{Type: typ, ID: id, Data: mustJSON(data)}); err != nil {
			t.Fatal(err)
		}
		return readUntil(t, ws, "ack")
	}
	send("set_state", "s", map[string]string{"state": "available"})
	emailtest.Append(t, dv.Addr, "support", "s3cret", "INBOX", mkMail("q1@customer.example", "Ada <ada@customer.example>", "Invoice", "Where is it?",
		"Cc: Bob <bob@customer.example>, Carol <carol@customer.example>"))
	offer := readUntil(t, ws, "offer")
	var o struct {
		ContactID string `json:"contact_id"`
	}
	if err := json.Unmarshal(offer.Data, &o); err != nil {
		t.Fatal(err)
	}
	send("accept", "a", map[string]string{"contact_id": o.ContactID})

	file := make([]byte, 5000)
	for i := range file {
		file[i] = byte(i * 13)
	}
	req, _ := http.NewRequest("POST", d.base+"/api/v1/attachments?name="+url.QueryEscape("Rechnung März.pdf"), bytes.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+session.Token)
	req.Header.Set("Content-Type", "application/pdf")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		SHA256 string `json:"sha256"`
	}
	err = json.NewDecoder(res.Body).Decode(&up)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %v", res.StatusCode, err)
	}
	send("send", "m", map[string]any{"contact_id": o.ContactID, "body": "Here it is.", "client_id": "k1",
		"attachments": []map[string]string{{"sha256": up.SHA256, "name": "Rechnung März.pdf", "type": "application/pdf"}},
		"cc":          []string{"bob@customer.example"}})

	got := sink.Wait(t, emailWait)
	if strings.Join(got.To, ",") != "ada@customer.example,bob@customer.example" {
		t.Errorf("RCPT TO: got %v, want Ada and Bob, not Carol", got.To)
	}
	mr, err := mail.CreateReader(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if cc, _ := mr.Header.AddressList("Cc"); len(cc) != 1 || cc[0].Address != "bob@customer.example" {
		t.Errorf("Cc: got %v, want Bob alone", cc)
	}
	var files int
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ah, ok := p.Header.(*mail.AttachmentHeader)
		if !ok {
			continue
		}
		files++
		name, _ := ah.Filename()
		typ, _, _ := ah.ContentType()
		b, _ := io.ReadAll(p.Body)
		if name != "Rechnung März.pdf" || typ != "application/pdf" || !bytes.Equal(b, file) {
			t.Errorf("attachment %q %s of %d bytes, want the upload (%d bytes)", name, typ, len(b), len(file))
		}
	}
	if files != 1 {
		t.Errorf("got %d attachments, want 1", files)
	}
}
