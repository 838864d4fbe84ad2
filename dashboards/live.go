package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/strictjson"
	"github.com/switchboard/switchboard/wsconn"
)

// Live serves GET /ws/dashboard: the board (Board) to every supervisor
// watching, at most LiveEvery behind the router. It hears of changes on
// the router's event stream (it implements router.Notifier). A viewer
// gets the whole board first (a snapshot, with its version), then at
// each tick that changed something the delta from the previous version:
// the rows that changed, by key, and the keys removed. The delta is
// computed once per tick for all viewers (boardFeed); a viewer that is
// behind (it joined, or its socket could not take the last frames) gets
// a snapshot of the current version instead. A viewer may monitor one
// conversation at a time ({"type":"monitor"}): it gets the
// conversation, then each message as it is committed. Any other frame
// closes the socket: viewers only read.
//
// The board is kept from the event stream (tally): each batch names the
// agents and contacts it touched, and a tick reads only those again, so
// its cost grows with what changed, not with the agents and contacts;
// it is built whole at the first tick, after the stream was lost, when
// a queue changes and once a minute (the agents' day). One board a tick
// at most, shared by every viewer; the bytes sent grow with what
// changed.
type Live struct {
	o        LiveOptions
	upgrader *wsconn.Upgrader

	dirty  chan struct{}
	joined chan struct{} // a viewer joined: it waits for its snapshot
	quit   chan struct{}
	done   chan struct{}

	// feed is the board's versions, builtAt when the last board was
	// built; the loop alone uses them.
	feed    boardFeed
	builtAt time.Time
	// tally is the board kept from the event stream.
	tally *tally

	mu      sync.Mutex
	viewers map[conn]*viewer // guarded by mu
	closed  bool             // guarded by mu
	spent   tickCost         // guarded by mu
	// advice is the staffing advice, computed every AdviceEvery by the
	// loop while someone watches; guarded by mu.
	advice    map[string]Advice
	trends    map[string]Trend
	days      map[string]AgentReportRow
	queueDays map[string]QueueToday
	advisedAt time.Time // guarded by mu

	// refreshMu makes refreshAdvice run once at a time; it guards waiting.
	refreshMu sync.Mutex
	// refreshing is set while refreshInBackground's goroutine runs;
	// refreshed waits for it (Close).
	refreshing atomic.Bool
	refreshed  sync.WaitGroup
	// waiting samples each queue's waiting count at each minute, for the
	// trends (the store does not keep it).
	waiting map[string]map[time.Time]int
}

// AdviceEvery is how often the staffing advice is computed again.
const AdviceEvery = time.Minute

// LiveEvery is how often at most the board is built and sent: a change
// waits at most that for its tick, so that the board is well within a
// second of the router (the build and the sending are milliseconds).
const LiveEvery = 500 * time.Millisecond

// boardBacklog is how many board frames may wait for a viewer's writer.
// A viewer with that many waiting is sent nothing more (its socket's
// buffer would overflow and drop it); once its writer caught up it gets
// a snapshot of the current version.
const boardBacklog = 2

// LiveOptions configure NewLive. Router, Store and Authorize are required.
type LiveOptions struct {
	Router *router.Router
	Store  interface {
		QueueStats(ctx context.Context, since time.Time) (map[string]store.QueueStats, error)
		ContactTimes(ctx context.Context, from, to time.Time) ([]store.ContactTimes, error)
		AgentReportStore
		TransfersByQueue(ctx context.Context, from, to time.Time) (map[string]int, error)
		Contact(ctx context.Context, id string) (router.Contact, error)
		MessagesBefore(ctx context.Context, id string, beforeSeq, limit int) ([]router.Message, error)
	}
	// Authorize says whether the request may watch (a supervisor's or
	// an admin's); its error is answered 401 when it wraps
	// ErrUnauthenticated, else 403. For a login session it returns the
	// session (Viewer): the socket closes when the session ends
	// (EndSessions) or expires.
	Authorize func(r *http.Request) (Viewer, error)
	// AllowedOrigins are the other origins whose pages may open the
	// socket (routerd's own always may).
	AllowedOrigins []string
	// Window is the statistics' window; DefaultWindow when zero.
	Window time.Duration
	// Location is where "today" starts at midnight; nil is the server's.
	Location *time.Location
	// Waits chooses the queues' estimated waits; nil estimates by pace.
	Waits  *Waits
	Logger *slog.Logger

	// every is the tick; LiveEvery when zero (tests shorten it).
	every time.Duration
	// tick, when not nil, is the ticks instead of a ticker of every
	// (benchmarks drive them).
	tick <-chan time.Time
	// snapshots sends each viewer the whole board at each change, as
	// before deltas (a benchmark compares).
	snapshots bool
}

