package api

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
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

// reportRequest is what a report's query asks for.
type reportRequest struct {
	from, to time.Time
	interval time.Duration
	csv      bool
	q        url.Values
}

// parseReport reads the query of a report (GET /api/v1/reports/…): from
// and to (RFC 3339, required), interval (default 15m), format (json or
// csv, or Accept: text/csv) and the params the report adds; each at most
// once. The one rule of a report's request, for every report.
func parseReport(r *http.Request, params []string) (reportRequest, error) {
	q, err := queryParams(r, params)
	if err != nil {
		return reportRequest{}, err
	}
	req := reportRequest{interval: defaultReportInterval, q: q}
	if err := timeRange(q, &req.from, &req.to, true); err != nil {
		return req, err
	}
	if v := q.Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return req, invalidf("query parameter \"interval\": %q is not a duration (such as 15m, 1h or 24h)", v)
		}
		req.interval = d
	}
	if err := dashboards.CheckReport(req.from, req.to, req.interval); err != nil {
		var re *dashboards.ReportError
		if !errors.As(err, &re) {
			return req, internal("check the report", err)
		}
		return req, invalidf("%s", re.Message)
	}
	switch f := q.Get("format"); f {
	case "":
		req.csv = strings.Contains(r.Header.Get("Accept"), "text/csv")
	case "csv":
		req.csv = true
	case "json":
	default:
		return req, invalidf("query parameter \"format\": %q; want json or csv", f)
	}
	return req, nil
}

// reportSlot waits for one of the maxConcurrentReports slots: a report
// reads every contact of its range, a few at a time. The returned
// function frees it.
func (s *Server) reportSlot(r *http.Request) (func(), error) {
	select {
	case s.reportSlots <- struct{}{}:
		return func() { <-s.reportSlots }, nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
}

func (s *Server) queueReport(w http.ResponseWriter, r *http.Request) error {
	req, err := parseReport(r, reportParams)
	if err != nil {
		return err
	}
	from, to, interval, csvWanted, q := req.from, req.to, req.interval, req.csv, req.q
	snap := s.router.Snapshot()
	levels := map[string]router.ServiceLevel{}
	for _, qu := range snap.Queues() {
		levels[qu.Name] = qu.ServiceLevel
	}
	free, err := s.reportSlot(r)
	if err != nil {
		return err
	}
	defer free()
	rep := dashboards.NewReport(levels, from, to, interval)
	err = s.store.EachContactTimes(r.Context(), from, to, func(c store.ContactTimes) error {
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
	cw := csvReport(w, "queues.csv", reportColumns)
	for _, row := range rows {
		_ = cw.Write([]string{
			row.Start.Format(time.RFC3339), row.End.Format(time.RFC3339), csvSafe(row.Queue),
			strconv.Itoa(row.Offered), strconv.Itoa(row.Answered), strconv.Itoa(row.AnsweredWithin), strconv.Itoa(row.Abandoned),
			strconv.Itoa(row.ShortAbandoned), csvNum(row.ServiceLevel), csvNum(row.ASASeconds), strconv.Itoa(row.Handled), csvNum(row.AHTSeconds),
			strconv.Itoa(row.CSATResponses), csvNum(row.CSATAverage),
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

// agentReportParams are the query parameters of GET /api/v1/reports/agents.
var agentReportParams = []string{"from", "to", "interval", "agent", "format"}

// maxAgentReportRows bounds the rows (intervals × agents) one agents'
// report may hold: a report holds its bins in memory.
const maxAgentReportRows = 500_000

// agentReportColumns are the agents' CSV's columns, in order.
var agentReportColumns = []string{"start", "end", "agent", "handled", "aht_seconds", "missed",
	"staffed_seconds", "away_seconds", "busy_seconds", "occupancy"}

// agentReport is the JSON answer of GET /api/v1/reports/agents.
type agentReport struct {
	From     time.Time                   `json:"from"`
	To       time.Time                   `json:"to"`
	Interval string                      `json:"interval"`
	Rows     []dashboards.AgentReportRow `json:"rows"`
}

func (s *Server) agentReport(w http.ResponseWriter, r *http.Request) error {
	req, err := parseReport(r, agentReportParams)
	if err != nil {
		return err
	}
	free, err := s.reportSlot(r)
	if err != nil {
		return err
	}
	defer free()
	ctx := r.Context()
	snap := s.router.Snapshot()
	only := req.q.Get("agent")
	agents := len(snap.Agents())
	if only != "" {
		agents = 1
	}
	if intervals := int((req.to.Sub(req.from) + req.interval - 1) / req.interval); intervals*max(agents, 1) > maxAgentReportRows {
		return invalidf("%d intervals × %d agents is more than %d rows: ask for a shorter range, a longer interval or one agent (agent=)", intervals, agents, maxAgentReportRows)
	}
	rep := dashboards.NewAgentReport(req.from, req.to, snap.At, req.interval)
	var keep func(agent string) bool
	if only != "" {
		keep = func(agent string) bool { return agent == only }
	}
	if err := rep.Read(ctx, s.store, keep); err != nil {
		return internal("report", err)
	}
	rows := rep.Rows()
	if !req.csv {
		return writeJSON(w, http.StatusOK, agentReport{From: req.from, To: req.to, Interval: req.interval.String(), Rows: rows})
	}
	cw := csvReport(w, "agents.csv", agentReportColumns)
	for _, row := range rows {
		_ = cw.Write([]string{
			row.Start.Format(time.RFC3339), row.End.Format(time.RFC3339), csvSafe(row.Agent),
			strconv.Itoa(row.Handled), csvNum(row.AHTSeconds), strconv.Itoa(row.Missed),
			csvNum(&row.StaffedSeconds), csvNum(&row.AwaySeconds), csvNum(&row.BusySeconds), csvNum(row.Occupancy),
		})
	}
	cw.Flush()
	return nil
}

// csvReport starts a report's CSV answer, file name, with its header
// row.
func csvReport(w http.ResponseWriter, name string, columns []string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	_ = cw.Write(columns)
	return cw
}

// csvNum is a number's cell: empty for null.
func csvNum(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
