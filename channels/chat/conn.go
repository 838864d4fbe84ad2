package chat

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/wsconn"
)

// Limits of the customer socket (docs/chat-protocol.md); writes, pings
// and the close handshake are wsconn's defaults, as on the agent socket.
const (
	// sendBuffer is how many frames wait for a slow client before it is
	// dropped.
	sendBuffer = wsconn.DefaultSendBuffer
	// frameOverhead is what the envelope may add to a body: a frame is
	// at most 2 × MaxMessageBytes + frameOverhead, or the socket is
	// closed with 1009.
	frameOverhead = 1024
)

// conn is one customer socket. Only ws's writer goroutine writes to it.
type conn struct {
	ch *Channel
	ws *wsconn.Conn
	// addr is the customer's address (Options.ClientAddr), the key of
	// the per-address rate limit.
	addr string

	mu        sync.Mutex
	seq       int64        // last envelope seq sent; guarded by mu
	contactID string       // the conversation, once bound; guarded by mu
	customer  string       // the customer's name; guarded by mu
	live      bool         // false for a left message; guarded by mu
	addUntil  time.Time    // when a left message stops taking more; guarded by mu
	ready     bool         // history sent; guarded by mu
	pending   []pendingMsg // live messages held while the history is sent; guarded by mu
	// held are the conversation's other frames (assigned, closed) held
	// while the history is sent, in order, after its messages: sent
	// before started or resumed, they would be overtaken by the state
	// that answer read earlier. Guarded by mu.
	held    []heldFrame
	lastMsg int // highest message seq sent; guarded by mu
	// cut is the last seq the page had when it bound (it has every
	// message up to it); sent holds the seqs sent since, which may come
	// out of order (an agent's message comes from the outbox, the
	// customer's from the router). Guarded by mu.
	cut      int
	sent     map[int]bool
	queue    *queueData // last queue frame sent; guarded by mu
	closed   string     // the state of the last closed frame sent; guarded by mu
	typingAt time.Time  // last customer typing passed on; guarded by mu
}

type pendingMsg struct {
	seq int
	out bool
	raw json.RawMessage
}

type heldFrame struct {
	typ string
	raw json.RawMessage
}

// pushStateLocked queues a frame of the conversation's state (assigned,
// closed), held while the history is sent; cn.mu is held.
func (cn *conn) pushStateLocked(typ string, raw json.RawMessage) {
	if !cn.ready {
		cn.held = append(cn.held, heldFrame{typ, raw})
		return
	}
	cn.pushLocked(typ, "", raw, 0)
}

func (c *Channel) serveWS(w http.ResponseWriter, r *http.Request) {
	if !c.upgrader.CheckOrigin(r) {
		http.Error(w, "chat: origin not allowed", http.StatusForbidden)
		return
	}
	// The limits count a client's network, not its address (LimitKey).
	addr := clientaddr.LimitKey(c.o.ClientAddr(r))
	if !c.acquire(addr) {
		http.Error(w, "chat: too many open chats from this address; close one and try again", http.StatusTooManyRequests)
		return
	}
	defer c.release(addr) // the socket is closed when serveWS returns
	ws, err := c.upgrader.Upgrade(w, r)
	if err != nil {
		return // the upgrader answered
	}
	cn := &conn{ch: c, ws: ws, addr: addr}
	c.mu.Lock()
	select {
	case <-c.quit:
		c.mu.Unlock()
		// Close ran while this socket was being upgraded.
		ws.Close(wsconn.CloseGoingAway, "")
		ws.Serve(func([]byte, bool) {})
		return
	default:
	}
	c.conns[cn] = struct{}{}
	c.mu.Unlock()
	cn.pushJSON(typeWelcome, "", c.welcome())
	cn.serve()
}

// serve reads the client's frames until the socket ends; it runs in the
// HTTP handler's goroutine.
func (cn *conn) serve() {
	c := cn.ch
	defer c.forget(cn)
	// Closed, timed out, or over the limit (wsconn sent 1009).
	cn.ws.Serve(func(b []byte, text bool) {
		if !text {
			cn.fail(invalid("", "frames are JSON text"))
			return
		}
		req, err := parseFrame(b, c.o.MaxMessageBytes)
		if err != nil {
			cn.fail(err)
			return
		}
		if err := cn.handle(req); err != nil {
			cn.fail(err)
		}
	})
}

// handle runs one request; an error is answered with an "error" frame.
func (cn *conn) handle(req request) error {
	bound := cn.conversation() != ""
	switch {
	case (req.Type == typeStart || req.Type == typeResume) && bound:
		return &frameError{ID: req.ID, Code: codeConflict, Msg: "this socket already carries a conversation"}
	case req.Type != typeStart && req.Type != typeResume && !bound:
		return &frameError{ID: req.ID, Code: codeConflict, Msg: "start or resume a conversation first"}
	}
	switch req.Type {
	case typeStart:
		return cn.start(req.ID, req.Start)
	case typeResume:
		return cn.resume(req.ID, req.Resume)
	case typeSend:
		return cn.sendMessage(req.ID, req.Send)
	case typeTyping:
		cn.typing()
		return nil
	case typeRead:
		cn.read(req.ID, req.Read)
		return nil
	case typeLeave:
		return cn.leave(req.ID)
	case typeHistory:
		return cn.history(req.ID, req.History)
	case typeCSAT:
		return cn.answer(req.ID, req.CSAT)
	}
	return invalid(req.ID, "unknown type %q", req.Type)
}

