package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/wsconn"
)

// TestLive: a viewer gets the board at once, then each change within
// LiveEvery; a viewer who writes is closed; others are refused.
func TestLive(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "billing"})
	f.agent("alice", nil, nil, router.AgentOffline)
	l, err := NewLive(LiveOptions{Router: f.r, Store: f.db, Authorize: func(r *http.Request) (Viewer, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer sup":
			return Viewer{}, nil
		case "Bearer sam-s1":
			return Viewer{Login: "sam", Session: "s1"}, nil
		case "Bearer sam-expiring":
			return Viewer{Login: "sam", Session: "s2", ExpiresAt: time.Now().Add(100 * time.Millisecond)}, nil
		case "Bearer agent":
			return Viewer{}, errors.New("role agent may not watch")
		}
		return Viewer{}, ErrUnauthenticated
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.follow(l)
	defer l.Close()
	srv := httptest.NewServer(l)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	for token, want := range map[string]int{"": http.StatusUnauthorized, "agent": http.StatusForbidden} {
		_, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + token}})
		if err == nil || resp == nil || resp.StatusCode != want {
			t.Errorf("token %q: got %v %v, want %d", token, resp, err, want)
		}
	}

	ws, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer sup"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// The board as the page keeps it: the snapshot, then the deltas.
	var model boardModel
	read := func() Board {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if err := model.apply(data); err != nil {
			t.Fatalf("frame %s: %v", data, err)
		}
		var b Board
		if err := json.Unmarshal(model.raw(nil), &b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := read()
	if len(b.Queues) != 1 || b.Queues[0].Name != "billing" || b.Queues[0].Waiting != 0 || len(b.Agents) != 1 || b.Agents[0].ID != "alice" {
		t.Fatalf("first board: %+v", b)
	}
	if model.snapshots != 1 || model.version == 0 {
		t.Fatalf("first frame: %d snapshots, version %d; want a snapshot with a version", model.snapshots, model.version)
	}
	c, _, err := f.r.Submit(f.ctx, router.NewContact{Channel: router.ChannelChat, Queue: "billing", Body: "first"})
	if err != nil {
		t.Fatal(err)
	}
	if b = read(); b.Queues[0].Waiting != 1 {
		t.Fatalf("after a contact: waiting %d, want 1", b.Queues[0].Waiting)
	}
	if model.snapshots != 1 || model.deltas != 1 {
		t.Errorf("the change came in %d snapshots and %d deltas, want one delta", model.snapshots-1, model.deltas)
	}
	if a := b.Agents[0]; a.Load["chat"] != (Load{Used: 0, Capacity: 1}) || a.Connected || a.State != router.AgentOffline {
		t.Errorf("alice: %+v", a)
	}

	// Monitoring a conversation: it comes whole, then each message.
	if err := ws.WriteJSON(map[string]any{"type": "monitor", "data": map[string]string{"contact_id": c.ID}}); err != nil {
		t.Fatal(err)
	}
	next := func(typ string) json.RawMessage {
		t.Helper()
		for {
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			var f struct {
				Type string          `json:"type"`
				Data json.RawMessage `json:"data"`
			}
			if err := ws.ReadJSON(&f); err != nil {
				t.Fatalf("read: %v", err)
			}
			if f.Type == typ {
				return f.Data
			}
		}
	}
	var conv conversationData
	if err := json.Unmarshal(next(frameConversation), &conv); err != nil {
		t.Fatal(err)
	}
	if conv.Contact.ID != c.ID || len(conv.Messages) != 1 || conv.Messages[0].Body != "first" {
		t.Fatalf("conversation: %+v", conv)
	}
	m, _, err := f.r.AddMessage(f.ctx, c.ID, router.Message{Direction: router.DirectionNote, Author: "sam", AuthorKind: router.AuthorSupervisor, Body: "watch this one"})
	if err != nil {
		t.Fatal(err)
	}
	l.Notify([]router.Notification{{Kind: router.NoteMessage, Contact: &c, Message: &m}})
	var got monitorMessage
	if err := json.Unmarshal(next(frameMessage), &got); err != nil {
		t.Fatal(err)
	}
	if got.ContactID != c.ID || got.Message.Body != "watch this one" {
		t.Fatalf("monitored message: %+v", got)
	}

	// Viewers only read, and monitor.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"anything"}`)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != closeReadOnly {
				t.Errorf("close code %d, want %d", ce.Code, closeReadOnly)
			}
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}

	// A viewer's login session that ends, or expires, closes its socket.
	closed := func(ws *websocket.Conn) int {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, _, err := ws.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
		}
	}
	s1, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer sam-s1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s1.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := s1.ReadMessage(); err != nil { // its first board: registered
		t.Fatal(err)
	}
	l.EndSessions("sam", []string{"other"})
	l.EndSessions("sam", []string{"s1"})
	if code := closed(s1); code != closeSessionEnded {
		t.Errorf("ended session: close %d, want %d", code, closeSessionEnded)
	}
	s2, _, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer sam-expiring"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if code := closed(s2); code != closeSessionEnded {
		t.Errorf("expired session: close %d, want %d", code, closeSessionEnded)
	}
}

