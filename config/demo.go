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

// Demo returns the demo configuration (demo.yaml, embedded), which routerd
// uses when it is started without -config: five agents and four queues,
// with the defaults applied. It panics if the embedded file is invalid,
// which a test rules out.
func Demo() *Config {
	c, err := Parse("demo.yaml", demoYAML)
	if err != nil {
		panic(err)
	}
	return c
}
