package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/api"
)

// An email shows its header and its HTML in a sandboxed frame, under the
// API's policy: its script never runs, its remote image is not fetched
// until the agent clicks "Show remote images". Its quoted history is
// folded; the composer says the reply goes out in the thread.
func TestEmailInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeRouterd(t)
	var remoteHits atomic.Int64
	// The frame's document is served only once the test let it go, so
	// that the page's load listener is in place first.
	served := make(chan string, 16)
	release := make(chan struct{}, 4)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) }) // before the fake's server closes
	f.mux.HandleFunc("GET /remote.png", func(w http.ResponseWriter, r *http.Request) {
		remoteHits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG"))
	})
	f.mux.HandleFunc("GET /api/v1/contacts/{id}/messages/{seq}/html", func(w http.ResponseWriter, r *http.Request) {
		select {
		case served <- r.URL.RawQuery:
		default:
		}
		select {
		case <-release:
		case <-done:
			return
		}
		csp := api.EmailFrameCSP
		if r.URL.Query().Get("images") == "remote" {
			csp = api.EmailFrameCSPRemote
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><p>Hello in <b>HTML</b></p><img src="%s/remote.png"><script>parent.__emailScript = 1</script>`, f.URL())
	})
	d := openDesktop(t, ctx, f.URL())
	d.login(fakeAgentID, fakePassword)
	f.expectConn()

	const c = "01KJPWD8JGD0M4XH97Q2EMAIL1"
	offer := offerFor(c, "Ada Lovelace")
	pop := offer["screen_pop"].(map[string]any)["contact"].(map[string]any)
	pop["channel"], pop["subject"] = "email", "Invoice missing"
	f.push("offer", offer)
	d.waitOffer(c)
	d.acceptOffer(c)
	f.expect("accept")
	d.waitConversation(c)
	d.do("arm the frame's load listener", chromedp.Evaluate[chromedp.Void](`window.__frameLoads = 0;
		document.addEventListener("load", (ev) => { if (ev.target.classList && ev.target.classList.contains("email-frame")) window.__frameLoads++; }, true)`))
	f.push("message", map[string]any{"contact_id": c, "message": map[string]any{
		"seq": 2, "at": time.Now().UTC().Format(time.RFC3339), "direction": "in",
		"author": "ada@example.com", "author_name": "Ada Lovelace", "subject": "Re: Invoice missing",
		"to": []string{"support@example.com"}, "cc": []string{"Bob <bob@example.com>"},
		"html": "<p>Hello in <b>HTML</b></p>", "body": "Hello in HTML\n\nOn Monday Support wrote:\n> Your invoice"}})

	d.waitFor("the email's header", panel(c)+`.querySelector(".email-head") !== null`)
	head := eval[string](d, panel(c)+`.querySelector(".email-head").textContent`)
	for _, want := range []string{"SubjectRe: Invoice missing", "FromAda Lovelace <ada@example.com>", "Tosupport@example.com", "CcBob <bob@example.com>", "Date"} {
		if !strings.Contains(head, want) {
			t.Errorf("header lacks %q: %q", want, head)
		}
	}
	sandbox := eval[string](d, panel(c)+`.querySelector(".email-frame").getAttribute("sandbox")`)
	if strings.Contains(sandbox, "allow-scripts") || strings.Contains(sandbox, "allow-same-origin") {
		t.Errorf("frame sandbox %q lets the email run or reach the desktop", sandbox)
	}
	if q := receive(t, served, "the frame's first request"); q != "" {
		t.Errorf("first load asked %q, want no remote images", q)
	}
	release <- struct{}{}
	d.waitFor("the frame loaded", `window.__frameLoads >= 1`)
	if n := remoteHits.Load(); n != 0 {
		t.Errorf("the remote image was fetched %d times before the agent asked", n)
	}
	if eval[bool](d, `window.__emailScript === 1`) {
		t.Error("the email's script ran")
	}
	if got := eval[string](d, panel(c)+`.querySelector(".reply-thread").textContent`); !strings.Contains(got, `"Re: Invoice missing [#EMAIL1]"`) {
		t.Errorf("composer: got %q, want the reply's subject with the token", got)
	}

	d.do("show remote images", chromedp.Click(chromedp.CSS(".remote-images")))
	if q := receive(t, served, "the frame's request after the click"); q != "images=remote" {
		t.Errorf("after the click the frame asked %q, want images=remote", q)
	}
	release <- struct{}{}
	d.waitFor("the frame loaded again", `window.__frameLoads >= 2`)
	if remoteHits.Load() == 0 {
		t.Error("the remote image was not fetched after the agent asked")
	}
	// A text-only answer: its quoted history is folded away, not gone.
	f.push("message", map[string]any{"contact_id": c, "message": map[string]any{
		"seq": 3, "at": time.Now().UTC().Format(time.RFC3339), "direction": "in", "subject": "Re: Invoice missing",
		"body": "Found it, thanks.\n\nOn Monday Support wrote:\n> Your invoice"}})
	d.waitMessage(c, "Found it, thanks.")
	folded := eval[string](d, panel(c)+`.querySelector(".message:last-child details.quoted").textContent`)
	if folded != "Quoted textOn Monday Support wrote:\n> Your invoice" {
		t.Errorf("quoted history: got %q, want it folded under \"Quoted text\"", folded)
	}
	if open := eval[bool](d, panel(c)+`.querySelector(".message:last-child details.quoted").open`); open {
		t.Error("the quoted history is unfolded")
	}
	t.Logf("screenshot of an email: %s", d.screenshot("desktop-email"))
}

// The composer of an email reply: files chosen are checked against the
// snapshot's limits, uploaded (POST /api/v1/attachments) and listed,
// each with a control to remove it; the reply's Cc is listed, each with
// a control to take it off; the reply names the files and the Cc kept,
// and the next reply starts again with no file and the whole Cc. Every
// control is named and reached with the keyboard.
func TestEmailComposerInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeRouterd(t)
	type upload struct {
		name, typ string
		body      []byte
	}
	uploads := make(chan upload, 10)
	f.mux.HandleFunc("POST /api/v1/attachments", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		name := r.URL.Query().Get("name")
		uploads <- upload{name, r.Header.Get("Content-Type"), b}
		sum := sha256.Sum256(b)
		writeJSON(w, http.StatusCreated, map[string]any{"sha256": hex.EncodeToString(sum[:]), "size": len(b), "name": name, "type": r.Header.Get("Content-Type")})
	})
	dir := t.TempDir()
	file := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pdf, notes := file("Rechnung März.pdf", 600), file("notes.txt", 300)
	huge, third := file("huge.bin", fakeMaxFileBytes+1), file("third.bin", 700)

	d := openDesktop(t, ctx, f.URL())
	d.login(fakeAgentID, fakePassword)
	f.expectConn()
	const c = "01KJPWD8JGD0M4XH97Q2EMAIL2"
	offer := offerFor(c, "Ada Lovelace")
	pop := offer["screen_pop"].(map[string]any)["contact"].(map[string]any)
	pop["channel"], pop["subject"], pop["customer"] = "email", "Invoice missing", map[string]any{"email": "ada@example.com"}
	f.push("offer", offer)
	d.waitOffer(c)
	d.acceptOffer(c)
	f.expect("accept")
	d.waitConversation(c)
	f.push("message", map[string]any{"contact_id": c, "message": map[string]any{
		"seq": 2, "at": time.Now().UTC().Format(time.RFC3339), "direction": "in", "external_id": "email:support:q2@example.com",
		"author": "ada@example.com", "author_name": "Ada Lovelace", "subject": "Re: Invoice missing", "body": "Still missing.",
		"to": []string{"support@example.com"}, "cc": []string{"Bob <bob@example.com>", "Carol <carol@example.com>", "ada@example.com", "Billing <BILLING@example.com>"}}})
	d.waitMessage(c, "Still missing.")

	id := safeID(c)
	chips := func(css string) []string {
		return eval[[]string](d, fmt.Sprintf(`[...%s.querySelectorAll(%s)].map(li => li.firstChild.textContent)`, panel(c), js(css+" .chip")))
	}
	d.waitFor("the reply's Cc", panel(c)+`.querySelector(".reply-cc:not([hidden]) .chip") !== null`)
	if got := chips(".reply-cc"); !slices.Equal(got, []string{"Bob <bob@example.com>", "Carol <carol@example.com>"}) {
		t.Errorf("Cc shown: got %q, want Bob and Carol (not the customer, not our own billing address)", got)
	}

	// Files: one over the file limit is refused before any upload; two
	// go up; a third would pass the reply's limit.
	d.do("choose files", chromedp.SetUploadFiles(chromedp.ID("files-"+id), []string{pdf, huge, notes}))
	d.waitError("huge.bin is 1001 B: a file may hold at most 1000 B.")
	got := map[string]upload{}
	for range 2 {
		select {
		case u := <-uploads:
			got[u.name] = u
		case <-time.After(15 * time.Second):
			t.Fatal("the files were not uploaded")
		}
	}
	if u := got["Rechnung März.pdf"]; u.typ != "application/pdf" || len(u.body) != 600 {
		t.Errorf("upload of the PDF: got %q %d bytes, want application/pdf, 600 bytes", u.typ, len(u.body))
	}
	if u := got["notes.txt"]; u.typ != "text/plain" || len(u.body) != 300 {
		t.Errorf("upload of the notes: got %q %d bytes", u.typ, len(u.body))
	}
	d.waitFor("both files uploaded", fmt.Sprintf(`%s.querySelectorAll(".compose-files .chip").length === 2 && !%s.querySelector(".compose-files").textContent.includes("uploading")`, panel(c), panel(c)))
	d.do("choose a third", chromedp.SetUploadFiles(chromedp.ID("files-"+id), []string{third}))
	d.waitError("third.bin not attached: a reply's files may hold at most 1.5 KB together.")
	if got := chips(".compose-files"); !slices.Equal(got, []string{"Rechnung März.pdf", "notes.txt"}) {
		t.Errorf("files listed: got %q", got)
	}

	// Every control is named; the attach control is reached by Tab.
	if bad := d.unnamed(); len(bad) > 0 {
		t.Errorf("controls without an accessible name:\n%s", strings.Join(bad, "\n"))
	}
	d.do("focus the reply", chromedp.Focus(chromedp.ID("reply-"+id)))
	d.tabTo("#contact-" + id + " button.attach")

	// Removing with the keyboard: the focus stays among the controls.
	d.do("remove the notes", chromedp.Focus(chromedp.CSS(`#contact-`+id+` button[aria-label="Remove file notes.txt"]`)), pressEnter)
	d.waitFor("the notes removed", fmt.Sprintf(`%s.querySelectorAll(".compose-files .chip").length === 1`, panel(c)))
	if got := eval[string](d, `document.activeElement.getAttribute("aria-label") || ""`); got != "Remove file Rechnung März.pdf" {
		t.Errorf("focus after removing a file: got %q, want the next file's remove control", got)
	}
	d.do("take Carol off", chromedp.Focus(chromedp.CSS(`#contact-`+id+` button[aria-label="Remove Carol <carol@example.com> from the Cc of this reply"]`)), pressEnter)
	d.waitFor("Carol taken off", fmt.Sprintf(`%s.querySelectorAll(".reply-cc .chip").length === 1`, panel(c)))
	if got := chips(".reply-cc"); !slices.Equal(got, []string{"Bob <bob@example.com>"}) {
		t.Errorf("Cc after taking Carol off: got %q", got)
	}
	if got := eval[string](d, `document.activeElement.dataset.address || ""`); got != "bob@example.com" {
		t.Errorf("focus after taking Carol off: got %q, want Bob's remove control", got)
	}
	t.Logf("screenshot of the composer: %s", d.screenshot("desktop-email-composer"))

	d.reply(c, "Attached, without Carol.")
	sent := f.expect("send")
	files, _ := sent["attachments"].([]any)
	if len(files) != 1 {
		t.Fatalf("send: got attachments %v, want the PDF alone", sent["attachments"])
	}
	sum := sha256.Sum256(got["Rechnung März.pdf"].body)
	if a := files[0].(map[string]any); a["sha256"] != hex.EncodeToString(sum[:]) || a["name"] != "Rechnung März.pdf" || a["type"] != "application/pdf" {
		t.Errorf("send: got file %v, want the PDF's hash, name and type", a)
	}
	if cc, _ := sent["cc"].([]any); len(cc) != 1 || cc[0] != "Bob <bob@example.com>" {
		t.Errorf("send: got cc %v, want Bob alone", sent["cc"])
	}
	d.waitMessage(c, "Attached, without Carol.")
	if head := eval[string](d, panel(c)+`.querySelector(".message.out:last-child .email-head").textContent`); !strings.Contains(head, "CcBob <bob@example.com>") {
		t.Errorf("the reply's header: got %q, want its Cc", head)
	}
	// The next reply: no files, the whole Cc; it names neither.
	if got := chips(".reply-cc"); len(got) != 2 || eval[bool](d, panel(c)+`.querySelector(".compose-files").hidden === false`) {
		t.Errorf("after sending: Cc %q and the files list shown; want the whole Cc and no files", got)
	}
	d.reply(c, "Plain.")
	if sent := f.expect("send"); sent["attachments"] != nil || sent["cc"] != nil {
		t.Errorf("a plain reply: got attachments %v cc %v, want neither", sent["attachments"], sent["cc"])
	}
}

// An email's frame is kept while the conversation changes around it:
// a new copy of its message (the socket reconnected: a snapshot), the
// customer's next messages, the agent's reply and its delivery. The
// same frame element stays, not loaded again, with the remote images
// the agent asked for and the text version the agent opened; the new
// messages come in order.
func TestEmailFrameKeptInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeRouterd(t)
	// loads are the frames' requests, in order: "seq" or "seq?images=remote".
	loads := make(chan string, 16)
	f.mux.HandleFunc("GET /api/v1/contacts/{id}/messages/{seq}/html", func(w http.ResponseWriter, r *http.Request) {
		load := r.PathValue("seq")
		csp := api.EmailFrameCSP
		if r.URL.Query().Get("images") == "remote" {
			load += "?images=remote"
			csp = api.EmailFrameCSPRemote
		}
		select {
		case loads <- load:
		default:
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><p>Message %s in <b>HTML</b></p>`, r.PathValue("seq"))
	})
	nextLoad := func(want string) {
		t.Helper()
		select {
		case got := <-loads:
			if got != want {
				t.Errorf("frame load: got %q, want %q", got, want)
			}
		case <-time.After(stepTimeout):
			t.Fatalf("no frame loaded, want %q", want)
		}
	}
	d := openDesktop(t, ctx, f.URL())
	d.login(fakeAgentID, fakePassword)
	f.expectConn()

	const c = "01KJPWD8JGD0M4XH97Q2EMAIL3"
	now := time.Now().UTC().Format(time.RFC3339)
	// The email is the contact's first message, so the fake's snapshot
	// after a reconnect carries it again.
	offer := offerFor(c, "Ada Lovelace")
	pop := offer["screen_pop"].(map[string]any)["contact"].(map[string]any)
	pop["channel"], pop["subject"] = "email", "Invoice missing"
	pop["first_messages"] = []map[string]any{{
		"seq": 1, "at": now, "direction": "in", "external_id": "email:support:m1@example.com",
		"author": "ada@example.com", "author_name": "Ada Lovelace", "subject": "Invoice missing",
		"to": []string{"support@example.com"}, "html": "<p>Where is my invoice?</p>", "body": "Where is my invoice?"}}
	f.push("offer", offer)
	d.acceptOffer(c)
	f.expect("accept")
	d.waitConversation(c)
	d.waitMessage(c, "Where is my invoice?")
	nextLoad("1")

	first := panel(c) + `.querySelector(".message .email-frame")`
	d.do("mark the frame, open the text version", chromedp.Evaluate[chromedp.Void](first+`.__kept = true;
		`+panel(c)+`.querySelector(".message details.text-version").open = true`))
	d.do("show remote images", chromedp.Click(chromedp.CSS(`#contact-`+safeID(c)+` .remote-images`)))
	nextLoad("1?images=remote")

	// The socket drops: the snapshot brings new copies of the messages.
	f.drop()
	f.expectConn()
	// The customer writes, types, the agent answers, the answer's
	// delivery fails, and the customer sends another email.
	f.push("message", map[string]any{"contact_id": c, "message": map[string]any{
		"seq": 2, "at": now, "direction": "in", "body": "Any news?"}})
	d.waitMessage(c, "Any news?")
	f.push("typing", map[string]any{"contact_id": c})
	d.reply(c, "Looking into it.")
	f.expect("send")
	d.waitMessage(c, "Looking into it.")
	f.push("delivery", map[string]any{"contact_id": c, "seq": 101, "delivery": map[string]any{
		"status": "failed", "reason": "mailbox full", "attempts": 1, "at": now}})
	d.waitFor("the failed delivery", panel(c)+`.querySelector(".message.out .delivery.failed") !== null`)
	f.push("message", map[string]any{"contact_id": c, "message": map[string]any{ // the fake numbers replies from 101
		"seq": 102, "at": now, "direction": "in", "external_id": "email:support:m102@example.com",
		"author": "ada@example.com", "author_name": "Ada Lovelace", "subject": "Re: Invoice missing",
		"to": []string{"support@example.com"}, "html": "<p>Found it.</p>", "body": "Found it."}})
	d.waitMessage(c, "Found it.")
	// The next frame loaded is the new email's: the first was not
	// loaded again.
	nextLoad("102")

	if !eval[bool](d, first+`.__kept === true`) {
		t.Error("the first email's frame was built again")
	}
	if src := eval[string](d, first+`.getAttribute("src")`); !strings.HasSuffix(src, "/messages/1/html?images=remote") {
		t.Errorf("the first email's frame: got src %q, want its remote images", src)
	}
	if n := eval[int](d, panel(c)+`.querySelector(".message").querySelectorAll(".remote-images").length`); n != 0 {
		t.Errorf("the first email offers to show remote images again (%d controls)", n)
	}
	if !eval[bool](d, panel(c)+`.querySelector(".message details.text-version").open`) {
		t.Error("the first email's text version, opened by the agent, is folded again")
	}
	want := []string{"Where is my invoice?", "Any news?", "Looking into it.", "Found it."}
	if got := d.messages(c); !slices.Equal(got, want) {
		t.Errorf("messages: got %q, want %q", got, want)
	}
	if got := eval[string](d, panel(c)+`.querySelector(".message:last-child .email-frame").title`); got != "The email as sent, remote images blocked" {
		t.Errorf("the new email's frame: got %q, want its remote images blocked", got)
	}
}
