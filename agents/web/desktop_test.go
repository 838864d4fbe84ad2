package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// This file drives the desktop page in headless Chromium. The page-driving
// steps are methods of desktop, which knows only the base URL of a routerd
// (fake or real) and the browser: an end-to-end test against the real
// daemon reuses them as they are:
//
//	ctx := newBrowser(t)
//	d := openDesktop(t, ctx, daemonURL)
//	d.login("alice", password)
//	... create a contact through the API ...
//	d.waitOffer(id); d.acceptOffer(id); d.waitConversation(id)
//	d.reply(id, "Hello"); d.wrapUp(id, "solved", "notes")

// stepTimeout bounds every wait on the page.
const stepTimeout = 15 * time.Second

// chromiumPath returns the Chromium or Chrome binary to drive, or "".
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// newBrowser starts headless Chromium with a fresh profile for the test
// and returns its context. Without a browser the test is skipped, except
// in CI (CI set), where it fails. When the test ends, every uncaught
// exception, Content-Security-Policy violation or dialog (alert) of the
// page fails it.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium found (looked for chromium, chromium-browser, google-chrome and $CHROMIUM); CI must run the browser test: apt-get install -y chromium")
		}
		t.Skip("no Chromium found: install it (apt-get install -y chromium) or set CHROMIUM to run the browser test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768), // the smallest screen the desktop is made for
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, so the watchers below see the page from its
	// first message.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}

	var (
		mu       sync.Mutex
		problems []string
	)
	report := func(s string) {
		mu.Lock()
		problems = append(problems, s)
		mu.Unlock()
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch {
			case m.IsException():
				report("uncaught exception: " + m.Text)
			case strings.Contains(m.Text, "Content Security Policy"):
				report("CSP violation: " + m.Text)
			case m.Type == chromedp.ConsoleError && m.Source != "network":
				report("console error: " + m.Text)
			}
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			report(fmt.Sprintf("%s dialog opened: %q", ev.Type, ev.Message))
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("page: %s", p)
		}
	})
	return ctx
}

// desktop drives the agent desktop of one routerd in one browser tab.
type desktop struct {
	t    testing.TB
	ctx  context.Context
	base string // routerd's base URL, "http://127.0.0.1:8080"
}

// openDesktop opens base + "/agent/" and waits for the login form.
func openDesktop(t testing.TB, ctx context.Context, base string) *desktop {
	t.Helper()
	d := &desktop{t: t, ctx: ctx, base: strings.TrimSuffix(base, "/")}
	d.do("open the desktop",
		chromedp.Navigate(d.base+"/agent/"),
		chromedp.WaitVisible(chromedp.ID("login-id")))
	return d
}

// do runs steps, failing the test with what on error.
func (d *desktop) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		d.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](d *desktop, expr string) T {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		d.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is truthy.
func (d *desktop) waitFor(what, expr string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(stepTimeout))); err != nil {
		d.t.Fatalf("waiting for %s: %v\nthe page shows:\n%s", what, err, d.shows())
	}
}

// shows is the start of the page's text, for a failure's message.
func (d *desktop) shows() string {
	ctx, cancel := context.WithTimeout(d.ctx, 2*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return text
}

// clickUntil clicks what sel selects until expr is truthy. A button in a
// live table can move between the click's measuring of it and its press
// (the board drew an alert or a taller row above it): the press lands
// beside it, and a supervisor, seeing nothing happen, clicks again. It
// fails, as waitFor does, when expr is still false after stepTimeout.
func (d *desktop) clickUntil(what string, sel chromedp.CSS, expr string) {
	d.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		d.do(what, chromedp.Click(sel))
		ctx, cancel := context.WithTimeout(d.ctx, 2*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(2*time.Second)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: nothing happened: %v\nthe page shows:\n%s", what, err, d.shows())
		}
		d.t.Logf("%s: the click changed nothing (%v); clicking again", what, err)
	}
}

