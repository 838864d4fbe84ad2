package agents

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/wsconn"
)

// Sessions: an agent's login sessions, each a numbered message stream
// with its replay buffer that outlives any one socket; connecting a
// socket to one (authentication, upgrade, resume), and ending them.

// Limits of a session's replay buffer: a reconnecting client gets every
// message it missed if they are all still here, else a fresh snapshot.
const (
	// ringMessages is how many numbered messages a session keeps.
	ringMessages = 512
	// ringBytes bounds the encoded size of what a session keeps, so that
	// a few big screen pops cannot hold megabytes per agent.
	ringBytes = 256 << 10
	// sessionLinger is how long a session without a socket keeps its
	// buffer for a resume before it is forgotten.
	sessionLinger = 15 * time.Minute
)

// session is the message stream of one login session: its sequence
// numbers and the recent messages, which outlive any one socket. The
// messages of a session are numbered only by the hub worker of its agent,
// so they are in order; mu guards the rest against sockets coming and
// going.
type session struct {
	id      string
	agentID string

	mu sync.Mutex
	// seq is the number of the last message; guarded by mu.
	seq uint64
	// ring holds the recent messages, the last being seq; guarded by mu.
	ring ring
	// conn is the socket receiving the stream, nil while none is;
	// guarded by mu.
	conn *conn
	// gen counts the sockets attached, so that a linger timer armed for
	// an earlier detach does nothing; guarded by mu.
	gen uint64
	// ended is set once EndSessions or expiry removed the session, and
	// expired if expiry did; guarded by mu.
	ended, expired bool
	// expiry is the timer that ends the session when it expires; nil if
	// it never does or has ended; guarded by mu.
	expiry router.Timer
}

// push numbers a message, keeps it for a resume, and hands it to the
// socket if there is one. A socket too slow to take it is dropped.
func (s *session) push(typ string, data []byte) {
	s.mu.Lock()
	s.seq++
	f := frame(typ, s.seq, "", data)
	s.ring.add(s.seq, f)
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		c.enqueue(f)
	}
}

// ring is a bounded list of consecutive numbered frames.
type ring struct {
	frames [][]byte
	// first is the seq of frames[0].
	first uint64
	bytes int
}

func (r *ring) add(seq uint64, f []byte) {
	if len(r.frames) == 0 {
		r.first = seq
	}
	r.frames = append(r.frames, f)
	r.bytes += len(f)
	for len(r.frames) > 1 && (len(r.frames) > ringMessages || r.bytes > ringBytes) {
		r.bytes -= len(r.frames[0])
		r.frames[0] = nil
		r.frames = r.frames[1:]
		r.first++
	}
}

// after returns the frames numbered after seq, last the one numbered
// last; ok is false when some of them are no longer kept (or seq was
// never sent).
func (r *ring) after(seq, last uint64) (frames [][]byte, ok bool) {
	switch {
	case seq > last:
		return nil, false
	case seq == last:
		return nil, true
	case len(r.frames) == 0 || seq+1 < r.first:
		return nil, false
	}
	return append([][]byte(nil), r.frames[seq+1-r.first:]...), true
}

// ServeHTTP serves GET /ws/agent: origin, authentication, upgrade, then
// the connection until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "use GET with a WebSocket upgrade", http.StatusMethodNotAllowed)
		return
	}
	if !h.upgrader.CheckOrigin(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	agentID, sessionID, expiresAt, err := h.auth(r)
	if err != nil || agentID == "" || sessionID == "" {
		http.Error(w, "log in first: an agent session is required", http.StatusUnauthorized)
		return
	}
	if _, ok := h.rt.Snapshot().Agent(agentID); !ok {
		http.Error(w, "agent "+agentID+" is not known to the router", http.StatusForbidden)
		return
	}
	if h.closed.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r)
	if err != nil {
		return // the upgrader answered
	}
	c := &conn{h: h, ws: ws, agentID: agentID}
	if v := r.URL.Query().Get("resume"); v != "" {
		if seq, err := strconv.ParseUint(v, 10, 64); err == nil {
			c.resume, c.resumeSeq = true, seq
		}
	}
	p := h.register(c, sessionID, expiresAt)
	present := true
	if h.closed.Load() {
		// Close ran while this socket was being upgraded.
		c.closeWith(wsconn.CloseGoingAway, "server shutting down")
		present = false
	} else if _, sid, _, err := h.auth(r); err != nil || sid != sessionID {
		// The session ended (a logout, a password set) while this socket
		// was being set up, before EndSessions could find it: it must
		// not stay, nor make the agent present.
		h.endSession(c.s, false)
		c.closeWith(closeReplaced, "session ended", frame(msgSessionReplaced, 0, "", []byte("{}")))
		present = false
	}
	p.mu.Lock()
	p.conns++
	if present {
		if _, err := h.rt.AgentConnected(h.ctx, agentID); err != nil {
			h.log.Warn("agents: agent connected", "agent", agentID, "err", err)
		}
	}
	p.mu.Unlock()
	h.shardOf(agentID).put(job{attach: c})
	c.serve()
	h.finish(c, p)
}

// register finds or creates c's session and records c. A new session
// that expires gets the timer that ends it then.
func (h *Hub) register(c *conn, sessionID string, expiresAt time.Time) *presence {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sessions[sessionID]
	if s == nil || s.agentID != c.agentID {
		s = &session{id: sessionID, agentID: c.agentID}
		h.sessions[sessionID] = s
		h.byAgent[c.agentID] = append(h.byAgent[c.agentID], s)
		if !expiresAt.IsZero() {
			s.mu.Lock()
			s.expiry = h.afterFunc(expiresAt.Sub(h.now()), func() { h.endSession(s, true) })
			s.mu.Unlock()
		}
	}
	c.s = s
	h.conns[c] = true
	p := h.presence[c.agentID]
	if p == nil {
		p = &presence{}
		h.presence[c.agentID] = p
	}
	return p
}

