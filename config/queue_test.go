package config

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// The file's queue carries every field of the router's, under the same
// names, and Router carries each across: a field added to the router's
// queue but not to the file's (or not converted) fails here.
func TestQueueRouter(t *testing.T) {
	for _, pair := range [][2]reflect.Type{
		{reflect.TypeFor[Queue](), reflect.TypeFor[router.Queue]()},
		{reflect.TypeFor[RelaxStep](), reflect.TypeFor[router.RelaxStep]()},
		{reflect.TypeFor[ServiceLevel](), reflect.TypeFor[router.ServiceLevel]()},
		{reflect.TypeFor[ValueTier](), reflect.TypeFor[router.ValueTier]()},
		{reflect.TypeFor[Requirement](), reflect.TypeFor[router.Requirement]()},
	} {
		if a, b := fieldNames(pair[0]), fieldNames(pair[1]); !reflect.DeepEqual(a, b) {
			t.Errorf("%s has fields %v, %s has %v", pair[0], a, pair[1], b)
		}
	}
	c, err := Parse("q.yaml", []byte(`
calendars:
  office: {time_zone: UTC, monday: ["09:00-17:00"]}
queues:
  - name: general
  - name: billing
    requirements: [{skill: billing, min: 3}]
    priority: 10
    strategy: best_skill
    service_level: {target: 0.8, within: 20s}
    relaxation: [{name: any-level, after: 30s, min: {billing: 1}}, {name: no-english, after: 90s, drop: [english]}]
    max_wait: 5m
    overflow: general
    wrapup: 45s
    value_tiers: [{min: 1000, boost: 10}]
    segment_boosts: {premium: 20}
    hours: office
`))
	if err != nil {
		t.Fatal(err)
	}
	q := c.Queues[1]
	file, _ := json.Marshal(q)
	converted, _ := json.Marshal(q.Router())
	if string(file) != string(converted) {
		t.Errorf("Router lost something:\n file   %s\n router %s", file, converted)
	}
	r := q.Router()
	r.Relaxation[0].Min["billing"] = 9
	r.Requirements[0].Min = 9
	r.SegmentBoosts["premium"] = 9
	if q.Relaxation[0].Min["billing"] != 1 || q.Requirements[0].Min != 3 || q.SegmentBoosts["premium"] != 20 {
		t.Error("changing Router's result changed the configuration")
	}
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		names = append(names, t.Field(i).Name)
	}
	return names
}