// waitAcross is waitFor across a navigation the page makes itself: a
// poll the navigation interrupts is asked again on the new page.
func (d *desktop) waitAcross(what, expr string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(stepTimeout)))
		switch {
		case err == nil:
			return
		case ctx.Err() != nil:
			d.t.Fatalf("waiting for %s: %v", what, err)
		case !strings.Contains(err.Error(), "navigated") && !strings.Contains(err.Error(), "context was destroyed") && !strings.Contains(err.Error(), "Cannot find context"):
			d.t.Fatalf("waiting for %s: %v", what, err)
		}
	}
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// panel is a JavaScript expression for the tab panel of a contact.
func panel(contactID string) string {
	return fmt.Sprintf(`document.getElementById(%s)`, js("contact-"+safeID(contactID)))
}

// safeID is the page's transformation of a contact id into element ids.
func safeID(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, id)
}

// fillLogin types id and password and submits the form.
func (d *desktop) fillLogin(id, password string) {
	d.t.Helper()
	d.do("fill the login form",
		chromedp.WaitVisible(chromedp.ID("login-id")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("login-id").value = ""; document.getElementById("login-password").value = ""`),
		chromedp.SendKeys(chromedp.ID("login-id"), id),
		chromedp.SendKeys(chromedp.ID("login-password"), password+"\r"))
}

// login signs in and waits for the desktop with the agent's snapshot
// (the state selector lists the away reasons only after it).
func (d *desktop) login(id, password string) {
	d.t.Helper()
	d.fillLogin(id, password)
	d.do("show the desktop", chromedp.WaitVisible(chromedp.ID("desk")))
	d.waitFor("the snapshot", `document.getElementById("conn-status").dataset.status === "open" && document.querySelectorAll('#state-select option[value^="away:"]').length > 0`)
}

// loginFails signs in with wrong credentials and returns the error shown.
func (d *desktop) loginFails(id, password string) string {
	d.t.Helper()
	d.fillLogin(id, password)
	d.waitFor("the login error", `!document.getElementById("login-error").hidden && document.getElementById("login-error").textContent !== ""`)
	return eval[string](d, `document.getElementById("login-error").textContent`)
}

// agentName returns the name in the header.
func (d *desktop) agentName() string {
	d.t.Helper()
	return eval[string](d, `document.getElementById("agent-name").textContent`)
}

// stateOptions returns the values of the state selector.
func (d *desktop) stateOptions() []string {
	d.t.Helper()
	return eval[[]string](d, `[...document.querySelectorAll("#state-select option")].map(o => o.value)`)
}

// setState chooses a state ("available", "away:lunch", "offline") and
// waits until the page shows the server's answer.
func (d *desktop) setState(value string) {
	d.t.Helper()
	// SetValue fires the change event, as a choice with the keyboard does.
	d.do("choose state "+value, chromedp.SetValue(chromedp.ID("state-select"), value))
	state, _, _ := strings.Cut(value, ":")
	d.waitFor("state "+value, fmt.Sprintf(`document.getElementById("state-select").dataset.state === %s`, js(state)))
}

// waitOffer waits for the offer card of the contact.
func (d *desktop) waitOffer(contactID string) {
	d.t.Helper()
	d.waitFor("the offer of "+contactID, fmt.Sprintf(`!document.getElementById("offer").hidden && document.getElementById("offer").dataset.contactId === %s`, js(contactID)))
}

// waitNoOffer waits until no offer card shows.
func (d *desktop) waitNoOffer() {
	d.t.Helper()
	d.waitFor("the offer card to go", `document.getElementById("offer").hidden`)
}

// offerText returns the text of the offer card.
func (d *desktop) offerText() string {
	d.t.Helper()
	return eval[string](d, `document.getElementById("offer").innerText`)
}

// acceptOffer clicks Accept on the offer card of the contact.
func (d *desktop) acceptOffer(contactID string) {
	d.t.Helper()
	d.waitOffer(contactID)
	d.do("click Accept", chromedp.Click(chromedp.ID("accept")))
}

// acceptWithKeyboard presses Alt+A.
func (d *desktop) acceptWithKeyboard(contactID string) {
	d.t.Helper()
	d.waitOffer(contactID)
	d.do("press Alt+A", chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierAlt)))
}

// declineOffer clicks Decline on the offer card of the contact.
func (d *desktop) declineOffer(contactID string) {
	d.t.Helper()
	d.waitOffer(contactID)
	d.do("click Decline", chromedp.Click(chromedp.ID("decline")))
}

// waitConversation waits for the contact's tab and shows its panel.
func (d *desktop) waitConversation(contactID string) {
	d.t.Helper()
	d.waitFor("the conversation of "+contactID, panel(contactID)+" !== null")
	d.do("select the tab", chromedp.Click(chromedp.ID("tab-"+safeID(contactID))))
	d.waitFor("the panel of "+contactID, "!"+panel(contactID)+".hidden")
}

// tabs returns the contact ids of the tabs, in order.
func (d *desktop) tabs() []string {
	d.t.Helper()
	return eval[[]string](d, `[...document.querySelectorAll("#tabs [role=tab]")].map(t => t.dataset.contactId)`)
}

// messages returns the text of every message body in the contact's panel.
func (d *desktop) messages(contactID string) []string {
	d.t.Helper()
	return eval[[]string](d, fmt.Sprintf(`[...%s.querySelectorAll(".message .body")].map(b => b.textContent)`, panel(contactID)))
}

// waitMessage waits until a message with exactly this body shows in the
// contact's conversation (read as textContent), and no longer "sending".
func (d *desktop) waitMessage(contactID, body string) {
	d.t.Helper()
	d.waitFor(fmt.Sprintf("message %q", body), fmt.Sprintf(
		`[...%s.querySelectorAll(".message:not(.sending):not(.failed) .body")].some(b => b.textContent === %s)`, panel(contactID), js(body)))
}

// reply types a reply in the contact's reply box and presses Enter.
func (d *desktop) reply(contactID, text string) {
	d.t.Helper()
	box := chromedp.ID("reply-" + safeID(contactID))
	d.do("type a reply", chromedp.Focus(box), chromedp.SendKeys(box, text), pressEnter)
}

// pressEnter presses Enter as a keyboard does: one keyDown that carries
// the text, so a page that prevents the keydown gets no new line
// (chromedp.KeyEvent sends a separate char event that would insert one
// anyway).
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter",
		Text: "\r", UnmodifiedText: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
		return err
	}
	up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter",
		WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
	_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up)
	return err
})

// pressKey presses a key without text (an arrow, Escape) as a keyboard
// does, on the focused element.
func pressKey(key string, vk int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			ev := input.DispatchKeyEventParams{Type: typ, Key: key, Code: key, WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk}
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// unnamed lists the visible controls of the page that have no accessible
// name (a screen reader would say only "button", "edit text"): a label
// (for= or around it), aria-label, aria-labelledby, their text, a title,
// an alt. It is the check an accessibility audit starts with.
func (d *desktop) unnamed() []string {
	d.t.Helper()
	return eval[[]string](d, `(() => {
	  const name = (el) => {
	    const by = el.getAttribute("aria-labelledby");
	    if (by) return by.split(/\s+/).map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim();
	    return (el.getAttribute("aria-label") || (el.labels && [...el.labels].map((l) => l.textContent).join(" ")) ||
	      (el.tagName === "SELECT" ? "" : el.textContent) || el.title || el.alt || "").trim();
	  };
	  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && !el.closest("[hidden]");
	  return [...document.querySelectorAll("button, input:not([type=hidden]), select, textarea, a[href], [role=button], [role=tab], [role=listbox], [role=option], iframe, canvas, [role=img]")]
	    .filter((el) => visible(el) && !el.closest("[aria-hidden=true]") && !name(el))
	    .map((el) => el.outerHTML.slice(0, 120));
	})()`)
}

// focused returns the id of the element with the keyboard focus ("" for
// the page body).
func (d *desktop) focused() string {
	d.t.Helper()
	return eval[string](d, `document.activeElement && document.activeElement !== document.body ? document.activeElement.id || document.activeElement.tagName : ""`)
}

// recordOutcome presses an offer's outcome button in the contact's panel
// and waits until it shows as recorded.
func (d *desktop) recordOutcome(contactID, offerID, outcome string) {
	d.t.Helper()
	sel := fmt.Sprintf(`#contact-%s .offer-item[data-offer-id=%s] select.outcome`, safeID(contactID), js(offerID))
	// SetValue fires the change event, as a choice does.
	d.do("choose outcome "+outcome, chromedp.SetValue(chromedp.CSS(sel), outcome))
	d.waitFor("outcome "+outcome, fmt.Sprintf(`document.querySelector(%s)?.dataset.recorded === %s`, js(sel), js(outcome)))
}

// wrapUp fills the contact's wrap-up form and submits it.
func (d *desktop) wrapUp(contactID, disposition, notes string) {
	d.t.Helper()
	id := safeID(contactID)
	d.do("fill the wrap-up form",
		chromedp.SetValue(chromedp.ID("disposition-"+id), disposition),
		chromedp.SendKeys(chromedp.ID("notes-"+id), notes),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#contact-%s button[data-action="wrapup"]`, id))))
}

// transfer sends the contact to a queue.
// transfer picks target ("queue:billing", "agent:bob") in the contact's
// transfer picker, which loads when focused, and presses Transfer.
func (d *desktop) transfer(contactID, target string) {
	d.t.Helper()
	sel := chromedp.ID("transfer-" + safeID(contactID))
	d.do("open the transfer picker", chromedp.Focus(sel))
	d.waitFor("the transfer targets", fmt.Sprintf(`document.getElementById(%s).querySelector('option[value=%s]') !== null`,
		js("transfer-"+safeID(contactID)), js(target)))
	d.do("transfer to "+target, chromedp.SetValue(sel, target),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#contact-%s form.transfer button[type=submit]`, safeID(contactID)))))
}

// waitError waits for an error banner containing text.
func (d *desktop) waitError(text string) {
	d.t.Helper()
	d.waitFor("error "+text, fmt.Sprintf(`!document.getElementById("errors").hidden && document.getElementById("errors").textContent.includes(%s)`, js(text)))
}

// screenshot saves a PNG of the page under the test's temporary directory
// and returns its path.
func (d *desktop) screenshot(name string) string {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		d.t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = d.t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		d.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		d.t.Fatal(err)
	}
	return path
}

// tabLimit bounds the Tab presses from one control to the next a
// keyboard user wants: more is a page nobody walks.
const tabLimit = 40

// tabTo presses Tab until the focus is on the element matching css,
// failing after tabLimit presses.
func (d *desktop) tabTo(css string) {
	d.t.Helper()
	match := fmt.Sprintf(`document.activeElement && document.activeElement.matches(%s)`, js(css))
	for i := 0; !eval[bool](d, match); i++ {
		if i == tabLimit {
			d.t.Fatalf("%s not reached in %d Tab presses (focus on %q)", css, tabLimit, d.focused())
		}
		d.do("Tab", pressKey("Tab", 9))
	}
}

// offscreen lists the elements of css (each must exist) that are not
// wholly inside the window, and says so of the page itself when it
// scrolls: what an agent would have to scroll to reach.
func (d *desktop) offscreen(css ...string) []string {
	d.t.Helper()
	b, _ := json.Marshal(css)
	return eval[[]string](d, `(() => {
	  const out = [];
	  const root = document.scrollingElement || document.documentElement;
	  if (root.scrollHeight > window.innerHeight || root.scrollWidth > window.innerWidth) out.push("the page scrolls: " + root.scrollWidth + "×" + root.scrollHeight);
	  for (const sel of `+string(b)+`) {
	    const el = document.querySelector(sel);
	    if (!el) { out.push(sel + ": missing"); continue; }
	    const r = el.getBoundingClientRect();
	    if (r.top < 0 || r.left < 0 || r.bottom > window.innerHeight || r.right > window.innerWidth) out.push(sel + ": " + JSON.stringify(r));
	  }
	  return out;
	})()`)
}

// receive takes a value from ch, failing t when none comes within
// stepTimeout.
func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(stepTimeout):
		t.Fatalf("waiting for %s: none within %s", what, stepTimeout)
		panic("unreachable")
	}
}

// press activates the button sel selects as a click does (its form is
// submitted, with the page's handlers), wherever the layout has moved
// it. On the supervisors' live board a measured click can land beside a
// button that a redraw above it moved between the measuring and the
// press; what these steps test is the action, not the pointer.
func press(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		found, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const b = document.querySelector(%s); if (!b) return false; b.click(); return true })()`, js(sel)))(ctx, tg)
		if err == nil && !found {
			err = fmt.Errorf("no %s on the page", sel)
		}
		return chromedp.Void{}, err
	}
}
