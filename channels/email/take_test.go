package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

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
