package chat

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket timing, as in the agent protocol.
const (
	// writeWait is the time allowed to write one frame.
	writeWait = 10 * time.Second
	// pongWait is how long a silent connection lives.
	pongWait = 60 * time.Second
	// pingPeriod is how often the server pings; less than pongWait.
	pingPeriod = 30 * time.Second
	// sendBuffer is how many frames wait for a slow client before it is
	// dropped.
	sendBuffer = 64
	// frameOverhead is what the envelope may add to a body.
	frameOverhead = 1024
)

// outFrame is one encoded frame for the writer; deliveredSeq, if set, is
// an agent message's seq to record as delivered once written.
type outFrame struct {
	b            []byte
	deliveredSeq int
}

// conn is one customer socket. Only the writer goroutine writes to ws.
type conn struct {
	ch *Channel
	ws *websocket.Conn
	// addr is the customer's address (Options.ClientAddr), the key of
	// the per-address rate limit.
	addr string

	send      chan outFrame
	done      chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	seq       int64        // last envelope seq sent; guarded by mu
	contactID string       // the conversation, once bound; guarded by mu
	customer  string       // the customer's name; guarded by mu
	live      bool         // false for a left message; guarded by mu
	addUntil  time.Time    // when a left message stops taking more; guarded by mu
	ready     bool         // history sent; guarded by mu
	pending   []pendingMsg // live messages held while the history is sent; guarded by mu
	lastMsg   int          // highest message seq sent; guarded by mu
	queue     *queueData   // last queue frame sent; guarded by mu
	typingAt  time.Time    // last customer typing passed on; guarded by mu
}

type pendingMsg struct {
	seq int
	out bool
	raw json.RawMessage
}

// checkOrigin allows clients that send no Origin, routerd's own origin
// and AllowedOrigins.
func (c *Channel) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if c.allowed[origin] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

func (c *Channel) serveWS(w http.ResponseWriter, r *http.Request) {
	if !c.checkOrigin(r) {
		http.Error(w, "chat: origin not allowed", http.StatusForbidden)
		return
	}
	addr := c.o.ClientAddr(r)
	if !c.acquire(addr) {
		http.Error(w, "chat: too many open chats from this address; close one and try again", http.StatusTooManyRequests)
		return
	}
	defer c.release(addr) // the socket is closed when serveWS returns
	ws, err := c.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	cn := &conn{ch: c, ws: ws, addr: addr, send: make(chan outFrame, sendBuffer), done: make(chan struct{})}
	c.mu.Lock()
	select {
	case <-c.quit:
		c.mu.Unlock()
		ws.Close()
		return
	default:
	}
	c.conns[cn] = struct{}{}
	c.mu.Unlock()
	go cn.writeLoop()
	cn.pushJSON(typeWelcome, "", c.welcome())
	cn.readLoop()
}

// readLoop reads the client's frames until the socket fails; it runs in
// the HTTP handler's goroutine.
func (cn *conn) readLoop() {
	c := cn.ch
	defer func() {
		cn.close()
		c.forget(cn)
	}()
	cn.ws.SetReadLimit(int64(2*c.o.MaxMessageBytes + frameOverhead))
	cn.ws.SetReadDeadline(time.Now().Add(pongWait))
	cn.ws.SetPongHandler(func(string) error { return cn.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		typ, b, err := cn.ws.ReadMessage()
		if err != nil {
			return // closed, timed out, or over the limit (gorilla sent 1009)
		}
		cn.ws.SetReadDeadline(time.Now().Add(pongWait))
		if typ != websocket.TextMessage {
			cn.fail(invalid("", "frames are JSON text"))
			continue
		}
		req, err := parseFrame(b, c.o.MaxMessageBytes)
		if err != nil {
			cn.fail(err)
			continue
		}
		if err := cn.handle(req); err != nil {
			cn.fail(err)
		}
	}
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

// writeLoop is the only writer of ws.
func (cn *conn) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		cn.ws.Close()
	}()
	for {
		select {
		case f := <-cn.send:
			cn.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := cn.ws.WriteMessage(websocket.TextMessage, f.b); err != nil {
				cn.close()
				return
			}
			if f.deliveredSeq > 0 {
				if id := cn.conversation(); id != "" {
					cn.ch.setReceipt(id, func(r *Receipt) { r.DeliveredSeq = max(r.DeliveredSeq, f.deliveredSeq) })
				}
			}
		case <-ping.C:
			cn.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := cn.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				cn.close()
				return
			}
		case <-cn.done:
			cn.ws.SetWriteDeadline(time.Now().Add(writeWait))
			cn.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
			return
		}
	}
}

// close stops the writer, which closes the socket; the reader then ends.
func (cn *conn) close() {
	cn.closeOnce.Do(func() { close(cn.done) })
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
	select {
	case cn.send <- outFrame{b: b, deliveredSeq: deliveredSeq}:
	case <-cn.done:
	default:
		cn.close()
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
	if seq <= cn.lastMsg {
		return
	}
	cn.lastMsg = seq
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
	now := c.o.Clock()
	snap := c.o.Router.Snapshot()
	w := welcomeData{MaxMessageBytes: c.o.MaxMessageBytes, Topics: make([]topicData, 0, len(c.o.Topics))}
	for _, t := range c.o.Topics {
		td := topicData{ID: t.ID, Label: t.Label}
		hours := snap.Hours(t.Queue)
		if hours.Open(now) {
			w.Open = true
			td.Online = c.staffed(t.Queue)
		} else if next, ok := hours.NextOpen(now); ok {
			td.OpensAt = &next
		}
		w.Topics = append(w.Topics, td)
	}
	return w
}