// finish cleans up after c ended. The agent's last socket closing tells
// the router the agent left: signed out if its session ended, else
// disconnected (docs/protocol.md, Presence).
func (h *Hub) finish(c *conn, p *presence) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	s := c.s
	s.mu.Lock()
	c.dead = true
	ended := s.ended
	if s.conn == c {
		s.conn = nil
		gen := s.gen
		time.AfterFunc(sessionLinger, func() { h.linger(s, gen) })
	}
	s.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns--
	if p.conns > 0 || h.closed.Load() {
		return
	}
	// The agent's last socket is gone. A drop (a reload, the network)
	// gets the agent's state back on reconnect; a session ended (a
	// logout, a new login, a password set, expiry) does not.
	leave, how := h.rt.AgentDisconnected, "disconnected"
	if ended {
		leave, how = h.rt.AgentSignedOut, "signed out"
	}
	if _, err := leave(h.ctx, c.agentID); err != nil && !errors.Is(err, router.ErrNoAgent) {
		h.log.Warn("agents: agent "+how, "agent", c.agentID, "err", err)
	}
}

// linger drops the replay buffer of a session that has had no socket
// since generation gen: a later resume gets a snapshot. The sequence
// goes on, never reused.
func (h *Hub) linger(s *session, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil && s.gen == gen {
		s.ring = ring{}
	}
}

// ForgetReplays empties the replay buffer of every session, as linger
// does for one: a socket that resumes later gets a fresh snapshot. It is
// called when a customer's personal data is erased, so that no frame
// about them (a screen pop, a message) stays in memory to be replayed;
// the buffers hold every customer's frames mixed, and erasing is rare,
// so all go. Frames already sent are the clients' own.
func (h *Hub) ForgetReplays() {
	h.mu.Lock()
	sessions := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		sessions = append(sessions, s)
	}
	h.mu.Unlock()
	for _, s := range sessions {
		s.mu.Lock()
		s.ring = ring{}
		s.mu.Unlock()
	}
}

// EndSessions ends sessions of an agent (a new login took over, a
// logout, a password set, the login or the agent deleted): their sockets
// get session_replaced and close, and a resume of them is no longer
// possible. When the agent has no other socket left, the router hears
// that the agent signed out (router.AgentSignedOut). Unknown ids are
// ignored.
func (h *Hub) EndSessions(agentID string, sessionIDs []string) {
	for _, id := range sessionIDs {
		h.mu.RLock()
		s := h.sessions[id]
		h.mu.RUnlock()
		if s != nil && s.agentID == agentID {
			h.endSession(s, false)
		}
	}
}

// Sessions returns the id and agent of every session with a socket.
func (h *Hub) Sessions() map[string]string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[string]string, len(h.sessions))
	for id, s := range h.sessions {
		out[id] = s.agentID
	}
	return out
}

// endSession forgets s, unless it was already. Its socket, if any, is
// closed: with session_replaced, or, when the session expired, with
// closeExpired and as a drop, which tells the router the agent left.
func (h *Hub) endSession(s *session, expired bool) {
	h.mu.Lock()
	if h.sessions[s.id] != s {
		h.mu.Unlock()
		return
	}
	delete(h.sessions, s.id)
	h.byAgent[s.agentID] = slices.DeleteFunc(h.byAgent[s.agentID], func(o *session) bool { return o == s })
	if len(h.byAgent[s.agentID]) == 0 {
		delete(h.byAgent, s.agentID)
	}
	h.mu.Unlock()
	s.mu.Lock()
	s.ended, s.expired = true, expired
	c := s.conn
	s.conn = nil
	s.ring = ring{}
	timer := s.expiry
	s.expiry = nil
	s.mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	if c != nil {
		h.closeEnded(c, expired)
	}
}

// closeEnded closes c, whose session ended.
func (h *Hub) closeEnded(c *conn, expired bool) {
	if expired {
		c.closeWith(closeExpired, "session expired")
		return
	}
	c.replaced.Store(true)
	c.closeWith(closeReplaced, "session replaced", frame(msgSessionReplaced, 0, "", []byte("{}")))
}

// attach makes c its session's socket and sends it what it missed: a
// replay if the session still has it, else a snapshot. A socket that had
// the session before is told session_replaced and closed.
func (h *Hub) attach(c *conn) {
	s := c.s
	s.mu.Lock()
	if c.dead {
		s.mu.Unlock()
		return
	}
	if s.ended {
		expired := s.expired
		s.mu.Unlock()
		h.closeEnded(c, expired)
		return
	}
	old := s.conn
	s.conn = c
	s.gen++
	replayed := false
	if c.resume && s.seq > 0 {
		var frames [][]byte
		if frames, replayed = s.ring.after(c.resumeSeq, s.seq); replayed && len(frames) > 0 {
			c.enqueue(frames...)
		}
	}
	s.mu.Unlock()
	if old != nil && old != c {
		old.replaced.Store(true)
		old.closeWith(closeReplaced, "session replaced", frame(msgSessionReplaced, 0, "", []byte("{}")))
	}
	if !replayed {
		s.push(msgSnapshot, h.snapshot(s.agentID))
	}
}

// sessionsOf returns the sessions of an agent.
func (h *Hub) sessionsOf(agentID string) []*session {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return slices.Clone(h.byAgent[agentID])
}
