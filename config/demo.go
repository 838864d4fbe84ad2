package config

import _ "embed"

// demoYAML is the demo configuration, which doubles as the documented
// example of every field.
//
//go:embed demo.yaml
var demoYAML []byte

// DemoYAML returns the text of the demo configuration, comments included.
func DemoYAML() []byte {
	return append([]byte(nil), demoYAML...)
}

// LoadDemo returns the demo configuration (demo.yaml, embedded), which
// routerd uses when it is started without -config: five agents and four
// queues, with the defaults applied and the environment's settings
// (ROUTERD_PUBLIC_URL, TWILIO_AUTH_TOKEN, …) read: an error says which
// of those is invalid.
func LoadDemo() (*Config, error) {
	return Parse("demo.yaml", demoYAML)
}

// Demo is LoadDemo for tests and tools: it panics on an error.
func Demo() *Config {
	c, err := LoadDemo()
	if err != nil {
		panic(err)
	}
	return c
}
