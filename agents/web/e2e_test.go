package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// routerd is the real daemon, started on the demo configuration.
type routerd struct {
	base, token string
}

var listenLine = regexp.MustCompile(`msg=listening addr=(http://[0-9.:]+)`)

// startRouterd builds cmd/routerd and runs it on the demo configuration
// (or as args say) with its own data directory and a free port.
func startRouterd(t testing.TB, args ...string) *routerd {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "routerd")
	if out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "../../cmd/routerd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, append([]string{"-listen", "127.0.0.1:0", "-data", data}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var logs bytes.Buffer
	sc := bufio.NewScanner(stderr)
	base := ""
	for base == "" && sc.Scan() {
		logs.WriteString(sc.Text() + "\n")
		if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("routerd did not start:\n%s", logs.String())
	}
	go io.Copy(io.Discard, stderr)
	tok, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	return &routerd{base: base, token: strings.TrimSpace(string(tok))}
}

// aliceAvailable opens a browser on rd's desktop with alice signed in
// and available.
func aliceAvailable(t testing.TB, rd *routerd) *desktop {
	t.Helper()
	d := openDesktop(t, newBrowser(t), rd.base)
	d.login("alice", "alice-demo")
	d.setState("available")
	return d
}

// contact creates a billing chat contact over the API and returns its id.
func (r *routerd) contact(t testing.TB, customer map[string]any, body string) string {
	t.Helper()
	var c struct {
		ID string `json:"id"`
	}
	r.call(t, "POST", "/api/v1/contacts", map[string]any{"channel": "chat", "queue": "billing", "customer": customer, "body": body}, &c)
	return c.ID
}

// call sends an admin request and decodes the answer into out.
func (r *routerd) call(t testing.TB, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, r.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// TestDesktopEndToEnd drives the real daemon from a browser: an agent
// logs in, gets a contact created over the API, sees the screen pop,
// accepts, reads a customer message full of markup as text, replies, and
// wraps up; the API shows each step durable.
func TestDesktopEndToEnd(t *testing.T) {
	ctx := newBrowser(t)
	rd := startRouterd(t)
	d := openDesktop(t, ctx, rd.base)

	if got := d.loginFails("alice", "wrong password"); got == "" {
		t.Error("a wrong password shows no error")
	}
	d.login("alice", "alice-demo")
	d.setState("available")
	d.waitFor("alice available", `document.getElementById("state-select").dataset.state === "available"`)

	var c struct {
		ID          string `json:"id"`
		State       string `json:"state"`
		AgentID     string `json:"agent_id"`
		Disposition string `json:"disposition"`
		Messages    []struct {
			Direction, Body string
		} `json:"messages"`
	}
	rd.call(t, "POST", "/api/v1/contacts", map[string]any{
		"channel": "chat", "queue": "billing", "subject": "Invoice",
		"customer": map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"},
		"body":     "I was charged twice",
	}, &c)
	d.waitOffer(c.ID)
	card := d.offerText()
	for _, want := range []string{"Ada Lovelace", "ada@example.com", "CLAIMED", "Why you: preferred agent · billing 5 (needs 3)", "I was charged twice"} {
		if !strings.Contains(card, want) {
			t.Errorf("screen pop lacks %q:\n%s", want, card)
		}
	}
	t.Logf("screenshot: %s", d.screenshot("e2e-offer"))

	d.acceptOffer(c.ID)
	d.waitConversation(c.ID)
	d.waitMessage(c.ID, "I was charged twice")
	rd.call(t, "GET", "/api/v1/contacts/"+c.ID, nil, &c)
	if c.State != "assigned" || c.AgentID != "alice" {
		t.Fatalf("after accept: %s with %q, want assigned with alice", c.State, c.AgentID)
	}

	// The email is only claimed: the screen pop says so, shows nothing of
	// Ada's profile, and offers to verify; once verified it shows it.
	popText := panel(c.ID) + `.querySelector(".screenpop").innerText`
	d.waitFor("the claim's notice", panel(c.ID)+`.querySelector(".notice.claim") !== null`)
	if txt := eval[string](d, popText); !strings.Contains(txt, "verify before discussing") || strings.Contains(txt, "Premium") {
		t.Errorf("the claim's screen pop: want the notice and no profile:\n%s", txt)
	}
	d.do("verify", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#contact-%s .verify-button[data-method="security questions"]`, safeID(c.ID)))))
	d.waitFor("Ada's profile", popText+`.includes("Premium")`)
	d.waitFor("the verified note", panel(c.ID)+`.querySelector(".contact-note").textContent.includes("Identity verified")`)
	if n := eval[int](d, panel(c.ID)+`.querySelectorAll(".notice").length`); n != 0 {
		t.Errorf("after verification: %d notices left", n)
	}
	t.Logf("screenshot: %s", d.screenshot("e2e-verified"))

	// A customer message full of markup is text on the desktop.
	const markup = `<img src=x onerror="window.__xss=1">`
	rd.call(t, "POST", "/api/v1/contacts/"+c.ID+"/messages", map[string]any{"direction": "in", "body": markup}, nil)
	d.waitMessage(c.ID, markup)
	if n := eval[int](d, `document.querySelectorAll("img").length`); n != 0 {
		t.Errorf("customer markup made %d img elements", n)
	}
	if xss := eval[bool](d, `window.__xss === 1`); xss {
		t.Error("customer markup ran")
	}

	const answer = "Sorry, the second charge is refunded."
	d.reply(c.ID, answer)
	d.waitMessage(c.ID, answer)
	rd.call(t, "GET", "/api/v1/contacts/"+c.ID, nil, &c)
	if !slices.ContainsFunc(c.Messages, func(m struct{ Direction, Body string }) bool {
		return m.Direction == "out" && m.Body == answer
	}) {
		t.Errorf("the reply is not stored: %+v", c.Messages)
	}

	d.wrapUp(c.ID, "solved", "refunded the double charge")
	d.waitFor("alice in wrap-up", `document.getElementById("state-select").dataset.state === "wrapup"`)
	d.waitFor("the wrap-up countdown", `/^In wrap-up: \d+ s left\./.test(`+panel(c.ID)+`.querySelector(".contact-note").textContent)`)
	if help := eval[string](d, panel(c.ID)+`.querySelector(".wrap-help").textContent`); !strings.Contains(help, "Close ends it now") {
		t.Errorf("wrap-up help: got %q, want what Wrap up and Close do", help)
	}
	rd.call(t, "GET", "/api/v1/contacts/"+c.ID, nil, &c)
	if c.State != "wrapup" || c.Disposition != "solved" {
		t.Fatalf("after wrap-up: %s (%q), want wrapup (solved)", c.State, c.Disposition)
	}

	// Signing out is a cookie POST from the page: the daemon's
	// cross-origin check lets it through, and the session ends.
	d.do("sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-id")))
	eval[chromedp.Void](d, `fetch("/api/v1/me").then((r) => { window.__me = r.status; })`)
	d.waitFor("the session ended", `window.__me === 401`)
}

