package web

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDashboardEstimateAccuracy: once a contact was answered, the
// supervisors' board shows beside a queue's estimated wait how far off
// the estimates were (the chosen estimator's median error), with every
// estimator's figures in the cell's tooltip.
func TestDashboardEstimateAccuracy(t *testing.T) {
	rd := startRouterd(t)
	agent := aliceAvailable(t, rd)
	id := rd.contact(t, map[string]any{"name": "Ada"}, "hello there")
	agent.waitOffer(id)
	agent.acceptOffer(id)
	agent.waitConversation(id)

	sup := &desktop{t: t, ctx: newBrowser(t), base: rd.base}
	sup.do("open the dashboard", chromedp.Navigate(rd.base+"/dashboard/"), chromedp.WaitVisible(chromedp.ID("login-id")))
	sup.fillLogin("sam", "sam-demo")
	sup.waitFor("the board", `document.getElementById("conn-status").dataset.status === "open"`)
	cell := fmt.Sprintf(`document.querySelector('#queues tr[data-queue=%s] .estimate-error')`, js("billing"))
	sup.waitFor("the estimate's error", cell+` !== null && /^ ±\d+ s \(pace of answers\)$/.test(`+cell+`.textContent)`)
	if tip := eval[string](sup, cell+`.parentElement.title`); tip == "" {
		t.Error("no tooltip with the estimators' figures")
	} else {
		t.Logf("tooltip: %s", tip)
	}
}
