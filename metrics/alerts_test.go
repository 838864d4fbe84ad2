package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/metrics/metricstest"
)

// The alerting rules load in Prometheus, fire when their unit tests say
// and only then (alerts.test.yml), and name only metrics routerd has
// (those docs/metrics.md lists; cmd/routerd's metricsDocumented holds
// the list to the daemon's scrape).
func TestAlertRules(t *testing.T) {
	if out := metricstest.PromtoolRun(t, ".", "check", "rules", "alerts.yml"); !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool check rules: %s", out)
	}
	if out := metricstest.PromtoolRun(t, ".", "test", "rules", "alerts.test.yml"); !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules: %s", out)
	}
}

func TestAlertRulesNameDocumentedMetrics(t *testing.T) {
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`switchboard_[a-z0-9_]+`).FindAllString(string(rules), -1)
	if len(names) < 10 {
		t.Fatalf("found %d metric names in alerts.yml: %v", len(names), names)
	}
	for _, name := range names {
		family := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && strings.Contains(string(doc), "`"+base+"`") {
				family = base
			}
		}
		if !strings.Contains(string(doc), "`"+family+"`") {
			t.Errorf("alerts.yml names %s, which docs/metrics.md does not list", name)
		}
	}
}
