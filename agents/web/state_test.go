package web

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStateChoiceSurvivesAnUpdate: an agent stepping through the state
// menu with the arrows has a choice not yet applied (Enter applies it);
// an update of the agent arriving meanwhile (a supervisor renames her)
// redraws the menu but keeps the choice, instead of snapping back to the
// state in force under her keys.
func TestStateChoiceSurvivesAnUpdate(t *testing.T) {
	rd := startRouterd(t)
	d := aliceAvailable(t, rd)
	d.waitFor("alice available", `document.getElementById("state-select").dataset.state === "available"`)
	d.do("focus the menu, step down", chromedp.Focus(chromedp.ID("state-select")), pressKey("ArrowDown", 40))
	d.waitFor("a choice pending", `document.getElementById("state-select").dataset.pending === "true" && document.getElementById("state-select").value !== "available"`)
	choice := eval[string](d, `document.getElementById("state-select").value`)

	var alice map[string]any
	rd.call(t, "GET", "/api/v1/agents/alice", nil, &alice)
	spec := map[string]any{"name": "Alice Renamed", "skills": alice["skills"], "capacity": alice["capacity"]}
	rd.call(t, "PUT", "/api/v1/agents/alice", spec, nil)
	d.waitFor("the update drawn", `document.getElementById("agent-name").textContent === "Alice Renamed"`)
	if got := eval[string](d, `document.getElementById("state-select").value`); got != choice {
		t.Errorf("the pending choice after the update: %q, want %q", got, choice)
	}
	if got := eval[string](d, `document.getElementById("state-select").dataset.state`); got != "available" {
		t.Errorf("the state in force: %q, want available (nothing applied yet)", got)
	}
}