// TestDesktopPresenceEndToEnd: a reload keeps the agent's state; an
// agent without a desktop cannot be made available; a password reset
// signs the agent out at once; and a desktop that comes back offline
// says so plainly with one click back.
func TestDesktopPresenceEndToEnd(t *testing.T) {
	ctx := newBrowser(t)
	rd := startRouterd(t)
	d := openDesktop(t, ctx, rd.base)
	agentState := func() (state, reason string) {
		var a struct{ State, Reason string }
		rd.call(t, "GET", "/api/v1/agents/alice", nil, &a)
		return a.State, a.Reason
	}

	// Without a desktop, nobody can make alice available.
	if code := rd.status(t, "PUT", "/api/v1/agents/alice/state", map[string]string{"state": "available"}); code != http.StatusConflict {
		t.Errorf("alice available without a desktop: got %d, want 409", code)
	}

	d.login("alice", "alice-demo")
	d.waitFor("the offline notice", `!document.getElementById("offline").hidden`)
	d.do("become available", chromedp.Click(chromedp.ID("go-available")))
	d.waitFor("alice available", `document.getElementById("state-select").dataset.state === "available" && document.getElementById("offline").hidden`)

	// A reload drops the socket and opens another: alice is available
	// again without doing anything.
	d.do("reload", chromedp.Reload())
	d.waitFor("the desktop after the reload", `document.getElementById("conn-status").dataset.status === "open"`)
	d.waitFor("alice available after the reload", `document.getElementById("state-select").dataset.state === "available" && document.getElementById("offline").hidden`)
	if st, _ := agentState(); st != "available" {
		t.Errorf("alice after the reload: %s, want available", st)
	}

	// A password reset ends the session: alice takes no contacts from
	// the moment the admin is answered.
	rd.call(t, "PUT", "/api/v1/logins/alice/password", map[string]string{"password": "alice-demo-2", "role": "agent"}, nil)
	if st, why := agentState(); st != "offline" || why != "signed_out" {
		t.Errorf("alice after her password was reset: %s (%s), want offline (signed_out)", st, why)
	}
	d.waitFor("signed in elsewhere", `!document.getElementById("replaced").hidden`)

	// Signed in again, she starts offline and is told so.
	d.do("sign in again", chromedp.Click(chromedp.ID("sign-in-again")))
	d.login("alice", "alice-demo-2")
	d.waitFor("the offline notice", `!document.getElementById("offline").hidden && document.getElementById("offline-why").textContent.includes("start offline")`)
	d.do("become available", chromedp.Click(chromedp.ID("go-available")))
	d.waitFor("alice available", `document.getElementById("state-select").dataset.state === "available" && document.getElementById("offline").hidden`)
}

