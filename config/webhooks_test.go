package config

import (
	"strings"
	"testing"
)

func TestWebhooks(t *testing.T) {
	t.Setenv("CRM_HOOK_SECRET", "from-the-environment-0123")
	c := mustParse(t, "x.yaml", `
webhooks:
  - id: crm
    url: https://crm.example/hook
    events: [contact.created, message.out]
    secret_env: CRM_HOOK_SECRET
  - id: local
    url: http://127.0.0.1:9000/hook
    events: ["*"]
    secret: literal-secret-0123456789
`)
	ws := c.WebhookList()
	if len(ws) != 2 || ws[0].Secret != "from-the-environment-0123" || ws[1].Secret != "literal-secret-0123456789" || ws[0].Source != "config" {
		t.Fatalf("got %+v", ws)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "literal-secret") || !strings.Contains(string(out), "secret_env: CRM_HOOK_SECRET") {
		t.Errorf("printed configuration shows a secret or hides secret_env:\n%s", out)
	}
}

func TestWebhookErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"plain-http", `
webhooks:
  - {id: crm, url: "http://crm.example/hook", events: ["*"], secret: literal-secret-0123456789}
`, `x.yaml:3:20: webhooks[0].url: "http://crm.example/hook" is plain http`},
		{"unknown-event", `
webhooks:
  - id: crm
    url: https://crm.example/hook
    events: [contact.created, contact.exploded]
    secret: literal-secret-0123456789
`, `webhooks[0].events[1]: unknown event type "contact.exploded"`},
		{"no-secret", `
webhooks:
  - {id: crm, url: "https://crm.example/hook", events: ["*"]}
`, `webhooks[0]: neither secret nor secret_env is set`},
		{"short-secret", `
webhooks:
  - {id: crm, url: "https://crm.example/hook", events: ["*"], secret: short}
`, `webhooks[0].secret: want 16 to 256 bytes`},
		{"unset-env", `
webhooks:
  - {id: crm, url: "https://crm.example/hook", events: ["*"], secret_env: NOT_SET_ANYWHERE_42}
`, `webhooks[0].secret_env: environment variable NOT_SET_ANYWHERE_42 is not set`},
		{"duplicate", `
webhooks:
  - {id: crm, url: "https://crm.example/a", events: ["*"], secret: literal-secret-0123456789}
  - {id: crm, url: "https://crm.example/b", events: ["*"], secret: literal-secret-0123456789}
`, `webhooks[1].id: duplicate webhook id "crm" (first at line 3)`},
		{"redacted", `
webhooks:
  - {id: crm, url: "https://crm.example/hook", events: ["*"], secret: REDACTED}
`, `webhooks[0].secret: "REDACTED" is what -print-config shows`},
		{"retention", `
event_log_retention: 5m
`, `event_log_retention: 5m0s is too short`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	if _, err := Parse("x.yaml", []byte("webhook_allow_http: true\nwebhooks:\n  - {id: crm, url: \"http://crm.example/hook\", events: [\"*\"], secret: literal-secret-0123456789}\n")); err != nil {
		t.Errorf("plain http with webhook_allow_http: %v", err)
	}
}
