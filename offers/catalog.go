package offers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Offer is something worth offering a customer: a product, an upgrade.
type Offer struct {
	ID            string   `json:"id" yaml:"id"`
	Title         string   `json:"title" yaml:"title"`
	TalkingPoints []string `json:"talking_points,omitempty" yaml:"talking_points,omitempty"`
	// Value is what an acceptance is worth; ranking multiplies it by
	// the learned acceptance probability. Never negative.
	Value float64 `json:"value" yaml:"value"`
	// Channels the offer may be made on; empty means every channel.
	Channels []string `json:"channels,omitempty" yaml:"channels,omitempty"`
	// Eligible is an expr-lang expression over Env returning bool;
	// empty means every customer.
	Eligible string `json:"eligible,omitempty" yaml:"eligible,omitempty"`
	// Why is the distinguishing fact shown in the reason line when the
	// offer is eligible ("no savings account"); optional.
	Why string `json:"why,omitempty" yaml:"why,omitempty"`
	// Cooldown is how long the offer is not made again to a customer
	// after they declined it; 0 means no cooldown.
	Cooldown time.Duration `json:"cooldown,omitempty" yaml:"cooldown,omitempty"`
	// CapPerContact is how many times the offer may be presented during
	// one contact; 0 means no cap.
	CapPerContact int `json:"cap_per_contact,omitempty" yaml:"cap_per_contact,omitempty"`
}

// Catalog is a validated set of offers with compiled eligibility
// expressions. It is immutable and safe for concurrent use.
type Catalog struct {
	offers []Offer // in the order given; never nil
	progs  []*vm.Program
	byID   map[string]int
}

// Limits of an offer (Offer.Validate).
const (
	// MaxTitle bounds the title, what the agent reads.
	MaxTitle = 200
	// MaxText bounds the why and each talking point.
	MaxText = 500
	// MaxTalkingPoints bounds their number.
	MaxTalkingPoints = 20
	// MaxExpression bounds the eligibility expression.
	MaxExpression = 2000
)

// Validate checks what an offer says of itself, but its eligibility
// expression, which NewCatalog compiles: the one rule of an offer, used
// by the configuration and the HTTP API through NewCatalog. The error
// names the field.
func (o Offer) Validate() *OfferError {
	bad := func(field, format string, args ...any) *OfferError {
		return &OfferError{ID: o.ID, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case strings.TrimSpace(o.ID) == "":
		return bad("id", "empty (want a name such as \"savings\")")
	case strings.TrimSpace(o.Title) == "" || len(o.Title) > MaxTitle:
		return bad("title", "empty or over %d bytes (want what the agent reads, e.g. \"Platinum card upgrade\")", MaxTitle)
	case math.IsNaN(o.Value) || math.IsInf(o.Value, 0):
		return bad("value", "%v is not a finite number (want ≥ 0)", o.Value)
	case o.Value < 0:
		return bad("value", "%v is negative (want ≥ 0)", o.Value)
	case o.Cooldown < 0:
		return bad("cooldown", "%v is negative (want ≥ 0)", o.Cooldown)
	case o.CapPerContact < 0:
		return bad("cap_per_contact", "%d is negative (want ≥ 0, 0 for no cap)", o.CapPerContact)
	case len(o.Why) > MaxText:
		return bad("why", "longer than %d bytes (want one line the agent reads)", MaxText)
	case len(o.TalkingPoints) > MaxTalkingPoints:
		return bad("talking_points", "%d entries (want at most %d)", len(o.TalkingPoints), MaxTalkingPoints)
	case len(o.Eligible) > MaxExpression:
		return bad("eligible", "longer than %d bytes", MaxExpression)
	}
	for i, tp := range o.TalkingPoints {
		if strings.TrimSpace(tp) == "" || len(tp) > MaxText {
			return bad(fmt.Sprintf("talking_points[%d]", i), "want 1 to %d bytes", MaxText)
		}
	}
	return nil
}

// NewCatalog validates the offers and compiles their expressions. An
// error names the offer and the field at fault; it wraps ErrInvalidOffer
// and is an *OfferError.
func NewCatalog(offers []Offer) (*Catalog, error) {
	c := &Catalog{offers: []Offer{}, byID: map[string]int{}}
	for _, o := range offers {
		if err := o.Validate(); err != nil {
			return nil, err
		}
		if c.has(o.ID) {
			return nil, &OfferError{ID: o.ID, Field: "id", Msg: "duplicate"}
		}
		var prog *vm.Program
		if strings.TrimSpace(o.Eligible) != "" {
			p, err := expr.Compile(o.Eligible, expr.Env(Env{}), expr.AsBool())
			if err != nil {
				return nil, &OfferError{ID: o.ID, Field: "eligible", Msg: exprMessage(err), Err: err}
			}
			prog = p
		}
		o.TalkingPoints = slices.Clone(o.TalkingPoints)
		o.Channels = slices.Clone(o.Channels)
		c.byID[o.ID] = len(c.offers)
		c.offers = append(c.offers, o)
		c.progs = append(c.progs, prog)
	}
	return c, nil
}

// MaxCooldown is the longest cooldown of the catalog's offers: how far
// back a customer's outcomes can matter.
func (c *Catalog) MaxCooldown() time.Duration {
	var d time.Duration
	for _, o := range c.offers {
		d = max(d, o.Cooldown)
	}
	return d
}

// Offer sources, for Entry.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Entry is an offer of a live catalog with where it comes from: the
// configuration (SourceConfig) or the API (SourceAPI).
type Entry struct {
	Offer  Offer
	Source string
	// UpdatedAt is when the API last put it; zero for SourceConfig.
	UpdatedAt time.Time
}

func (c *Catalog) has(id string) bool {
	_, ok := c.byID[id]
	return ok
}

// exprMessage is the one-line form of an expression error: the message
// and position without the source snippet.
func exprMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) && fe.Line > 0 {
		return fmt.Sprintf("%s (%d:%d)", fe.Message, fe.Line, fe.Column+1)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// Offers returns a copy of the catalog's offers in the order given.
func (c *Catalog) Offers() []Offer {
	out := make([]Offer, len(c.offers))
	for i, o := range c.offers {
		out[i] = cloneOffer(o)
	}
	return out
}

// Offer returns the offer with the id.
func (c *Catalog) Offer(id string) (Offer, bool) {
	i, ok := c.byID[id]
	if !ok {
		return Offer{}, false
	}
	return cloneOffer(c.offers[i]), true
}

func cloneOffer(o Offer) Offer {
	o.TalkingPoints = slices.Clone(o.TalkingPoints)
	o.Channels = slices.Clone(o.Channels)
	return o
}

// Eligible returns the offers allowed on env's channel whose expression
// holds for env, in catalog order. It applies no suppression rule (see
// Candidates). An expression failing at run time (e.g. an index out of
// range) is an error naming the offer.
func (c *Catalog) Eligible(env Env) ([]Offer, error) {
	var out []Offer
	for i, o := range c.offers {
		if len(o.Channels) > 0 && !slices.Contains(o.Channels, env.Contact.Channel) {
			continue
		}
		if p := c.progs[i]; p != nil {
			v, err := expr.Run(p, env)
			if err != nil {
				return nil, fmt.Errorf("offers: offer %q: eligible: %s", o.ID, exprMessage(err))
			}
			if ok, _ := v.(bool); !ok {
				continue
			}
		}
		out = append(out, cloneOffer(o))
	}
	return out, nil
}
