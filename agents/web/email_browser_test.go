package web

import (
	"fmt"
	"net/http"
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
	if q := <-served; q != "" {
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
	if q := <-served; q != "images=remote" {
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
