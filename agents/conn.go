package agents

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Connection timing and limits (docs/protocol.md, "Limits").
const (
	// writeWait is how long one write (a frame, a ping, a close) may take;
	// a client that does not take it in time is dropped.
	writeWait = 10 * time.Second
	// pongWait is how long a connection may stay silent (no frame, no
	// pong) before it is dropped.
	pongWait = 60 * time.Second
	// pingPeriod is how often the server pings; well under pongWait, so
	// that a live client's pong always arrives in time.
	pingPeriod = 30 * time.Second
	// closeWait is how long the server waits for the client's answer to
	// its close frame before it drops the connection.
	closeWait = 2 * time.Second
	// maxFrameSize bounds a client frame; a bigger one closes the socket
	// with 1009 (message too big).
	maxFrameSize = 64 << 10
	// sendBuffer is how many outgoing batches may wait for a socket. A
	// client that lets it fill is dropped, never waited on; it resumes on
	// reconnect.
	sendBuffer = 64
)

// Close codes of the server (RFC 6455 7.4; 4000-4999 are private use).
const (
	// closeReplaced follows session_replaced: another login or socket
	// took over; the client must not reconnect on its own.
	closeReplaced = 4001
	// closeExpired ends a socket whose session expired; a reconnect is
	// refused with 401 until the agent logs in again.
	closeExpired = 4002
)

// conn is one agent socket. Its reader goroutine (the HTTP handler's)
// reads and answers requests; its writer goroutine is the only one that
// writes frames.
type conn struct {
	h       *Hub
	ws      *websocket.Conn
	s       *session // never nil
	agentID string
	// resume is set when the client asked to resume after resumeSeq.
	resume    bool
	resumeSeq uint64

	send chan *outgoing
	// done is closed when the connection is dropped.
	done chan struct{}
	once sync.Once
	// replaced is set when another socket or login took the session
	// over: its end is not the agent going away.
	replaced atomic.Bool
	// closing is set once the close frame is written; the reader no
	// longer extends its deadline.
	closing atomic.Bool
	// dead is set when the connection has ended; guarded by s.mu.
	dead bool
	// typedAt is when each contact's typing was last passed on; used by
	// the reader goroutine only.
	typedAt map[string]time.Time
}

// outgoing is a batch of frames for the writer, in order. A non-zero
// closeCode closes the socket after them.
type outgoing struct {
	frames    [][]byte
	closeCode int
	closeText string
}

// enqueue hands o to the writer without waiting: a full buffer drops
// the connection.
func (c *conn) enqueue(o *outgoing) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.send <- o:
	default:
		c.h.log.Info("agents: dropping a socket too slow to read its messages", "agent", c.agentID, "session", c.s.id)
		c.kill()
	}
}

// closeWith sends frames, then a close frame, then ends the connection.
func (c *conn) closeWith(code int, text string, frames ...[]byte) {
	c.enqueue(&outgoing{frames: frames, closeCode: code, closeText: text})
}

// kill drops the connection at once; the reader then returns.
func (c *conn) kill() {
	c.once.Do(func() {
		close(c.done)
		c.ws.Close()
	})
}

// extendRead pushes back the read deadline: the client is alive.
func (c *conn) extendRead() {
	if !c.closing.Load() {
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
	}
}

// writeLoop writes what is queued and pings; it is the only writer.
func (c *conn) writeLoop() {
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case o := <-c.send:
			for _, f := range o.frames {
				c.ws.SetWriteDeadline(time.Now().Add(writeWait))
				if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
					c.kill()
					return
				}
			}
			if o.closeCode != 0 {
				c.closing.Store(true)
				c.ws.SetWriteDeadline(time.Now().Add(writeWait))
				if err := c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(o.closeCode, o.closeText)); err != nil {
					c.kill()
					return
				}
				// The reader ends on the client's answer, or soon without.
				c.ws.SetReadDeadline(time.Now().Add(closeWait))
				return
			}
		case <-ping.C:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.kill()
				return
			}
		case <-c.done:
			return
		}
	}
}

// readLoop reads and answers the client's requests until the connection
// ends.
func (c *conn) readLoop() {
	c.ws.SetReadLimit(maxFrameSize)
	c.extendRead()
	c.ws.SetPongHandler(func(string) error { c.extendRead(); return nil })
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.extendRead()
		if typ != websocket.TextMessage {
			c.replyError("", codeInvalid, "send JSON in text frames")
			continue
		}
		req, err := decodeFrame(b)
		if err != nil {
			c.replyError(req.ID, codeInvalid, err.Error())
			continue
		}
		c.h.handle(c, req)
	}
}

// reply answers request id; acks and errors are not numbered.
func (c *conn) reply(typ, id string, data []byte) {
	c.enqueue(&outgoing{frames: [][]byte{frame(typ, 0, id, data)}})
}
