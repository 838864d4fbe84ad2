package api

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// An email's HTML is served for the desktop's sandboxed frame: under a
// policy that runs nothing and loads no remote image until asked, with
// its inline images in place.
func TestMessageHTML(t *testing.T) {
	files, err := attachments.Open(filepath.Join(t.TempDir(), "attachments"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, envOptions{files: func(*store.DB) *attachments.Store { return files }})
	e.seed()
	sha, size, err := files.Put(strings.NewReader("\x89PNG fake image"))
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := e.router.Submit(context.Background(), router.NewContact{Channel: router.ChannelEmail, Queue: "billing", Body: "Hi",
		First: router.Message{HTML: `<p>Hi <img src="cid:logo@x"> <img src="https://tracker.example/p.gif"> <img src="cid:unknown@x"></p>`,
			Attachments: []router.Attachment{{Name: "cid:logo@x logo.png", Type: "image/png", Size: size, SHA256: sha}}}})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	path := "/api/v1/contacts/" + c.ID + "/messages/1/html"
	res := e.do("GET", path, adminToken, "")
	if res.status != http.StatusOK {
		t.Fatalf("got %d %s", res.status, res.body)
	}
	csp := res.header.Get("Content-Security-Policy")
	if csp != EmailFrameCSP || !strings.Contains(csp, "img-src data:;") || !strings.Contains(csp, "sandbox allow-popups") || strings.Contains(csp, "allow-scripts") {
		t.Errorf("policy: got %q", csp)
	}
	body := string(res.body)
	if !strings.Contains(body, `src="data:image/png;base64,iVBORyBmYWtlIGltYWdl"`) || !strings.Contains(body, `src="cid:unknown@x"`) ||
		!strings.Contains(body, `src="https://tracker.example/p.gif"`) {
		t.Errorf("body: got %s, want the inline image as data:, the others as they are (the policy blocks them)", body)
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("headers: got %v", res.header)
	}
	res = e.do("GET", path+"?images=remote", adminToken, "")
	if res.status != http.StatusOK || res.header.Get("Content-Security-Policy") != EmailFrameCSPRemote {
		t.Errorf("remote images asked for: got %d %q", res.status, res.header.Get("Content-Security-Policy"))
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{path + "?images=all", http.StatusBadRequest},
		{"/api/v1/contacts/" + c.ID + "/messages/0/html", http.StatusBadRequest},
		{"/api/v1/contacts/" + c.ID + "/messages/9/html", http.StatusNotFound},
		{"/api/v1/contacts/nobody/messages/1/html", http.StatusNotFound},
	} {
		if res := e.do("GET", tc.path, adminToken, ""); res.status != tc.want {
			t.Errorf("GET %s: got %d, want %d", tc.path, res.status, tc.want)
		}
	}
}

// A reply names the Cc it keeps (cc): Options.Recipients settles its
// recipients, and refuses what the conversation's Cc does not have,
// naming the field; only a reply chooses its Cc.
func TestMessageCc(t *testing.T) {
	e := newEnvWith(t, envOptions{recipients: func(_ context.Context, c router.Contact, cc []string) ([]string, []string, error) {
		for i, x := range cc {
			if x != "bob@customer.example" {
				return nil, nil, router.Errorf(router.CodeInvalid, fmt.Sprintf("cc[%d]", i), "cc[%d]: %s is not in the conversation's Cc", i, x)
			}
		}
		return []string{"ada@customer.example"}, cc, nil
	}})
	e.seed()
	e.available("alice")
	c := e.create(`{"channel":"api","queue":"billing"}`)
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	path := "/api/v1/contacts/" + c.ID + "/messages"

	m := decodeAs[messageView](t, e.must(http.StatusCreated, "POST", path, `{"direction":"out","author":"alice","body":"Hi","cc":["bob@customer.example"]}`))
	if strings.Join(m.To, ",") != "ada@customer.example" || strings.Join(m.Cc, ",") != "bob@customer.example" {
		t.Errorf("got to %v cc %v, want those Recipients settled", m.To, m.Cc)
	}
	m = decodeAs[messageView](t, e.must(http.StatusCreated, "POST", path, `{"direction":"out","author":"alice","body":"No choice"}`))
	if m.To != nil || m.Cc != nil {
		t.Errorf("a reply without cc: got to %v cc %v, want none named", m.To, m.Cc)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"not-in-the-conversation", `{"direction":"out","author":"alice","body":"x","cc":["bob@customer.example","mallory@other.example"]}`, `cc[1]: mallory@other.example is not in the conversation's Cc`},
		{"customer-message", `{"direction":"in","body":"x","cc":[]}`, `field \"cc\": only a reply`},
		{"note", `{"direction":"note","body":"x","cc":[]}`, `no cc`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := e.do("POST", path, adminToken, tc.body); res.status != http.StatusBadRequest || !strings.Contains(string(res.body), tc.want) {
				t.Errorf("got %d %s, want 400 saying %s", res.status, res.body, tc.want)
			}
		})
	}

	plain := newEnv(t)
	plain.seed()
	plain.available("alice")
	c = plain.create(`{"channel":"api","queue":"billing"}`)
	plain.must(http.StatusOK, "POST", "/api/v1/contacts/"+c.ID+"/accept", `{"agent_id":"alice"}`)
	if res := plain.do("POST", "/api/v1/contacts/"+c.ID+"/messages", adminToken, `{"direction":"out","author":"alice","body":"x","cc":[]}`); res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "email is not configured") {
		t.Errorf("cc without Recipients: got %d %s, want 400", res.status, res.body)
	}
}
