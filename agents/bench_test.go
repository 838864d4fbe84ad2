package agents

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/screenpop"
)

// raiseFileLimit lifts the soft limit on open files to the hard one:
// every socket is a descriptor (two when both ends are in this process).
func raiseFileLimit(b *testing.B, need uint64) {
	b.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		b.Fatalf("getrlimit: %v", err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		b.Fatalf("setrlimit: %v", err)
	}
	if rl.Cur < need {
		b.Skipf("open-file limit %d is under the %d this benchmark needs", rl.Cur, need)
	}
}

// putAgents defines n agents "agent-0"… concurrently, so that their
// commits are grouped.
func putAgents(b *testing.B, e *env, n int) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				a := router.Agent{ID: "agent-" + strconv.Itoa(i), Name: "Agent " + strconv.Itoa(i), Skills: map[string]int{"billing": 3}}
				if _, _, err := e.rt.PutAgent(e.ctx, a); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("put agent: %v", err)
	default:
	}
}

// dialAgents opens one socket per agent "agent-0"… and reads each one's
// snapshot, with a few dials at a time.
func dialAgents(url string, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				h := http.Header{"Authorization": {fmt.Sprintf("Bearer agent-%d:session-%d", i, i)}}
				ws, _, err := websocket.DefaultDialer.Dial(url, h)
				if err != nil {
					errs <- fmt.Errorf("dial agent-%d: %w", i, err)
					return
				}
				ws.SetReadDeadline(time.Now().Add(time.Minute))
				if _, b, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(b, []byte(`{"type":"snapshot"`)) {
					errs <- fmt.Errorf("agent-%d: want a snapshot, got %.40s, %v", i, b, err)
					return
				}
				ws.SetReadDeadline(time.Time{})
				conns[i] = ws
			}
		}()
	}
	wg.Wait()
	close(errs)
	return conns, <-errs
}

// BenchmarkScreenPopLatency measures, with 5,000 agents connected, the
// time from the router's notification of an offer to the agent's client
// reading it with its screen pop. The target is 5 ms at p99.
//
//	go test -run=^$ -bench=ScreenPopLatency -benchtime=2000x ./agents/
func BenchmarkScreenPopLatency(b *testing.B) {
	const agents = 5000
	raiseFileLimit(b, 2*agents+100)
	var stamps sync.Map // contact id → time.Time of the offer's notification
	var e *env
	e = newEnv(b, router.NotifierFunc(func(ns []router.Notification) {
		for _, n := range ns {
			if n.Kind == router.NoteOffer {
				stamps.Store(n.Contact.ID, time.Now())
			}
		}
		e.hub.Notify(ns)
	}))
	putAgents(b, e, agents)
	conns, err := dialAgents(e.wsURL(""), agents)
	if err != nil {
		b.Fatal(err)
	}
	type delivery struct {
		contactID string
		latency   time.Duration
	}
	delivered := make(chan delivery, 16)
	for _, ws := range conns {
		go func() {
			defer ws.Close()
			for {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if !bytes.HasPrefix(msg, []byte(`{"type":"offer",`)) {
					continue
				}
				at := time.Now()
				var o struct {
					Data struct {
						ContactID string        `json:"contact_id"`
						ScreenPop screenpop.Pop `json:"screen_pop"`
					} `json:"data"`
				}
				if json.Unmarshal(msg, &o) != nil || o.Data.ScreenPop.Contact.ID != o.Data.ContactID {
					continue
				}
				if t0, ok := stamps.Load(o.Data.ContactID); ok {
					delivered <- delivery{o.Data.ContactID, at.Sub(t0.(time.Time))}
				}
			}
		}()
	}
	// A history for the screen pops to find: 3 earlier contacts of each
	// customer.
	for i := range 1500 {
		cu := router.Customer{Name: "Customer", Email: fmt.Sprintf("c%d@example.com", i%500)}
		c := e.submit(router.NewContact{Channel: "email", Customer: cu, Body: "earlier"})
		if _, err := e.rt.CloseContact(e.ctx, c.ID, "", "resolved", ""); err != nil {
			b.Fatalf("close: %v", err)
		}
	}
	for i := range agents {
		if _, err := e.rt.SetAgentState(e.ctx, "agent-"+strconv.Itoa(i), router.AgentAvailable, ""); err != nil {
			b.Fatalf("set state: %v", err)
		}
	}

	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		// 500 customers, each coming back every 500 contacts.
		cu := router.Customer{Name: "Customer", Email: fmt.Sprintf("c%d@example.com", i%500)}
		c := e.submit(router.NewContact{Subject: "bill", Body: "my bill is wrong", Customer: cu})
		select {
		case d := <-delivered:
			if d.contactID != c.ID {
				b.Fatalf("got the offer of %s, want %s", d.contactID, c.ID)
			}
			latencies = append(latencies, d.latency)
		case <-time.After(10 * time.Second):
			b.Fatalf("no offer of %s delivered", c.ID)
		}
		b.StopTimer()
		if _, err := e.rt.CloseContact(e.ctx, c.ID, "", "", ""); err != nil {
			b.Fatalf("close: %v", err)
		}
		stamps.Delete(c.ID)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(agents), "agents")
}

