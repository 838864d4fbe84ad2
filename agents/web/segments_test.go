package web

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/channels/sms"
)

// segmentBodies are the composer's table: bodies at and around every
// limit of GSM-7 and UCS-2, with extension characters and surrogate
// pairs at the parts' edges.
var segmentBodies = []string{
	"", "Hello", "Your refund of £12.50 is on its way.",
	strings.Repeat("a", 160), strings.Repeat("a", 161), strings.Repeat("a", 306), strings.Repeat("a", 307), strings.Repeat("a", 459), strings.Repeat("a", 460),
	strings.Repeat("€", 80), strings.Repeat("€", 81), strings.Repeat("a", 152) + "{" + strings.Repeat("a", 10),
	strings.Repeat("a", 152) + "[" + strings.Repeat("a", 152), "^{}\\[~]|€\f",
	"àèéìòù ÄÖÑÜ äöñü Ç ß ¿¡ £¥§ ΔΦΓΛΩΠΨΣΘΞ", "a\nb\rc",
	"Hello ✓", strings.Repeat("ж", 70), strings.Repeat("ж", 71), strings.Repeat("ж", 134), strings.Repeat("ж", 135),
	"😀", strings.Repeat("a", 66) + "😀" + strings.Repeat("a", 10), strings.Repeat("😀", 35), strings.Repeat("😀", 36),
	"€ж", "`", "Ça coûte 5 €, d'accord ?", "こんにちは", strings.Repeat("€", 70) + "ж",
}

// The desktop's segments.js counts every body of the table as
// channels/sms Count does: the one rule and its mirror agree.
func TestComposerSegmentsAgreeWithGo(t *testing.T) {
	ctx := newBrowser(t)
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	bodies, err := json.Marshal(segmentBodies)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/agent/")); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`import("/agent/segments.js").then((m) => %s.map((b) => m.count(b)))`, bodies)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]sms.Segments](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(segmentBodies) {
		t.Fatalf("got %d answers for %d bodies", len(got), len(segmentBodies))
	}
	for i, b := range segmentBodies {
		if want := sms.Count(b); got[i] != want {
			t.Errorf("body %d (%.20q…): segments.js %+v, Go %+v", i, b, got[i], want)
		}
	}
}
