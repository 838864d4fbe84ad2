package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The customer messages that must show as text and run nothing. The second
// would set window.__xss if its markup were ever parsed.
const (
	xssAlert = `<img src=x onerror=alert(1)>`
	xssFlag  = `<img src=x onerror=window.__xss=1>`
)

// offerFor builds the Offer of docs/protocol.md with a full screen pop.
func offerFor(contactID, customer string) map[string]any {
	return map[string]any{
		"contact_id": contactID,
		"expires_at": time.Now().Add(30 * time.Second).UTC().Format(time.RFC3339Nano),
		"reason":     "alice: billing 5≥3; idle 3m12s (longest)",
		"screen_pop": map[string]any{
			"contact": map[string]any{
				"id": contactID, "channel": "chat", "queue": "billing", "subject": "Charged twice for March",
				"state": "offered", "waited_seconds": 42,
				"routed_because": "alice: billing 5≥3; idle 3m12s (longest)",
				"why_you":        "Ada's relationship manager · billing 5 (needs 3)",
				"first_messages": []map[string]any{{
					"seq": 1, "at": time.Now().UTC().Format(time.RFC3339), "direction": "in",
					"body": "Hi, my card was charged twice for the March invoice.",
				}},
			},
			"customer": map[string]any{
				"id": "cust-1", "name": customer,
				"identities": []map[string]any{
					{"type": "email", "value": "ada@example.com", "verified": true},
					{"type": "phone", "value": "+44 20 7946 0000", "verified": false},
				},
				"segment": "gold", "value": 1200,
				"consent":  map[string]any{"marketing": true, "profiling": nil},
				"products": []string{"credit_card", "loan_x"}, "language": "en",
			},
			"history": []map[string]any{
				{"id": "h2", "channel": "email", "created_at": "2026-02-20T10:00:00Z", "queue": "billing", "agent_id": "bob", "state": "closed", "disposition": "solved"},
				{"id": "h1", "channel": "sms", "created_at": "2026-01-05T16:30:00Z", "queue": "support", "agent_id": "carol", "state": "abandoned"},
			},
			"offers": []map[string]any{
				{"id": "o-annual", "title": "Annual plan −15 %", "reason": "pays monthly for 14 months", "talking_points": []string{"Two months free every year"}},
				{"id": "o-paperless", "title": "Paperless billing", "reason": "asked for invoice copies twice"},
			},
		},
	}
}

func TestDesktopInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeRouterd(t)
	d := openDesktop(t, ctx, f.URL())

	// Log in: a wrong password is shown, the right one opens the desktop.
	if got := d.loginFails(fakeAgentID, "wrong"); !strings.Contains(got, "wrong agent id or password") {
		t.Errorf("login error: got %q, want the server's message", got)
	}
	d.login(fakeAgentID, fakePassword)
	if resume := f.expectConn(); resume != "" {
		t.Errorf("first connect: got resume=%q, want none", resume)
	}
	if got := d.agentName(); got != fakeAgentName {
		t.Errorf("agent name: got %q, want %q", got, fakeAgentName)
	}
	wantStates := []string{"available", "away:break", "away:lunch", "away:meeting", "offline"}
	if got := d.stateOptions(); !slices.Equal(got, wantStates) {
		t.Errorf("state options: got %v, want %v", got, wantStates)
	}
	// Signed in, the keyboard is on the state menu. Stepping through it
	// with the arrows sends nothing; Enter applies the choice, once.
	if got := d.focused(); got != "state-select" {
		t.Errorf("focus after signing in: %q, want state-select", got)
	}
	d.do("step down the state menu", pressKey("ArrowDown", 40), pressKey("ArrowDown", 40))
	d.waitFor("a pending choice", `document.getElementById("state-select").dataset.pending === "true"`)
	chosen := eval[string](d, `document.getElementById("state-select").value`)
	if chosen != "away:lunch" {
		t.Fatalf("two steps down from available: %q, want away:lunch", chosen)
	}
	d.do("apply with Enter", pressEnter)
	if got := f.expect("set_state"); got["state"] != "away" || got["reason"] != "lunch" {
		t.Errorf("set_state after the arrows and Enter: got %v, want away/lunch (the steps on the way send nothing)", got)
	}
	d.waitFor("away applied", `document.getElementById("state-select").dataset.state === "away" && !document.getElementById("state-select").dataset.pending`)
	d.setState("available")
	f.expect("set_state")

	// An offer with its screen pop.
	const c1 = "01KJPWD8JGD0M4XH97Q2D81DM4"
	f.push("offer", offerFor(c1, "Ada Lovelace"))
	d.waitOffer(c1)
	card := d.offerText()
	for _, want := range []string{"Ada Lovelace", "chat · billing · waited 42 s", "Accept", "Decline",
		"ada@example.com", "VERIFIED", "+44 20 7946 0000", "CLAIMED", "Segment Gold tier", "1,200", "Products Credit card, loan_x",
		"Why you: Ada's relationship manager · billing 5 (needs 3)", "Router's reason", "Charged twice for March",
		"Annual plan −15 %", "pays monthly for 14 months", "Two months free every year", "History: 2 earlier contacts", "Alt+A"} {
		if !strings.Contains(card, want) {
			t.Errorf("offer card lacks %q:\n%s", want, card)
		}
	}
	// The offer is announced once the card is painted: the tab's title
	// and icon, a live region for screen readers, and the keyboard on
	// Accept.
	d.waitFor("the offer announced", `document.getElementById("announce").textContent !== ""`)
	if got := eval[string](d, `document.title`); !strings.HasPrefix(got, "● Incoming: Ada Lovelace") {
		t.Errorf("title while ringing: %q", got)
	}
	if got := eval[string](d, `document.getElementById("favicon").getAttribute("href")`); got != "favicon-ring.svg" {
		t.Errorf("icon while ringing: %q", got)
	}
	if got := eval[string](d, `document.getElementById("announce").textContent`); got != "Incoming chat from Ada Lovelace, billing. Alt+A to accept." {
		t.Errorf("announcement: %q", got)
	}
	if got := d.focused(); got != "accept" {
		t.Errorf("focus while ringing: %q, want accept", got)
	}
	// The history is folded away; opened, its dispositions are labelled.
	d.do("open the history", chromedp.Click(chromedp.CSS(`#offer details.history summary`)))
	if card := d.offerText(); !strings.Contains(card, "closed · Solved") || !strings.Contains(card, "abandoned") {
		t.Errorf("the history opened: want the labelled disposition and the abandon:\n%s", card)
	}
	// Outcomes are recorded once the contact is the agent's, not while
	// it rings.
	if n := eval[int](d, `document.querySelectorAll("#offer select.outcome, #offer button.outcome").length`); n != 0 {
		t.Errorf("the ringing card has %d outcome controls, want none", n)
	}
	d.waitFor("the countdown", `/^\d+ s$/.test(document.getElementById("offer-countdown").textContent)`)
	if left := eval[string](d, `document.getElementById("offer-countdown").textContent`); left > "30 s" && len(left) >= 4 {
		t.Errorf("countdown: got %q, want at most 30 s", left)
	}
	t.Logf("screenshot of the desktop with an offer: %s", d.screenshot("desktop-offer"))

	// Accept: the server gets accept with the contact id; the conversation opens.
	d.acceptOffer(c1)
	d.waitFor("the title back", `document.title === "Switchboard · Agent desktop" && document.getElementById("favicon").getAttribute("href") === "favicon.svg"`)
	if got := f.expect("accept"); got["contact_id"] != c1 {
		t.Errorf("accept: got contact_id %v, want %s", got["contact_id"], c1)
	}
	d.waitNoOffer()
	d.waitFor("the conversation", panel(c1)+" !== null && !"+panel(c1)+".hidden")
	if focused := eval[string](d, `document.activeElement.id`); focused != "reply-"+c1 {
		t.Errorf("focus after accept: got #%s, want the reply box", focused)
	}
	d.waitConversation(c1)
	d.waitMessage(c1, "Hi, my card was charged twice for the March invoice.")

	// Customer text is always text.
	for i, body := range []string{xssAlert, xssFlag} {
		f.push("message", map[string]any{"contact_id": c1, "message": map[string]any{
			"seq": 2 + i, "at": time.Now().UTC().Format(time.RFC3339), "direction": "in", "body": body}})
		d.waitMessage(c1, body)
	}
	if got := d.messages(c1); !slices.Contains(got, xssAlert) || !slices.Contains(got, xssFlag) {
		t.Errorf("messages: got %q, want both markup messages as text", got)
	}
	if n := eval[int](d, `document.querySelectorAll("img").length`); n != 0 {
		t.Errorf("customer markup made %d img elements", n)
	}

	// The page, visible and focused with the tab open, reports what it
	// shows as read: up to the customer's last message.
	for seq := 0.0; seq < 3; {
		got := f.expect("read")
		if got["contact_id"] != c1 {
			t.Fatalf("read: got %v, want contact %s", got, c1)
		}
		seq, _ = got["up_to_seq"].(float64)
		if seq < 1 || seq > 3 {
			t.Fatalf("read: got up_to_seq %v, want 1 to 3", got["up_to_seq"])
		}
	}

	// The customer types: the conversation says so until their message.
	f.push("typing", map[string]any{"contact_id": c1})
	d.waitFor("customer is typing", panel(c1)+`.querySelector(".typing-note").textContent === "Ada Lovelace is typing…" && !`+panel(c1)+`.querySelector(".typing-note").hidden`)
	f.push("message", map[string]any{"contact_id": c1, "message": map[string]any{
		"seq": 4, "at": time.Now().UTC().Format(time.RFC3339), "direction": "in", "body": "Thanks!"}})
	d.waitMessage(c1, "Thanks!")
	d.waitFor("the typing note to go", panel(c1)+`.querySelector(".typing-note").hidden`)
	if got := f.expect("read"); got["contact_id"] != c1 || got["up_to_seq"] != 4.0 {
		t.Errorf("read after a new message: got %v, want %s up to 4", got, c1)
	}

	// Reply with Enter; typing it tells the server, then send has a
	// client id.
	d.reply(c1, "Sorry about that, I'm refunding the second charge now.")
	if got := f.expect("typing"); got["contact_id"] != c1 {
		t.Errorf("typing: got %v, want contact %s", got, c1)
	}
	got := f.expect("send")
	if got["contact_id"] != c1 || got["body"] != "Sorry about that, I'm refunding the second charge now." || got["client_id"] == "" || got["client_id"] == nil {
		t.Errorf("send: got %v, want the contact, the body and a client_id", got)
	}
	d.waitMessage(c1, "Sorry about that, I'm refunding the second charge now.")
	if v := eval[string](d, `document.getElementById("reply-`+c1+`").value`); v != "" {
		t.Errorf("reply box after send: got %q, want empty", v)
	}
	// The customer's widget received and read it: the reply is marked.
	reply := fmt.Sprintf(`[...%s.querySelectorAll(".message.out")].find(m => m.querySelector(".body").textContent === %s)`,
		panel(c1), js("Sorry about that, I'm refunding the second charge now."))
	f.push("receipt", map[string]any{"contact_id": c1, "delivered_seq": 101, "read_seq": 0})
	d.waitFor("the delivered mark", reply+`?.querySelector(".mark")?.textContent.includes("Delivered")`)
	// The transcript names the customer and calls the agent "You".
	if got := eval[[]string](d, `[...new Set([...`+panel(c1)+`.querySelectorAll(".message .who")].map(w => w.textContent))]`); !slices.Equal(got, []string{"Ada Lovelace", "You"}) {
		t.Errorf("authors in the transcript: got %v, want [Ada Lovelace You]", got)
	}
	f.push("receipt", map[string]any{"contact_id": c1, "delivered_seq": 101, "read_seq": 101})
	d.waitFor("the read mark", reply+`?.querySelector(".mark")?.textContent.includes("Read")`)
	t.Logf("screenshot of the conversation: %s", d.screenshot("desktop-conversation"))

	// Offer outcomes from the screen pop.
	d.recordOutcome(c1, "o-annual", "not_relevant")
	if got := f.expect("offer_outcome"); got["contact_id"] != c1 || got["offer_id"] != "o-annual" || got["outcome"] != "not_relevant" {
		t.Errorf("offer_outcome: got %v", got)
	}

	// A second contact at once, accepted with Alt+A, in its own tab.
	const c2 = "01KJPWD8JGD0M4XH97Q2D81DM5"
	f.push("offer", offerFor(c2, "Grace Hopper"))
	d.acceptWithKeyboard(c2)
	if got := f.expect("accept"); got["contact_id"] != c2 {
		t.Errorf("accept by Alt+A: got contact_id %v, want %s", got["contact_id"], c2)
	}
	d.waitFor("the second tab", panel(c2)+" !== null")
	// Every control on the page, with two contacts open, has a name a
	// screen reader can say.
	if bad := d.unnamed(); len(bad) > 0 {
		t.Errorf("controls without an accessible name:\n%s", strings.Join(bad, "\n"))
	}
	if got, want := d.tabs(), []string{c1, c2}; !slices.Equal(got, want) {
		t.Errorf("tabs: got %v, want %v", got, want)
	}

	// Decline a third; withdraw a fourth.
	const c3, c4 = "c3", "c4"
	f.push("offer", offerFor(c3, "Linus"))
	d.declineOffer(c3)
	if got := f.expect("decline"); got["contact_id"] != c3 {
		t.Errorf("decline: got %v", got)
	}
	d.waitNoOffer()
	// A complaint: no offers, and the card says why.
	complaint := offerFor(c4, "Barbara")
	pop := complaint["screen_pop"].(map[string]any)
	pop["offers"], pop["offers_withheld"] = []map[string]any{}, "complaint"
	f.push("offer", complaint)
	d.waitOffer(c4)
	if card := d.offerText(); !strings.Contains(card, "No offers: the customer is complaining. Help first.") || strings.Contains(card, "Not relevant") {
		t.Errorf("offer card of a complaint: got\n%s\nwant the reason no offer is shown, and no outcome buttons", card)
	}
	f.push("offer_withdrawn", map[string]any{"contact_id": c4, "reason": "customer left"})
	d.waitNoOffer()

	// A request the server refuses shows its error.
	d.waitConversation(c1)
	d.transfer(c1, "queue:nowhere")
	f.expect("transfer_targets")
	f.expect("transfer")
	d.waitError(`no such queue "nowhere"`)
	if got := eval[[]string](d, `[...document.querySelectorAll("#transfer-`+safeID(c1)+` option")].map(o => o.textContent)`); !slices.Equal(got, []string{"Choose…", "billing (2 waiting)", "nowhere", "Bob Stone (available)"}) {
		t.Errorf("transfer picker: got %v", got)
	}
	d.transfer(c1, "agent:bob")
	f.expect("transfer_targets")
	if got := f.expect("transfer"); got["contact_id"] != c1 || got["to_agent"] != "bob" || got["queue"] != nil {
		t.Errorf("transfer to an agent: got %v, want to_agent bob", got)
	}

	// Wrap up with a disposition, then the contact closes.
	d.wrapUp(c1, "solved", "Refunded the double charge.")
	if got := f.expect("wrapup"); got["contact_id"] != c1 || got["disposition"] != "solved" || got["notes"] != "Refunded the double charge." {
		t.Errorf("wrapup: got %v", got)
	}
	d.waitFor("wrap-up shown", panel(c1)+`.querySelector(".contact-note").textContent.startsWith("In wrap-up")`)
	if got := d.focused(); got == "" {
		t.Error("focus fell to the page body when wrap-up hid its button")
	}
	f.push("contact_closed", map[string]any{"contact_id": c1, "state": "closed", "reason": "wrap-up ended"})
	d.waitFor("the tab to close", panel(c1)+" === null")
	if got := d.focused(); got == "" {
		t.Error("focus fell to the page body when the contact closed")
	}
	if got, want := d.tabs(), []string{c2}; !slices.Equal(got, want) {
		t.Errorf("tabs after close: got %v, want %v", got, want)
	}

	// A dropped socket reconnects and resumes from the last seq.
	last := f.lastSeq()
	f.drop()
	if resume := f.expectConn(); resume != strconv.Itoa(last) {
		t.Errorf("reconnect: got resume=%q, want %d", resume, last)
	}
	d.waitFor("reconnected", `document.getElementById("conn-status").dataset.status === "open"`)
	f.push("message", map[string]any{"contact_id": c2, "message": map[string]any{
		"seq": 2, "at": time.Now().UTC().Format(time.RFC3339), "direction": "in", "body": "still there?"}})
	d.waitConversation(c2)
	d.waitMessage(c2, "still there?")

	// Markup never ran, whatever happened since.
	if flag := eval[bool](d, `window.__xss !== undefined`); flag {
		t.Error("window.__xss is set: customer markup ran")
	}

	// Another login takes over: the page says so and stops.
	f.push("session_replaced", map[string]any{})
	d.waitFor("signed in elsewhere", `!document.getElementById("replaced").hidden && document.getElementById("desk").hidden`)
	if got := eval[string](d, `document.getElementById("replaced").textContent`); !strings.Contains(got, "Signed in elsewhere") {
		t.Errorf("replaced notice: got %q", got)
	}
	d.waitFor("the socket to stop", `document.getElementById("conn-status").dataset.status === "stopped"`)
}
