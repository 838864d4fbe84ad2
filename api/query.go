package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// queryParams returns the query of r, or a 400 naming a parameter that
// is not one of valid or is given more than once.
func queryParams(r *http.Request, valid []string) (url.Values, error) {
	q := r.URL.Query()
	for name, vs := range q {
		if !slices.Contains(valid, name) {
			return nil, invalidf("unknown query parameter %q; valid: %s", name, strings.Join(valid, ", "))
		}
		if len(vs) > 1 {
			return nil, invalidf("query parameter %q is given %d times; give it once", name, len(vs))
		}
	}
	return q, nil
}

// timeRange reads the query parameters from and to, RFC 3339 times,
// into from and to: the one rule of a time range in a query, for the
// reports and an agent's state history. An absent one keeps the value
// given, or is refused when required. Whether to is after from, and
// how long the range may be, is the route's rule.
func timeRange(q url.Values, from, to *time.Time, required bool) error {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", from}, {"to", to}} {
		v := q.Get(p.name)
		if v == "" {
			if required {
				return invalidf("query parameter %q is required (RFC 3339, such as 2026-03-02T00:00:00+01:00)", p.name)
			}
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return invalidf("query parameter %q: %q is not an RFC 3339 time (such as 2026-03-02T00:00:00+01:00)", p.name, v)
		}
		*p.dst = t
	}
	return nil
}

// pageLimit reads the page size a route's parameter name asks for: def
// when absent, else 1 to max; the one rule of a page size, for the
// contacts, an agent's states and the customers' timelines.
func pageLimit(q url.Values, name string, max, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, invalidf("query parameter %q: %q: want an integer from 1 to %d (default %d)", name, v, max, def)
	}
	return n, nil
}
