package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// viewers are supervisors watching the live board (/ws/dashboard) while
// the run goes on (-viewers N): the board's cost and lag under load, as
// the operations managers see it. Every viewer reads every frame; the
// first (the watcher) also keeps the agents' rows, to see when each
// contact first shows on the board (ringing at an agent, or held), and
// measures that against when its offer reached the agent's socket: how
// far behind the board is. The others read only the frame's head, its
// time ("at", routerd's clock: contactsim runs on the same machine, or
// one whose clock is in step) against when it arrived (the build and the
// sending).
type viewers struct {
	s     *Sim
	conns []*websocket.Conn
	wg    sync.WaitGroup

	frames, bytes atomic.Int64
	// behind is each frame's arrival − its "at" (the board's build and
	// sending); lag is a contact's offer on the agent's socket → the
	// contact on the board (the tick, the build and the sending).
	behind, lag Latencies
	errs        atomic.Int64
	// closing is set by close: a socket that ends before is an error.
	closing atomic.Bool

	mu sync.Mutex
	// offered is when each contact's offer reached an agent, until the
	// board shows it; shown is when the board first showed a contact
	// whose offer had not yet arrived. Guarded by mu.
	offered map[string]time.Time
	shown   map[string]time.Time
}

// openViewers opens n board sockets with the run's token.
func (s *Sim) openViewers(ctx context.Context, n int) (*viewers, error) {
	v := &viewers{s: s, offered: map[string]time.Time{}, shown: map[string]time.Time{}}
	h := http.Header{"Authorization": {"Bearer " + s.opts.Token}}
	for i := range n {
		ws, resp, err := (&websocket.Dialer{HandshakeTimeout: dialTimeout}).DialContext(ctx, s.wsURL("/ws/dashboard"), h)
		if err != nil {
			if resp != nil {
				err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
			}
			v.close()
			return nil, fmt.Errorf("contactsim: board viewer %d: %w", i+1, err)
		}
		ws.SetReadLimit(64 << 20)
		v.conns = append(v.conns, ws)
		v.wg.Add(1)
		go v.read(ws, i == 0)
	}
	return v, nil
}

// offer records that contact id's offer reached an agent at t.
func (v *viewers) offer(id string, t time.Time) {
	if v == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if at, ok := v.shown[id]; ok {
		// The board showed it first: behind by nothing.
		delete(v.shown, id)
		v.lag.Add(max(at.Sub(t), 0))
		return
	}
	v.offered[id] = t
}

// read reads one viewer's frames until its socket closes.
func (v *viewers) read(ws *websocket.Conn, watcher bool) {
	defer v.wg.Done()
	var agents map[string]boardAgent // the watcher's model
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			if !v.closing.Load() {
				v.errs.Add(1) // dropped during the run
			}
			return
		}
		now := time.Now()
		v.frames.Add(1)
		v.bytes.Add(int64(len(data)))
		if at, ok := frameAt(data); ok {
			v.behind.Add(max(now.Sub(at), 0))
		}
		if !watcher {
			continue
		}
		rows, err := boardRows(data)
		if err != nil {
			v.errs.Add(1)
			continue
		}
		if agents == nil {
			agents = map[string]boardAgent{}
		}
		for _, a := range rows {
			old := agents[a.ID]
			agents[a.ID] = a
			for _, id := range a.held() {
				if !old.holds(id) {
					v.show(id, now)
				}
			}
		}
	}
}

// show records that the board showed contact id at t, for the first
// time at its agent.
func (v *viewers) show(id string, t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if at, ok := v.offered[id]; ok {
		delete(v.offered, id)
		v.lag.Add(t.Sub(at))
		return
	}
	if len(v.shown) < 100000 {
		v.shown[id] = t
	}
}

func (v *viewers) close() {
	v.closing.Store(true)
	for _, ws := range v.conns {
		_ = ws.Close()
	}
	v.wg.Wait()
}

