package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-memdb"
)

// BenchmarkPerContactCost sets what one contact costs routerd against
// the floor of this machine, both measured in the same run:
//
//   - the floor: one fsync'd SQLite commit (a one-row insert, WAL,
//     synchronous full, the driver routerd uses), one go-memdb write
//     transaction (one object, one index), and one loopback WebSocket
//     write of an offer's size read by its peer: what any router that
//     commits a contact before answering and pushes it to an agent's
//     socket must pay at least, once each;
//   - the contact: routerd itself (its own process, SQLite with
//     synchronous full, every channel's machinery as configured), one
//     caller at a time: POST /api/v1/contacts to the offer read on the
//     available agent's desktop socket. The contact is then abandoned
//     (not timed), so the agent takes the next.
//
// ratio is the contact's p50 over the floor's (the sum of the three
// p50s); ratio-with-http adds to the floor one loopback HTTP POST
// answered at once (the API contact's way in, which routerd cannot
// avoid either).
//
//	go test -run=NONE -bench=PerContactCost -benchtime=2000x ./cmd/routerd/
//
// PERCONTACT_CPUPROFILE=FILE writes routerd's CPU profile of the run
// (routerd -cpuprofile; go tool pprof FILE).
func BenchmarkPerContactCost(b *testing.B) {
	const floorOps = 2000
	fsync := floorFsync(b, floorOps)
	mem := floorMemdb(b, floorOps)
	ws := floorWebSocket(b, floorOps)
	web := floorHTTP(b, floorOps)

	dir := b.TempDir()
	args := []string{"-config", writeConfig(b, dir)}
	profile := os.Getenv("PERCONTACT_CPUPROFILE")
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	d := startDaemonEnv(b, nil, args...)
	eventually(b, "routerd ready", func() bool {
		code, err := call(d.base, "GET", "/readyz", nil, nil, nil)
		return err == nil && code == http.StatusOK
	})
	desk, err := chaosDesktop(d.base, "a0")
	if err != nil {
		b.Fatal(err)
	}
	defer desk.Close()
	offers := make(chan string, 1)
	go func() {
		for {
			_, msg, err := desk.ReadMessage()
			if err != nil {
				close(offers)
				return
			}
			if !bytes.HasPrefix(msg, []byte(`{"type":"offer",`)) {
				continue
			}
			var o struct {
				Data struct {
					ContactID string `json:"contact_id"`
				} `json:"data"`
			}
			if json.Unmarshal(msg, &o) == nil {
				offers <- o.Data.ContactID
			}
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		var c struct {
			ID string `json:"id"`
		}
		code, err := call(d.base, "POST", "/api/v1/contacts", map[string]any{"channel": "api", "queue": "billing",
			"customer": map[string]any{"name": "Ada"}, "body": fmt.Sprintf("question %d", i)}, nil, &c)
		if err != nil || code != http.StatusCreated {
			b.Fatalf("create: %d %v", code, err)
		}
		select {
		case id, ok := <-offers:
			if !ok || id != c.ID {
				b.Fatalf("offer of %q (socket open %v), want %s", id, ok, c.ID)
			}
		case <-time.After(10 * time.Second):
			b.Fatalf("no offer of %s", c.ID)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if code, err := call(d.base, "POST", "/api/v1/contacts/"+c.ID+"/abandon", map[string]string{"reason": "bench"}, nil, nil); err != nil || code != http.StatusOK {
			b.Fatalf("abandon: %d %v", code, err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	if profile != "" {
		// The profile is written as routerd stops.
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			b.Fatal(err)
		}
		if err := d.wait(); err != nil {
			b.Fatalf("routerd: %v", err)
		}
	}
	floor := p50(fsync) + p50(mem) + p50(ws)
	b.ReportMetric(msOf(p50(fsync)), "fsync-p50-ms")
	b.ReportMetric(float64(p50(mem).Nanoseconds())/1000, "memdb-p50-µs")
	b.ReportMetric(msOf(p50(ws)), "ws-p50-ms")
	b.ReportMetric(msOf(floor), "floor-p50-ms")
	b.ReportMetric(msOf(p50(lat)), "contact-p50-ms")
	b.ReportMetric(msOf(quantileOf(lat, 0.99)), "contact-p99-ms")
	b.ReportMetric(float64(p50(lat))/float64(floor), "ratio")
	b.ReportMetric(msOf(p50(web)), "http-p50-ms")
	b.ReportMetric(float64(p50(lat))/float64(floor+p50(web)), "ratio-with-http")
	b.ReportMetric(0, "ns/op")
}

// floorFsync times n one-row commits on SQLite, WAL, synchronous full.
func floorFsync(b *testing.B, n int) []time.Duration {
	b.Helper()
	db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "floor.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(full)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	stmt, err := db.Prepare(`INSERT INTO t (v) VALUES (?)`)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	row := strings.Repeat("x", 512)
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := stmt.Exec(row); err != nil {
			b.Fatal(err)
		}
		out = append(out, time.Since(start))
	}
	return out
}

// floorMemdb times n write transactions of one object on go-memdb.
func floorMemdb(b *testing.B, n int) []time.Duration {
	b.Helper()
	type obj struct{ ID, V string }
	db, err := memdb.NewMemDB(&memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		"t": {Name: "t", Indexes: map[string]*memdb.IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
		}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		txn := db.Txn(true)
		if err := txn.Insert("t", &obj{ID: fmt.Sprintf("c%06d", i%1000), V: "x"}); err != nil {
			b.Fatal(err)
		}
		txn.Commit()
		out = append(out, time.Since(start))
	}
	return out
}

// floorWebSocket times n writes of a 2 KiB text frame (an offer with its
// screen pop is 1–3 KiB) on a loopback WebSocket, each until its peer has
// read it.
func floorWebSocket(b *testing.B, n int) []time.Duration {
	b.Helper()
	read := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			_, _, err := c.ReadMessage()
			read <- err
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	frame := bytes.Repeat([]byte("x"), 2048)
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
			b.Fatal(err)
		}
		if err := <-read; err != nil {
			b.Fatal(err)
		}
		out = append(out, time.Since(start))
	}
	return out
}

// floorHTTP times n loopback POSTs of a small JSON body to a handler
// that reads it and answers 201 with a small JSON body: the way in of an
// API contact, with nothing done.
func floorHTTP(b *testing.B, n int) []time.Duration {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":"01M92AMHQ4WKZQ7WR93EYY40A2","state":"offered"}`))
	}))
	defer srv.Close()
	body := []byte(`{"channel":"api","queue":"billing","customer":{"name":"Ada"},"body":"question"}`)
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("floor POST: %d %v", resp.StatusCode, err)
		}
		out = append(out, time.Since(start))
	}
	return out
}

func p50(d []time.Duration) time.Duration { return quantileOf(d, 0.5) }

// quantileOf returns the q-quantile of d (nearest rank); d is sorted in
// place.
func quantileOf(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
