package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// BenchmarkBoard builds the live board (queues, agents, their JSON) of a
// large center: 5,000 agents, 50 queues, 2,000 contacts waiting and
// 1,000 ringing or held. The live page builds it at most once a second,
// once for all its viewers: ns/op is the share of a core it takes
// (1e7 ns/op is 1 %).
func BenchmarkBoard(b *testing.B) {
	const agents, queues, waiting, held = 5000, 50, 2000, 1000
	ctx := context.Background()
	db := benchStore(b)
	r := benchRouter(b, db, &router.Options{Clock: router.NewManualClock(t0), Capacity: map[router.Channel]int{router.ChannelChat: 1}})
	benchQueues(b, r, queues, true)
	for a := 0; a < agents; a++ {
		skills := map[string]int{fmt.Sprintf("s%02d", a%queues): 3, fmt.Sprintf("s%02d", (a+7)%queues): 2}
		id := fmt.Sprintf("a%04d", a)
		if _, _, err := r.PutAgent(ctx, router.Agent{ID: id, Name: id, Skills: skills}); err != nil {
			b.Fatal(err)
		}
		if a < held {
			if _, err := r.AgentConnected(ctx, id); err != nil {
				b.Fatal(err)
			}
			if _, err := r.SetAgentState(ctx, id, router.AgentAvailable, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	for c := 0; c < waiting+held; c++ {
		if _, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelChat, Queue: fmt.Sprintf("q%02d", c%queues)}); err != nil {
			b.Fatal(err)
		}
	}
	snap := r.Snapshot()
	stats, err := db.QueueStats(ctx, snap.At.Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		board := NewBoard(snap, stats, time.Hour)
		if _, err := json.Marshal(board); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWindowFigures is the part of a board that grows with the
// contacts: the window's figures of 50 queues when 100,000 contacts were
// answered in the last hour (28 a second). "store" reads them from the
// store at each build (QueueStats, then FiguresOf), as routerd did
// before; "kept" asks Waits, which keeps them as contacts come and go
// (seeded from the same store). ns/op per build; the live page builds at
// most once a second.
//
//	go test -run='^$' -bench=WindowFigures ./dashboards/
func BenchmarkWindowFigures(b *testing.B) {
	const queues, answered = 50, 100000
	ctx := context.Background()
	db := benchStore(b)
	now := t0.Add(time.Hour)
	var batch router.Batch
	for i := 0; i < answered; i++ {
		at := t0.Add(time.Duration(i) * time.Hour / answered)
		c := router.Contact{ID: fmt.Sprintf("c%07d", i), Channel: router.ChannelChat, Queue: fmt.Sprintf("q%02d", i%queues),
			State: router.ContactClosed, AgentID: "a", CreatedAt: at, EnqueuedAt: at, QueuedAt: at,
			AssignedAt: at.Add(time.Duration(i%120) * time.Second), EndedAt: at.Add(5 * time.Minute)}
		batch.Contacts = append(batch.Contacts, c)
		if len(batch.Contacts) == 1000 {
			if err := db.Commit(ctx, &batch); err != nil {
				b.Fatal(err)
			}
			batch.Contacts = batch.Contacts[:0]
		}
	}
	r := benchRouter(b, db, &router.Options{Clock: router.NewManualClock(now)})
	benchQueues(b, r, queues, false)
	snap := r.Snapshot()
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			stats, err := db.QueueStats(ctx, snap.At.Add(-time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range snap.Queues() {
				FiguresOf(stats[q.Name], q.ServiceLevel, time.Hour)
			}
		}
	})
	b.Run("kept", func(b *testing.B) {
		w := NewWaits(r, time.Hour)
		w.now = func() time.Time { return now }
		if err := w.Seed(ctx, db); err != nil {
			b.Fatal(err)
		}
		if f := w.Figures(snap)["q00"]; f.Answered != answered/queues {
			b.Fatalf("seeded %d answers of q00, want %d", f.Answered, answered/queues)
		}
		for b.Loop() {
			w.Figures(snap)
		}
	})
}

// BenchmarkWaitsNotify is what Waits costs per contact on the router's
// event stream: queued, then offered, accepted, and closed, each its own
// notification, in one of 50 queues with an hour's 100,000 answers kept.
func BenchmarkWaitsNotify(b *testing.B) {
	const queues = 50
	r := benchRouter(b, benchStore(b), &router.Options{Clock: router.NewManualClock(t0)})
	benchQueues(b, r, queues, false)
	w := NewWaits(r, time.Hour)
	at := t0
	w.now = func() time.Time { return at }
	i := 0
	for b.Loop() {
		at = at.Add(36 * time.Millisecond) // 100,000 an hour
		c := router.Contact{ID: fmt.Sprintf("c%09d", i), Queue: fmt.Sprintf("q%02d", i%queues), QueuedAt: at}
		i++
		c.State = router.ContactQueued
		waitsContact(w, c, at)
	}
}

// waitsContact takes c through its queue on w's event stream: queued,
// offered, accepted at at, closed a minute later.
func waitsContact(w *Waits, c router.Contact, at time.Time) {
	c.State = router.ContactQueued
	w.NotifyBatch(router.Published{Notes: []router.Notification{{Kind: router.NoteContact, Contact: &c}}})
	o := c
	o.State = router.ContactOffered
	w.NotifyBatch(router.Published{Notes: []router.Notification{{Kind: router.NoteOffer, Contact: &o}}})
	a := o
	a.State, a.AssignedAt = router.ContactAssigned, at
	w.NotifyBatch(router.Published{Notes: []router.Notification{{Kind: router.NoteAssigned, Contact: &a}}})
	e := a
	e.State, e.EndedAt = router.ContactClosed, at.Add(time.Minute)
	w.NotifyBatch(router.Published{Notes: []router.Notification{{Kind: router.NoteContactEnded, Contact: &e}}})
}

// BenchmarkWaitsKept is the memory Waits keeps per contact of its
// window: an hour of 200 contacts a second (720,000) through 50 queues,
// the heap held after them over the heap before, per contact
// (kept-B/contact). The time per op is not the point.
//
//	go test -run=NONE -bench=WaitsKept -benchtime=1x ./dashboards/
func BenchmarkWaitsKept(b *testing.B) {
	const queues, contacts = 50, 720000
	r := benchRouter(b, benchStore(b), &router.Options{Clock: router.NewManualClock(t0)})
	benchQueues(b, r, queues, false)
	for b.Loop() {
		w := NewWaits(r, time.Hour)
		at := t0
		w.now = func() time.Time { return at }
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range contacts {
			at = at.Add(5 * time.Millisecond) // 200 a second
			waitsContact(w, router.Contact{ID: fmt.Sprintf("c%09d", i), Queue: fmt.Sprintf("q%02d", i%queues), QueuedAt: at}, at)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if f := w.Figures(r.Snapshot())["q00"]; f.Answered < contacts/queues-1 {
			b.Fatalf("q00 keeps %d answers, want the hour's %d", f.Answered, contacts/queues)
		}
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/contacts, "kept-B/contact")
	}
}

// benchStore opens a store in a temporary directory for a benchmark (or a test).
func benchStore(b testing.TB) *store.DB {
	b.Helper()
	db, err := store.Open(context.Background(), &store.Options{Path: filepath.Join(b.TempDir(), "sb.db"), Synchronous: "normal"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchRouter starts a router on db with o for a benchmark.
func benchRouter(b *testing.B, db *store.DB, o *router.Options) *router.Router {
	b.Helper()
	r, err := router.New(db, o)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close) // before the store's
	return r
}

// benchQueues puts queues q00… with an 80 % in 20 s service level; with
// skills, queue qNN requires skill sNN.
func benchQueues(b *testing.B, r *router.Router, n int, skills bool) {
	b.Helper()
	for q := 0; q < n; q++ {
		qu := router.Queue{Name: fmt.Sprintf("q%02d", q), ServiceLevel: router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second)}}
		if skills {
			qu.Requirements = []router.Requirement{{Skill: fmt.Sprintf("s%02d", q), Min: 1}}
		}
		if _, err := r.PutQueue(context.Background(), qu); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoardViewers: 100 supervisors watch the board over real
// WebSockets (gorilla clients on loopback, the server in-process) while
// the router takes 200 contacts a second over 1,000 agents (20 queues,
// three chats an agent, each chat accepted at once and closed 10 s
// later); "delta-5000" over 5,000 agents and 50 queues, the issue's
// large center. One iteration is one tick: the router is first given one
// second of that load (200 contacts submitted and accepted, those of
// 10 s before closed; the clock moves 1 s; the timer stopped), then the
// tick is driven and every viewer waits for its frame. Reported:
//
//   - build-ms/tick: the board brought up to date from the router's
//     event stream (the agents and contacts it touched read again), the
//     rows that may have changed encoded and compared with the last
//     tick's (the delta computed once, for all viewers);
//   - send-ms/tick: queuing the frames to the 100 viewers (for
//     "snapshot", assembling the whole board from the rows as well);
//   - whole-ms/tick: what the board cost before deltas: built and encoded
//     whole (json.Marshal of the Board), once for all viewers;
//   - sent-B/viewer/tick: the bytes each viewer received per tick;
//   - board-B: the whole board's JSON at the same ticks (what each
//     viewer received per tick before deltas);
//   - first-snapshot-B: a viewer's first frame, the snapshot;
//   - cpu-ms/tick: the process's CPU time from the tick to the last
//     viewer's frame (the loop, 100 writers, and the 100 in-process
//     clients reading, which parse only the frame's head).
//
// "delta" is the socket as it is; "snapshot" sends every viewer the
// whole board at each tick, as the socket did before deltas.
//
//	go test -run=NONE -bench=BoardViewers -benchtime=20x ./dashboards/
func BenchmarkBoardViewers(b *testing.B) {
	b.Run("delta", func(b *testing.B) { benchBoardViewers(b, false, 1000, 20) })
	b.Run("snapshot", func(b *testing.B) { benchBoardViewers(b, true, 1000, 20) })
	b.Run("delta-5000", func(b *testing.B) { benchBoardViewers(b, false, 5000, 50) })
}

func benchBoardViewers(b *testing.B, snapshots bool, agents, queues int) {
	const viewers, perSecond, handle = 100, 200, 10 * time.Second
	ctx := context.Background()
	db := benchStore(b)
	clk := router.NewManualClock(t0)
	w := NewWaits(nil, time.Hour)
	w.now = clk.Now
	var slot liveSlot // the Live hears each batch, as from routerd's follower
	r := benchRouter(b, db, &router.Options{Clock: clk, Notifier: router.Notifiers(w, &slot), Capacity: map[router.Channel]int{router.ChannelChat: 3}})
	w.r = r
	benchQueues(b, r, queues, true)
	for a := 0; a < agents; a++ {
		id := fmt.Sprintf("a%04d", a)
		skills := map[string]int{fmt.Sprintf("s%02d", a%queues): 3, fmt.Sprintf("s%02d", (a+7)%queues): 2}
		if _, _, err := r.PutAgent(ctx, router.Agent{ID: id, Name: id, Skills: skills}); err != nil {
			b.Fatal(err)
		}
		if _, err := r.AgentConnected(ctx, id); err != nil {
			b.Fatal(err)
		}
		if _, err := r.SetAgentState(ctx, id, router.AgentAvailable, ""); err != nil {
			b.Fatal(err)
		}
	}
	type held struct {
		id, agent string
		until     time.Time
	}
	var open []held
	n := 0
	// second gives the router one second of load.
	second := func() {
		clk.Advance(time.Second)
		if err := r.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		now := clk.Now()
		kept := open[:0]
		for _, h := range open {
			if h.until.After(now) {
				kept = append(kept, h)
				continue
			}
			if _, err := r.CloseContact(ctx, h.id, h.agent, "", ""); err != nil {
				b.Fatal(err)
			}
		}
		open = kept
		for i := 0; i < perSecond; i++ {
			if _, _, err := r.Submit(ctx, router.NewContact{Channel: router.ChannelChat, Queue: fmt.Sprintf("q%02d", n%queues)}); err != nil {
				b.Fatal(err)
			}
			n++
		}
		for _, a := range r.Snapshot().Agents() {
			if a.Offer == "" {
				continue
			}
			if _, err := r.Accept(ctx, a.Offer, a.ID); err != nil {
				b.Fatal(err)
			}
			open = append(open, held{a.Offer, a.ID, now.Add(handle)})
		}
	}
	for range handle / time.Second {
		second() // to the steady state: contacts closing as many arrive
	}

	ticks := make(chan time.Time)
	l, err := NewLive(LiveOptions{Router: r, Store: db, Waits: w, tick: ticks, snapshots: snapshots,
		Authorize: func(*http.Request) (Viewer, error) { return Viewer{}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	slot.to.Store(&batchTo{l.NotifyBatch})
	srv := httptest.NewServer(l)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	// Each client counts the frames and bytes it got, and checks the
	// chain: a snapshot, then deltas each from the version it holds.
	var got, broken atomic.Int64
	arrived := make(chan struct{}, 4*viewers) // a frame read
	for i := 0; i < viewers; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer ws.Close()
		go func() {
			var version uint64
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					return
				}
				typ, v, err := frameHead(data)
				if err != nil {
					broken.Add(1)
				}
				switch typ {
				case frameBoard:
					version = v[0]
				case frameBoardDelta:
					if v[0] != version {
						broken.Add(1)
					}
					version = v[1]
				}
				got.Add(int64(len(data)))
				arrived <- struct{}{}
			}
		}()
	}
	// wait waits for a frame on every viewer.
	wait := func() {
		timeout := time.After(30 * time.Second)
		for k := 0; k < viewers; k++ {
			select {
			case <-arrived:
			case <-timeout:
				b.Fatalf("%d frames of %d arrived", k, viewers)
			}
		}
	}
	wait() // every viewer's snapshot
	firstSnapshot := got.Load() / viewers
	got.Store(0)
	l.mu.Lock()
	l.spent = tickCost{}
	l.mu.Unlock()

	var whole time.Duration
	var wholeBytes int64
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		second()
		// The board built whole and encoded once, as each tick did
		// before it was kept from the event stream (and what each
		// viewer got per tick before deltas).
		start := time.Now()
		snap := r.Snapshot()
		board := NewBoardOf(snap, w.Figures(snap), w.Window())
		w.Apply(board.Queues)
		raw, err := json.Marshal(board)
		if err != nil {
			b.Fatal(err)
		}
		whole += time.Since(start)
		wholeBytes += int64(len(raw))
		cpu0 := cpuTime()
		b.StartTimer()
		ticks <- time.Now()
		wait()
		b.StopTimer()
		cpu += cpuTime() - cpu0
		b.StartTimer()
	}
	b.StopTimer()
	if broken.Load() != 0 {
		b.Fatalf("%d frames broke a viewer's chain", broken.Load())
	}
	l.mu.Lock()
	spent := l.spent
	l.mu.Unlock()
	if spent.builds != b.N {
		b.Fatalf("%d builds for %d ticks", spent.builds, b.N)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(b.N) }
	b.ReportMetric(ms(spent.build), "build-ms/tick")
	b.ReportMetric(ms(spent.send), "send-ms/tick")
	b.ReportMetric(ms(whole), "whole-ms/tick")
	b.ReportMetric(ms(cpu), "cpu-ms/tick")
	b.ReportMetric(float64(got.Load())/viewers/float64(b.N), "sent-B/viewer/tick")
	b.ReportMetric(float64(wholeBytes)/float64(b.N), "board-B")
	b.ReportMetric(float64(firstSnapshot), "first-snapshot-B")
}

// frameHead reads a board frame's head as Live writes it: its type and
// version ({"type":"board","data":{"version":N…), or its from and to
// ({"type":"board_delta","data":{"from":N,"to":M…), without decoding
// the rest (the benchmark's clients measure the server, not a parser).
func frameHead(f []byte) (typ string, v [2]uint64, err error) {
	num := func(after string) (uint64, error) {
		i := bytes.Index(f, []byte(after))
		if i < 0 {
			return 0, fmt.Errorf("no %s", after)
		}
		rest := f[i+len(after):]
		j := bytes.IndexAny(rest, ",}")
		if j < 0 {
			return 0, fmt.Errorf("no end after %s", after)
		}
		return strconv.ParseUint(string(rest[:j]), 10, 64)
	}
	head := f[:min(len(f), 64)]
	switch {
	case bytes.HasPrefix(head, []byte(`{"type":"board","data":{`)):
		v[0], err = num(`"version":`)
		return frameBoard, v, err
	case bytes.HasPrefix(head, []byte(`{"type":"board_delta","data":{`)):
		if v[0], err = num(`"from":`); err == nil {
			v[1], err = num(`"to":`)
		}
		return frameBoardDelta, v, err
	}
	return "", v, nil
}

// cpuTime is the CPU time the process used so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// boardDayContacts is how many contacts of the day BenchmarkBoardDay
// stores.
var boardDayContacts = flag.Int("board-day-contacts", 100000, "contacts of the day BenchmarkBoardDay reads")

// BenchmarkBoardDay is the board's minute's refresh off its loop
// (refreshAdvice) with a day of contacts in the store: the last hour's
// contacts for the staffing advice and the trends, and each agent's and
// each queue's day from midnight (readDays: one pass over the day's
// contacts for both, then the agents' states and missed offers). Its cost grows with the day's traffic; 100,000 contacts over ten
// hours of 50 queues and 200 agents by default.
//
//	go test -run='^$' -bench=BoardDay -benchtime=5x ./dashboards/ -board-day-contacts=100000
func BenchmarkBoardDay(b *testing.B) {
	const queues, agents = 50, 200
	n := *boardDayContacts
	ctx := context.Background()
	db := benchStore(b)
	midnight := t0.Truncate(24 * time.Hour)
	day := 10 * time.Hour
	now := midnight.Add(day)
	var batch router.Batch
	for i := 0; i < n; i++ {
		at := midnight.Add(time.Duration(i) * day / time.Duration(n))
		c := router.Contact{ID: fmt.Sprintf("c%08d", i), Channel: router.ChannelChat, Queue: fmt.Sprintf("q%02d", i%queues),
			State: router.ContactClosed, AgentID: fmt.Sprintf("a%03d", i%agents), CreatedAt: at, EnqueuedAt: at, QueuedAt: at,
			AssignedAt: at.Add(time.Duration(i%120) * time.Second), EndedAt: at.Add(5 * time.Minute)}
		batch.Contacts = append(batch.Contacts, c)
		if len(batch.Contacts) == 1000 || i == n-1 {
			if err := db.Commit(ctx, &batch); err != nil {
				b.Fatal(err)
			}
			batch.Contacts = batch.Contacts[:0]
		}
	}
	levels := map[string]router.ServiceLevel{}
	for q := range queues {
		levels[fmt.Sprintf("q%02d", q)] = router.ServiceLevel{}
	}
	b.ReportAllocs()
	for b.Loop() {
		hour, err := db.ContactTimes(ctx, now.Add(-time.Hour), now)
		if err != nil || len(hour) == 0 {
			b.Fatalf("the last hour: %d contacts, %v", len(hour), err)
		}
		days, qdays, err := readDays(ctx, db, levels, midnight, now)
		if err != nil || len(days) != agents || len(qdays) != queues {
			b.Fatalf("the day: %d agents, %d queues, %v", len(days), len(qdays), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/refresh")
}
