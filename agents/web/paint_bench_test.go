package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// The customer's click on "Start chat" to the offer painted on the
// agent's desktop, timed inside both pages, so that the test driver's
// own work (finding the button, polling for the card) is not counted:
//
//   - the chat page records the click event's timestamp
//     (performance.timeOrigin + event.timeStamp: when the browser took
//     the input);
//   - the desktop records when the offer frame arrived on its socket
//     (a listener added before the page's own), and, when the offer card
//     turns visible for a new contact, the time it was inserted, and the time the next frame was
//     produced (a requestAnimationFrame callback, then a message posted
//     from it, which runs once that frame's style, layout and paint are
//     done).
//
// Each page has its own headless Chromium (one tab each, both visible:
// a background tab's frames are throttled); both run on this machine,
// so their clocks agree. routerd runs the demo configuration with
// chat's per-address limit raised (every customer here comes from
// 127.0.0.1). Each round the customer then ends the chat, which
// withdraws the offer, and starts again.
//
//	go test -run=NONE -bench=ClickToPaint -benchtime=200x ./agents/web/
func BenchmarkClickToPaint(b *testing.B) {
	cfg := demoConfig(b, "conversations_per_minute: 5", "conversations_per_minute: 1000000")
	rd := startRouterd(b, "-config", cfg)

	// The desktop's socket notes when an offer frame arrives, before
	// the page's own listener reads it.
	actx := newBrowser(b)
	if _, err := chromedp.Call(actx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (typeof e.data === "string" && e.data.startsWith('{"type":"offer"')) window.__offerFrameAt = performance.timeOrigin + performance.now();
      });
    }
  };
})()`}); err != nil {
		b.Fatal(err)
	}
	agent := openDesktop(b, actx, rd.base)
	agent.login("alice", "alice-demo")
	agent.setState("available")
	agent.do("watch the offer card", chromedp.Evaluate[chromedp.Void](`(() => {
  window.__paints = [];
  const card = document.getElementById("offer");
  let shown = "";
  new MutationObserver(() => {
    const id = card.hidden ? "" : card.dataset.contactId;
    if (!id || id === shown) { if (!id) shown = ""; return; }
    shown = id;
    const inserted = performance.timeOrigin + performance.now(), frame = window.__offerFrameAt || 0;
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => window.__paints.push({id, frame, inserted, painted: performance.timeOrigin + performance.now()});
      ch.port2.postMessage(0);
    });
  }).observe(card, {attributes: true, attributeFilter: ["hidden", "data-contact-id"]});
})()`))

	customer := &desktop{t: b, ctx: newBrowser(b), base: rd.base}
	customer.do("open the chat",
		chromedp.Navigate(rd.base+"/chat/"),
		chromedp.WaitVisible(chromedp.ID("prechat")),
		chromedp.Evaluate[chromedp.Void](`document.addEventListener("click", (e) => {
  if (e.target && e.target.id === "f-submit") window.__clickAt = performance.timeOrigin + e.timeStamp;
}, {capture: true})`))
	for _, d := range []*desktop{agent, customer} {
		if v := eval[string](d, `document.visibilityState`); v != "visible" {
			b.Fatalf("a page is %s: its frames would be throttled", v)
		}
	}

	type paint struct {
		ID       string  `json:"id"`
		Frame    float64 `json:"frame"`
		Inserted float64 `json:"inserted"`
		Painted  float64 `json:"painted"`
	}
	// CLICK_PROFILE=FILE writes the desktop's JavaScript CPU profile
	// over the rounds (open it in Chromium's DevTools, Performance).
	profile := os.Getenv("CLICK_PROFILE")
	if profile != "" {
		for _, err := range []error{
			call(agent, profiler.Enable, cdp.Empty{}),
			call(agent, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100}),
			call(agent, profiler.Start, cdp.Empty{}),
		} {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	var toFrame, toInsert, toPaint []time.Duration
	b.ResetTimer()
	for i := range b.N {
		customer.do("fill the form",
			chromedp.WaitEnabled(chromedp.ID("f-submit")),
			chromedp.SetValue(chromedp.ID("f-name"), "Customer "+string(rune('A'+i%26))),
			chromedp.SetValue(chromedp.ID("f-topic"), "billing"),
			chromedp.SetValue(chromedp.ID("f-message"), "I was charged twice this month"),
			chromedp.Evaluate[chromedp.Void](`window.__clickAt = 0`))
		customer.do("click Start chat", chromedp.Click(chromedp.ID("f-submit")))
		agent.waitFor("the offer painted", `window.__paints.length > `+strconv.Itoa(i))
		p := eval[paint](agent, `window.__paints[`+strconv.Itoa(i)+`]`)
		clickAt := eval[float64](customer, `window.__clickAt`)
		if clickAt == 0 {
			b.Fatal("the click was not recorded")
		}
		if p.Frame < clickAt {
			b.Fatalf("no offer frame seen after the click (at %f, click %f)", p.Frame, clickAt)
		}
		toFrame = append(toFrame, ms(p.Frame-clickAt))
		toInsert = append(toInsert, ms(p.Inserted-clickAt))
		toPaint = append(toPaint, ms(p.Painted-clickAt))
		// End the chat: the offer is withdrawn, alice is free again.
		customer.do("end the chat",
			chromedp.WaitVisible(chromedp.ID("end")),
			chromedp.Click(chromedp.ID("end")),
			chromedp.WaitVisible(chromedp.ID("again")),
			chromedp.Click(chromedp.ID("again")))
		agent.waitNoOffer()
	}
	b.StopTimer()
	if profile != "" {
		res, err := chromedp.Call(agent.ctx, profiler.Stop, cdp.Empty{})
		if err != nil {
			b.Fatal(err)
		}
		raw, err := json.Marshal(res.Profile)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(profile, raw, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"frame", toFrame}, {"insert", toInsert}, {"paint", toPaint}} {
		slices.Sort(m.d)
		b.ReportMetric(float64(quantile(m.d, 0.50).Microseconds())/1000, "p50-"+m.name+"-ms")
		b.ReportMetric(float64(quantile(m.d, 0.99).Microseconds())/1000, "p99-"+m.name+"-ms")
	}
	b.ReportMetric(0, "ns/op")
}

// demoConfig writes the demo configuration with old replaced by new and
// returns its path.
func demoConfig(tb testing.TB, old, new string) string {
	tb.Helper()
	raw, err := os.ReadFile("../../config/demo.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	if !strings.Contains(string(raw), old) {
		tb.Fatalf("config/demo.yaml has no %q: update the benchmark", old)
	}
	path := filepath.Join(tb.TempDir(), "routerd.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), old, new, 1)), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// call sends one DevTools command to d's page, ignoring its result.
func call[P, R any](d *desktop, c cdp.Command[P, R], p P) error {
	_, err := chromedp.Call(d.ctx, c, p)
	return err
}

// ms converts milliseconds to a Duration.
func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// quantile returns the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
