package config

import (
	"maps"
	"slices"

	"github.com/switchboard/switchboard/router"
)

// Queue is a queue as the configuration file writes it (queues[]). It is
// the file's own type, so that the router's types carry no YAML; Router
// converts it, and the router's rule of a queue (router.Queue.Validate)
// is the one the configuration checks. docs/configuration.md describes
// each field.
type Queue struct {
	Name         string          `yaml:"name" json:"name"`
	Requirements []Requirement   `yaml:"requirements" json:"requirements"`
	Priority     int             `yaml:"priority" json:"priority"`
	Strategy     router.Strategy `yaml:"strategy" json:"strategy"`
	ServiceLevel ServiceLevel    `yaml:"service_level" json:"service_level"`
	Relaxation   []RelaxStep     `yaml:"relaxation,omitempty" json:"relaxation,omitempty"`
	// MaxWait moves a contact still queued after this long to Overflow
	// (0: no limit).
	MaxWait  router.Duration `yaml:"max_wait,omitempty" json:"max_wait,omitempty"`
	Overflow string          `yaml:"overflow,omitempty" json:"overflow,omitempty"`
	// WrapUp is how long an agent stays in wrap-up after a contact of this
	// queue (0: routing.wrapup).
	WrapUp        router.Duration `yaml:"wrapup,omitempty" json:"wrapup,omitempty"`
	ValueTiers    []ValueTier     `yaml:"value_tiers,omitempty" json:"value_tiers,omitempty"`
	SegmentBoosts map[string]int  `yaml:"segment_boosts,omitempty" json:"segment_boosts,omitempty"`
	// Hours names one of calendars; empty means always open.
	Hours string `yaml:"hours,omitempty" json:"hours,omitempty"`
}

// Requirement is a queue's condition skill ≥ min.
type Requirement struct {
	Skill string `yaml:"skill" json:"skill"`
	Min   int    `yaml:"min" json:"min"`
}

// ServiceLevel is a queue's target share of contacts answered within a
// time.
type ServiceLevel struct {
	Target       float64         `yaml:"target" json:"target"`
	Within       router.Duration `yaml:"within" json:"within"`
	ShortAbandon router.Duration `yaml:"short_abandon,omitempty" json:"short_abandon,omitempty"`
}

// RelaxStep loosens a queue's requirements once a contact has waited
// after.
type RelaxStep struct {
	Name  string          `yaml:"name" json:"name"`
	After router.Duration `yaml:"after" json:"after"`
	Drop  []string        `yaml:"drop,omitempty" json:"drop,omitempty"`
	Min   map[string]int  `yaml:"min,omitempty" json:"min,omitempty"`
}

// ValueTier raises the rank of contacts from customers worth at least
// min.
type ValueTier struct {
	Min   float64 `yaml:"min" json:"min"`
	Boost int     `yaml:"boost" json:"boost"`
}

// Router returns q as the router's type, sharing nothing with q.
func (q Queue) Router() router.Queue {
	r := router.Queue{
		Name: q.Name, Priority: q.Priority, Strategy: q.Strategy,
		ServiceLevel: router.ServiceLevel{Target: q.ServiceLevel.Target, Within: q.ServiceLevel.Within, ShortAbandon: q.ServiceLevel.ShortAbandon},
		MaxWait:      q.MaxWait, Overflow: q.Overflow, WrapUp: q.WrapUp,
		SegmentBoosts: maps.Clone(q.SegmentBoosts), Hours: q.Hours,
	}
	if q.Requirements != nil {
		r.Requirements = make([]router.Requirement, len(q.Requirements))
		for i, req := range q.Requirements {
			r.Requirements[i] = router.Requirement{Skill: req.Skill, Min: req.Min}
		}
	}
	if q.Relaxation != nil {
		r.Relaxation = make([]router.RelaxStep, len(q.Relaxation))
		for i, s := range q.Relaxation {
			r.Relaxation[i] = router.RelaxStep{Name: s.Name, After: s.After, Drop: slices.Clone(s.Drop), Min: maps.Clone(s.Min)}
		}
	}
	if q.ValueTiers != nil {
		r.ValueTiers = make([]router.ValueTier, len(q.ValueTiers))
		for i, t := range q.ValueTiers {
			r.ValueTiers[i] = router.ValueTier{Min: t.Min, Boost: t.Boost}
		}
	}
	return r
}
