package replay

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Report sets the recorded figures of a period beside the replayed ones.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Config names the configuration replayed (a file name).
	Config   string   `json:"config"`
	Recorded *Figures `json:"recorded"`
	Replayed *Figures `json:"replayed"`
	// Contacts counts the recorded contacts.
	Contacts int `json:"contacts"`
	// ReplayedContacts counts the contacts fed to the replayed router.
	ReplayedContacts int `json:"replayed_contacts"`
	// Notes say what was not replayed, and what is estimated.
	Notes []string `json:"notes"`
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// line is one figure of the table: its name and how to show it.
type line struct {
	name string
	get  func(q *QueueFigures) *float64
	show func(f float64) string
	diff func(a, b float64) string
}

func count(n int) *float64 { f := float64(n); return &f }

func percent(f float64) string { return fmt.Sprintf("%.1f %%", f*100) }
func secs(f float64) string    { return fmt.Sprintf("%.1f s", f) }
func integer(f float64) string { return fmt.Sprintf("%.0f", f) }

func points(a, b float64) string { return fmt.Sprintf("%+.1f pt", (b-a)*100) }
func delta(a, b float64) string  { return fmt.Sprintf("%+.1f s", b-a) }
func plain(a, b float64) string  { return fmt.Sprintf("%+.0f", b-a) }

var queueLines = []line{
	{"offered", func(q *QueueFigures) *float64 { return count(q.Offered) }, integer, plain},
	{"answered", func(q *QueueFigures) *float64 { return count(q.Answered) }, integer, plain},
	{"abandoned", func(q *QueueFigures) *float64 { return count(q.Abandoned) }, integer, plain},
	{"service level", func(q *QueueFigures) *float64 { return q.ServiceLevel }, percent, points},
	{"ASA", func(q *QueueFigures) *float64 { return q.ASASeconds }, secs, delta},
	{"abandonment", func(q *QueueFigures) *float64 { return q.AbandonRate }, percent, points},
	{"AHT", func(q *QueueFigures) *float64 { return q.AHTSeconds }, secs, delta},
}

func show(f *float64, fn func(float64) string) string {
	if f == nil {
		return "-"
	}
	return fn(*f)
}

// queueTitle names a queue's block with its service level goal.
func queueTitle(q *QueueFigures) string {
	if q.Queue == "" {
		return "all queues"
	}
	return fmt.Sprintf("queue %s (%.0f %% within %gs)", q.Queue, q.Target*100, q.WithinSeconds)
}

// row is one row of the table; a Block row only names the rows after it.
type row struct {
	Name, Recorded, Replayed, Change string
	Block                            bool
}

func (r row) cells() [4]string { return [4]string{r.Name, r.Recorded, r.Replayed, r.Change} }

// pad is the spaces that bring s to width.
func pad(width int, s string) string {
	return strings.Repeat(" ", max(width-utf8.RuneCountInString(s), 0))
}

// rows are the table's rows.
func (r *Report) rows() []row {
	var out []row
	block := func(title string, rec, rep *QueueFigures) {
		out = append(out, row{Name: title, Block: true})
		for _, l := range queueLines {
			var a, b *float64
			if rec != nil {
				a = l.get(rec)
			}
			if rep != nil {
				b = l.get(rep)
			}
			change := ""
			if a != nil && b != nil {
				change = l.diff(*a, *b)
			}
			out = append(out, row{"  " + l.name, show(a, l.show), show(b, l.show), change, false})
		}
	}
	block("all queues", &r.Recorded.Total, &r.Replayed.Total)
	for _, name := range r.queueNames() {
		rec, rep := r.Recorded.queue(name), r.Replayed.queue(name)
		title := ""
		if rep != nil {
			title = queueTitle(rep)
		} else {
			title = queueTitle(rec)
		}
		block(title, rec, rep)
	}
	out = append(out, row{Name: "agents", Block: true})
	occ := row{Name: "  occupancy", Recorded: show(r.Recorded.Occupancy, percent), Replayed: show(r.Replayed.Occupancy, percent)}
	if r.Recorded.Occupancy != nil && r.Replayed.Occupancy != nil {
		occ.Change = points(*r.Recorded.Occupancy, *r.Replayed.Occupancy)
	}
	out = append(out, occ, row{Name: "offers", Block: true})
	ro, po := r.Recorded.Offers, r.Replayed.Offers
	out = append(out,
		row{"  shown", integer(float64(ro.Shown)), integer(float64(po.Shown)), plain(float64(ro.Shown), float64(po.Shown)), false},
		row{"  accepted", fmt.Sprintf("%.0f", ro.Accepted), fmt.Sprintf("%.1f", po.Accepted), fmt.Sprintf("%+.1f", po.Accepted-ro.Accepted), false})
	if po.EstimatedShown > 0 {
		out = append(out, row{Name: "  of which estimated", Replayed: fmt.Sprintf("%.1f of %d shown", po.EstimatedAccepted, po.EstimatedShown)})
	}
	return out
}