// status sends an admin request and returns the answer's status.
func (r *routerd) status(t *testing.T, method, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, r.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+r.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestComplaintTypedWhileRinging: the customer's complaint typed while
// the contact rings withdraws the offers from the ringing card at once,
// and they stay withheld once the agent accepts.
func TestComplaintTypedWhileRinging(t *testing.T) {
	rd := startRouterd(t)
	d := aliceAvailable(t, rd)
	c := struct{ ID string }{rd.contact(t, map[string]any{"email": "ada@example.com", "verified": true}, "Can I pay my invoice in instalments?")}
	d.waitOffer(c.ID)
	d.waitFor("offers on the card", `document.querySelectorAll("#offer .offer-item").length > 0`)

	rd.call(t, "POST", "/api/v1/contacts/"+c.ID+"/messages", map[string]any{"direction": "in", "body": "I was charged twice, this is unacceptable"}, nil)
	d.waitFor("the offers withdrawn", `document.querySelectorAll("#offer .offer-item").length === 0 && document.getElementById("offer").innerText.includes("No offers: the customer is complaining")`)
	var pop struct {
		Offers         []any  `json:"offers"`
		OffersWithheld string `json:"offers_withheld"`
	}
	rd.call(t, "GET", "/api/v1/contacts/"+c.ID+"/screen-pop", nil, &pop)
	if len(pop.Offers) != 0 || pop.OffersWithheld != "complaint" {
		t.Errorf("screen pop over the API: %d offers, withheld %q; want none, withheld complaint", len(pop.Offers), pop.OffersWithheld)
	}

	d.acceptOffer(c.ID)
	d.waitConversation(c.ID)
	d.waitFor("no offers on the contact", panel(c.ID)+`.querySelectorAll(".offer-item").length === 0 && `+panel(c.ID)+`.innerText.includes("No offers: the customer is complaining")`)
}

// TestDashboardEndToEnd: a supervisor who signs in at the agent desktop
// is sent to the live dashboard, which shows every queue and agent and
// follows a contact created over the API without a reload.
func TestDashboardEndToEnd(t *testing.T) {
	ctx := newBrowser(t)
	rd := startRouterd(t)
	d := openDesktop(t, ctx, rd.base)
	d.fillLogin("sam", "sam-demo")
	d.waitAcross("the dashboard", `location.pathname === "/dashboard/" && !document.getElementById("board").hidden`)
	d.waitFor("live", `document.getElementById("conn-status").dataset.status === "open"`)
	row := func(queue string) string {
		return fmt.Sprintf(`document.querySelector('#queues tr[data-queue=%s]')`, js(queue))
	}
	d.waitFor("the billing queue", row("billing")+` !== null && `+row("billing")+`.children[1].textContent === "0"`)
	d.waitFor("alice among the agents", `document.querySelector('#agents tr[data-agent="alice"]') !== null`)
	d.waitFor("alice's day", `document.querySelector('#agents tr[data-agent="alice"]').innerText.includes("0 · — · 0")`)
	// The queue's day: service level, ASA, AHT, then the counts.
	d.waitFor("billing's day", `/^(\d+ %|—) · .+ · .+ · \d+ · \d+ · \d+(, \d+ short)? \((\d+ %|—)\) · \d+$/.test(`+row("billing")+`.children[11].textContent)`)
	if got := eval[string](d, `document.querySelector('#agents tr[data-agent="alice"]').innerText`); !strings.Contains(got, "offline") {
		t.Errorf("alice's row: %q, want offline", got)
	}

	var c struct {
		ID string `json:"id"`
	}
	rd.call(t, "POST", "/api/v1/contacts", map[string]any{
		"channel": "chat", "queue": "billing", "customer": map[string]any{"name": "Ada"}, "body": "Hello",
	}, &c)
	d.waitFor("the contact waiting", row("billing")+`.children[1].textContent === "1"`)
	d.waitFor("its wait counting", `/^\d+ s$/.test(`+row("billing")+`.children[2].textContent)`)
	// The last hour's trends: four charts (uPlot, vendored), a series per queue.
	d.waitFor("the trend charts", `document.querySelectorAll("#trends canvas").length === 4 && ["billing", "general", "sales", "support"].every(q => document.querySelector("#trend-waiting .u-legend").textContent.includes(q))`)
	// The routing log: the contact's decisions, and why it waits (every
	// demo agent is offline).
	d.do("find the contact", chromedp.SendKeys(chromedp.ID("log-id"), c.ID), press(`#log-form button`))
	d.waitFor("its routing log", `document.getElementById("log").innerText.includes("created") && document.getElementById("log").innerText.includes("no agent is at work")`)
	t.Logf("screenshot: %s", d.screenshot("dashboard"))

	// The page is text: no markup from a queue or an agent name runs.
	if n := eval[int](d, `document.querySelectorAll("#board script, #board img").length`); n != 0 {
		t.Errorf("%d script or img elements on the board", n)
	}
}

// TestMonitorAndWhisper: a supervisor monitors an agent's contact from
// the dashboard, sees the customer's messages as they come, and whispers;
// the agent's desktop shows the whisper, and the agent's own internal
// note, as internal; neither is a message to the customer.
func TestMonitorAndWhisper(t *testing.T) {
	rd := startRouterd(t)
	agent := aliceAvailable(t, rd)
	c := struct{ ID string }{rd.contact(t, map[string]any{"name": "Ada"}, "hello there")}
	agent.waitOffer(c.ID)
	agent.acceptOffer(c.ID)
	agent.waitConversation(c.ID)

	sup := &desktop{t: t, ctx: newBrowser(t), base: rd.base}
	sup.do("open the dashboard", chromedp.Navigate(rd.base+"/dashboard/"), chromedp.WaitVisible(chromedp.ID("login-id")))
	sup.fillLogin("sam", "sam-demo")
	sup.waitFor("the board", `document.getElementById("conn-status").dataset.status === "open"`)
	button := fmt.Sprintf(`document.querySelector('#agents button[data-contact=%s]')`, js(c.ID))
	sup.waitFor("alice's contact", button+` !== null`)
	sup.clickUntil("monitor", chromedp.CSS(fmt.Sprintf(`#agents button[data-contact=%s]`, js(c.ID))), monitoring(c.ID))
	transcript := `document.getElementById("monitor-messages").innerText`
	sup.waitFor("the conversation", transcript+`.includes("hello there")`)

	rd.call(t, "POST", "/api/v1/contacts/"+c.ID+"/messages", map[string]any{"direction": "in", "body": "are you there?"}, nil)
	sup.waitFor("the customer's new message", transcript+`.includes("are you there?")`)

	sup.do("whisper", chromedp.SendKeys(chromedp.ID("whisper"), "Offer the refund"),
		press(`#whisper-form button[type=submit]`))
	whisper := fmt.Sprintf(`[...%s.querySelectorAll(".message.note")].find(m => m.querySelector(".body").textContent === "Offer the refund")`, panel(c.ID))
	agent.waitFor("the whisper on the desktop", whisper+`?.querySelector(".who").textContent === "Whisper from Sam Lee (supervisor)"`)

	// The agent's internal note.
	agent.do("tick internal note", chromedp.Click(chromedp.ID("note-"+safeID(c.ID))))
	agent.reply(c.ID, "Customer sounds upset")
	agent.waitFor("the note", fmt.Sprintf(`[...%s.querySelectorAll(".message.note .body")].some(b => b.textContent === "Customer sounds upset")`, panel(c.ID)))
	sup.waitFor("the note on the dashboard", transcript+`.includes("Customer sounds upset")`)

	var got struct {
		Messages []struct {
			Direction, Body, Author, AuthorKind string
		} `json:"messages"`
	}
	rd.call(t, "GET", "/api/v1/contacts/"+c.ID, nil, &got)
	kinds := map[string]string{}
	for _, m := range got.Messages {
		kinds[m.Body] = m.Direction
	}
	if kinds["Offer the refund"] != "note" || kinds["Customer sounds upset"] != "note" || kinds["hello there"] != "in" {
		t.Errorf("stored directions: %v", kinds)
	}
	t.Logf("screenshot: %s", sup.screenshot("dashboard-monitor"))
	if bad := sup.unnamed(); len(bad) > 0 {
		t.Errorf("dashboard controls without an accessible name:\n%s", strings.Join(bad, "\n"))
	}
	if bad := agent.unnamed(); len(bad) > 0 {
		t.Errorf("desktop controls without an accessible name:\n%s", strings.Join(bad, "\n"))
	}

	// The supervisor reassigns the contact to a queue, and sets alice
	// away for a meeting.
	sup.do("pick a queue", chromedp.Focus(chromedp.ID("reassign")))
	sup.waitFor("the reassign choices", `document.querySelector('#reassign option[value="queue:general"]') !== null`)
	sup.do("reassign", chromedp.SetValue(chromedp.ID("reassign"), "queue:general"), press(`#reassign-form button`))
	agent.waitFor("the contact gone from alice", panel(c.ID)+` === null`)
	var moved struct{ Queue, State string }
	rd.call(t, "GET", "/api/v1/contacts/"+c.ID, nil, &moved)
	if moved.Queue != "general" {
		t.Errorf("after the reassignment: queue %q, want general", moved.Queue)
	}
	// The change reaches the board as a delta: alice's row, the same
	// element, shows it; no new snapshot, no reload.
	aliceRow := `document.querySelector('#agents tr[data-agent="alice"]')`
	boardData := `document.getElementById("board").dataset`
	sup.waitFor("alice's row", aliceRow+` !== null && !`+aliceRow+`.children[1].textContent.includes("meeting")`)
	snapshots := eval[string](sup, boardData+`.snapshots`)
	deltas := eval[int](sup, `Number(`+boardData+`.deltas || 0)`)
	eval[bool](sup, `(window.aliceRowBefore = `+aliceRow+`, window.notReloaded = true)`)
	sup.do("set alice away", chromedp.SetValue(chromedp.CSS(`select.set-state[data-agent="alice"]`), "away:meeting"))
	agent.waitFor("alice away", `document.getElementById("state-select").dataset.state === "away"`)
	sup.waitFor("alice away on the board", aliceRow+`.querySelector(".state.away") !== null && `+aliceRow+`.children[1].textContent === "away (meeting)"`)
	if got := eval[bool](sup, `window.notReloaded === true && window.aliceRowBefore === `+aliceRow); !got {
		t.Error("the board was reloaded or alice's row replaced to show her state")
	}
	if got, gotDeltas := eval[string](sup, boardData+`.snapshots`), eval[int](sup, `Number(`+boardData+`.deltas || 0)`); got != snapshots || gotDeltas <= deltas {
		t.Errorf("alice's state came with snapshots %s → %s, deltas %d → %d; want a delta and no snapshot", snapshots, got, deltas, gotDeltas)
	}
	var alice struct{ State, Reason string }
	rd.call(t, "GET", "/api/v1/agents/alice", nil, &alice)
	if alice.State != "away" || alice.Reason != "meeting" {
		t.Errorf("alice: %s (%s), want away (meeting)", alice.State, alice.Reason)
	}
}

// TestTakeOver: a supervisor monitoring a customer's chat takes it
// over and writes to the customer. The customer's chat page shows the
// message under the supervisor's display name, the agent's desktop
// marks it as the supervisor's (not a whisper, not the agent's own),
// and the contact stays with the agent. A whisper sent after it still
// reaches the agent only. Every text is shown as text.
func TestTakeOver(t *testing.T) {
	rd := startRouterd(t)
	agent := aliceAvailable(t, rd)

	customer := &desktop{t: t, ctx: newBrowser(t), base: rd.base}
	customer.do("start a chat", chromedp.Navigate(rd.base+"/chat/"), chromedp.WaitVisible(chromedp.ID("prechat")),
		chromedp.SendKeys(chromedp.ID("f-name"), "Ada"), chromedp.SetValue(chromedp.ID("f-topic"), "billing"),
		chromedp.Click(chromedp.ID("f-submit")), chromedp.WaitVisible(chromedp.ID("conversation")),
		chromedp.SendKeys(chromedp.ID("input"), "I was charged twice"), chromedp.Click(chromedp.ID("send")))
	agent.waitFor("the chat ringing", `!document.getElementById("offer").hidden`)
	id := eval[string](agent, `document.getElementById("offer").dataset.contactId`)
	agent.acceptOffer(id)
	agent.waitConversation(id)
	agent.waitMessage(id, "I was charged twice")

	sup := &desktop{t: t, ctx: newBrowser(t), base: rd.base}
	sup.do("open the dashboard", chromedp.Navigate(rd.base+"/dashboard/"), chromedp.WaitVisible(chromedp.ID("login-id")))
	sup.fillLogin("sam", "sam-demo")
	sup.waitFor("the board", `document.getElementById("conn-status").dataset.status === "open"`)
	sup.waitFor("alice's chat", fmt.Sprintf(`document.querySelector('#agents button[data-contact=%s]') !== null`, js(id)))
	sup.clickUntil("monitor", chromedp.CSS(fmt.Sprintf(`#agents button[data-contact=%s]`, js(id))), monitoring(id))
	transcript := `document.getElementById("monitor-messages")`
	sup.waitFor("the conversation", transcript+`.innerText.includes("I was charged twice")`)
	sup.waitFor("the Take over button", `!document.getElementById("takeover").hidden && document.getElementById("takeover-form").hidden`)
	sup.do("take over", press(`#takeover-start`))
	sup.waitFor("the box to the customer", `!document.getElementById("takeover-form").hidden && document.getElementById("takeover").hidden`)
	agent.waitFor("the take-over told to alice", panel(id)+`.querySelector(".contact-note").textContent.startsWith("Sam Lee (supervisor) took this conversation over")`)

	const said = `Sam here, the team lead: the refund is on its way <img src=x onerror="window.__xss=1">`
	sup.do("write to the customer", chromedp.SendKeys(chromedp.ID("takeover-text"), said),
		press(`#takeover-form button[type=submit]`))
	customer.waitFor("sam's message in the chat", fmt.Sprintf(
		`[...document.querySelectorAll("#messages li.msg.out")].some(li => li.querySelector(".body").textContent === %s && li.querySelector(".who").textContent === "Sam Lee")`, js(said)))
	onDesktop := fmt.Sprintf(`[...%s.querySelectorAll(".message")].find(m => m.querySelector(".body").textContent === %s)`, panel(id), js(said))
	agent.waitFor("sam's message on the desktop", onDesktop+`?.querySelector(".who").textContent === "Sam Lee (supervisor)"`)
	if cls := eval[string](agent, onDesktop+`.className`); !strings.Contains(cls, "out") || !strings.Contains(cls, "supervisor") || strings.Contains(cls, "note") {
		t.Errorf("sam's message on the desktop has classes %q, want out and supervisor, not note", cls)
	}
	sup.waitFor("sam's message on the dashboard", fmt.Sprintf(`[...%s.querySelectorAll("li.out.supervisor")].some(li => li.querySelector(".who").textContent === "Sam Lee (supervisor)" && li.querySelector(".body").textContent === %s)`, transcript, js(said)))
	t.Logf("screenshot: %s", sup.screenshot("dashboard-takeover"))
	t.Logf("screenshot: %s", agent.screenshot("desktop-takeover"))

	// A whisper after the take-over is still a whisper: the customer
	// never gets it, not before alice's next reply nor after.
	sup.do("whisper", chromedp.SendKeys(chromedp.ID("whisper"), "Do not promise a date"),
		press(`#whisper-form button[type=submit]`))
	agent.waitFor("the whisper on the desktop", fmt.Sprintf(`[...%s.querySelectorAll(".message.note")].some(m => m.querySelector(".body").textContent === "Do not promise a date" && m.querySelector(".who").textContent === "Whisper from Sam Lee (supervisor)")`, panel(id)))
	agent.reply(id, "Anything else I can do?")
	customer.waitFor("alice's reply in the chat", `[...document.querySelectorAll("#messages li.msg.out .body")].some(b => b.textContent === "Anything else I can do?")`)
	if got := eval[string](customer, `document.getElementById("messages").textContent`); strings.Contains(got, "Do not promise") || strings.Contains(got, "sam (") {
		t.Errorf("the customer's chat shows the whisper or sam's login:\n%s", got)
	}
	for _, d := range []*desktop{customer, agent, sup} {
		if n := eval[int](d, `document.querySelectorAll("img").length`); n != 0 || eval[bool](d, `window.__xss === 1`) {
			t.Errorf("%s: sam's markup made %d img elements or ran", eval[string](d, `location.pathname`), n)
		}
	}
	if bad := sup.unnamed(); len(bad) > 0 {
		t.Errorf("dashboard controls without an accessible name:\n%s", strings.Join(bad, "\n"))
	}

	var got struct {
		AgentID  string `json:"agent_id"`
		Timeline []struct{ Event, By string }
		Messages []struct {
			Direction, Body, Author string
			AuthorKind              string `json:"author_kind"`
			AuthorName              string `json:"author_name"`
		}
	}
	rd.call(t, "GET", "/api/v1/contacts/"+id, nil, &got)
	if got.AgentID != "alice" {
		t.Errorf("after the take-over the contact is with %q, want alice", got.AgentID)
	}
	var sams []string
	for _, m := range got.Messages {
		if m.Body == said {
			sams = append(sams, m.Direction+" "+m.AuthorKind+" "+m.Author+" "+m.AuthorName)
		}
	}
	if want := []string{"out supervisor sam Sam Lee"}; !slices.Equal(sams, want) {
		t.Errorf("sam's stored message: %q, want %q", sams, want)
	}
	by := map[string]string{}
	for _, e := range got.Timeline {
		by[e.Event] = e.By
	}
	if by["taken_over"] != "sam (supervisor)" || by["supervisor_message"] != "sam (supervisor)" {
		t.Errorf("the timeline's take-over and message by %q and %q, want sam (supervisor)", by["taken_over"], by["supervisor_message"])
	}
}

// TestCannedResponse: typing "/" and a few letters in the reply box
// offers the canned responses of the contact's queue; Enter inserts one
// with its placeholders filled in, and Enter again sends it.
func TestCannedResponse(t *testing.T) {
	rd := startRouterd(t)
	d := aliceAvailable(t, rd)
	c := struct{ ID string }{rd.contact(t, map[string]any{"name": "Ada Lovelace"}, "Where is my refund?")}
	d.waitOffer(c.ID)
	d.acceptOffer(c.ID)
	d.waitConversation(c.ID)
	box := chromedp.ID("reply-" + safeID(c.ID))
	d.do("type /ref", chromedp.Focus(box), chromedp.SendKeys(box, "/ref"))
	list := fmt.Sprintf(`document.getElementById(%s)`, js("canned-"+safeID(c.ID)))
	d.waitFor("the canned responses", list+`.hidden === false && `+list+`.innerText.includes("Refund timing") && !`+list+`.innerText.includes("Greeting")`)
	d.do("insert it", pressEnter)
	want := "The refund is on its way, Ada: it reaches your account within 3 to 5 working days (reference " + c.ID + ")."
	d.waitFor("the text filled in", fmt.Sprintf(`document.getElementById(%s).value === %s`, js("reply-"+safeID(c.ID)), js(want)))
	d.do("send it", chromedp.Focus(box), pressEnter)
	d.waitMessage(c.ID, want)
}

// TestKeyboardOnly walks an agent's whole contact with the keyboard
// alone, against the real daemon: sign in, become available, accept
// the ringing contact, verify the customer, reply, tag the contact,
// record an offer's outcome, wrap up. Focus moves only by Tab (at most
// tabLimit presses to any control) and the page's own focus management;
// no click and no script sets a value. Every visible control has a name
// on the way.
func TestKeyboardOnly(t *testing.T) {
	rd := startRouterd(t)
	d := openDesktop(t, newBrowser(t), rd.base)
	tab := pressKey("Tab", 9)
	down := pressKey("ArrowDown", 40)

	d.waitFor("the focus on the agent id", `document.activeElement.id === "login-id"`)
	d.do("sign in", chromedp.KeyEvent("alice"), tab, chromedp.KeyEvent("alice-demo"), pressEnter)
	d.do("show the desktop", chromedp.WaitVisible(chromedp.ID("desk")))
	d.waitFor("the focus on the state menu", `document.activeElement.id === "state-select"`)
	d.waitFor("the snapshot", `document.querySelectorAll('#state-select option[value^="away:"]').length > 0`)
	for i := 0; eval[string](d, `document.getElementById("state-select").value`) != "available"; i++ {
		if i == 10 {
			t.Fatal("the arrows never reach Available")
		}
		d.do("step through the states", pressKey("ArrowUp", 38))
	}
	d.do("apply it", pressEnter)
	d.waitFor("alice available", `document.getElementById("state-select").dataset.state === "available"`)

	id := rd.contact(t, map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"}, "I am moving house next month")
	d.waitOffer(id)
	d.waitFor("the focus on Accept", `document.activeElement.id === "accept"`)
	d.do("accept", pressEnter)
	d.waitFor("the conversation", panel(id)+" !== null && !"+panel(id)+".hidden")
	reply := "reply-" + safeID(id)
	d.waitFor("the focus on the reply", fmt.Sprintf(`document.activeElement.id === %s`, js(reply)))

	p := fmt.Sprintf("#contact-%s ", safeID(id))
	d.tabTo(p + `.verify-button[data-method="security questions"]`)
	d.do("verify", pressEnter)
	d.waitFor("the verified note", panel(id)+`.querySelector(".contact-note").textContent.includes("Identity verified")`)
	// The note is drawn at once; the screen pop the verification
	// unlocks follows in its own frame.
	pop := panel(id) + `.querySelector(".screenpop").innerText`
	d.waitFor("the verified screen pop", "!"+pop+`.includes("No offers until the customer is identified")`)
	if txt := eval[string](d, pop); !strings.Contains(txt, "Segment Premium") || !strings.Contains(txt, "Credit card") {
		t.Errorf("the profile by its labels:\n%s", txt)
	}

	d.waitFor("the focus back on the reply", fmt.Sprintf(`document.activeElement.id === %s`, js(reply)))
	// What the agent needs now fits the 1366×768 window unscrolled: the
	// conversation and its reply, the customer, the offers and their
	// outcome controls, the wrap-up.
	if out := d.offscreen(p+".messages", p+".reply", p+".customer", p+".offers select.outcome", p+`button[data-action="wrapup"]`, p+".tag-input"); len(out) > 0 {
		t.Errorf("not on the screen unscrolled:\n%s", strings.Join(out, "\n"))
	}
	t.Logf("screenshot: %s", d.screenshot("accepted-1366x768"))
	const answer = "The second charge is refunded."
	d.do("reply", chromedp.KeyEvent(answer), pressEnter)
	d.waitMessage(id, answer)

	d.tabTo(p + ".tag-input")
	d.do("tag", chromedp.KeyEvent("VIP"), pressEnter)
	d.waitFor("the tag", panel(id)+`.querySelector(".tags").innerText.includes("vip")`)

	d.tabTo(p + "select.outcome")
	offer := eval[string](d, `document.activeElement.dataset.offerId`)
	d.do("record presented", down)
	d.waitFor("the outcome recorded", fmt.Sprintf(`%s.querySelector('select.outcome[data-offer-id=%s]').dataset.recorded === "presented"`, panel(id), js(offer)))
	d.waitFor("the focus kept on the outcome", fmt.Sprintf(`document.activeElement.matches('select.outcome[data-offer-id=%s]')`, js(offer)))

	d.tabTo(p + "select[name=disposition]")
	for i := 0; eval[string](d, `document.activeElement.value`) != "solved"; i++ {
		if i == 10 {
			t.Fatal("the arrows never reach Solved")
		}
		d.do("choose a disposition", down)
	}
	d.tabTo(p + `button[data-action="wrapup"]`)
	d.do("wrap up", pressEnter)
	d.waitFor("alice in wrap-up", `document.getElementById("state-select").dataset.state === "wrapup"`)
	if bad := d.unnamed(); len(bad) > 0 {
		t.Errorf("controls without an accessible name:\n%s", strings.Join(bad, "\n"))
	}

	var c struct {
		State, Disposition string
		Tags               []string
		Timeline           []struct{ Event, Reason string }
	}
	rd.call(t, "GET", "/api/v1/contacts/"+id, nil, &c)
	if c.State != "wrapup" || c.Disposition != "solved" || !slices.Equal(c.Tags, []string{"vip"}) {
		t.Errorf("stored: %s, %s, %v; want wrapup, solved, [vip]", c.State, c.Disposition, c.Tags)
	}
	if !slices.ContainsFunc(c.Timeline, func(e struct{ Event, Reason string }) bool {
		return e.Event == "offer_outcome" && e.Reason == offer+": presented"
	}) {
		t.Errorf("no outcome on the timeline: %+v", c.Timeline)
	}
}

// monitoring is true once the dashboard monitors contact id.
func monitoring(id string) string {
	return fmt.Sprintf(`!document.getElementById("monitor").hidden && document.getElementById("monitor").dataset.contact === %s`, js(id))
}
