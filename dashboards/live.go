package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/wsconn"
)

// Live serves GET /ws/dashboard: the board (Board) to every supervisor
// watching, at most LiveEvery behind the router. It hears of changes on
// the router's event stream (it implements router.Notifier), builds the
// board once for all viewers, and sends it only when it changed. Viewers
// only read: a frame from them closes the socket.
//
// Each board is built whole from a snapshot: its cost grows with the
// agents and contacts, once a second at most, shared by every viewer.
type Live struct {
	o        LiveOptions
	upgrader *wsconn.Upgrader

	dirty chan struct{}
	quit  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	viewers map[*wsconn.Conn]bool // guarded by mu
	last    []byte                // the board last sent; guarded by mu
	closed  bool                  // guarded by mu
}

// LiveEvery is how often at most the board is built and sent.
const LiveEvery = time.Second

// LiveOptions configure NewLive. Router, Store and Authorize are required.
type LiveOptions struct {
	Router *router.Router
	Store  interface {
		QueueStats(ctx context.Context, since time.Time) (map[string]store.QueueStats, error)
	}
	// Authorize says whether the request may watch (a supervisor's or
	// an admin's); its error is answered 401 when it wraps
	// ErrUnauthenticated, else 403.
	Authorize func(r *http.Request) error
	// AllowedOrigins are the other origins whose pages may open the
	// socket (routerd's own always may).
	AllowedOrigins []string
	// Window is the statistics' window; DefaultWindow when zero.
	Window time.Duration
	Logger *slog.Logger
}

// ErrUnauthenticated is wrapped by an Authorize error of a request
// without a valid credential.
var ErrUnauthenticated = errors.New("dashboards: not authenticated")

// Server-to-viewer frames.
const (
	frameBoard = "board"
)

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
	l := &Live{o: o, upgrader: up, dirty: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}),
		viewers: map[*wsconn.Conn]bool{}}
	go l.loop()
	return l, nil
}

// Notify marks the board stale (router.Notifier).
func (l *Live) Notify([]router.Notification) { l.mark() }

// Resync marks the board stale after the event stream was lost.
func (l *Live) Resync(*router.Snapshot) { l.mark() }

func (l *Live) mark() {
	select {
	case l.dirty <- struct{}{}:
	default:
	}
}

// loop builds and sends the board at each LiveEvery tick while someone
// watches, when the router changed something since the last (Notify) or
// contacts wait (their waits grow); broadcast sends it only if it changed.
func (l *Live) loop() {
	defer close(l.done)
	tick := time.NewTicker(LiveEvery)
	defer tick.Stop()
	stale, aging := true, false
	for {
		select {
		case <-l.quit:
			return
		case <-l.dirty:
			stale = true
			continue
		case <-tick.C:
		}
		l.mu.Lock()
		watched := len(l.viewers) > 0
		l.mu.Unlock()
		if !watched || !(stale || aging) {
			continue
		}
		f, waiting, err := l.build()
		if err != nil {
			l.o.Logger.Warn("dashboards: board", "err", err)
			continue
		}
		stale, aging = false, waiting
		l.broadcast(f)
	}
}

// build returns the board's frame now, and whether contacts wait.
func (l *Live) build() (frame []byte, waiting bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap := l.o.Router.Snapshot()
	stats, err := l.o.Store.QueueStats(ctx, snap.At.Add(-l.o.Window))
	if err != nil {
		return nil, false, err
	}
	b := NewBoard(snap, stats, l.o.Window)
	for _, q := range b.Queues {
		waiting = waiting || q.OldestWaitSeconds != nil
	}
	data, err := json.Marshal(b)
	if err != nil {
		return nil, false, err
	}
	frame, err = json.Marshal(struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}{frameBoard, data})
	return frame, waiting, err
}

// broadcast sends f to every viewer, unless it is the board last sent.
func (l *Live) broadcast(f []byte) {
	l.mu.Lock()
	if bytes.Equal(f, l.last) {
		l.mu.Unlock()
		return
	}
	l.last = f
	viewers := make([]*wsconn.Conn, 0, len(l.viewers))
	for c := range l.viewers {
		viewers = append(viewers, c)
	}
	l.mu.Unlock()
	for _, c := range viewers {
		_ = c.Send(f) // a viewer too slow is dropped by wsconn
	}
}

// ServeHTTP serves GET /ws/dashboard.
func (l *Live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !l.upgrader.CheckOrigin(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if err := l.o.Authorize(r); err != nil {
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
	// The viewer's first board is built for it now, not at the next tick.
	first, _, err := l.build()
	if err != nil {
		l.o.Logger.Warn("dashboards: board", "err", err)
		c.Close(wsconn.CloseGoingAway, "board unavailable")
		_ = c.Serve(func([]byte, bool) {})
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		c.Close(wsconn.CloseGoingAway, "server shutting down")
		_ = c.Serve(func([]byte, bool) {})
		return
	}
	l.viewers[c] = true
	l.mu.Unlock()
	_ = c.Send(first)
	_ = c.Serve(func([]byte, bool) {
		// Viewers only read.
		c.Close(closeReadOnly, "this socket only reads")
	})
	l.mu.Lock()
	delete(l.viewers, c)
	l.mu.Unlock()
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
	viewers := make([]*wsconn.Conn, 0, len(l.viewers))
	for c := range l.viewers {
		viewers = append(viewers, c)
	}
	l.mu.Unlock()
	close(l.quit)
	<-l.done
	for _, c := range viewers {
		c.Close(wsconn.CloseGoingAway, "server shutting down")
	}
}