// Viewer is who watches: for a login session, its login, id and expiry;
// zero for a configured token (it lasts as long as the configuration).
type Viewer struct {
	Login, Session string
	ExpiresAt      time.Time
}

// viewer is one watching socket.
type viewer struct {
	Viewer
	// monitored is the contact it monitors, "" for none; guarded by
	// Live.mu.
	monitored string
	expiry    *time.Timer // nil without an expiry
	// version is the board's version the viewer has (was sent): 0
	// before its first snapshot. The loop alone uses it.
	version uint64
	// pending counts the board frames queued and not yet written.
	pending atomic.Int32
}

// conn is a viewer's socket as Live uses it: *wsconn.Conn, whose sends
// never wait.
type conn interface {
	Send(frames ...[]byte) error
	SendThen(written func(), frames ...[]byte) error
	Close(code int, text string, frames ...[]byte)
}

var _ conn = (*wsconn.Conn)(nil)

// ErrUnauthenticated is wrapped by an Authorize error of a request
// without a valid credential.
var ErrUnauthenticated = errors.New("dashboards: not authenticated")

// Frames of the socket: server to viewer, then viewer to server.
const (
	frameBoard        = "board" // the snapshot; then frameBoardDelta
	frameConversation = "conversation"
	frameMessage      = "message"
	frameMonitor      = "monitor"
)

// monitorRequest is a viewer's frame: monitor the conversation of
// ContactID, or none ("").
type monitorRequest struct {
	Type string `json:"type"`
	Data struct {
		ContactID string `json:"contact_id"`
	} `json:"data"`
}

// conversationData answers a monitor request: the contact and its latest
// messages, oldest first (notes included: a supervisor sees them).
type conversationData struct {
	Contact  router.Contact   `json:"contact"`
	Messages []router.Message `json:"messages"`
}

// monitorMessage is one message of the monitored conversation.
type monitorMessage struct {
	ContactID string         `json:"contact_id"`
	Message   router.Message `json:"message"`
}

// monitorMessages is how many of the latest messages a monitor request
// brings.
const monitorMessages = 100

func frame(typ string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}{typ, data})
}

