package api

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/dashboards"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// reportParams are the query parameters of GET /api/v1/reports/queues.
var reportParams = []string{"from", "to", "interval", "queue", "format"}

// maxConcurrentReports is how many reports are computed at once.
const maxConcurrentReports = 2

// defaultReportInterval is the interval when the request names none.
const defaultReportInterval = 15 * time.Minute

// queueReport is the JSON answer of GET /api/v1/reports/queues.
type queueReport struct {
	From     time.Time              `json:"from"`
	To       time.Time              `json:"to"`
	Interval string                 `json:"interval"`
	Rows     []dashboards.ReportRow `json:"rows"`
}

// reportColumns are the CSV's columns, in order.
var reportColumns = []string{"start", "end", "queue", "offered", "answered", "answered_within", "abandoned",
	"short_abandoned", "service_level", "asa_seconds", "handled", "aht_seconds", "csat_responses", "csat_average"}

func (s *Server) queueReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name, vs := range q {
		if !slices.Contains(reportParams, name) {
			return invalidf("unknown query parameter %q; valid: %s", name, strings.Join(reportParams, ", "))
		}
		if len(vs) > 1 {
			return invalidf("query parameter %q is given %d times; give it once", name, len(vs))
		}
	}
	var from, to time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := q.Get(p.name)
		if v == "" {
			return invalidf("query parameter %q is required (RFC 3339, such as 2026-03-02T00:00:00+01:00)", p.name)
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return invalidf("query parameter %q: %q is not an RFC 3339 time (such as 2026-03-02T00:00:00+01:00)", p.name, v)
		}
		*p.dst = t
	}
	interval := defaultReportInterval
	if v := q.Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return invalidf("query parameter \"interval\": %q is not a duration (such as 15m, 1h or 24h)", v)
		}
		interval = d
	}
	if err := dashboards.CheckReport(from, to, interval); err != nil {
		return invalidf("%s", strings.TrimPrefix(err.Error(), dashboards.ErrReport.Error()+": "))
	}
	csvWanted := false
	switch f := q.Get("format"); f {
	case "":
		csvWanted = strings.Contains(r.Header.Get("Accept"), "text/csv")
	case "csv":
		csvWanted = true
	case "json":
	default:
		return invalidf("query parameter \"format\": %q; want json or csv", f)
	}
	snap := s.router.Snapshot()
	levels := map[string]router.ServiceLevel{}
	for _, qu := range snap.Queues() {
		levels[qu.Name] = qu.ServiceLevel
	}
	// A report reads every contact of its range: a few at a time.
	select {
	case s.reportSlots <- struct{}{}:
		defer func() { <-s.reportSlots }()
	case <-r.Context().Done():
		return r.Context().Err()
	}
	rep := dashboards.NewReport(levels, from, to, interval)
	err := s.store.EachContactTimes(r.Context(), from, to, func(c store.ContactTimes) error {
		rep.Add(c)
		return nil
	})
	if err != nil {
		return internal("report", err)
	}
	rows := rep.Rows()
	if name := q.Get("queue"); name != "" {
		rows = slices.DeleteFunc(rows, func(row dashboards.ReportRow) bool { return row.Queue != name })
		if _, known := levels[name]; !known && len(rows) == 0 {
			return notFoundf("queue %q does not exist, and no contact of the range was in it", name)
		}
	}
	if !csvWanted {
		return writeJSON(w, http.StatusOK, queueReport{From: from, To: to, Interval: interval.String(), Rows: rows})
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="queues.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(reportColumns)
	num := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	for _, row := range rows {
		_ = cw.Write([]string{
			row.Start.Format(time.RFC3339), row.End.Format(time.RFC3339), csvSafe(row.Queue),
			strconv.Itoa(row.Offered), strconv.Itoa(row.Answered), strconv.Itoa(row.AnsweredWithin), strconv.Itoa(row.Abandoned),
			strconv.Itoa(row.ShortAbandoned), num(row.ServiceLevel), num(row.ASASeconds), strconv.Itoa(row.Handled), num(row.AHTSeconds),
			strconv.Itoa(row.CSATResponses), num(row.CSATAverage),
		})
	}
	cw.Flush()
	return nil
}

// csvSafe keeps a cell a spreadsheet would run as a formula as text.
// Queue names cannot start so today (router.ValidateName); the rule
// stays with the writer, which must not trust its input.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