// TestBoardTodayIsTheReport: an agent's day on the board is its row of
// the agents' report from midnight to now, occupancy included: the time
// on contacts (a contact accepted before midnight counts from midnight,
// one still open up to now) over the time staffed. Worked out by hand:
// alice is available from 09:00; she takes c1 at 23:50 and closes it at
// 00:20, takes c2 at 00:20, still open at 00:40. Since midnight: staffed
// 40 min, busy 20 + 20 min, one contact handled in 30 min.
// dayBoard is the board a viewer of f's router would get now, its day
// computed with midnight in loc: the minute's refresh, then one tick.
func dayBoard(t *testing.T, f *fixture, loc *time.Location) Board {
	t.Helper()
	l, err := NewLive(LiveOptions{Router: f.r, Store: f.db, Location: loc,
		Authorize: func(*http.Request) (Viewer, error) { return Viewer{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f.follow(l)
	l.refreshAdvice()
	if _, _, err := l.publish(); err != nil {
		t.Fatal(err)
	}
	var fr struct{ Data Board }
	if err := json.Unmarshal(l.feed.snapshot(), &fr); err != nil {
		t.Fatal(err)
	}
	return fr.Data
}

func TestBoardTodayIsTheReport(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "billing"})
	f.agent("alice", nil, map[string]int{"chat": 2}, router.AgentAvailable)
	f.advance(14*time.Hour + 50*time.Minute)
	c1 := f.offered("billing", "alice")
	f.accept(c1, "alice")
	f.advance(30 * time.Minute)
	if _, err := f.r.CloseContact(f.ctx, c1, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	c2 := f.offered("billing", "alice")
	f.accept(c2, "alice")
	f.advance(20 * time.Minute)

	fr := struct{ Data Board }{dayBoard(t, f, time.UTC)}
	if len(fr.Data.Agents) != 1 || fr.Data.Agents[0].Today == nil {
		t.Fatalf("board agents: %+v, want alice with her day", fr.Data.Agents)
	}
	today := *fr.Data.Agents[0].Today
	figures := func(handled int, aht *float64, missed int, staffed float64, occupancy *float64) string {
		return fmt.Sprintf("handled %d, aht %s, missed %d, staffed %g, occupancy %s", handled, str(aht), missed, staffed, str(occupancy))
	}
	board := figures(today.Handled, today.AHTSeconds, today.Missed, today.StaffedSeconds, today.Occupancy)
	if want := figures(1, ptr(1800), 0, 2400, ptr(1)); board != want {
		t.Errorf("alice's day on the board: %s; want %s", board, want)
	}

	now := f.r.Snapshot().At
	midnight := Midnight(now, time.UTC)
	rep := NewAgentReport(midnight, now, now, now.Sub(midnight))
	if err := rep.Read(f.ctx, f.db, nil); err != nil {
		t.Fatal(err)
	}
	rows := rep.Rows()
	if len(rows) != 1 {
		t.Fatalf("report rows: %+v, want alice's", rows)
	}
	row := rows[0]
	if report := figures(row.Handled, row.AHTSeconds, row.Missed, row.StaffedSeconds, row.Occupancy); board != report {
		t.Errorf("board: %s; the agents' report: %s; want the same", board, report)
	}
}

// fakeConn is a viewer's socket whose writer may be stuck: the frames
// queued while it is are not written (their callbacks wait).
type fakeConn struct {
	mu     sync.Mutex
	frames [][]byte // every frame queued, in order
	stuck  bool
	held   []func() // written callbacks of the frames queued while stuck
	closed bool
}

var _ conn = (*fakeConn)(nil)

func (c *fakeConn) Send(frames ...[]byte) error { return c.SendThen(nil, frames...) }

func (c *fakeConn) SendThen(written func(), frames ...[]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return wsconn.ErrClosed
	}
	c.frames = append(c.frames, frames...)
	if written != nil {
		if c.stuck {
			c.held = append(c.held, written)
		} else {
			written()
		}
	}
	return nil
}

func (c *fakeConn) Close(int, string, ...[]byte) {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// setStuck sticks or frees the writer; freed, it writes what waited.
func (c *fakeConn) setStuck(stuck bool) {
	c.mu.Lock()
	c.stuck = stuck
	held := c.held
	if !stuck {
		c.held = nil
	}
	c.mu.Unlock()
	if !stuck {
		for _, w := range held {
			w()
		}
	}
}

func (c *fakeConn) sent() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.frames)
}

// modelOfFrames applies frames to a fresh model; an error for a delta
// that does not follow (a broken chain).
func modelOfFrames(frames [][]byte) (boardModel, error) {
	var m boardModel
	for i, f := range frames {
		if err := m.apply(f); err != nil {
			return m, fmt.Errorf("frame %d of %d: %w", i+1, len(frames), err)
		}
	}
	return m, nil
}

// waitUntil polls cond until it holds, or fails the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling a condition, with a deadline
	}
}