// idleAgents is how many agents BenchmarkIdleConnections connects:
// -idle-agents=20000 for the report's row.
var idleAgents = flag.Int("idle-agents", 10000, "agents BenchmarkIdleConnections connects")

// BenchmarkIdleConnections measures the daemon's memory for 10,000 idle
// agent sockets (the target is 500 MiB in all). The clients run in a
// child process, so that only the server's side is counted.
//
//	go test -run=^$ -bench=IdleConnections -benchtime=1x ./agents/
func BenchmarkIdleConnections(b *testing.B) {
	agents := *idleAgents
	raiseFileLimit(b, uint64(agents)+100)
	e := newEnv(b)
	putAgents(b, e, agents)
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)

		child := exec.Command(os.Args[0], "-test.run=^TestBenchClients$")
		child.Env = append(os.Environ(), "SB_BENCH_CLIENTS="+strconv.Itoa(agents), "SB_BENCH_URL="+e.wsURL(""))
		stdin, err := child.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := child.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		child.Stderr = os.Stderr
		start := time.Now()
		if err := child.Start(); err != nil {
			b.Fatalf("start clients: %v", err)
		}
		lines := bufio.NewScanner(stdout)
		ready := false
		for lines.Scan() {
			if lines.Text() == "ready" {
				ready = true
				break
			}
		}
		if !ready {
			child.Wait()
			b.Fatalf("the client process did not connect its %d sockets", agents)
		}
		connected := time.Since(start)
		e.hub.mu.RLock()
		open := len(e.hub.conns)
		e.hub.mu.RUnlock()
		if open != agents {
			b.Fatalf("got %d open sockets, want %d", open, agents)
		}

		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		inUse := func(m *runtime.MemStats) float64 { return float64(m.HeapInuse + m.StackInuse) }
		b.ReportMetric((inUse(&after)-inUse(&before))/float64(agents), "bytes/conn")
		b.ReportMetric(float64(after.Sys)/(1<<20), "MiB-sys-total")
		b.ReportMetric(connected.Seconds(), "s-to-connect")

		stdin.Close()
		child.Wait()
	}
}

// TestBenchClients is BenchmarkIdleConnections's client process: it opens
// SB_BENCH_CLIENTS sockets to SB_BENCH_URL, says "ready", and holds them
// until its stdin closes. Without the variables it does nothing.
func TestBenchClients(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("SB_BENCH_CLIENTS"))
	if err != nil {
		t.Skip("the client process of BenchmarkIdleConnections")
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	conns, err := dialAgents(os.Getenv("SB_BENCH_URL"), n)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	var buf [1]byte
	os.Stdin.Read(buf[:])
	for _, ws := range conns {
		ws.Close()
	}
}