// boardAgent is what the watcher reads of an agent's row.
type boardAgent struct {
	ID       string   `json:"id"`
	Ringing  string   `json:"ringing"`
	Contacts []string `json:"contacts"`
}

func (a boardAgent) held() []string {
	if a.Ringing == "" {
		return a.Contacts
	}
	return append([]string{a.Ringing}, a.Contacts...)
}

func (a boardAgent) holds(id string) bool {
	if a.Ringing == id {
		return true
	}
	for _, c := range a.Contacts {
		if c == id {
			return true
		}
	}
	return false
}

// boardRows are the agents' rows of a board frame: all of a snapshot,
// the changed ones of a delta (docs/protocol.md).
func boardRows(data []byte) ([]boardAgent, error) {
	var f struct {
		Type string `json:"type"`
		Data struct {
			Agents json.RawMessage `json:"agents"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	var rows []boardAgent
	switch f.Type {
	case "board":
		if len(f.Data.Agents) > 0 {
			if err := json.Unmarshal(f.Data.Agents, &rows); err != nil {
				return nil, err
			}
		}
	case "board_delta":
		if len(f.Data.Agents) > 0 {
			var d struct {
				Changed []boardAgent `json:"changed"`
			}
			if err := json.Unmarshal(f.Data.Agents, &d); err != nil {
				return nil, err
			}
			rows = d.Changed
		}
	}
	return rows, nil
}

// frameAt reads a board frame's time ("at") from its head, without
// decoding the rest: a snapshot's follows its version, a delta's its
// from and to.
func frameAt(data []byte) (time.Time, bool) {
	head := data[:min(len(data), 160)]
	i := bytes.Index(head, []byte(`"at":"`))
	if i < 0 {
		return time.Time{}, false
	}
	rest := head[i+len(`"at":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// BoardSummary is what the board's viewers saw (-viewers).
type BoardSummary struct {
	Viewers int   `json:"viewers"`
	Frames  int64 `json:"frames"`
	// BytesPerViewerPerS is what each viewer received a second.
	BytesPerViewerPerS float64 `json:"bytes_per_viewer_per_s"`
	// Behind… are a frame's arrival − its time (the build and the
	// sending), over every viewer's frames.
	BehindP50Ms float64 `json:"behind_p50_ms"`
	BehindP99Ms float64 `json:"behind_p99_ms"`
	// Lag… are a contact's offer on the agent's socket → the contact on
	// the board, over the contacts the board showed (one that came and
	// went between two ticks never shows).
	LagP50Ms float64 `json:"lag_p50_ms"`
	LagP99Ms float64 `json:"lag_p99_ms"`
	LagMaxMs float64 `json:"lag_max_ms"`
	Samples  int     `json:"lag_samples"`
	// Unseen counts the contacts offered that the board never showed
	// at an agent (gone between two ticks, or the board that far
	// behind): the lag leaves them out.
	Unseen int `json:"unseen"`
	// Errors counts frames the first viewer could not read and sockets
	// dropped during the run.
	Errors int64 `json:"errors"`
}

// summary is what v saw over elapsed.
func (v *viewers) summary(elapsed time.Duration) *BoardSummary {
	if v == nil {
		return nil
	}
	b := v.behind.Percentiles(50, 99)
	l := v.lag.Percentiles(50, 99, 100)
	out := &BoardSummary{Viewers: len(v.conns), Frames: v.frames.Load(), BehindP50Ms: ms(b[0]), BehindP99Ms: ms(b[1]),
		LagP50Ms: ms(l[0]), LagP99Ms: ms(l[1]), LagMaxMs: ms(l[2]), Samples: v.lag.Count(), Errors: v.errs.Load()}
	v.mu.Lock()
	out.Unseen = len(v.offered)
	v.mu.Unlock()
	if len(v.conns) > 0 && elapsed > 0 {
		out.BytesPerViewerPerS = float64(v.bytes.Load()) / float64(len(v.conns)) / elapsed.Seconds()
	}
	return out
}