// TestLiveSlowViewer: a viewer whose writer is stuck is sent at most
// boardBacklog board frames, never a frame its socket would drop; once
// it catches up it gets a snapshot of the current version, then deltas:
// its chain never breaks. A viewer beside it gets one delta per change.
func TestLiveSlowViewer(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "billing"})
	f.agent("alice", nil, nil, router.AgentOffline)
	l, err := NewLive(LiveOptions{Router: f.r, Store: f.db, Waits: f.waits, every: 10 * time.Millisecond,
		Authorize: func(*http.Request) (Viewer, error) { return Viewer{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	f.follow(l)
	defer l.Close()
	fast, slow := &fakeConn{}, &fakeConn{}
	for _, c := range []*fakeConn{fast, slow} {
		if _, ok := l.join(c, Viewer{}); !ok {
			t.Fatal("join refused")
		}
	}
	version := func(c *fakeConn) uint64 {
		m, err := modelOfFrames(c.sent())
		if err != nil {
			t.Fatal(err)
		}
		return m.version
	}
	waitUntil(t, "both viewers' snapshots", func() bool { return version(fast) > 0 && version(slow) > 0 })

	slow.setStuck(true)
	stuckAt := len(slow.sent())
	// Changes, each seen by the fast viewer before the next.
	for i := 0; i < 6; i++ {
		before := version(fast)
		f.submit(router.NewContact{Queue: "billing"})
		waitUntil(t, "the change on the fast viewer", func() bool { return version(fast) > before })
	}
	if n := len(slow.sent()) - stuckAt; n > boardBacklog {
		t.Errorf("the stuck viewer was sent %d frames, want at most %d", n, boardBacklog)
	}
	fm, _ := modelOfFrames(fast.sent())
	if fm.snapshots != 1 || fm.deltas < 6 {
		t.Errorf("fast viewer: %d snapshots, %d deltas; want 1 snapshot, then a delta per change", fm.snapshots, fm.deltas)
	}

	slow.setStuck(false)
	target := version(fast)
	waitUntil(t, "the slow viewer caught up", func() bool { return version(slow) >= target })
	sm, err := modelOfFrames(slow.sent())
	if err != nil {
		t.Fatalf("the slow viewer's chain broke: %v", err)
	}
	if sm.snapshots != 2 {
		t.Errorf("slow viewer: %d snapshots, want 2 (the first, and one after it caught up)", sm.snapshots)
	}
	fm, _ = modelOfFrames(fast.sent())
	if sm.version == fm.version && !bytes.Equal(sm.raw(fm.at), fm.raw(nil)) {
		t.Errorf("at version %d the slow viewer has\n%s\nthe fast one\n%s", sm.version, sm.raw(fm.at), fm.raw(nil))
	}
	// And then deltas again.
	before := version(slow)
	f.submit(router.NewContact{Queue: "billing"})
	waitUntil(t, "the next change on the slow viewer", func() bool { return version(slow) > before })
	if sm, err = modelOfFrames(slow.sent()); err != nil || sm.snapshots != 2 {
		t.Errorf("after catching up: %d snapshots, err %v; want the change as a delta", sm.snapshots, err)
	}
}

// A queue's day on the board, computed by hand, its midnight in the
// configured time zone (Paris: 23:00 UTC): a contact answered
// yesterday and closed after midnight counts only as handled today; one
// answered in 10 s is in the service level, one abandoned in 3 s is a
// short abandon (counted in neither the service level nor the
// abandonment), one abandoned after 30 s counts against both; one
// answered in 40 s, transferred back to its queue by its agent and
// answered again 60 s after, counts as one transfer and one answer
// outside the threshold (its wait from its return to the queue).
func TestBoardQueueToday(t *testing.T) {
	f := newFixture(t)
	sl := router.ServiceLevel{Target: 0.8, Within: router.Duration(20 * time.Second), ShortAbandon: router.Duration(5 * time.Second)}
	f.queue(router.Queue{Name: "billing", ServiceLevel: sl})
	f.queue(router.Queue{Name: "sales", ServiceLevel: sl, Requirements: []router.Requirement{{Skill: "sales", Min: 1}}})
	f.agent("alice", nil, map[string]int{"chat": 3}, router.AgentOffline)
	f.agent("bob", nil, map[string]int{"chat": 3}, router.AgentOffline)
	// submit makes a contact wait (nobody available), after advancing.
	submit := func(after time.Duration) string {
		t.Helper()
		f.advance(after)
		c := f.submit(router.NewContact{Queue: "billing"})
		if c.State != router.ContactQueued {
			t.Fatalf("contact %s is %s, want queued", c.ID, c.State)
		}
		return c.ID
	}
	// answer makes agent take id after advancing: available until it
	// rings, accepted, then away (so that it takes nothing else).
	answer := func(id, agent string, after time.Duration) {
		t.Helper()
		f.advance(after)
		f.state(agent, router.AgentAvailable)
		if c, ok := f.r.Snapshot().Contact(id); !ok || c.State != router.ContactOffered || c.AgentID != agent {
			t.Fatalf("contact %s: %+v, want it offered to %s", id, c, agent)
		}
		f.accept(id, agent)
		f.state(agent, router.AgentAway)
	}

	// The day starts at midnight in Paris (UTC+1 in March): 23:00 UTC.
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	f.advance(13*time.Hour + 58*time.Minute) // 23:58 on 2 March in Paris
	c0 := submit(0)
	answer(c0, "alice", 10*time.Second)
	f.advance(2*time.Minute + 50*time.Second) // 00:01:00
	if _, err := f.r.CloseContact(f.ctx, c0, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	c1 := submit(time.Minute) // 00:02:00
	answer(c1, "alice", 10*time.Second)
	c2 := submit(50 * time.Second) // 00:03:00
	f.advance(3 * time.Second)
	if _, err := f.r.Abandon(f.ctx, c2, "left"); err != nil {
		t.Fatal(err)
	}
	c3 := submit(57 * time.Second) // 00:04:00
	f.advance(30 * time.Second)
	if _, err := f.r.Abandon(f.ctx, c3, "left"); err != nil {
		t.Fatal(err)
	}
	c4 := submit(time.Minute)         // 00:05:00
	answer(c4, "bob", 40*time.Second) // 00:05:40
	f.advance(20 * time.Second)       // 00:06:00
	if _, err := f.r.Transfer(f.ctx, c4, "bob", "billing", ""); err != nil {
		t.Fatal(err)
	}
	answer(c4, "alice", time.Minute) // 00:07:00
	// One more, transferred to sales: a transfer out of billing, the
	// contact itself counted in sales, where it is now.
	c5 := submit(time.Minute) // 00:08:00
	answer(c5, "bob", 5*time.Second)
	if _, err := f.r.Transfer(f.ctx, c5, "bob", "sales", ""); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Second) // the day is [midnight, now)

	fr := struct{ Data Board }{dayBoard(t, f, paris)}
	if len(fr.Data.Queues) != 2 || fr.Data.Queues[0].Today == nil || fr.Data.Queues[1].Today == nil {
		t.Fatalf("board queues: %+v, want billing and sales with their day", fr.Data.Queues)
	}
	for i, want := range []string{
		`{"start":"2026-03-02T23:00:00Z","end":"2026-03-02T23:08:36Z","queue":"billing","offered":4,"answered":2,"answered_within":1,` +
			`"abandoned":2,"short_abandoned":1,"service_level":0.3333333333333333,"asa_seconds":35,"handled":1,"aht_seconds":170,` +
			`"csat_responses":0,"csat_average":null,"abandonment":0.3333333333333333,"transferred":2}`,
		`{"start":"2026-03-02T23:00:00Z","end":"2026-03-02T23:08:36Z","queue":"sales","offered":1,"answered":0,"answered_within":0,` +
			`"abandoned":0,"short_abandoned":0,"service_level":null,"asa_seconds":null,"handled":0,"aht_seconds":null,` +
			`"csat_responses":0,"csat_average":null,"abandonment":null,"transferred":0}`,
	} {
		got, err := json.Marshal(fr.Data.Queues[i].Today)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s's day:\n%s\nwant\n%s", fr.Data.Queues[i].Name, got, want)
		}
	}
	// The API's queues carry no day: it is the board's.
	src := Source{Router: f.r, Store: f.db}
	views, err := src.Views(f.ctx)
	if err != nil || len(views) != 2 || views[0].Today != nil {
		t.Errorf("GET /api/v1/queues' billing: %+v %v; want no day", views, err)
	}
}

// The board after nobody watched for a while: the next viewer's first
// board has every agent as it is now, and the deltas after it keep to
// the board built whole.
func TestLiveRejoin(t *testing.T) {
	f := newFixture(t)
	f.queue(router.Queue{Name: "billing"})
	f.agent("alice", nil, nil, router.AgentOffline)
	f.agent("bob", nil, nil, router.AgentOffline)
	ticks := make(chan time.Time)
	l, err := NewLive(LiveOptions{Router: f.r, Store: f.db, Waits: f.waits, tick: ticks,
		Authorize: func(*http.Request) (Viewer, error) { return Viewer{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f.follow(l)
	// agents is a model's agents, without their day (computed aside).
	agents := func(m boardModel) string {
		t.Helper()
		var b Board
		if err := json.Unmarshal(m.raw(nil), &b); err != nil {
			t.Fatal(err)
		}
		for i := range b.Agents {
			b.Agents[i].Today = nil
		}
		out, _ := json.Marshal(b.Agents)
		return string(out)
	}
	whole := func() string {
		snap := f.r.Snapshot()
		out, _ := json.Marshal(NewBoardOf(snap, nil, time.Hour).Agents)
		return string(out)
	}
	model := func(c *fakeConn) boardModel {
		m, err := modelOfFrames(c.sent())
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	// The minute's refresh now, so that it does not run (and build the
	// board whole) during the test.
	l.refreshAdvice()
	first := &fakeConn{}
	v, ok := l.join(first, Viewer{})
	if !ok {
		t.Fatal("join refused")
	}
	waitUntil(t, "the first viewer's board", func() bool { return len(first.sent()) > 0 })
	l.leave(first, v)
	// A tick with nobody watching. The loop takes the second once it
	// is done with the first: without it the next viewer could join
	// while the loop, having taken the tick, had not yet looked who
	// watches (then that viewer gets the board of less than a tick ago,
	// as designed, not the one this test wants).
	ticks <- time.Now()
	ticks <- time.Now()

	f.state("alice", router.AgentAvailable)
	c := f.submit(router.NewContact{Queue: "billing"})
	f.state("bob", router.AgentAway)

	next := &fakeConn{}
	if _, ok := l.join(next, Viewer{}); !ok {
		t.Fatal("join refused")
	}
	waitUntil(t, "the next viewer's board", func() bool { return len(next.sent()) > 0 })
	if got, want := agents(model(next)), whole(); got != want {
		t.Fatalf("the next viewer's first board:\n%s\nwant\n%s", got, want)
	}
	before := model(next).version
	f.accept(c.ID, "alice")
	ticks <- time.Now()
	waitUntil(t, "the change", func() bool { return model(next).version > before })
	if got, want := agents(model(next)), whole(); got != want {
		t.Fatalf("after the accept:\n%s\nwant\n%s", got, want)
	}
}
