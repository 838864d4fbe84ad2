package email

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/router"
)

// Hostile and odd mail is taken in, each exactly once, with the reason
// shown; none stops the mailbox.
func TestOddMailTakenIn(t *testing.T) {
	srv := newIMAPServer(t, nil)
	huge := "From: a@example.com\r\nMessage-ID: <huge-header@example.com>\r\nX-Junk: " + strings.Repeat("x", MaxHeaderBytes) + "\r\n\r\nbody\r\n"
	big := mkMail("big@example.com", "b@example.com", "Big", strings.Repeat("0123456789\r\n", 40000))
	auto, err := os.ReadFile(filepath.Join("testdata", "mail", "auto-reply.eml"))
	if err != nil {
		t.Fatal(err)
	}
	verified := mkMail("v@example.com", "Vera <vera@example.com>", "Verified", "Hi",
		"Authentication-Results: mx.example.com; dmarc=pass (p=reject) header.from=example.com")
	forged := mkMail("f@example.com", "Vera <vera@example.com>", "Forged", "Hi",
		"Authentication-Results: attacker.example; dmarc=pass header.from=example.com")
	// Display names the router's rule of a customer's name would refuse
	// as written: too long, and with control characters.
	longName := mkMail("long@example.com", strings.TrimSpace(strings.Repeat("Ada ", 40))+" <long@example.com>", "Long name", "Hi")
	ctlName := mkMail("ctl@example.com", "=?utf-8?q?Ada=09Love=07lace?= <ctl@example.com>", "Control name", "Hi")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", huge, big, string(auto), verified, forged, longName, ctlName)
	e := newEnv(t)
	e.start(func(o *Options) {
		o.MaxMessageBytes = 300 << 10
		o.AuthservID = "mx.example.com"
	}, srv.mailbox("support"))
	e.waitUID("support", 7)
	e.checkOnce(7)
	bySubject := map[string]router.Contact{}
	for _, c := range e.emailContacts() {
		bySubject[c.Subject] = c
	}
	check := func(subject, want string, attached bool) {
		t.Helper()
		c, ok := bySubject[subject]
		if !ok {
			t.Errorf("no contact %q among %v", subject, bySubject)
			return
		}
		m := e.messages(c.ID)[0]
		if !strings.Contains(m.Body, want) {
			t.Errorf("%s: body %q, want %q", subject, m.Body, want)
		}
		raw := false
		for _, a := range m.Attachments {
			raw = raw || a.Name == rawName && a.SHA256 != ""
		}
		if raw != attached {
			t.Errorf("%s: message.eml attached %v, want %v", subject, raw, attached)
		}
	}
	check("(unreadable email)", "header block over 262144 bytes", true)
	check("Big", "only its header was read", false)
	check("Automatic reply: Your request [#ZK8W4T]", "automatic mail (Auto-Submitted: auto-replied)", true)
	if c := bySubject["Verified"]; !c.Customer.Verified {
		t.Errorf("sender vouched for by our authserv-id: got a claim %+v", c.Customer)
	}
	if c := bySubject["Forged"]; c.Customer.Verified {
		t.Errorf("sender vouched for by a stranger's header: got verified")
	}
	// A name is fitted to the router's rule, never a reason to refuse.
	for subject, want := range map[string]string{
		"Long name":    strings.TrimSpace(strings.Repeat("Ada ", 25)),
		"Control name": "Ada Love lace",
	} {
		if c := bySubject[subject]; c.Customer.Name != want || c.Customer.Email == "" {
			t.Errorf("%s: customer %+v, want the name %q and the address", subject, c.Customer, want)
		}
		check(subject, "Hi", true)
	}
}

// What limits a mail's files at intake: the store's limit per file
// (its Put refuses a file over attachments.max_file_bytes) and
// Options.MaxAttachmentBytes for a message's files together. A file over
// either is not kept separately and the message says so; the others are
// kept.
func TestIntakeFileLimits(t *testing.T) {
	srv := newIMAPServer(t, nil)
	e := newEnv(t)
	files, err := attachments.Open(filepath.Join(e.dir, "small-files"), &attachments.Options{MaxFileBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("From: Ada <ada@example.com>\r\nTo: support@example.com\r\nSubject: Files\r\nMessage-ID: <files@example.com>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached\r\n")
	for _, f := range []struct {
		name string
		size int
	}{{"big.bin", 6000}, {"small1.txt", 3000}, {"small2.txt", 4000}} {
		fmt.Fprintf(&b, "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=%s\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n", f.name, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'x'}, f.size)))
	}
	b.WriteString("--b--\r\n")
	appendMail(t, srv.addr, srv.user, srv.pass, "Support", b.String())
	e.start(func(o *Options) { o.Files, o.MaxAttachmentBytes = files, 6500 }, srv.mailbox("support"))
	e.waitUID("support", 1)
	cs := e.emailContacts()
	if len(cs) != 1 {
		t.Fatalf("got %d contacts, want 1", len(cs))
	}
	m := e.messages(cs[0].ID)[0]
	var kept []string
	for _, a := range m.Attachments {
		kept = append(kept, fmt.Sprintf("%s/%d", a.Name, a.Size))
	}
	if want := []string{"small1.txt/3000"}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	for _, note := range []string{
		"raw message not kept (attachments: file too large: over 4096 bytes)",
		"big.bin (6000 bytes) not kept: attachments: file too large: over 4096 bytes",
		"small2.txt (4000 bytes) not kept: the attachments of one message are limited to 6500 bytes",
		// The raw message was not kept either: the notes say where the
		// whole is, not message.eml.
		"the whole message stays in the mailbox",
	} {
		if !strings.Contains(m.Body, note) {
			t.Errorf("body %q does not say %q", m.Body, note)
		}
	}
	if strings.Contains(m.Body, "message.eml") {
		t.Errorf("body %q points to a message.eml that was not kept", m.Body)
	}
}