// fail answers err as an "error" frame.
func (cn *conn) fail(err error) {
	var fe *frameError
	if !errors.As(err, &fe) {
		cn.ch.o.Logger.Error("chat: request failed", "conversation", cn.conversation(), "err", err)
		fe = &frameError{Code: codeInternal, Msg: "the server could not do this now; try again"}
	}
	cn.pushJSON(typeError, fe.ID, map[string]string{"code": fe.Code, "message": fe.Msg})
}

// close closes the socket (1001) after what is queued; the reader then
// ends.
func (cn *conn) close() {
	cn.ws.Close(wsconn.CloseGoingAway, "")
}

func (cn *conn) conversation() string {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.contactID
}

// pushJSON encodes data and queues the frame.
func (cn *conn) pushJSON(typ, id string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err) // our own types always marshal
	}
	cn.push(typ, id, raw, 0)
}

// push queues one frame, numbering it; a client whose buffer is full is
// dropped, never waited on.
func (cn *conn) push(typ, id string, data json.RawMessage, deliveredSeq int) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.pushLocked(typ, id, data, deliveredSeq)
}

func (cn *conn) pushLocked(typ, id string, data json.RawMessage, deliveredSeq int) {
	cn.seq++
	b, err := json.Marshal(envelope{Type: typ, Seq: cn.seq, ID: id, Data: data})
	if err != nil {
		panic(err)
	}
	if deliveredSeq == 0 {
		cn.ws.Send(b)
		return
	}
	cn.ws.SendThen(func() { cn.delivered(deliveredSeq) }, b)
}

// delivered records that the agent message seq was written to the
// customer's socket; it runs on the writer goroutine.
func (cn *conn) delivered(seq int) {
	if id := cn.conversation(); id != "" {
		cn.ch.setReceipt(id, func(r *Receipt) { r.DeliveredSeq = max(r.DeliveredSeq, seq) })
	}
}

// pushMessage queues a conversation message unless this socket already
// sent it; while the history is being sent it is held back.
func (cn *conn) pushMessage(seq int, out bool, raw json.RawMessage) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if !cn.ready {
		cn.pending = append(cn.pending, pendingMsg{seq: seq, out: out, raw: raw})
		return
	}
	cn.pushMessageLocked(seq, out, raw)
}

func (cn *conn) pushMessageLocked(seq int, out bool, raw json.RawMessage) {
	if seq <= cn.cut || cn.sent[seq] {
		return
	}
	if cn.sent == nil {
		cn.sent = map[int]bool{}
	}
	cn.sent[seq] = true
	cn.lastMsg = max(cn.lastMsg, seq)
	d := 0
	if out {
		d = seq
	}
	cn.pushLocked(typeMessage, "", raw, d)
}

// welcomeData is the first frame on every socket.
type welcomeData struct {
	Topics []topicData `json:"topics"`
	// Open reports whether a topic's queue is within its business
	// hours; a topic is online when its queue is and an agent of it is
	// working.
	Open            bool `json:"open"`
	MaxMessageBytes int  `json:"max_message_bytes"`
	// Transcript is false: there is no email channel yet.
	Transcript bool `json:"transcript"`
}

type topicData struct {
	ID     string `json:"id"`
	Label  string `json:"label"`
	Online bool   `json:"online"`
	// OpensAt is when the topic's queue opens next, while it is outside
	// its business hours (RFC 3339 in the hours' time zone); absent when
	// open or when it never opens again.
	OpensAt *time.Time `json:"opens_at,omitempty"`
}

func (c *Channel) welcome() welcomeData {
	t := c.topicsNow(c.o.Router.Snapshot())
	return welcomeData{MaxMessageBytes: c.o.MaxMessageBytes, Topics: t.Topics, Open: t.Open}
}

// topicsData is whether each topic is online now: the welcome's, and the
// topics frame sent to every socket when it changes.
type topicsData struct {
	Topics []topicData `json:"topics"`
	Open   bool        `json:"open"`
}

func (c *Channel) topicsNow(snap *router.Snapshot) topicsData {
	now := c.o.Clock()
	w := topicsData{Topics: make([]topicData, 0, len(c.o.Topics))}
	for _, t := range c.o.Topics {
		td := topicData{ID: t.ID, Label: t.Label}
		hours := snap.Hours(t.Queue)
		if hours.Open(now) {
			w.Open = true
			td.Online = snap.Staffed(t.Queue)
		} else if next, ok := hours.NextOpen(now); ok {
			td.OpensAt = &next
		}
		w.Topics = append(w.Topics, td)
	}
	return w
}
