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
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "" {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// PromtoolRun runs promtool with args in dir and fails t unless it
// succeeds; it returns what promtool printed. Without promtool it skips
// t, as Promtool does.
func PromtoolRun(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// promtool is promtool's path; it skips t without one, but not in CI.
func promtool(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed (Debian package prometheus)")
		}
		t.Skip("promtool is not installed")
	}
	return path
}
