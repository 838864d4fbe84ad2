package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"

	"github.com/switchboard/switchboard/channels/sms"
	"github.com/switchboard/switchboard/router"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// equalConfigs compares two configurations, ignoring where they came from.
func equalConfigs(a, b *Config) bool {
	x, y := *a, *b
	x.src, y.src, x.Env, y.Env = nil, nil, nil, nil
	return reflect.DeepEqual(x, y)
}

// mustParse parses data as name, failing the test on an error.
func mustParse(t *testing.T, name, data string) *Config {
	t.Helper()
	c, err := Parse(name, []byte(data))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return c
}

// TestDurationYAML checks that yaml.v3 itself reads and writes
// router.Duration through encoding.TextUnmarshaler and TextMarshaler, as
// the router's types rely on.
func TestDurationYAML(t *testing.T) {
	var v struct {
		D router.Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 1m30s\n"), &v); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if got, want := v.D.D(), 90*time.Second; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	if err := yaml.Unmarshal([]byte("d: soon\n"), &v); err == nil || !strings.Contains(err.Error(), `invalid duration "soon"`) {
		t.Errorf("got %v, want an invalid duration error", err)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if got, want := string(out), "d: 1m30s\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		// want is a line of the error message, after "config: x.yaml:".
		want string
	}{
		{
			name: "unknown-field",
			yaml: "listen: :8080\nlistn: :9090\n",
			want: `2:1: unknown field "listn" (did you mean "listen"?)`,
		},
		{
			name: "unknown-field-spelling",
			yaml: "dataDir: /tmp\n",
			want: `1:1: unknown field "dataDir" (did you mean "data_dir"?)`,
		},
		{
			name: "unknown-field-nested",
			yaml: "queues:\n  - name: q\n    stratgy: best_skill\n",
			want: `3:5: queues[0]: unknown field "stratgy" (did you mean "strategy"?)`,
		},
		{
			name: "unknown-field-lists-valid",
			yaml: "log:\n  colour: true\n",
			want: `2:3: log: unknown field "colour" (want one of format, level)`,
		},
		{
			name: "wrong-type-int",
			yaml: "http:\n  max_body_bytes: lots\n",
			want: `2:19: http.max_body_bytes: want a whole number, got "lots"`,
		},
		{
			name: "wrong-type-fraction-for-int",
			yaml: "routing:\n  capacity:\n    chat: 2.5\n",
			want: `3:11: routing.capacity.chat: want a whole number, got "2.5"`,
		},
		{
			name: "wrong-type-duration",
			yaml: "routing:\n  wrapup: 30\n",
			want: `2:11: routing.wrapup: invalid duration "30" (want e.g. "20s", "4h")`,
		},
		{
			name: "wrong-type-list-for-mapping",
			yaml: "store:\n  - sqlite\n",
			want: `2:3: store: want a mapping of fields (driver, path, synchronous, dsn_env, dsn_file), got a list`,
		},
		{
			name: "wrong-type-mapping-for-list",
			yaml: "agents:\n  id: alice\n",
			want: `2:3: agents: want a list, got a mapping`,
		},
		{
			name: "wrong-type-mapping-for-string",
			yaml: "listen:\n  host: localhost\n",
			want: `2:3: listen: want a string, got a mapping`,
		},
		{
			name: "duplicate-key",
			yaml: "listen: :1\nlisten: :2\n",
			want: `2:1: field "listen" appears twice (first at line 1)`,
		},
		{
			name: "syntax-error",
			yaml: "listen: :8080\n  data_dir: x\n",
			want: `2: invalid YAML: mapping values are not allowed in this context`,
		},
		{
			name: "second-document",
			yaml: "listen: :8080\n---\nlisten: :9090\n",
			want: `2:1: a second YAML document (want one document; remove the "---")`,
		},
		{
			name: "not-a-mapping",
			yaml: "- listen\n",
			want: `1:1: want a mapping of fields (listen, data_dir, public_url, trusted_proxies, tls, store, auth, routing, http, log, ha, desktop, dashboards, customers, attachments, disk, chat, twilio, email, agents, supervisors, calendars, queues, offers, canned_responses, webhooks, webhook_allow_http, event_log_retention), got a list`,
		},
		{
			name: "alias-cycle",
			yaml: "queues:\n  - &q\n    <<: *q\n    name: x\n",
			want: `3:9: queues[0]: alias *q refers to a value that contains it`,
		},
		{
			name: "listen",
			yaml: "listen: localhost\n",
			want: `1:9: listen: invalid address "localhost" (want host:port, such as "127.0.0.1:8080" or ":8080")`,
		},
		{
			name: "empty-data-dir",
			yaml: "data_dir: \"\"\n",
			want: `1:11: data_dir: empty (want a directory, such as "./data")`,
		},
		{
			name: "postgres-two-dsns",
			yaml: "store:\n  driver: postgres\n  dsn_env: DB\n  dsn_file: /run/db\n",
			want: `3:12: store.dsn_env: both dsn_env and dsn_file are set`,
		},
		{
			name: "unknown-driver",
			yaml: "store:\n  driver: mysql\n",
			want: `2:11: store.driver: unknown driver "mysql" (want sqlite or postgres)`,
		},
		{
			name: "synchronous",
			yaml: "store:\n  synchronous: off\n",
			want: `2:16: store.synchronous: unknown mode "off" (want full or normal)`,
		},
		{
			name: "log-level",
			yaml: "log:\n  level: trace\n",
			want: `2:10: log.level: unknown level "trace" (want debug, info, warn or error)`,
		},
		{
			name: "log-format",
			yaml: "log:\n  format: xml\n",
			want: `2:11: log.format: unknown format "xml" (want text or json)`,
		},
		{
			name: "max-body-zero",
			yaml: "http:\n  max_body_bytes: 0\n",
			want: `2:19: http.max_body_bytes: 0 is not positive`,
		},
		{
			name: "timeout-zero",
			yaml: "http:\n  read_timeout: 0s\n",
			want: `2:17: http.read_timeout: 0s is not positive`,
		},
		{
			name: "ha-lease-too-short",
			yaml: "ha:\n  lease: 2s\n",
			want: `2:10: ha.lease: 2s is not longer than renew (1s) plus twice retry_timeout (1s)`,
		},
		{
			name: "ha-advertise-path",
			yaml: "ha:\n  advertise_url: http://10.0.0.2:8080/x\n",
			want: `2:18: ha.advertise_url: "http://10.0.0.2:8080/x" is not scheme://host:port`,
		},
		{
			name: "agent-state-retention-short",
			yaml: "dashboards:\n  agent_state_retention: 48h\n",
			want: `2:26: dashboards.agent_state_retention: 48h0m0s is too short`,
		},
		{
			name: "offer-timeout-zero",
			yaml: "routing:\n  offer_timeout:\n    chat: 0s\n",
			want: `3:11: routing.offer_timeout.chat: 0s is not positive (want how long an offer rings, such as "30s")`,
		},
		{
			name: "routing-negative-capacity",
			yaml: "routing:\n  capacity:\n    chat: -1\n",
			want: `3:11: routing.capacity.chat: negative capacity -1 (want 0 to 100)`,
		},
		{
			name: "agent-negative-capacity",
			yaml: "agents:\n  - id: alice\n    capacity: {email: -3}\n",
			want: `3:23: agents[0].capacity.email: negative capacity -3 (want 0 to 100)`,
		},
		{
			name: "agent-negative-skill",
			yaml: "agents:\n  - id: alice\n    skills: {fr: -1}\n",
			want: `3:18: agents[0].skills.fr: negative skill level -1 (want 0 to 100)`,
		},
		{
			name: "agent-missing-id",
			yaml: "agents:\n  - name: Alice\n",
			want: `2:5: agents[0].id: empty agent id (want up to 64 letters, digits and "._@+-", starting with a letter or digit)`,
		},
		{
			name: "agent-invalid-id",
			yaml: "agents:\n  - id: alice smith\n",
			want: `2:9: agents[0].id: invalid agent id "alice smith" (want up to 64`,
		},
		{
			name: "duplicate-agent-id",
			yaml: "agents:\n  - id: alice\n  - id: bob\n  - id: alice\n",
			want: `4:9: agents[2].id: duplicate agent id "alice" (first at line 2)`,
		},
		{
			name: "duplicate-queue-name",
			yaml: "queues:\n  - name: sales\n  - name: sales\n",
			want: `3:11: queues[1].name: duplicate queue name "sales" (first at line 2)`,
		},
		{
			name: "queue-missing-name",
			yaml: "queues:\n  - priority: 3\n",
			want: `2:5: queues[0].name: empty queue name`,
		},
		{
			name: "unknown-strategy",
			yaml: "queues:\n  - name: a\n  - name: b\n    strategy: fastest\n",
			want: `4:15: queues[1].strategy: unknown strategy "fastest" (want longest_idle, least_occupied, best_skill or round_robin)`,
		},
		{
			name: "requirement-negative-min",
			yaml: "queues:\n  - name: q\n    requirements:\n      - skill: fr\n        min: -2\n",
			want: `5:14: queues[0].requirements[0].min: negative level -2 (want 0 to 100)`,
		},
		{
			name: "requirement-empty-skill",
			yaml: "queues:\n  - name: q\n    requirements:\n      - min: 2\n",
			want: `4:9: queues[0].requirements[0].skill: empty skill (want up to 64 letters`,
		},
		{
			name: "requirement-twice",
			yaml: "queues:\n  - name: q\n    requirements:\n      - {skill: fr, min: 1}\n      - {skill: fr, min: 2}\n",
			want: `5:17: queues[0].requirements[1].skill: skill "fr" is required twice (first at line 4)`,
		},
		{
			name: "target-above-one",
			yaml: "queues:\n  - name: q\n    service_level: {target: 80, within: 20s}\n",
			want: `3:29: queues[0].service_level.target: 80 is outside 0..1 (want a fraction, such as 0.8 for 80 %)`,
		},
		{
			name: "target-negative",
			yaml: "queues:\n  - name: q\n    service_level:\n      target: -0.1\n      within: 20s\n",
			want: `4:15: queues[0].service_level.target: -0.1 is outside 0..1`,
		},
		{
			name: "target-without-within",
			yaml: "queues:\n  - name: q\n    service_level:\n      target: 0.8\n",
			want: `4:7: queues[0].service_level.within: missing`,
		},
		{
			name: "step-without-name",
			yaml: "queues:\n  - name: q\n    relaxation:\n      - after: 30s\n        drop: [fr]\n",
			want: `4:9: queues[0].relaxation[0].name: missing (want a name for the step, shown on dashboards)`,
		},
		{
			name: "steps-out-of-order",
			yaml: "queues:\n  - name: q\n    relaxation:\n      - {name: a, after: 60s, drop: [fr]}\n      - {name: b, after: 30s, drop: [de]}\n",
			want: `5:26: queues[0].relaxation[1].after: 30s is not after the previous step's 1m0s (want steps in increasing order of after)`,
		},
		{
			name: "step-changes-nothing",
			yaml: "queues:\n  - name: q\n    relaxation:\n      - {name: a, after: 60s}\n",
			want: `4:9: queues[0].relaxation[0]: step "a" changes nothing (want drop, min or both)`,
		},
		{
			name: "duplicate-step-name",
			yaml: "queues:\n  - name: q\n    relaxation:\n      - {name: a, after: 1s, drop: [x]}\n      - {name: a, after: 2s, drop: [y]}\n",
			want: `5:16: queues[0].relaxation[1].name: duplicate step name "a" (first at line 4)`,
		},
		{
			name: "overflow-unknown",
			yaml: "queues:\n  - name: a\n    max_wait: 1m\n    overflow: b\n  - name: c\n",
			want: `4:15: queues[0].overflow: unknown queue "b" (want one of c)`,
		},
		{
			name: "overflow-itself",
			yaml: "queues:\n  - name: a\n    max_wait: 1m\n    overflow: a\n",
			want: `4:15: queues[0].overflow: queue "a" overflows into itself (want another queue)`,
		},
		{
			name: "overflow-cycle",
			yaml: "queues:\n  - {name: a, max_wait: 1m, overflow: b}\n  - {name: b, max_wait: 1m, overflow: a}\n",
			want: `2:39: queues[0].overflow: overflow cycle a → b → a`,
		},
		{
			name: "max-wait-without-overflow",
			yaml: "queues:\n  - name: a\n    max_wait: 1m\n",
			want: `3:15: queues[0].max_wait: set without an overflow queue`,
		},
		{
			name: "value-tiers-order",
			yaml: "queues:\n  - name: a\n    value_tiers:\n      - {min: 100, boost: 5}\n      - {min: 50, boost: 1}\n",
			want: `5:15: queues[0].value_tiers[1].min: 50 is not above the previous tier's 100`,
		},
		{
			name: "agent-capacity-unknown-channel",
			yaml: "agents:\n  - id: alice\n    capacity: {voice: 1}\n",
			want: `3:23: agents[0].capacity.voice: channel "voice" is not in routing.capacity (want one of api, chat, email, sms, or add it there)`,
		},
		{
			name: "capacity-too-high",
			yaml: "routing:\n  capacity: {chat: 101}\n",
			want: `2:20: routing.capacity.chat: capacity 101 is too high (want 0 to 100)`,
		},
		{
			name: "skill-level-too-high",
			yaml: "agents:\n  - id: a\n    skills: {fr: 101}\n",
			want: `3:18: agents[0].skills.fr: skill level 101 is too high (want 0 to 100)`,
		},
		{
			name: "priority-out-of-range",
			yaml: "queues:\n  - name: q\n    priority: 5000\n",
			want: `3:15: queues[0].priority: 5000 is out of range (want -1000 to 1000)`,
		},
		{
			name: "boost-negative",
			yaml: "queues:\n  - name: q\n    value_tiers: [{min: 1, boost: -1}]\n",
			want: `3:35: queues[0].value_tiers[0].boost: -1 is out of range (want 0 to 1000)`,
		},
		{
			name: "preferred-timeout-zero",
			yaml: "customers:\n  preferred_timeout: 0s\n",
			want: `2:22: customers.preferred_timeout: 0s (want a positive duration up to 10m0s, such as "20s")`,
		},
		{
			name: "last-agent-within-negative",
			yaml: "customers:\n  last_agent_within: 0s\n",
			want: `2:22: customers.last_agent_within: 0s (want a positive duration such as "720h")`,
		},
		{
			name: "segment-boost-negative",
			yaml: "queues:\n  - name: q\n    segment_boosts:\n      premium: -2\n",
			want: `4:16: queues[0].segment_boosts.premium: -2 is out of range (want 0 to 1000)`,
		},
		{
			name: "customer-messages-zero",
			yaml: "routing:\n  customer_messages: 0\n",
			want: `2:22: routing.customer_messages: 0 (want at least 1, such as 200)`,
		},
		{
			name: "customer-bytes-negative",
			yaml: "routing:\n  customer_bytes: -1\n",
			want: `2:19: routing.customer_bytes: -1 (want a size in bytes, at least 1, such as 1048576)`,
		},
		{
			name: "wrapup-zero",
			yaml: "routing:\n  wrapup: 0s\n",
			want: `2:11: routing.wrapup: 0s is not positive (want a duration such as "30s")`,
		},
		{
			name: "token-both",
			yaml: "auth:\n  tokens:\n    - name: crm\n      role: integration\n      token: abc\n      token_env: CRM\n",
			want: `3:7: auth.tokens[0]: both token and token_env are set (want exactly one)`,
		},
		{
			name: "token-neither",
			yaml: "auth:\n  tokens:\n    - name: crm\n      role: integration\n",
			want: `3:7: auth.tokens[0]: neither token nor token_env is set (want exactly one`,
		},
		{
			name: "canned-unknown-placeholder",
			yaml: "canned_responses:\n  - {id: hi, title: Hi, text: \"Dear {name}\"}\n",
			want: `2:31: canned_responses[0].text: unknown placeholder {name}`,
		},
		{
			name: "canned-unknown-queue",
			yaml: "canned_responses:\n  - {id: hi, title: Hi, text: Hello, queues: [nowhere]}\n",
			want: `2:47: canned_responses[0].queues[0]: no queue "nowhere" in the configuration`,
		},
		{
			name: "dashboards-unknown-time-zone",
			yaml: "dashboards:\n  time_zone: Mars/Olympus\n",
			want: `2:14: dashboards.time_zone: unknown time zone "Mars/Olympus"`,
		},
		{
			name: "token-unknown-role",
			yaml: "auth:\n  tokens:\n    - {name: crm, role: root, token: abc}\n",
			want: `3:25: auth.tokens[0].role: unknown role "root" (want admin, supervisor, integration or metrics)`,
		},
		{
			name: "token-no-name",
			yaml: "auth:\n  tokens:\n    - {role: admin, token: abc}\n",
			want: `3:7: auth.tokens[0].name: empty`,
		},
		{
			name: "token-duplicate-name",
			yaml: "auth:\n  tokens:\n    - {name: a, role: admin, token: abc}\n    - {name: a, role: admin, token: def}\n",
			want: `4:14: auth.tokens[1].name: duplicate token name "a" (first at line 3)`,
		},
		{
			name: "token-duplicate-secret",
			yaml: "auth:\n  admin_token: abc\n  tokens:\n    - {name: a, role: admin, token: abc}\n",
			want: `4:37: auth.tokens[0].token: same secret as auth.admin_token (want a distinct token for each)`,
		},
		{
			name: "token-env-unset",
			yaml: "auth:\n  tokens:\n    - name: crm\n      role: integration\n      token_env: SWITCHBOARD_TEST_UNSET\n",
			want: `5:18: auth.tokens[0].token_env: environment variable SWITCHBOARD_TEST_UNSET is not set (want it to hold the token)`,
		},
		{
			name: "token-env-empty",
			yaml: "auth:\n  tokens:\n    - name: crm\n      role: integration\n      token_env: SWITCHBOARD_TEST_EMPTY\n",
			env:  map[string]string{"SWITCHBOARD_TEST_EMPTY": ""},
			want: `5:18: auth.tokens[0].token_env: environment variable SWITCHBOARD_TEST_EMPTY is empty (want it to hold the token)`,
		},
		{
			name: "token-redacted",
			yaml: "auth:\n  tokens:\n    - {name: a, role: admin, token: REDACTED}\n",
			want: `3:37: auth.tokens[0].token: "REDACTED" is what -print-config shows in place of a secret`,
		},
		{
			name: "admin-token-redacted",
			yaml: "auth:\n  admin_token: REDACTED\n",
			want: `2:16: auth.admin_token: "REDACTED" is what -print-config shows in place of a secret`,
		},
		{
			name: "session-ttl-too-short",
			yaml: "auth:\n  session_ttl: 30s\n",
			want: `2:16: auth.session_ttl: 30s is too short (want at least 1m0s`,
		},
		{
			name: "agent-hash-not-bcrypt",
			yaml: "agents:\n  - id: a\n    password_hash: alice-demo\n",
			want: `3:20: agents[0].password_hash: not a bcrypt hash`,
		},
		{
			name: "agent-hash-redacted",
			yaml: "agents:\n  - id: a\n    password_hash: REDACTED\n",
			want: `3:20: agents[0].password_hash: "REDACTED" is what -print-config shows in place of a hash`,
		},
		{
			name: "supervisor-without-hash",
			yaml: "supervisors:\n  - id: sam\n",
			want: `2:5: supervisors[0].password_hash: empty (want the bcrypt hash`,
		},
		{
			name: "supervisor-hash-not-bcrypt",
			yaml: "supervisors:\n  - {id: sam, password_hash: \"$2a$10$short\"}\n",
			want: `2:30: supervisors[0].password_hash: not a bcrypt hash`,
		},
		{
			name: "supervisor-is-an-agent",
			yaml: "agents:\n  - id: sam\nsupervisors:\n  - {id: sam, password_hash: \"" + testHash + "\"}\n",
			want: `4:10: supervisors[0].id: "sam" is also an agent id (first at line 2)`,
		},
		{
			name: "supervisor-duplicate",
			yaml: "supervisors:\n  - {id: sam, password_hash: \"" + testHash + "\"}\n  - {id: sam, password_hash: \"" + testHash + "\"}\n",
			want: `3:10: supervisors[1].id: duplicate supervisor id "sam" (first at line 2)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SWITCHBOARD_TEST_UNSET", "") // restored after the test
			os.Unsetenv("SWITCHBOARD_TEST_UNSET")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("got a config %+v, want an error", c)
			}
			want := "config: x.yaml:" + tt.want
			if !containsLine(err.Error(), want) {
				t.Errorf("got error:\n%v\nwant a line starting:\n%s", err, want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T, want an *Error inside", err)
			}
			if e.File != "x.yaml" || e.Line == 0 {
				t.Errorf("got file %q line %d, want x.yaml and a line", e.File, e.Line)
			}
		})
	}
}

// containsLine reports whether a line of msg starts with want.
func containsLine(msg, want string) bool {
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(l, want) {
			return true
		}
	}
	return false
}

func TestValidateBuiltInGo(t *testing.T) {
	c := Default()
	c.Queues = []Queue{{Name: "a", Strategy: "fastest"}}
	err := c.Validate()
	if got, want := err.Error(), `config: queues[0].strategy: unknown strategy "fastest" (want longest_idle, least_occupied, best_skill or round_robin)`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestManyErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("agents:\n")
	for range 30 {
		b.WriteString("  - id: a\n")
	}
	_, err := Parse("x.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("got nil, want errors")
	}
	lines := strings.Split(err.Error(), "\n")
	if got, want := len(lines), maxErrors+1; got != want {
		t.Errorf("got %d lines, want %d", got, want)
	}
	if got, want := lines[len(lines)-1], "config: 9 more problems not shown"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDefaults(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "empty-file",
			yaml: "",
			check: func(t *testing.T, c *Config) {
				if !equalConfigs(c, Default()) {
					t.Errorf("got %+v, want Default()", c)
				}
			},
		},
		{
			name: "comments-only",
			yaml: "# nothing yet\n",
			check: func(t *testing.T, c *Config) {
				if !equalConfigs(c, Default()) {
					t.Errorf("got %+v, want Default()", c)
				}
			},
		},
		{
			name: "default-values",
			yaml: "listen: \":9000\"\n",
			check: func(t *testing.T, c *Config) {
				checks := []struct {
					field     string
					got, want any
				}{
					{"listen", c.Listen, ":9000"},
					{"data_dir", c.DataDir, "./data"},
					{"store.driver", c.Store.Driver, "sqlite"},
					{"store.path", c.Store.Path, filepath.Join("data", "switchboard.db")},
					{"store.synchronous", c.Store.Synchronous, "full"},
					{"auth.admin_token", c.Auth.AdminToken, ""},
					{"routing.offer_timeout.chat", c.Routing.OfferTimeout["chat"].D(), 30 * time.Second},
					{"routing.offer_timeout.email", c.Routing.OfferTimeout["email"].D(), 2 * time.Minute},
					{"routing.offer_timeout.sms", c.Routing.OfferTimeout["sms"].D(), 60 * time.Second},
					{"routing.offer_timeout.api", c.Routing.OfferTimeout["api"].D(), 30 * time.Second},
					{"routing.capacity", c.Routing.Capacity, map[string]int{"chat": 3, "email": 5, "sms": 3, "api": 1}},
					{"routing.wrapup", c.Routing.WrapUp.D(), 30 * time.Second},
					{"http.max_body_bytes", c.HTTP.MaxBodyBytes, int64(1 << 20)},
					{"http.read_timeout", c.HTTP.ReadTimeout.D(), 15 * time.Second},
					{"http.write_timeout", c.HTTP.WriteTimeout.D(), 30 * time.Second},
					{"http.shutdown_timeout", c.HTTP.ShutdownTimeout.D(), 10 * time.Second},
					{"log.level", c.Log.Level, "info"},
					{"log.format", c.Log.Format, "text"},
				}
				for _, ch := range checks {
					if !reflect.DeepEqual(ch.got, ch.want) {
						t.Errorf("%s: got %v, want %v", ch.field, ch.got, ch.want)
					}
				}
			},
		},
		{
			name: "store-path-follows-data-dir",
			yaml: "data_dir: /var/lib/switchboard\n",
			check: func(t *testing.T, c *Config) {
				if got, want := c.Store.Path, "/var/lib/switchboard/switchboard.db"; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			},
		},
		{
			name: "explicit-store-path",
			yaml: "data_dir: /var/lib/switchboard\nstore:\n  path: /srv/sb.db\n",
			check: func(t *testing.T, c *Config) {
				if got, want := c.Store.Path, "/srv/sb.db"; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			},
		},
		{
			name: "maps-merge-with-defaults",
			yaml: "routing:\n  capacity:\n    chat: 1\n    video: 2\n    sms: ~\n  offer_timeout:\n    email: 10m\n",
			check: func(t *testing.T, c *Config) {
				if got, want := c.Routing.Capacity, map[string]int{"chat": 1, "email": 5, "sms": 3, "api": 1, "video": 2}; !reflect.DeepEqual(got, want) {
					t.Errorf("capacity: got %v, want %v", got, want)
				}
				if got, want := c.Routing.OfferTimeout["email"].D(), 10*time.Minute; got != want {
					t.Errorf("offer_timeout.email: got %v, want %v", got, want)
				}
				if got, want := c.Routing.OfferTimeout["chat"].D(), 30*time.Second; got != want {
					t.Errorf("offer_timeout.chat: got %v, want %v", got, want)
				}
			},
		},
		{
			name: "null-keeps-default",
			yaml: "listen:\nhttp: ~\nlog:\n  level:\n",
			check: func(t *testing.T, c *Config) {
				if !equalConfigs(c, Default()) {
					t.Errorf("got %+v, want Default()", c)
				}
			},
		},
		{
			name: "agent-name-defaults-to-id",
			yaml: "agents:\n  - id: alice\n",
			check: func(t *testing.T, c *Config) {
				if got, want := c.Agents[0].Name, "alice"; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			},
		},
		{
			name: "queue-strategy",
			yaml: "queues:\n  - name: q\n",
			check: func(t *testing.T, c *Config) {
				if got, want := c.Queues[0].Strategy, router.LongestIdle; got != want {
					t.Errorf("got %q, want %q", got, want)
				}
			},
		},
		{
			name: "merge-key",
			yaml: "queues:\n  - &base\n    name: a\n    priority: 7\n    strategy: best_skill\n  - <<: *base\n    name: b\n",
			check: func(t *testing.T, c *Config) {
				q := c.Queues[1]
				if q.Name != "b" || q.Priority != 7 || q.Strategy != router.BestSkill {
					t.Errorf("got %+v, want b with a's priority and strategy", q)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, "x.yaml", tt.yaml))
		})
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestDemo(t *testing.T) {
	c := Demo()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var ids, names []string
	for _, a := range c.Agents {
		ids = append(ids, a.ID)
	}
	for _, q := range c.Queues {
		names = append(names, q.Name)
	}
	if got, want := strings.Join(ids, ","), "alice,bob,carol,dave,erin"; got != want {
		t.Errorf("agents: got %s, want %s", got, want)
	}
	if got, want := strings.Join(names, ","), "billing,sales,support,general"; got != want {
		t.Errorf("queues: got %s, want %s", got, want)
	}
	// Every queue but general overflows into general, after a wait.
	for _, q := range c.Queues[:3] {
		if q.Overflow != "general" || q.MaxWait == 0 || len(q.Relaxation) == 0 || q.ServiceLevel.Target == 0 {
			t.Errorf("queue %s: got %+v, want relaxation, a service level and overflow into general", q.Name, q)
		}
	}
	// Every requirement of every queue is met by some agent.
	for _, q := range c.Queues {
		for _, r := range q.Requirements {
			ok := false
			for _, a := range c.Agents {
				ok = ok || a.Skills[r.Skill] >= r.Min
			}
			if !ok {
				t.Errorf("queue %s: no agent has %v", q.Name, r)
			}
		}
	}
	if !bytes.Equal(DemoYAML(), demoYAML) {
		t.Error("DemoYAML differs from the embedded file")
	}
}

func TestGoldenDemoEffective(t *testing.T) {
	t.Setenv(EnvPublicURL, "") // the golden file shows the file's own
	got, err := Demo().YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "demo-effective.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Demo().YAML() differs from %s (run go test -update if the change is intended):\n%s", golden, got)
	}
}

// roundTripYAML is a configuration that sets every field to something
// other than its default, with no literal secret.
const roundTripYAML = `
listen: "0.0.0.0:9090"
data_dir: /var/lib/sb
store:
  synchronous: normal
auth:
  tokens:
    - {name: crm, role: integration, token_env: SB_CRM}
    - {name: wall, role: supervisor, token_env: SB_WALL}
routing:
  offer_timeout: {chat: 45s, video: 20s}
  capacity: {chat: 2, video: 1}
  wrapup: 1s
http:
  max_body_bytes: 2048
  read_timeout: 1s
  write_timeout: 2s
  shutdown_timeout: 3s
log: {level: debug, format: json}
agents:
  - id: a@example.com
    name: "Ann: the \"first\""
    skills: {billing: 5, "fr": 0}
    capacity: {video: 0, email: 100}
  - id: "123"
    name: "yes"
queues:
  - name: "true"
    requirements: [{skill: billing, min: 0}]
    priority: -3
    strategy: round_robin
    service_level: {target: 0.95, within: 1m30s}
    relaxation:
      - {name: "one", after: 1ns, drop: ["*"]}
      - {name: two, after: 2h, min: {billing: 1, x: 0}}
    max_wait: 1h
    overflow: other
    wrapup: 1ms
    value_tiers: [{min: 0.5, boost: 0}, {min: 1e9, boost: 1000}]
  - name: other
`

func TestYAMLRoundTrip(t *testing.T) {
	t.Setenv("SB_CRM", "crm-secret")
	t.Setenv("SB_WALL", "wall-secret")
	tests := []struct {
		name string
		c    *Config
	}{
		{"default", Default()},
		{"demo", withoutHashes(Demo())},
		{"every-field", mustParse(t, "x.yaml", roundTripYAML)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.c.YAML()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse("printed.yaml", out)
			if err != nil {
				t.Fatalf("printed config does not parse: %v\n%s", err, out)
			}
			if !equalConfigs(back, tt.c) {
				t.Errorf("got %+v, want %+v\nprinted:\n%s", back, tt.c, out)
			}
		})
	}
}

// testHash is a bcrypt hash (cost 4) of "correct-horse".
const testHash = "$2a$04$Gz89nckLCkdm4vE/2vwXkebrqD140Vm7ktf8ORS.5.XTLFhVvAgTC"

// withoutHashes returns c with every password hash removed, for the round
// trip: -print-config shows hashes as REDACTED.
func withoutHashes(c *Config) *Config {
	c.Agents = slices.Clone(c.Agents)
	for i := range c.Agents {
		c.Agents[i].PasswordHash = ""
	}
	c.Supervisors = nil
	return c
}

func TestPasswordHashes(t *testing.T) {
	c := mustParse(t, "x.yaml", `
auth:
  session_ttl: 8h
agents:
  - {id: alice, password_hash: "`+testHash+`"}
  - {id: bob}
supervisors:
  - {id: sam, password_hash: "`+testHash+`"}
`)
	if got, want := c.Auth.SessionTTL.D(), 8*time.Hour; got != want {
		t.Errorf("session_ttl: got %v, want %v", got, want)
	}
	if got := c.Agents[0].PasswordHash; got != testHash {
		t.Errorf("agents[0].password_hash: got %q, want %q", got, testHash)
	}
	if got, want := c.Supervisors, []Supervisor{{ID: "sam", Name: "sam", PasswordHash: testHash}}; !reflect.DeepEqual(got, want) {
		t.Errorf("supervisors: got %+v, want %+v", got, want)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(testHash)) {
		t.Errorf("printed config contains a password hash:\n%s", out)
	}
	if got, want := bytes.Count(out, []byte("password_hash: REDACTED")), 2; got != want {
		t.Errorf("got %d redacted hashes, want %d:\n%s", got, want, out)
	}
	if Default().Auth.SessionTTL.D() != DefaultSessionTTL {
		t.Errorf("default session_ttl: got %v, want %v", Default().Auth.SessionTTL.D(), DefaultSessionTTL)
	}
}

// TestDemoPasswords checks that each demo login's hash is of the
// documented demo password "<id>-demo".
func TestDemoPasswords(t *testing.T) {
	c := Demo()
	hashes := map[string]string{}
	for _, a := range c.Agents {
		hashes[a.ID] = a.PasswordHash
	}
	for _, s := range c.Supervisors {
		hashes[s.ID] = s.PasswordHash
	}
	if len(hashes) != 6 || hashes["sam"] == "" {
		t.Fatalf("demo logins: got %v, want five agents and sam", slices.Sorted(maps.Keys(hashes)))
	}
	for id, h := range hashes {
		if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(id+"-demo")); err != nil {
			t.Errorf("%s: hash is not of %q: %v", id, id+"-demo", err)
		}
	}
}

func TestRedaction(t *testing.T) {
	t.Setenv("SB_CRM", "crm-env-secret")
	c := mustParse(t, "x.yaml", `
auth:
  admin_token: admin-literal-secret
  tokens:
    - {name: wall, role: supervisor, token: wall-literal-secret}
    - {name: crm, role: integration, token_env: SB_CRM}
`)
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"admin-literal-secret", "wall-literal-secret", "crm-env-secret"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("printed config contains secret %q:\n%s", secret, out)
		}
	}
	if got, want := bytes.Count(out, []byte("REDACTED")), 3; got != want { // two secrets and the header
		t.Errorf("got %d REDACTED, want %d:\n%s", got, want, out)
	}
	if !bytes.Contains(out, []byte("token_env: SB_CRM")) {
		t.Errorf("printed config lacks the token_env name:\n%s", out)
	}
	if c.Auth.AdminToken != "admin-literal-secret" || c.Auth.Tokens[0].Token != "wall-literal-secret" {
		t.Error("YAML changed the config it printed")
	}
	_, err = Parse("printed.yaml", out)
	if err == nil || !strings.Contains(err.Error(), `auth.admin_token: "REDACTED" is what -print-config shows`) {
		t.Errorf("got %v, want the printed config rejected for its REDACTED admin token", err)
	}
}

func TestResolveTokens(t *testing.T) {
	c := mustParse(t, "x.yaml", `
auth:
  tokens:
    - {name: wall, role: supervisor, token: wall-secret}
`)
	c.Auth.Tokens = append(c.Auth.Tokens, TokenConfig{Name: "crm", Role: RoleIntegration, TokenEnv: "CRM_TOKEN"})
	tests := []struct {
		name    string
		env     map[string]string
		want    []Token
		wantErr string
	}{
		{
			name: "set",
			env:  map[string]string{"CRM_TOKEN": "crm-secret"},
			want: []Token{{"wall", RoleSupervisor, "wall-secret"}, {"crm", RoleIntegration, "crm-secret"}},
		},
		{
			name:    "unset",
			env:     map[string]string{},
			wantErr: "config: x.yaml:4:5: auth.tokens[1].token_env: environment variable CRM_TOKEN is not set",
		},
		{
			name:    "empty",
			env:     map[string]string{"CRM_TOKEN": ""},
			wantErr: "environment variable CRM_TOKEN is empty",
		},
		{
			name:    "same-as-another",
			env:     map[string]string{"CRM_TOKEN": "wall-secret"},
			wantErr: "auth.tokens[1].token_env: same secret as auth.tokens[0].token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Env = func(k string) (string, bool) {
				v, ok := tt.env[k]
				return v, ok
			}
			got, err := c.ResolveTokens()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRouterAgents(t *testing.T) {
	c := Demo()
	as := c.RouterAgents()
	if got, want := len(as), 5; got != want {
		t.Fatalf("got %d agents, want %d", got, want)
	}
	alice := as[0]
	if alice.ID != "alice" || alice.Name != "Alice Martin" || alice.Skills["billing"] != 5 {
		t.Errorf("got %+v, want alice", alice)
	}
	// Her own capacity only: the router applies routing.capacity to the rest.
	if got, want := alice.Capacity, map[string]int{"chat": 3, "email": 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("capacity: got %v, want %v", got, want)
	}
	if alice.State != "" || alice.Active != nil {
		t.Errorf("got runtime state %+v, want only durable fields", alice)
	}
	alice.Skills["billing"] = 1
	alice.Capacity["chat"] = 9
	if c.Agents[0].Skills["billing"] != 5 || c.Routing.Capacity["chat"] != 3 || c.Agents[0].Capacity["chat"] != 3 {
		t.Error("changing RouterAgents' result changed the config")
	}
}

func TestRouterQueues(t *testing.T) {
	c := Demo()
	qs := c.RouterQueues()
	var names []string
	for _, q := range qs {
		names = append(names, q.Name)
	}
	// general first: the others overflow into it.
	if got, want := strings.Join(names, ","), "general,billing,sales,support"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if !reflect.DeepEqual(qs[1], c.Queues[0].Router()) {
		t.Errorf("got %+v, want %+v", qs[1], c.Queues[0].Router())
	}
	qs[1].Requirements[0].Min = 0
	qs[1].Relaxation[0].Min["billing"] = 0
	qs[3].Relaxation[0].Drop[0] = "xx"
	qs[1].ValueTiers[0].Boost = 0
	if c.Queues[0].Requirements[0].Min != 3 || c.Queues[0].Relaxation[0].Min["billing"] != 2 ||
		c.Queues[2].Relaxation[0].Drop[0] != "fr" || c.Queues[0].ValueTiers[0].Boost != 10 {
		t.Error("changing RouterQueues' result changed the config")
	}

	tests := []struct {
		name   string
		queues []Queue
		want   string
	}{
		{"file-order", []Queue{{Name: "a"}, {Name: "b"}, {Name: "c"}}, "a,b,c"},
		{"chain", []Queue{{Name: "a", Overflow: "b"}, {Name: "b", Overflow: "c"}, {Name: "c"}}, "c,b,a"},
		{"cycle-still-terminates", []Queue{{Name: "a", Overflow: "b"}, {Name: "b", Overflow: "a"}}, "b,a"},
		{"unknown-overflow", []Queue{{Name: "a", Overflow: "x"}}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Queues = tt.queues
			var names []string
			for _, q := range c.RouterQueues() {
				names = append(names, q.Name)
				if q.Strategy != router.LongestIdle {
					t.Errorf("queue %s: got strategy %q, want %q", q.Name, q.Strategy, router.LongestIdle)
				}
			}
			if got := strings.Join(names, ","); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRouterOptions(t *testing.T) {
	c := mustParse(t, "x.yaml", "routing:\n  offer_timeout: {chat: 10s}\n  capacity: {video: 2}\n  wrapup: 1m\n")
	o := c.RouterOptions()
	if got, want := o.OfferTimeout["chat"], 10*time.Second; got != want {
		t.Errorf("offer timeout: got %v, want %v", got, want)
	}
	if got, want := o.OfferTimeout["email"], 2*time.Minute; got != want {
		t.Errorf("offer timeout: got %v, want %v", got, want)
	}
	if got, want := o.Capacity, map[string]int{"chat": 3, "email": 5, "sms": 3, "api": 1, "video": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("capacity: got %v, want %v", got, want)
	}
	if got, want := o.WrapUp, time.Minute; got != want {
		t.Errorf("wrapup: got %v, want %v", got, want)
	}
	o.Capacity["chat"] = 0
	if c.Routing.Capacity["chat"] != 3 {
		t.Error("changing RouterOptions' result changed the config")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "routerd.yaml")
	if err := os.WriteFile(path, []byte("listen: \":9999\"\nqueues:\n  - name: q\n    strategy: fastest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), "config: "+path+":4:15: queues[0].strategy:") {
		t.Errorf("got %v, want an error at %s:4:15", err, path)
	}
	_, err = Load(filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.HasPrefix(err.Error(), "config: read: ") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a read error wrapping os.ErrNotExist", err)
	}
}

func TestJSON(t *testing.T) {
	out, err := json.Marshal(Demo())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"data_dir":"./data"`, `"offer_timeout":{"api":"30s"`, `"service_level":{"target":0.8,"within":"20s"}`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
}

func TestDesktopValidation(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no-dispositions", "desktop:\n  dispositions: []\n", "desktop.dispositions: empty"},
		{"duplicate-code", "desktop:\n  dispositions:\n    - {code: a, label: A}\n    - {code: a, label: B}\n", `duplicate disposition code "a"`},
		{"bad-code", "desktop:\n  dispositions:\n    - {code: 'a b', label: A}\n", "desktop.dispositions[0].code"},
		{"duplicate-segment", "desktop:\n  segments:\n    - {code: gold, label: Gold}\n    - {code: gold, label: Golden}\n", `desktop.segments[1].code: duplicate segment "gold"`},
		{"product-without-label", "desktop:\n  products:\n    - {code: card}\n", "desktop.products[0].label: empty"},
		{"zero-grace", "desktop:\n  grace: 0s\n", "desktop.grace: 0s"},
		{"bad-origin", "desktop:\n  allowed_origins: [crm.example.com]\n", `"crm.example.com" is not an origin`},
		{"origin-with-slash", "chat:\n  allowed_origins: [https://www.example.com/]\n", `"https://www.example.com/" is not an origin`},
		{"attachments-zero", "attachments:\n  max_file_bytes: 0\n", "attachments.max_file_bytes: 0"},
		{"csat-unknown-queue", "chat:\n  csat:\n    queues: [nowhere]\n", `chat.csat.queues[0]: queue "nowhere" is not declared`},
		{"csat-long-window", "chat:\n  csat:\n    window: 200h\n", "chat.csat.window: 200h0m0s"},
		{"attachments-message-below-file", "attachments:\n  max_file_bytes: 100\n  max_message_bytes: 10\n", "attachments.max_message_bytes: 10"},
		{"sweep-after-short", "attachments:\n  sweep_after: 30m\n", "2:16: attachments.sweep_after: 30m0s (want 1h0m0s to 8760h0m0s"},
		{"sweep-after-zero", "attachments:\n  sweep_after: 0s\n", "attachments.sweep_after: 0s"},
		{"sweep-after-long", "attachments:\n  sweep_after: 9000h\n", "attachments.sweep_after: 9000h0m0s"},
		{"sweep-every-zero", "attachments:\n  sweep_every: 0s\n", "2:16: attachments.sweep_every: 0s (want 1m0s to sweep_after"},
		{"sweep-every-negative", "attachments:\n  sweep_every: -1h\n", `attachments.sweep_every: invalid duration "-1h": negative`},
		{"sweep-every-over-after", "attachments:\n  sweep_after: 2h\n  sweep_every: 3h\n", "attachments.sweep_every: 3h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	c, err := Parse("x.yaml", []byte("desktop:\n  allowed_origins: [https://crm.example.com]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Desktop.Dispositions) == 0 || c.Desktop.Grace.D() != time.Minute {
		t.Errorf("defaults not kept: %+v", c.Desktop)
	}
	if a := c.Attachments; a.SweepAfter.D() != 24*time.Hour || a.SweepEvery.D() != time.Hour {
		t.Errorf("sweep defaults: got %s every %s, want 24h every 1h", a.SweepAfter.D(), a.SweepEvery.D())
	}
	c, err = Parse("x.yaml", []byte("attachments:\n  sweep_after: 1h\n  sweep_every: 1h\n"))
	if err != nil || c.Attachments.SweepAfter.D() != time.Hour {
		t.Errorf("the shortest sweep: got %v", err)
	}
}

func TestChatValidation(t *testing.T) {
	queues := "queues:\n  - name: billing\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"undeclared-queue", queues + "chat:\n  topics:\n    - {id: b, label: B, queue: nope}\n", `chat.topics[0].queue: queue "nope" is not declared`},
		{"duplicate-topic", queues + "chat:\n  topics:\n    - {id: b, label: B, queue: billing}\n    - {id: b, label: C, queue: billing}\n", `duplicate topic id "b"`},
		{"bad-zone", "chat:\n  opening_hours: {time_zone: Mars/Olympus, monday: [\"09:00-17:00\"]}\n", `unknown time zone "Mars/Olympus"`},
		{"bad-span", "chat:\n  opening_hours: {time_zone: UTC, monday: [\"17:00-09:00\"]}\n", `chat.opening_hours.monday[0]: "17:00-09:00" is not a span`},
		{"bad-span-syntax", "chat:\n  opening_hours: {time_zone: UTC, friday: [\"9-5\"]}\n", `"9-5" is not a span`},
		{"too-big", "chat:\n  max_message_bytes: 100000\n", "chat.max_message_bytes: 100000"},
		{"short-ttl", "chat:\n  token_ttl: 10s\n", "chat.token_ttl: 10s"},
		{"no-connections", "chat:\n  connections_per_address: 0\n", "2:28: chat.connections_per_address: 0 (want at least 1"},
		{"no-leave-window", "chat:\n  leave_message_window: 0s\n", "2:25: chat.leave_message_window: 0s is not positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	c, err := Parse("x.yaml", []byte(queues+"chat:\n  topics:\n    - {id: b, label: B, queue: billing}\n  opening_hours: {time_zone: Europe/Paris, monday: [\"09:00-24:00\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Chat.OpeningHours.Days()[time.Monday][0] != "09:00-24:00" || c.Chat.MaxMessageBytes != 4096 {
		t.Errorf("chat config: %+v", c.Chat)
	}
}

func TestTwilioValidation(t *testing.T) {
	queues := "queues:\n  - name: billing\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"undeclared-queue", queues + "twilio:\n  routes:\n    - {queue: nope}\n", `5:15: twilio.routes[0].queue: queue "nope" is not declared`},
		{"not-e164", queues + "twilio:\n  routes:\n    - {queue: billing, from: \"555-1234\"}\n", `twilio.routes[0].from: "555-1234" is not a number in E.164`},
		{"from-and-service", queues + "twilio:\n  routes:\n    - {queue: billing, from: \"+15550001111\", messaging_service_sid: MG0123456789abcdef0123456789abcdef}\n", `twilio.routes[0]: from and messaging_service_sid both set`},
		{"bad-service", queues + "twilio:\n  routes:\n    - {queue: billing, messaging_service_sid: MG1}\n", `twilio.routes[0].messaging_service_sid: "MG1": want MG and 32 hex digits`},
		{"number-twice", queues + "twilio:\n  routes:\n    - {queue: billing, from: \"+15550001111\"}\n    - {queue: billing, from: \"+15550001111\"}\n", `twilio.routes[1].from: "+15550001111" routes twice (first at line 5)`},
		{"bad-base-url", "twilio:\n  api_base_url: api.twilio.com\n", `twilio.api_base_url: "api.twilio.com" is not a base URL`},
		{"bad-token", "twilio:\n  auth_token: \"not/a token\"\n", `twilio.auth_token: want letters and digits`},
		{"redacted-token", "twilio:\n  auth_token: REDACTED\n", `twilio.auth_token: "REDACTED" is what -print-config shows`},
		{"bad-account", "twilio:\n  account_sid: \"AC 1\"\n", `twilio.account_sid: "AC 1": want letters and digits`},
		{"segments", "twilio:\n  max_segments: 0\n", `twilio.max_segments: 0 (want 1 to 10`},
		{"empty-help", "twilio:\n  help_text: \"\"\n", `twilio.help_text: empty`},
		{"unknown-field", "twilio:\n  account: AC1\n", `twilio: unknown field "account"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestOneTwilioRule: the routes and credentials of the file are checked
// by the SMS channel's rule (sms.ValidateRoutes, sms.ValidCredential),
// so that the file and the channel agree: the same routes refused in the
// same words, naming the same field, and the same credentials taken. The
// channel took a credential of any length where the file stopped at 128.
func TestOneTwilioRule(t *testing.T) {
	queues := "queues:\n  - name: billing\n"
	const service = "MG0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		name   string
		yaml   string // the routes, in the file
		routes []sms.Route
	}{
		{"no queue", "- {from: \"+15550001111\"}", []sms.Route{{From: "+15550001111"}}},
		{"not e164", "- {queue: billing, from: \"555-1234\"}", []sms.Route{{Queue: "billing", From: "555-1234"}}},
		{"both", "- {queue: billing, from: \"+15550001111\", messaging_service_sid: " + service + "}",
			[]sms.Route{{Queue: "billing", From: "+15550001111", MessagingServiceSID: service}}},
		{"service twice", "- {queue: billing, messaging_service_sid: " + service + "}\n    - {queue: billing, messaging_service_sid: " + service + "}",
			[]sms.Route{{Queue: "billing", MessagingServiceSID: service}, {Queue: "billing", MessagingServiceSID: service}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			errs := sms.ValidateRoutes(tt.routes)
			if len(errs) == 0 {
				t.Fatal("the channel takes the routes")
			}
			_, err := Parse("x.yaml", []byte(queues+"twilio:\n  routes:\n    "+tt.yaml+"\n"))
			if want := "twilio." + errs[0].Field + ": " + errs[0].Message; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want %q", err, want)
			}
		})
	}
	for _, n := range []int{sms.MaxCredentialLen, sms.MaxCredentialLen + 1} {
		token := strings.Repeat("a", n)
		_, err := Parse("x.yaml", []byte("twilio:\n  auth_token: "+token+"\n"))
		if got, want := err == nil, sms.ValidCredential(token); got != want {
			t.Errorf("a token of %d: the file takes it %v (%v), the channel %v", n, got, err, want)
		}
	}
}

// The credentials come from Twilio's variables when the file has none;
// the base URL from routerd's; -print-config shows no token.
func TestTwilioEnvironment(t *testing.T) {
	y := "queues:\n  - name: billing\ntwilio:\n  routes:\n    - {queue: billing}\n"
	c, err := Parse("x.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if c.TwilioEnabled() && c.TwilioAuthToken() == "" {
		t.Fatal("enabled without a token")
	}
	t.Setenv(EnvTwilioAuthToken, "envtoken0123")
	t.Setenv(EnvTwilioAccountSID, "ACenv")
	t.Setenv(EnvTwilioAPIBaseURL, "http://127.0.0.1:9999/fake")
	c, err = Parse("x.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if !c.TwilioEnabled() || c.TwilioAuthToken() != "envtoken0123" || c.TwilioAccountSID() != "ACenv" || c.Twilio.APIBaseURL != "http://127.0.0.1:9999/fake" {
		t.Fatalf("from the environment: enabled %v, account %q, base %q", c.TwilioEnabled(), c.TwilioAccountSID(), c.Twilio.APIBaseURL)
	}
	c, err = Parse("x.yaml", []byte(y+"  auth_token: filetoken0123\n  account_sid: ACfile\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.TwilioAuthToken() != "filetoken0123" || c.TwilioAccountSID() != "ACfile" {
		t.Fatalf("the file's: got %q %q", c.TwilioAuthToken(), c.TwilioAccountSID())
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"filetoken0123", "envtoken0123"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("printed config contains %q:\n%s", secret, out)
		}
	}
	if !bytes.Contains(out, []byte("auth_token: REDACTED")) {
		t.Errorf("printed config does not redact the token:\n%s", out)
	}
	if b, _ := json.Marshal(c); bytes.Contains(b, []byte("filetoken0123")) {
		t.Errorf("JSON of the config contains the token: %s", b)
	}
	t.Setenv(EnvTwilioAuthToken, "bad-token!")
	if _, err := Parse("x.yaml", []byte(y)); err == nil || !strings.Contains(err.Error(), EnvTwilioAuthToken) {
		t.Errorf("a malformed %s: got %v", EnvTwilioAuthToken, err)
	}
}

func TestTwilioFetchMediaNeedsTheAccount(t *testing.T) {
	t.Setenv(EnvTwilioAccountSID, "")
	y := "queues:\n  - name: billing\ntwilio:\n  auth_token: tok0123\n  fetch_media: true\n  routes:\n    - {queue: billing}\n"
	if _, err := Parse("x.yaml", []byte(y)); err == nil || !strings.Contains(err.Error(), "twilio.fetch_media: needs the account SID") {
		t.Fatalf("got %v, want fetch_media refused without the account SID", err)
	}
	if _, err := Parse("x.yaml", []byte(y+"  account_sid: AC1\n")); err != nil {
		t.Fatalf("with the account SID: %v", err)
	}
}

// The PostgreSQL URL comes from dsn_env, dsn_file or ROUTERD_DATABASE_URL;
// the variable alone switches any configuration to PostgreSQL.
func TestStoreDSN(t *testing.T) {
	file := filepath.Join(t.TempDir(), "db-url")
	if err := os.WriteFile(file, []byte("postgres://from-file/db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"MY_DB": "postgres://from-my-db/db", DatabaseURLEnv: "postgres://from-default/db"}
	env := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	noEnv := func(string) (string, bool) { return "", false }
	for _, tc := range []struct {
		name string
		s    Store
		env  func(string) (string, bool)
		want string // or the error's start
		err  bool
	}{
		{"dsn-env", Store{Driver: DriverPostgres, DSNEnv: "MY_DB"}, env, "postgres://from-my-db/db", false},
		{"dsn-file", Store{Driver: DriverPostgres, DSNFile: file}, env, "postgres://from-file/db", false},
		{"default-variable", Store{Driver: DriverPostgres}, env, "postgres://from-default/db", false},
		{"default-variable-unset", Store{Driver: DriverPostgres}, noEnv, "environment variable " + DatabaseURLEnv + " is not set", true},
		{"dsn-env-unset", Store{Driver: DriverPostgres, DSNEnv: "NOPE"}, env, "environment variable NOPE is not set", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.DSN(tc.env)
			if tc.err {
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("got %q, %v; want an error starting %q", got, err, tc.want)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}

	c := Demo()
	if c.UseDatabaseURL(noEnv) || c.Store.Driver != DriverSQLite {
		t.Errorf("without %s: driver %q, want sqlite untouched", DatabaseURLEnv, c.Store.Driver)
	}
	c.Store.DSNFile = file // ignored once the variable is set
	if !c.UseDatabaseURL(env) {
		t.Fatalf("with %s: not used", DatabaseURLEnv)
	}
	if got, err := c.Store.DSN(env); c.Store.Driver != DriverPostgres || err != nil || got != vars[DatabaseURLEnv] {
		t.Errorf("with %s: driver %q, DSN %q, %v; want postgres and the variable's URL", DatabaseURLEnv, c.Store.Driver, got, err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
