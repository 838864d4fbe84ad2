package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/switchboard/switchboard/customers"
)

// Import file formats.
const (
	formatCSV   = "csv"
	formatJSONL = "jsonl"
)

// Progress reports of the import: redrawn this often on a terminal,
// printed as a line this often otherwise (logs, CI).
const (
	progressTTYEvery = 200 * time.Millisecond
	progressLogEvery = 5 * time.Second
)

// importCacheMiB is the import's page cache: enough for the identity
// indexes of a million customers, which the import inserts into in
// random order.
const importCacheMiB = 64

// maxShownRejections is how many rejected rows the import lists on
// stderr; -rejects writes them all.
const maxShownRejections = 100

// importCustomers runs "routerd import customers FILE": it upserts the
// profiles of a CSV or JSON lines file into the store (which a running
// daemon may hold), as PUT /api/v1/customers/{id} would, and reports the
// rejected rows by line. It returns an *exitError with code 1 when rows
// were rejected.
func importCustomers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("routerd import customers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: routerd import customers [-config FILE] [-data DIR] [-format csv|jsonl] [-verified] [-rejects FILE] [-batch N] FILE")
		fmt.Fprintln(stderr, "Creates or replaces the customer profiles of FILE (- for stdin); see docs/import.md.")
		fmt.Fprintln(stderr, "Exit status: 0 every row imported, 1 some rows rejected, 2 usage or fatal error.")
		fs.PrintDefaults()
	}
	configPath, dataDir := configFlags(fs)
	format := fs.String("format", "", "the file's `format`, csv or jsonl (default: from the extension .csv, .jsonl or .ndjson)")
	verified := fs.Bool("verified", false, "record the emails, phones and CRM ids as verified (by default they are claims)")
	rejectsPath := fs.String("rejects", "", "write every rejected row, as \"line N: field ...: message\", to `file`")
	batch := fs.Int("batch", customers.DefaultBatchRows, "rows per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import customers: want exactly one FILE (- for stdin)")
	}
	path := fs.Arg(0)
	if *format == "" {
		*format = formatOf(path)
		if *format == "" {
			return fmt.Errorf("import customers: cannot tell the format of %q from its extension; give -format csv or -format jsonl", path)
		}
	}
	if *format != formatCSV && *format != formatJSONL {
		return fmt.Errorf("import customers: -format %q: want csv or jsonl", *format)
	}
	if *batch < 1 {
		return fmt.Errorf("import customers: -batch %d: want 1 or more", *batch)
	}
	cfg, err := loadConfig(*configPath, "", *dataDir)
	if err != nil {
		return err
	}

	in, size, err := openInput(path)
	if err != nil {
		return fmt.Errorf("import customers: %w", err)
	}
	defer in.Close()
	counted := &countingReader{r: in}
	var rows customers.RowReader
	if *format == formatCSV {
		if rows, err = customers.NewCSVReader(counted); err != nil {
			return fmt.Errorf("import customers: %s: %w", path, err)
		}
	} else {
		rows = customers.NewJSONLReader(counted)
	}

	var rejects *bufio.Writer
	if *rejectsPath != "" {
		f, err := os.Create(*rejectsPath)
		if err != nil {
			return fmt.Errorf("import customers: %w", err)
		}
		defer f.Close()
		rejects = bufio.NewWriter(f)
	}

	db, err := openConfiguredStore(ctx, cfg, importCacheMiB)
	if err != nil {
		return err
	}
	defer db.Close()

	bar := newProgress(stderr, counted, size)
	var shown []customers.Rejection
	var rejectsErr error
	start := time.Now()
	stopBar := bar.run()
	sum, err := customers.Import(ctx, db, rows, &customers.ImportOptions{
		Verified:  *verified,
		By:        "routerd import customers " + path,
		BatchRows: *batch,
		Progress:  bar.update,
		Rejected: func(r customers.Rejection) {
			if len(shown) < maxShownRejections {
				shown = append(shown, r)
			}
			if rejects != nil && rejectsErr == nil {
				_, rejectsErr = fmt.Fprintln(rejects, r)
			}
		},
	})
	elapsed := time.Since(start)
	stopBar()
	if rejects != nil && rejectsErr == nil {
		rejectsErr = rejects.Flush()
	}

	for _, r := range shown {
		fmt.Fprintln(stderr, r)
	}
	if more := sum.Rejected - len(shown); more > 0 {
		hint := "; -rejects FILE lists them all"
		if *rejectsPath != "" {
			hint = " in " + *rejectsPath
		}
		fmt.Fprintf(stderr, "… and %d more rejected rows%s\n", more, hint)
	}
	fmt.Fprintf(stdout, "imported %s into %s: %d rows in %s (%.0f rows/s): %d created, %d updated, %d unchanged, %d rejected\n",
		path, cfg.Store.Path, sum.Rows, elapsed.Round(time.Millisecond), float64(sum.Rows)/max(elapsed.Seconds(), 1e-9),
		sum.Created, sum.Updated, sum.Unchanged, sum.Rejected)
	switch {
	case err != nil:
		return fmt.Errorf("import customers: %w; the rows up to line %d are imported: run the same command again to finish", err, sum.Line)
	case rejectsErr != nil:
		return fmt.Errorf("import customers: write %s: %w", *rejectsPath, rejectsErr)
	case sum.Rejected > 0:
		return &exitError{code: 1, err: fmt.Errorf("import customers: %d of %d rows rejected", sum.Rejected, sum.Rows)}
	}
	return nil
}