// NewLive starts the board's builder; Close stops it.
func NewLive(o LiveOptions) (*Live, error) {
	if o.Router == nil || o.Store == nil || o.Authorize == nil {
		return nil, errors.New("dashboards: LiveOptions needs Router, Store and Authorize")
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	up, err := wsconn.New(wsconn.Options{AllowedOrigins: o.AllowedOrigins, ReadLimit: 1024})
	if err != nil {
		return nil, fmt.Errorf("dashboards: %w", err)
	}
	if o.every <= 0 {
		o.every = LiveEvery
	}
	l := &Live{o: o, upgrader: up, dirty: make(chan struct{}, 1), joined: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
		viewers: map[conn]*viewer{}, waiting: map[string]map[time.Time]int{}, tally: newTally()}
	go l.loop()
	return l, nil
}

// NotifyBatch marks what the batch touched stale and passes each message
// of a monitored conversation to its viewers (router.BatchNotifier: the
// router's event stream calls it).
func (l *Live) NotifyBatch(p router.Published) {
	l.tally.touch(p.Touched)
	l.mark()
	l.monitored(p.Notes)
}

// Notify marks the whole board stale (it does not say what changed) and
// passes each message of a monitored conversation to its viewers
// (router.Notifier).
func (l *Live) Notify(ns []router.Notification) {
	l.tally.touchAll()
	l.mark()
	l.monitored(ns)
}

// monitored passes each message of ns to the viewers monitoring its
// conversation.
func (l *Live) monitored(ns []router.Notification) {
	for _, n := range ns {
		if n.Kind != router.NoteMessage || n.Message == nil || n.Contact == nil {
			continue
		}
		var to []conn
		l.mu.Lock()
		for c, v := range l.viewers {
			if v.monitored == n.Contact.ID {
				to = append(to, c)
			}
		}
		l.mu.Unlock()
		if len(to) == 0 {
			continue
		}
		f, err := frame(frameMessage, monitorMessage{ContactID: n.Contact.ID, Message: *n.Message})
		if err != nil {
			continue
		}
		for _, c := range to {
			_ = c.Send(f)
		}
	}
}

// Resync marks the whole board stale after the event stream was lost.
func (l *Live) Resync(*router.Snapshot) {
	l.tally.touchAll()
	l.mark()
}

func (l *Live) mark() { poke(l.dirty) }

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// loop builds the board at each tick while someone watches, when the
// router changed something since the last (Notify) or contacts wait
// (their waits grow), and sends each viewer what it lacks (distribute).
// A viewer who joins gets the current version at once, built anew if it
// is older than a tick.
func (l *Live) loop() {
	defer close(l.done)
	ticks := l.o.tick
	if ticks == nil {
		t := time.NewTicker(l.o.every)
		defer t.Stop()
		ticks = t.C
	}
	stale, aging := true, false
	for {
		joined := false
		select {
		case <-l.quit:
			return
		case <-l.dirty:
			stale = true
			continue
		case <-l.joined:
			joined = true
		case <-ticks:
		}
		l.mu.Lock()
		watched := len(l.viewers) > 0
		l.mu.Unlock()
		if !watched {
			// Nobody to send it to: the memory back, and the next
			// viewer's board built whole (a first board needs every
			// row; the tally stops keeping what is touched).
			l.feed.cur, l.feed.snap = nil, nil
			l.tally.drop()
			continue
		}
		fresh := l.feed.cur != nil && time.Since(l.builtAt) < l.o.every
		if joined && fresh {
			l.distribute(nil)
			continue
		}
		l.refreshInBackground()
		if !(stale || aging || !fresh && joined) {
			l.distribute(nil) // viewers who caught up
			continue
		}
		start := time.Now()
		delta, waiting, err := l.publish()
		if err != nil {
			l.o.Logger.Warn("dashboards: board", "err", err)
			if l.feed.cur == nil {
				l.fail()
			}
		} else {
			stale, aging = false, waiting
		}
		built := time.Now()
		l.distribute(delta)
		l.mu.Lock()
		l.spent.builds++
		l.spent.build += built.Sub(start)
		l.spent.send += time.Since(built)
		l.mu.Unlock()
	}
}

// tickCost is what the loop's builds took: the board built, encoded and
// compared (build), then sent to the viewers behind (send).
type tickCost struct {
	builds      int
	build, send time.Duration
}

// publish brings the board up to date and makes it the next version if
// it changed; it returns the delta from the previous version (nil when
// nothing changed, or for the first board) and whether contacts wait.
// It encodes every queue (a few), the staffing advice and trends (once
// a minute they change), and only the agents the tally read again.
func (l *Live) publish() (delta []byte, waiting bool, err error) {
	tc := l.tally.take() // before the snapshot: it holds what was taken
	snap := l.o.Router.Snapshot()
	figures, window := map[string]WindowFigures(nil), l.o.Window
	if l.o.Waits != nil {
		// The window's figures kept as they happen: the board's cost
		// does not grow with the window's contacts.
		figures, window = l.o.Waits.Figures(snap), l.o.Waits.Window()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		stats, err := l.o.Store.QueueStats(ctx, snap.At.Add(-window))
		cancel()
		if err != nil {
			l.tally.touchAll() // taken, and not applied
			return nil, false, err
		}
		figures = figuresFrom(snap, stats, window)
	}
	changed, reordered := l.tally.apply(snap, tc)
	defer func() {
		if err != nil {
			l.tally.touchAll() // the rows taken did not reach the feed
		}
	}()
	views := l.tally.queueViews(snap.At, figures, window)
	l.o.Waits.Apply(views)
	l.mu.Lock()
	staffing, trends, days, qdays := l.advice, l.trends, l.days, l.queueDays
	l.mu.Unlock()
	if qdays != nil {
		for i := range views {
			t := qdays[views[i].Name]
			views[i].Today = &t
		}
	}

	u := &boardUpdate{queues: sectionUpdate{order: []string{}}, staffing: sectionUpdate{order: []string{}}, trends: sectionUpdate{order: []string{}}}
	if u.at, err = json.Marshal(snap.At); err != nil {
		return nil, false, err
	}
	for i := range views {
		waiting = waiting || views[i].OldestWaitSeconds != nil
		if err := u.queues.add(views[i].Name, &views[i]); err != nil {
			return nil, false, err
		}
	}
	slices.Sort(changed) // a delta's rows in one order, for the same changes
	for _, id := range changed {
		v := l.tally.rows[id].view
		if days != nil {
			v.Today = todayOf(days[id])
		}
		b, err := json.Marshal(&v)
		if err != nil {
			return nil, false, err
		}
		u.agents.rows = append(u.agents.rows, keyedRow{id, b})
	}
	if reordered {
		u.agents.order = slices.Clone(l.tally.order)
	}
	for _, q := range slices.Sorted(maps.Keys(staffing)) {
		if err := u.staffing.add(q, staffing[q]); err != nil {
			return nil, false, err
		}
	}
	for _, q := range slices.Sorted(maps.Keys(trends)) {
		if err := u.trends.add(q, trends[q]); err != nil {
			return nil, false, err
		}
	}
	delta, _ = l.feed.update(u)
	l.builtAt = time.Now()
	return delta, waiting, nil
}

// distribute sends each viewer that lacks the current version the delta
// to it (delta, from the version before), if it has the version before,
// else the snapshot: a viewer that joined, or that was sent nothing
// while it had boardBacklog frames waiting. The loop alone calls it.
func (l *Live) distribute(delta []byte) {
	type behind struct {
		c conn
		v *viewer
	}
	var to []behind
	l.mu.Lock()
	for c, v := range l.viewers {
		if v.version != l.feed.version {
			to = append(to, behind{c, v})
		}
	}
	l.mu.Unlock()
	for _, b := range to {
		if b.v.pending.Load() >= boardBacklog {
			continue // it would overflow: a snapshot once it caught up
		}
		f := delta
		if f == nil || b.v.version != l.feed.version-1 || l.o.snapshots {
			if f = l.feed.snapshot(); f == nil {
				return // no board yet
			}
		}
		v := b.v
		v.pending.Add(1)
		if err := b.c.SendThen(func() { v.pending.Add(-1) }, f); err != nil {
			v.pending.Add(-1)
			continue // closing or dropped: ServeHTTP forgets it
		}
		v.version = l.feed.version
	}
}

// fail closes the viewers that have no board yet: none could be built.
func (l *Live) fail() {
	var failed []conn
	l.mu.Lock()
	for c, v := range l.viewers {
		if v.version == 0 {
			failed = append(failed, c)
		}
	}
	l.mu.Unlock()
	for _, c := range failed {
		c.Close(wsconn.CloseGoingAway, "board unavailable")
	}
}

// refreshInBackground starts refreshAdvice on its own goroutine unless
// it runs already: its store reads (the last hour's contacts, the day's
// for the agents and the queues) grow with the traffic, and the board's
// loop must not wait for them. When it computed something new, every
// row is built again at the next tick.
func (l *Live) refreshInBackground() {
	if !l.refreshing.CompareAndSwap(false, true) {
		return
	}
	l.refreshed.Add(1)
	go func() {
		defer l.refreshed.Done()
		defer l.refreshing.Store(false)
		if l.refreshAdvice() {
			l.mark()
		}
	}()
}

// refreshAdvice computes the staffing advice and the trends again when
// they are older than AdviceEvery, and reports whether it did; it samples
// the waiting counts the trends show.
func (l *Live) refreshAdvice() bool {
	l.refreshMu.Lock()
	defer l.refreshMu.Unlock()
	l.mu.Lock()
	due := time.Since(l.advisedAt) >= AdviceEvery
	l.mu.Unlock()
	if !due {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap := l.o.Router.Snapshot()
	contacts, err := l.o.Store.ContactTimes(ctx, snap.At.Add(-time.Hour), snap.At)
	if err != nil {
		l.o.Logger.Warn("dashboards: staffing advice", "err", err)
		return false
	}
	advice := Advise(snap, contacts, snap.At)
	minute := snap.At.Truncate(time.Minute)
	for _, q := range snap.Queues() {
		m := l.waiting[q.Name]
		if m == nil {
			m = map[time.Time]int{}
			l.waiting[q.Name] = m
		}
		m[minute] = len(snap.Waiting(q.Name))
		for t := range m {
			if t.Before(minute.Add(-TrendMinutes * time.Minute)) {
				delete(m, t)
			}
		}
	}
	trends := Trends(snap, contacts, l.waiting, snap.At)
	midnight := Midnight(snap.At, l.o.Location)
	levels := map[string]router.ServiceLevel{}
	for _, q := range snap.Queues() {
		levels[q.Name] = q.ServiceLevel
	}
	days, qdays, err := readDays(ctx, l.o.Store, levels, midnight, snap.At)
	if err != nil {
		l.o.Logger.Warn("dashboards: the agents' and queues' day", "err", err)
	}
	l.mu.Lock()
	l.advice, l.trends, l.days, l.queueDays, l.advisedAt = advice, trends, days, qdays, time.Now()
	l.mu.Unlock()
	l.tally.touchAll() // every agent's row has a new day
	return true
}

// ServeHTTP serves GET /ws/dashboard.
func (l *Live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !l.upgrader.CheckOrigin(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	who, err := l.o.Authorize(r)
	if err != nil {
		status := http.StatusForbidden
		if errors.Is(err, ErrUnauthenticated) {
			status = http.StatusUnauthorized
		}
		http.Error(w, err.Error(), status)
		return
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	c, err := l.upgrader.Upgrade(w, r)
	if err != nil {
		return // the upgrader answered
	}
	v, ok := l.join(c, who)
	if !ok {
		c.Close(wsconn.CloseGoingAway, "server shutting down")
		_ = c.Serve(func([]byte, bool) {})
		return
	}
	_ = c.Serve(func(data []byte, text bool) {
		var req monitorRequest
		if !text || strictjson.Decode(data, &req) != nil || req.Type != frameMonitor {
			// Viewers only read, and monitor.
			c.Close(closeReadOnly, "this socket only reads; the one request is monitor")
			return
		}
		l.monitor(c, req.Data.ContactID)
	})
	l.leave(c, v)
}

// join makes c a viewer; false once Live is closed. Its first board (a
// snapshot) is sent by the loop at once, not at the next tick.
func (l *Live) join(c conn, who Viewer) (*viewer, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false
	}
	v := &viewer{Viewer: who}
	if !who.ExpiresAt.IsZero() {
		v.expiry = time.AfterFunc(time.Until(who.ExpiresAt), func() { c.Close(closeSessionEnded, "session expired") })
	}
	l.viewers[c] = v
	poke(l.joined)
	return v, true
}

// leave forgets the viewer v of c.
func (l *Live) leave(c conn, v *viewer) {
	l.mu.Lock()
	delete(l.viewers, c)
	l.mu.Unlock()
	if v.expiry != nil {
		v.expiry.Stop()
	}
}

// closeSessionEnded closes a viewer whose login session ended or
// expired.
const closeSessionEnded = 4002

// EndSessions closes the sockets of the login's sessions ids: a logout,
// a password set, a deleted login (api.Options.OnSessionsEnded).
func (l *Live) EndSessions(login string, ids []string) {
	var ended []conn
	l.mu.Lock()
	for c, v := range l.viewers {
		if v.Session != "" && v.Login == login && slices.Contains(ids, v.Session) {
			ended = append(ended, c)
		}
	}
	l.mu.Unlock()
	for _, c := range ended {
		c.Close(closeSessionEnded, "session ended")
	}
}

// Sessions returns the id and login of every login session a viewer
// watches under.
func (l *Live) Sessions() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, v := range l.viewers {
		if v.Session != "" {
			out[v.Session] = v.Login
		}
	}
	return out
}

// monitor makes c follow the conversation of id (none when empty): the
// conversation now, then its messages as they are committed. A
// message committed between the subscription and the read may come
// twice: the page keeps one per seq.
func (l *Live) monitor(c conn, id string) {
	l.mu.Lock()
	if v, ok := l.viewers[c]; ok {
		v.monitored = id
	}
	l.mu.Unlock()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ct, ok := l.o.Router.Snapshot().Contact(id)
	if !ok {
		var err error
		if ct, err = l.o.Store.Contact(ctx, id); err != nil {
			f, _ := frame(frameConversation, map[string]string{"contact_id": id, "error": "no such contact"})
			_ = c.Send(f)
			return
		}
	}
	msgs, err := l.o.Store.MessagesBefore(ctx, id, 0, monitorMessages)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		l.o.Logger.Warn("dashboards: monitor", "contact", id, "err", err)
	}
	if msgs == nil {
		msgs = []router.Message{}
	}
	f, err := frame(frameConversation, conversationData{Contact: ct.ForAgent(), Messages: msgs})
	if err == nil {
		_ = c.Send(f)
	}
}

// closeReadOnly closes a viewer that wrote to the socket.
const closeReadOnly = 4003

// Close closes every viewer's socket and stops the builder.
func (l *Live) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	viewers := make([]conn, 0, len(l.viewers))
	for c := range l.viewers {
		viewers = append(viewers, c)
	}
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	l.refreshed.Wait() // the loop started it, and is done
	for _, c := range viewers {
		c.Close(wsconn.CloseGoingAway, "server shutting down")
	}
}

// Midnight is the start of t's day in loc (nil: the server's time zone):
// where the dashboards' "today" starts.
func Midnight(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.Local
	}
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}
