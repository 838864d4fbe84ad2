// Package metricstest checks a scrape the way Prometheus' own tool does,
// for the tests of the metrics and of the daemon.
package metricstest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Promtool runs `promtool check metrics` on a scrape's text and fails t
// on any problem it reports: names, labels, help and types as Prometheus
// wants them. Without promtool it skips t, but not in CI (CI set), where
// .ci/run installs Debian's prometheus package.
func Promtool(t testing.TB, text string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed (Debian package prometheus)")
		}
		t.Skip("promtool is not installed")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "" {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}