// formatOf tells an import file's format from its extension, or "".
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return formatCSV
	case ".jsonl", ".ndjson":
		return formatJSONL
	}
	return ""
}

// openInput opens path, or stdin for "-", with its size when known (a
// regular file), else -1.
func openInput(path string) (io.ReadCloser, int64, error) {
	if path == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return f, -1, nil
	}
	return f, fi.Size(), nil
}

// countingReader counts the bytes read through it; n is read by the
// progress goroutine.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress shows how far an import is: a bar redrawn in place on a
// terminal, a line every progressLogEvery otherwise.
type progress struct {
	w    io.Writer
	tty  bool
	read *countingReader
	// size is the file's size in bytes, -1 when unknown (stdin).
	size  int64
	start time.Time
	// rows is how many rows are committed; set by update on the
	// importing goroutine, read by the drawing one.
	rows atomic.Int64
}

func newProgress(w io.Writer, read *countingReader, size int64) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty, read: read, size: size, start: time.Now()}
}

func (p *progress) update(s customers.ImportSummary) { p.rows.Store(int64(s.Rows)) }

// run draws until the returned stop is called; stop clears the bar.
func (p *progress) run() (stop func()) {
	every := progressLogEvery
	if p.tty {
		every = progressTTYEvery
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if p.tty {
					fmt.Fprint(p.w, "\r\x1b[K")
				}
				return
			case now := <-t.C:
				line := progressLine(p.rows.Load(), p.read.n.Load(), p.size, now.Sub(p.start), p.tty)
				if p.tty {
					fmt.Fprint(p.w, "\r\x1b[K"+line)
				} else {
					fmt.Fprintln(p.w, "routerd import: "+line)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// barWidth is the number of cells of the terminal's progress bar.
const barWidth = 30

// progressLine renders the progress of an import: rows committed, bytes
// read of size (-1 when unknown) after elapsed, with a bar on a terminal.
func progressLine(rows, read, size int64, elapsed time.Duration, tty bool) string {
	rate := float64(rows) / max(elapsed.Seconds(), 1e-9)
	stats := fmt.Sprintf("%d rows, %.0f rows/s", rows, rate)
	if size <= 0 {
		return stats
	}
	frac := min(float64(read)/float64(size), 1)
	eta := "ETA --"
	if frac > 0 && rows > 0 {
		left := time.Duration(float64(elapsed) * (1 - frac) / frac)
		eta = "ETA " + left.Round(time.Second).String()
	}
	pct := fmt.Sprintf("%3.0f%%", 100*frac)
	if !tty {
		return fmt.Sprintf("%s of the file, %s, %s", strings.TrimSpace(pct), stats, eta)
	}
	full := int(frac * barWidth)
	return "[" + strings.Repeat("=", full) + strings.Repeat(" ", barWidth-full) + "] " + pct + " " + stats + ", " + eta
}
