package config

import (
	"context"
	"errors"
	"testing"

	"github.com/switchboard/switchboard/router"
)

func FuzzParse(f *testing.F) {
	// The demo configuration: every field, valid.
	f.Add(demoYAML)
	// Nothing at all: the defaults.
	f.Add([]byte(""))
	// A typo in a field name.
	f.Add([]byte("listn: :8080\n"))
	// Wrong types: a word for a number, a number for a duration.
	f.Add([]byte("http:\n  max_body_bytes: lots\n  read_timeout: 15\n"))
	// Broken YAML: an unclosed flow sequence.
	f.Add([]byte("queues: [\n"))
	// Tabs for indentation.
	f.Add([]byte("store:\n\tdriver: sqlite\n"))
	// Two documents.
	f.Add([]byte("listen: :1\n---\nlisten: :2\n"))
	// An alias inside its own anchor, through a merge key.
	f.Add([]byte("queues:\n  - &q\n    <<: *q\n    name: x\n"))
	// Aliases that multiply.
	f.Add([]byte("a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nagents: [*b, *b, *b, *b]\n"))
	// Semantic errors: overflow cycle, bad strategy, steps out of order.
	f.Add([]byte("queues:\n  - {name: a, max_wait: 1m, overflow: b, strategy: fastest}\n  - {name: b, max_wait: 1m, overflow: a, relaxation: [{name: x, after: 2s, drop: [y]}, {name: z, after: 1s, min: {y: 1}}]}\n"))
	// Tokens: both forms, an unset variable, a redacted secret.
	f.Add([]byte("auth:\n  admin_token: REDACTED\n  tokens:\n    - {name: a, role: admin, token: t, token_env: E}\n    - {name: b, role: boss, token_env: SWITCHBOARD_FUZZ_UNSET}\n"))
	// Extreme numbers.
	f.Add([]byte("http:\n  max_body_bytes: 9223372036854775808\nqueues:\n  - {name: q, service_level: {target: .nan, within: 1s}, value_tiers: [{min: .inf, boost: 1}]}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v, want an *Error inside", err, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse succeeded but Validate fails: %v", err)
		}
		// The router takes what Validate passes.
		ctx := context.Background()
		opts := c.RouterOptions()
		r, err := router.New(nopStore{}, &opts)
		if err != nil {
			t.Fatalf("router.New: %v", err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		defer r.Close()
		for _, q := range c.RouterQueues() {
			if _, err := r.PutQueue(ctx, q); err != nil {
				t.Fatalf("PutQueue(%s): %v", q.Name, err)
			}
		}
		for _, a := range c.RouterAgents() {
			if _, _, err := r.PutAgent(ctx, a); err != nil {
				t.Fatalf("PutAgent(%s): %v", a.ID, err)
			}
		}
		// The printed configuration parses back to the same one, unless
		// it had literal secrets (which print as REDACTED).
		if c.Auth.AdminToken != "" {
			return
		}
		for _, tok := range c.Auth.Tokens {
			if tok.Token != "" {
				return
			}
		}
		if len(c.Supervisors) > 0 {
			return // password hashes print as REDACTED too
		}
		for _, a := range c.Agents {
			if a.PasswordHash != "" {
				return
			}
		}
		out, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		back, err := Parse("printed.yaml", out)
		if err != nil {
			t.Fatalf("printed config does not parse: %v\n%s", err, out)
		}
		if !equalConfigs(back, c) {
			t.Fatalf("printed config parses to %+v, want %+v\n%s", back, c, out)
		}
	})
}
