package main

import (
	"strings"
	"testing"
)

// ParseScenario reads files people write: it never panics, and what it
// accepts is valid.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(minimal))                                                                                                                            // the smallest valid scenario
	f.Add([]byte(minimal + "profile: [1, 2]\n"))                                                                                                      // a profile of the wrong length
	f.Add([]byte("streams: [{channel: chat}]\n"))                                                                                                     // chat without a topic or a queue
	f.Add([]byte("rate: .nan\n"))                                                                                                                     // not a number
	f.Add([]byte("a: &a [*a]\n"))                                                                                                                     // an alias inside its own anchor
	f.Add([]byte(minimal + "customers: {patience: {mean: -1s}}\n"))                                                                                   // a negative duration
	f.Add([]byte(minimal + "agents: {staff: [{prefix: x, count: 99999}]}\n"))                                                                         // too many agents
	f.Add([]byte(strings.Replace(minimal, "[{id: alice}]", "[{prefix: x, count: 9223372036854775807}, {prefix: y, count: 9223372036854775807}]", 1))) // counts that overflow a sum
	for _, name := range shippedScenarios() {
		data, err := scenarios.ReadFile("scenarios/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario("f.yaml", data)
		if err != nil {
			return
		}
		if err := sc.Validate(); err != nil {
			t.Errorf("accepted, then invalid: %v", err)
		}
		if n := len(sc.agentIDs()); n == 0 || n > maxAgents {
			t.Errorf("accepted with %d agents", n)
		}
	})
}