// queueNames are the queues of both sides, by name.
func (r *Report) queueNames() []string {
	seen := map[string]bool{}
	var names []string
	for _, f := range []*Figures{r.Recorded, r.Replayed} {
		for _, q := range f.Queues {
			if !seen[q.Queue] {
				seen[q.Queue] = true
				names = append(names, q.Queue)
			}
		}
	}
	slices.Sort(names)
	return names
}

func (f *Figures) queue(name string) *QueueFigures {
	for i := range f.Queues {
		if f.Queues[i].Queue == name {
			return &f.Queues[i]
		}
	}
	return nil
}

// WriteText writes r as a table.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "replay of %s to %s under %s: %d of %d contacts replayed\n\n",
		r.From.Format(time.RFC3339), r.To.Format(time.RFC3339), r.Config, r.ReplayedContacts, r.Contacts)
	rows := append([]row{{Name: "", Recorded: "recorded", Replayed: "replayed", Change: "change"}}, r.rows()...)
	var width [4]int
	for _, row := range rows {
		for i, cell := range row.cells() {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		if row.Block {
			fmt.Fprintf(&b, "\n%s\n", row.Name)
			continue
		}
		c := row.cells()
		fmt.Fprintf(&b, "%s%s  %s%s  %s%s  %s%s\n",
			c[0], pad(width[0], c[0]), pad(width[1], c[1]), c[1], pad(width[2], c[2]), c[2], pad(width[3], c[3]), c[3])
	}
	text := b.String()
	for _, n := range r.Notes {
		text += "\nnote: " + n
	}
	_, err := io.WriteString(w, text+"\n")
	return err
}

// chart is an inline SVG line chart of two series.
type chart struct {
	Title              string
	Width, Height      int
	ViewW, ViewH       int    // the drawing and its margins
	Recorded, Replayed string // polyline points
	YMax               string
	XStart, XEnd       string
}

const chartW, chartH = 720, 200

// polyline draws ys (nil values skipped) over the chart's width, from 0
// to ymax upwards.
func polyline(ys []*float64, ymax float64) string {
	var b strings.Builder
	n := len(ys)
	for i, y := range ys {
		if y == nil {
			continue
		}
		x := 0.0
		if n > 1 {
			x = float64(i) * chartW / float64(n-1)
		}
		fmt.Fprintf(&b, "%.1f,%.1f ", x, chartH-(*y/ymax)*chartH)
	}
	return strings.TrimSpace(b.String())
}

