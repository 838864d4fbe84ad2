package chat

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// idleCustomersFlag is how many customers BenchmarkIdleCustomers
// connects: -idle-customers=20000 for the report's row.
var idleCustomersFlag = flag.Int("idle-customers", 10000, "customers BenchmarkIdleCustomers connects")

// Environment of the dialer child process of BenchmarkIdleCustomers: the
// customers' ends of the sockets live there, so that the parent measures
// the server alone (and each process stays under its file limit).
const (
	envDialURL = "CHAT_BENCH_DIAL_URL"
	envDialN   = "CHAT_BENCH_DIAL_N"
)

// TestDialerChild is the child of BenchmarkIdleCustomers; it does
// nothing unless started by it.
func TestDialerChild(t *testing.T) {
	url, n := os.Getenv(envDialURL), os.Getenv(envDialN)
	if url == "" {
		t.Skip("only run as BenchmarkIdleCustomers' dialer")
	}
	count, _ := strconv.Atoi(n)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []*websocket.Conn
		fail  error
	)
	next := make(chan int)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ws, err := dialStarted(url, i)
				mu.Lock()
				if err != nil && fail == nil {
					fail = err
				}
				if ws != nil {
					conns = append(conns, ws)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range count {
		next <- i
	}
	close(next)
	wg.Wait()
	if fail != nil {
		fmt.Println("FAIL", fail)
		return
	}
	fmt.Println("READY", len(conns))
	// Hold the sockets (answering pings) until the parent closes stdin.
	for _, ws := range conns {
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// dialStarted connects one customer and starts a conversation.
func dialStarted(url string, i int) (*websocket.Conn, error) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(startData{Name: fmt.Sprintf("Customer %d", i), Topic: "billing"})
	if err := ws.WriteJSON(envelope{Type: typeStart, ID: "s", Data: data}); err != nil {
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(time.Minute))
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			return nil, err
		}
		switch f.Type {
		case typeStarted:
			ws.SetReadDeadline(time.Time{})
			return ws, nil
		case typeError:
			return nil, fmt.Errorf("start: %s", f.Data)
		}
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkIdleCustomers connects 10,000 customers (-idle-customers), each with a started
// conversation waiting in a queue, and reports the server's memory per
// connection (heap and stacks in use, after GC, over the baseline).
// Run it once: go test -run '^$' -bench IdleCustomers -benchtime 1x.
func BenchmarkIdleCustomers(b *testing.B) {
	idleCustomers := *idleCustomersFlag
	e := newEnv(b, func(o *Options) { o.ConversationsPerMinute, o.ConnectionsPerAddress = 2*idleCustomers, 2*idleCustomers })
	alice(e, 0, router.AgentAvailable) // staffed, never offered: everyone waits
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	before := heapAndStacks()
	goBefore := runtime.NumGoroutine()
	b.ResetTimer()
	cmd := exec.Command(exe, "-test.run=^TestDialerChild$", "-test.v")
	cmd.Env = append(os.Environ(), envDialURL+"=ws"+strings.TrimPrefix(e.srv.URL, "http")+"/ws/chat", envDialN+"="+strconv.Itoa(idleCustomers))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "FAIL") {
			b.Fatal(line)
		}
		if strings.HasPrefix(line, "READY") {
			ready = true
			break
		}
	}
	if !ready {
		b.Fatal("the dialer child ended without connecting")
	}
	b.StopTimer()
	after := heapAndStacks()
	e.chat.mu.RLock()
	n := len(e.chat.conns)
	e.chat.mu.RUnlock()
	if n != idleCustomers {
		b.Fatalf("%d sockets connected, want %d", n, idleCustomers)
	}
	total := after - before
	b.ReportMetric(float64(total)/float64(n), "bytes/conn")
	b.ReportMetric(float64(total)/(1<<20), "MiB-total")
	b.ReportMetric(float64(runtime.NumGoroutine()-goBefore)/float64(n), "goroutines/conn")
}

// BenchmarkAgentToCustomerLatency sends agents' messages at 1,000 a
// second to 100 assigned conversations and reports the delivery latency
// from router.AddMessage (the agent's send, committed to SQLite with
// synchronous=normal) to the customer's socket read.
// Messages go through the outbox, as in routerd: committed with their
// outbox entry, then handed to the chat by the dispatcher.
func BenchmarkAgentToCustomerLatency(b *testing.B) {
	const (
		customers = 100
		rate      = 1000
	)
	// As routerd runs it: agents' messages go through the outbox.
	e := newEnvRouter(b, router.Options{Outbound: []router.Channel{router.ChannelChat}}, func(o *Options) { o.ConnectionsPerAddress = 1000 })
	disp, err := outbox.New(outbox.Options{Router: e.router, Store: e.db,
		Senders: map[router.Channel]outbox.Sender{router.ChannelChat: e.chat}})
	if err != nil {
		b.Fatal(err)
	}
	e.fw.out.Store(disp)
	if err := disp.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer disp.Close()
	for i := range 10 {
		e.agent(fmt.Sprintf("a%d", i), fmt.Sprintf("Agent %d", i), map[string]int{"billing": 5}, 10, router.AgentAvailable)
	}
	ctx := context.Background()
	ids := make([]string, customers)
	owners := make([]string, customers) // the agent each contact is with
	clients := make([]*client, customers)
	for i := range customers {
		c := e.dial(nil)
		conv := c.start(startData{Name: "C", Topic: "billing"})
		ct, ok := e.router.Snapshot().Contact(conv.ConversationID)
		if !ok || ct.State != router.ContactOffered {
			b.Fatalf("contact %d not offered: %+v", i, ct)
		}
		if _, err := e.router.Accept(ctx, ct.ID, ct.AgentID); err != nil {
			b.Fatal(err)
		}
		c.expect(typeAssign)
		ids[i], owners[i], clients[i] = ct.ID, ct.AgentID, c
	}
	n := max(b.N, 2000)
	sent := make([]time.Time, n)
	var smu sync.Mutex
	lat := make([]time.Duration, 0, n)
	var lmu sync.Mutex
	var readers sync.WaitGroup
	perClient := make([]int, customers)
	for i := range n {
		perClient[i%customers]++
	}
	for ci, c := range clients {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for got := 0; got < perClient[ci]; {
				c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
				_, raw, err := c.ws.ReadMessage()
				if err != nil {
					b.Errorf("read: %v", err)
					return
				}
				now := time.Now()
				var f frame
				json.Unmarshal(raw, &f)
				if f.Type != typeMessage {
					continue
				}
				var m messageData
				json.Unmarshal(f.Data, &m)
				k, _ := strconv.Atoi(m.Body)
				smu.Lock()
				d := now.Sub(sent[k])
				smu.Unlock()
				lmu.Lock()
				lat = append(lat, d)
				lmu.Unlock()
				got++
			}
		}()
	}
	b.ResetTimer()
	tick := time.NewTicker(time.Second / rate)
	var senders sync.WaitGroup
	for i := range n {
		<-tick.C
		senders.Add(1)
		go func() {
			defer senders.Done()
			smu.Lock()
			sent[i] = time.Now()
			smu.Unlock()
			if _, _, err := e.router.AddMessage(ctx, ids[i%customers], router.Message{Direction: "out", Author: owners[i%customers], Body: strconv.Itoa(i)}); err != nil {
				b.Errorf("AddMessage: %v", err)
			}
		}()
	}
	tick.Stop()
	senders.Wait()
	readers.Wait()
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("nothing delivered")
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
