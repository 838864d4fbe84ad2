package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// On an SMS contact the composer shows the reply's encoding and segments
// as the agent types, and past the snapshot's sms_max_segments asks
// before sending: a refusal sends nothing, a confirmation sends the reply.
func TestComposerCountsSegmentsOnSMS(t *testing.T) {
	ctx := newBrowser(t)
	f := newFakeRouterd(t)
	d := openDesktop(t, ctx, f.URL())
	d.login(fakeAgentID, fakePassword)
	f.expectConn()
	const id = "sms-1"
	offer := offerFor(id, "Ada Lovelace")
	offer["screen_pop"].(map[string]any)["contact"].(map[string]any)["channel"] = "sms"
	f.push("offer", offer)
	d.acceptOffer(id)
	f.expect("accept")
	d.waitConversation(id)

	box := fmt.Sprintf(`document.getElementById(%s)`, js("reply-"+safeID(id)))
	segments := fmt.Sprintf(`document.getElementById(%s)`, js("segments-"+safeID(id)))
	typeText := func(s string) {
		t.Helper()
		eval[bool](d, fmt.Sprintf(`(() => { const b = %s; b.value = %s; b.dispatchEvent(new Event("input")); return true; })()`, box, js(s)))
	}
	typeText(strings.Repeat("a", 200))
	if got := eval[string](d, segments+".textContent"); got != "GSM-7 · 200/306 · 2 SMS" {
		t.Errorf("200 GSM-7 characters: shown %q", got)
	}
	typeText("Ça coûte 5 € ✓")
	if got := eval[string](d, segments+".textContent"); got != "UCS-2 · 14/70 · 1 SMS" {
		t.Errorf("a UCS-2 reply: shown %q", got)
	}
	typeText(strings.Repeat("b", 400))
	if got := eval[string](d, segments+".textContent"); !strings.Contains(got, "3 SMS") || !strings.Contains(got, "asked to confirm") {
		t.Errorf("past the limit: shown %q, want 3 SMS and the warning", got)
	}
	// Refused: nothing sent, the reply stays in the box.
	eval[bool](d, `(() => { window.__asked = ""; window.confirm = (q) => { window.__asked = q; return false; }; return true; })()`)
	d.do("press Enter", chromedp.Focus(chromedp.ID("reply-"+safeID(id))), pressEnter)
	if asked := eval[string](d, `window.__asked`); !strings.Contains(asked, "3 SMS segments") {
		t.Fatalf("the desktop asked %q, want a question naming the 3 segments", asked)
	}
	if got := eval[string](d, box+".value"); got != strings.Repeat("b", 400) {
		t.Fatalf("after a refusal the box holds %d characters, want the reply kept", len(got))
	}
	// Confirmed: the reply goes (and the refused one never did).
	typeText(strings.Repeat("c", 400))
	eval[bool](d, `(() => { window.confirm = () => true; return true; })()`)
	d.do("press Enter", chromedp.Focus(chromedp.ID("reply-"+safeID(id))), pressEnter)
	if got := f.expect("send"); got["body"] != strings.Repeat("c", 400) {
		t.Fatalf("sent %q…, want the confirmed reply", fmt.Sprint(got["body"])[:10])
	}
}
