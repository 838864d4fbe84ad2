// Package consent holds what a customer has agreed to, the one definition
// that the customer's profile, the store, the offers engine's expressions
// and the screen pop share, and the rules that read it.
package consent

// Flags are a customer's consent flags. Each is nil when unknown: never
// asked, or imported from a system that did not record it.
type Flags struct {
	// Marketing is the customer's consent to be offered products.
	Marketing *bool `json:"marketing" expr:"marketing"`
	// Profiling is the customer's consent to their data (value, segment,
	// products) being used to decide how they are treated.
	Profiling *bool `json:"profiling" expr:"profiling"`
}

// MarketingGiven reports whether the customer said yes to marketing.
// Offers are made only then: unknown is no.
func (f Flags) MarketingGiven() bool { return f.Marketing != nil && *f.Marketing }

// ProfilingGiven reports whether the customer said yes to profiling.
// Routing by value and segment needs it: unknown is no.
func (f Flags) ProfilingGiven() bool { return f.Profiling != nil && *f.Profiling }

// ProfilingRefused reports whether the customer said no to profiling.
// Offers, which a customer who consented to marketing expects to be
// relevant, are withheld only then: unknown is not a refusal.
func (f Flags) ProfilingRefused() bool { return f.Profiling != nil && !*f.Profiling }

// Equal reports whether f and o say the same of each flag.
func (f Flags) Equal(o Flags) bool {
	return same(f.Marketing, o.Marketing) && same(f.Profiling, o.Profiling)
}

func same(a, b *bool) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
