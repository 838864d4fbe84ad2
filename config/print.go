package config

import (
	"bytes"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// printHeader opens the output of YAML.
const printHeader = `# Effective routerd configuration: the file (if any) with every default
# applied. Literal secrets and password hashes are shown as REDACTED; put the
# real ones (or a token_env) back before using this as a configuration file.
`

// YAML returns the configuration as YAML, for routerd -print-config. It
// parses back to an equal Config, except that every literal secret (the
// admin token and each token's token) and every password hash reads
// "REDACTED" (as does each webhook's secret); token_env and secret_env
// names are shown as they are.
func (c *Config) YAML() ([]byte, error) {
	out := *c
	out.Auth.Tokens = slices.Clone(c.Auth.Tokens)
	out.Agents = slices.Clone(c.Agents)
	out.Supervisors = slices.Clone(c.Supervisors)
	for i := range out.Agents {
		if out.Agents[i].PasswordHash != "" {
			out.Agents[i].PasswordHash = Redacted
		}
	}
	for i := range out.Supervisors {
		if out.Supervisors[i].PasswordHash != "" {
			out.Supervisors[i].PasswordHash = Redacted
		}
	}
	if out.Auth.AdminToken != "" {
		out.Auth.AdminToken = Redacted
	}
	if out.Twilio.AuthToken != "" {
		out.Twilio.AuthToken = Redacted
	}
	out.Webhooks = slices.Clone(c.Webhooks)
	for i := range out.Webhooks {
		if out.Webhooks[i].Secret != "" {
			out.Webhooks[i].Secret = Redacted
		}
	}
	for i := range out.Auth.Tokens {
		if out.Auth.Tokens[i].Token != "" {
			out.Auth.Tokens[i].Token = Redacted
		}
	}
	var buf bytes.Buffer
	buf.WriteString(printHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&out); err != nil {
		return nil, fmt.Errorf("config: print: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: print: %w", err)
	}
	return buf.Bytes(), nil
}
