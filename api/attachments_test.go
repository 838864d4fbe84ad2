package api

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// A file is uploaded, carried by a message, served to whoever may read
// the contact (an image in place, anything else as a download, never as
// a page), and removed when its customer is erased: at once, but for a
// file uploaded again within the grace, which the sweep removes after
// it.
func TestAttachments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "attachments")
	clock := router.NewManualClock(epoch) // the files'
	var files *attachments.Store
	e, _ := loginEnv(t, envOptions{files: func(db *store.DB) *attachments.Store {
		var err error
		files, err = attachments.Open(dir, &attachments.Options{MaxFileBytes: 20, Holders: db, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}})
	e.available("alice", "bob")
	mine := e.create(`{"channel":"api","queue":"billing","customer":{"id":"ada","verified":true}}`)
	theirs := e.create(`{"channel":"api","queue":"billing"}`)
	if mine.AgentID != "alice" || theirs.AgentID != "bob" {
		t.Fatalf("offers: %s → %q, %s → %q", mine.ID, mine.AgentID, theirs.ID, theirs.AgentID)
	}
	e.must(http.StatusCreated, "PUT", "/api/v1/customers/ada", `{"name":"Ada"}`)

	upload := func(name, typ, body string) (int, attachmentView) {
		res := e.do("POST", "/api/v1/attachments?name="+name, integrationToken, body, "Content-Type", typ)
		var v attachmentView
		if res.status == http.StatusCreated {
			v = decodeAs[attachmentView](t, res)
		}
		return res.status, v
	}
	status, html := upload("page.html", "text/html", "<script>x()</script>")
	if status != http.StatusCreated || html.Size != 20 || html.Type != "text/html" || len(html.SHA256) != 64 {
		t.Fatalf("upload: got %d %+v", status, html)
	}
	_, png := upload("pic.png", "image/png", "\x89PNG fake image")
	if status, _ := upload("big.bin", "application/octet-stream", strings.Repeat("x", 21)); status != http.StatusRequestEntityTooLarge {
		t.Errorf("a file over the limit: got %d, want 413", status)
	}

	msg := func(contact, shas string) response {
		return e.do("POST", "/api/v1/contacts/"+contact+"/messages", adminToken,
			`{"direction":"in","body":"see attached","attachments":[`+shas+`]}`)
	}
	file := func(a attachmentView) string {
		return `{"sha256":"` + a.SHA256 + `","name":"` + a.Name + `","type":"` + a.Type + `"}`
	}
	if res := msg(mine.ID, file(html)+","+file(png)); res.status != http.StatusCreated {
		t.Fatalf("message with files: %d %s", res.status, res.body)
	}
	if res := msg(mine.ID, file(html)+","+file(png)+","+file(html)); res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a message's files over its limit: got %d %s, want 413", res.status, res.body)
	}
	if res := msg(mine.ID, `{"sha256":"`+strings.Repeat("a", 64)+`","name":"x"}`); res.status != http.StatusBadRequest {
		t.Errorf("a file never uploaded: got %d, want 400", res.status)
	}

	alice := e.mustLogin("alice", alicePassword).Token
	bob := e.mustLogin("bob", bobPassword).Token
	get := func(token, contact string, a attachmentView) response {
		return e.do("GET", "/api/v1/contacts/"+contact+"/attachments/"+a.SHA256, token, "")
	}
	res := get(alice, mine.ID, html)
	if res.status != http.StatusOK || string(res.body) != "<script>x()</script>" ||
		res.header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment;") ||
		res.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("the HTML file: got %d %v, want a download of octet-stream, nosniff, sandboxed", res.status, res.header)
	}
	res = get(alice, mine.ID, png)
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(res.header.Get("Content-Disposition"), "inline;") {
		t.Errorf("the image: got %d %v, want image/png inline", res.status, res.header)
	}
	for _, tt := range []struct {
		name, token, contact string
	}{
		{"another agent's contact", bob, mine.ID},
		{"a contact whose messages do not carry it", adminToken, theirs.ID},
	} {
		if res := get(tt.token, tt.contact, html); res.status != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", tt.name, res.status)
		}
	}

	// Erased with its customer a day later: the files go, but for the
	// image, which someone has just uploaded again (on its way to
	// another message).
	clock.Advance(files.SweepAfter() + time.Second)
	if status, again := upload("pic.png", "image/png", "\x89PNG fake image"); status != http.StatusCreated || again.SHA256 != png.SHA256 {
		t.Fatalf("upload again: got %d %+v", status, again)
	}
	e.must(http.StatusOK, "POST", "/api/v1/contacts/"+mine.ID+"/abandon", `{"reason":"done"}`)
	e.must(http.StatusNoContent, "DELETE", "/api/v1/customers/ada", "")
	if _, err := files.Open(html.SHA256); err == nil {
		t.Error("the erased customer's file is still kept")
	}
	if _, err := files.Open(png.SHA256); err != nil {
		t.Errorf("the file uploaded again within the grace: %v, want it kept", err)
	}
	clock.Advance(files.SweepAfter() + time.Second)
	if res, err := files.Sweep(context.Background(), clock.Now()); err != nil || res.Removed != 1 {
		t.Errorf("the sweep a grace later: got %+v %v, want the image removed", res, err)
	}
	if _, err := files.Open(png.SHA256); err == nil {
		t.Error("the image no message names is still kept after the sweep")
	}
}

// Each caller has a bucket of UploadBytesPerHour bytes, refilled at that
// many an hour, passed by one file at most (the quota learns its size
// once it is read): empty, 429 with the wait in Retry-After, nothing
// kept; another caller is not held back, and the bucket refills.
func TestUploadQuota(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "attachments")
	e, _ := loginEnv(t, envOptions{uploadBytesPerHour: 36, files: func(db *store.DB) *attachments.Store {
		files, err := attachments.Open(dir, &attachments.Options{MaxFileBytes: 20, Holders: db})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}})
	upload := func(token, body string) response {
		return e.do("POST", "/api/v1/attachments?name=f.txt", token, body, "Content-Type", "text/plain")
	}
	for i, body := range []string{strings.Repeat("a", 20), strings.Repeat("b", 20)} {
		if res := upload(integrationToken, body); res.status != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i, res.status, res.body)
		}
	}
	// 36 − 40 = −4 bytes: one byte more takes 5 bytes at 36 an hour.
	res := upload(integrationToken, "c")
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "500" {
		t.Fatalf("over the quota: %d Retry-After %q %s, want 429 and 500", res.status, res.header.Get("Retry-After"), res.body)
	}
	if n := countFiles(t, dir); n != 2 {
		t.Errorf("files kept: %d, want the two uploads", n)
	}
	if res := upload(adminToken, "d"); res.status != http.StatusCreated {
		t.Errorf("another caller: %d %s", res.status, res.body)
	}
	e.clock.Advance(500 * time.Second)
	if res := upload(integrationToken, "c"); res.status != http.StatusCreated {
		t.Errorf("after the wait: %d %s", res.status, res.body)
	}
}

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
