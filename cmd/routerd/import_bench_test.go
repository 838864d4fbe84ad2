package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/customers"
)

// importRows is how many customers BenchmarkImportCustomers imports;
// `make bench-import` asks for 1,000,000.
var importRows = flag.Int("import-rows", 100_000, "customers imported by BenchmarkImportCustomers")

// BenchmarkImportCustomers runs `routerd import customers` (the built
// binary, in a child process, so that its peak RSS is the import's own)
// on a file of synthetic customers (customers.Synthetic: a name, an
// email, a phone, segment, value, language, consents, products, tags),
// into an empty store with the demo configuration (synchronous: full).
//
//	go test -run=NONE -bench=ImportCustomers -benchtime=1x ./cmd/routerd/ -import-rows=1000000
func BenchmarkImportCustomers(b *testing.B) {
	bin, err := buildOnce()
	if err != nil {
		b.Fatal(err)
	}
	n := *importRows
	files := map[string]string{}
	profiles := customers.Synthetic(n, 1)
	for _, format := range []string{formatCSV, formatJSONL} {
		files[format] = filepath.Join(b.TempDir(), "customers."+format)
		if err := writeSynthetic(files[format], format, profiles); err != nil {
			b.Fatal(err)
		}
	}
	profiles = nil
	for _, format := range []string{formatCSV, formatJSONL} {
		b.Run("format="+format, func(b *testing.B) {
			file := files[format]
			fi, err := os.Stat(file)
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				dir := b.TempDir()
				var out bytes.Buffer
				cmd := exec.Command(bin, "import", "customers", "-data", dir, file)
				cmd.Stdout, cmd.Stderr = &out, &out
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				peak := make(chan int64, 1)
				go func() { peak <- watchPeakRSS(cmd.Process.Pid) }()
				err := cmd.Wait()
				elapsed := time.Since(start)
				if err != nil {
					b.Fatalf("import: %v\n%s", err, out.String())
				}
				if want := fmt.Sprintf("%d created, 0 updated, 0 unchanged, 0 rejected", n); !strings.Contains(out.String(), want) {
					b.Fatalf("import said %q, want %q", out.String(), want)
				}
				b.ReportMetric(float64(n)/elapsed.Seconds(), "rows/s")
				b.ReportMetric(elapsed.Seconds(), "s-total")
				b.ReportMetric(float64(<-peak)/1024, "MiB-peak-RSS")
				b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-file")
			}
		})
	}
}

// watchPeakRSS returns the peak resident set of process pid (VmHWM, in
// KiB), as last read before the process ended; it reads every 50 ms.
// (The child's rusage would not do: Linux carries the parent's peak,
// the benchmark's, across the fork and exec.)
func watchPeakRSS(pid int) int64 {
	var peak int64
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return peak
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					peak = max(peak, kib)
				}
			}
		}
		if strings.Contains(string(b), "State:\tZ") {
			return peak
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeSynthetic writes profiles to path as an import file of format,
// every column or field filled.
func writeSynthetic(path, format string, profiles []customers.Profile) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	if format == formatCSV {
		cw.Write([]string{"id", "name", "emails", "phones", "segment", "value", "language", "consent_marketing", "consent_profiling", "products", "tags"})
	}
	for _, p := range profiles {
		c := p.Customer
		in := customers.ProfileInput{ID: c.ID, Name: c.Name, Segment: c.Segment, Value: c.Value, Language: c.Language,
			Consent: c.Consent, Products: c.Products, Tags: c.Tags}
		for _, id := range p.Identities {
			if id.Kind == customers.KindEmail {
				in.Emails = append(in.Emails, id.Value)
			} else {
				in.Phones = append(in.Phones, id.Value)
			}
		}
		if format == formatJSONL {
			if err := enc.Encode(in); err != nil {
				return err
			}
			continue
		}
		cw.Write([]string{in.ID, in.Name, strings.Join(in.Emails, ";"), strings.Join(in.Phones, ";"), in.Segment,
			strconv.FormatFloat(in.Value, 'f', -1, 64), in.Language, strconv.FormatBool(*in.Consent.Marketing),
			strconv.FormatBool(*in.Consent.Profiling), strings.Join(in.Products, ";"), strings.Join(in.Tags, ";")})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