func (r *Report) charts() []chart {
	waitRec, waitRep := intsOf(r.Recorded.Waiting), intsOf(r.Replayed.Waiting)
	wmax := math.Max(maxOf(waitRec), maxOf(waitRep))
	wmax = math.Max(wmax, 1)
	slRec, slRep := slOf(r.Recorded.Intervals), slOf(r.Replayed.Intervals)
	start, end := r.From.Format("15:04"), r.To.Format("15:04")
	return []chart{
		{Title: "Contacts waiting, each minute", Width: chartW, Height: chartH, ViewW: chartW + 50, ViewH: chartH + 30,
			Recorded: polyline(waitRec, wmax), Replayed: polyline(waitRep, wmax), YMax: fmt.Sprintf("%.0f", wmax), XStart: start, XEnd: end},
		{Title: fmt.Sprintf("Service level, every queue, per %.0f min", ChartInterval(r.From, r.To).Minutes()), Width: chartW, Height: chartH, ViewW: chartW + 50, ViewH: chartH + 30,
			Recorded: polyline(slRec, 1), Replayed: polyline(slRep, 1), YMax: "100 %", XStart: start, XEnd: end},
	}
}

func intsOf(ns []int) []*float64 {
	out := make([]*float64, len(ns))
	for i, n := range ns {
		out[i] = count(n)
	}
	return out
}

func slOf(iv []IntervalFigures) []*float64 {
	out := make([]*float64, len(iv))
	for i, f := range iv {
		out[i] = f.ServiceLevel
	}
	return out
}

func maxOf(ys []*float64) float64 {
	m := 0.0
	for _, y := range ys {
		if y != nil && *y > m {
			m = *y
		}
	}
	return m
}

// htmlReport is what the HTML template shows.
type htmlReport struct {
	*Report
	Rows   []row
	Charts []chart
}

// WriteHTML writes r as one self-contained HTML page (no script, no
// outside file): the table and inline SVG charts of the contacts
// waiting and of the service level, recorded against replayed. Every
// text is escaped by html/template.
func (r *Report) WriteHTML(w io.Writer) error {
	return htmlTemplate.Execute(w, htmlReport{Report: r, Rows: r.rows(), Charts: r.charts()})
}

var htmlTemplate = template.Must(template.New("replay").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Replay {{.From.Format "2006-01-02 15:04"}} to {{.To.Format "2006-01-02 15:04"}} under {{.Config}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
td, th { padding: 2px 12px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
tr.block td { font-weight: 600; padding-top: 10px; }
.rec { stroke: #888; } .rep { stroke: #1565c0; }
svg { background: #fafafa; border: 1px solid #ddd; }
.key span { display: inline-block; width: 1.5em; height: 3px; vertical-align: middle; margin: 0 4px 0 12px; }
</style></head>
<body>
<h1>Replay under {{.Config}}</h1>
<p>{{.From.Format "2006-01-02 15:04 MST"}} to {{.To.Format "2006-01-02 15:04 MST"}}: {{.ReplayedContacts}} of {{.Contacts}} contacts replayed.</p>
<table>
<tr><th></th><th>recorded</th><th>replayed</th><th>change</th></tr>
{{range .Rows}}{{if .Block}}<tr class="block"><td colspan="4">{{.Name}}</td></tr>
{{else}}<tr><td>{{.Name}}</td><td>{{.Recorded}}</td><td>{{.Replayed}}</td><td>{{.Change}}</td></tr>
{{end}}{{end}}</table>
{{range .Charts}}
<h2>{{.Title}}</h2>
<p class="key"><span style="background:#888"></span>recorded<span style="background:#1565c0"></span>replayed</p>
<svg width="{{.ViewW}}" height="{{.ViewH}}" viewBox="-40 -10 {{.ViewW}} {{.ViewH}}" role="img" aria-label="{{.Title}}">
<text x="-36" y="4" font-size="11">{{.YMax}}</text><text x="-36" y="{{.Height}}" font-size="11">0</text>
<text x="0" y="{{.Height}}" dy="14" font-size="11">{{.XStart}}</text><text x="{{.Width}}" y="{{.Height}}" dy="14" font-size="11" text-anchor="end">{{.XEnd}}</text>
<polyline class="rec" fill="none" stroke-width="1.5" points="{{.Recorded}}"/>
<polyline class="rep" fill="none" stroke-width="1.5" points="{{.Replayed}}"/>
</svg>
{{end}}
{{if .Notes}}<h2>Notes</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p>How the replay works, what it assumes and how closely it matches: docs/replay.md.</p>
</body></html>
`))
