package agents

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/switchboard/switchboard/wsconn"
)

// Limits of the agent socket (docs/protocol.md, "Limits"); the rest
// (writes, pings, the close handshake, the send buffer) are wsconn's
// defaults.
const (
	// maxFrameSize bounds a client frame; a bigger one closes the socket
	// with 1009 (message too big).
	maxFrameSize = 64 << 10
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
// reads and answers requests; ws's writer goroutine is the only one that
// writes frames.
type conn struct {
	h       *Hub
	ws      *wsconn.Conn
	s       *session // never nil
	agentID string
	// resume is set when the client asked to resume after resumeSeq.
	resume    bool
	resumeSeq uint64

	// replaced is set when another socket or login took the session
	// over: its end is not the agent going away.
	replaced atomic.Bool
	// dead is set when the connection has ended; guarded by s.mu.
	dead bool
	// typedAt is when each contact's typing was last passed on; used by
	// the reader goroutine only.
	typedAt map[string]time.Time
}

// enqueue hands frames to the writer, in order, without waiting: a full
// buffer drops the connection.
func (c *conn) enqueue(frames ...[]byte) {
	if err := c.ws.Send(frames...); errors.Is(err, wsconn.ErrTooSlow) {
		c.h.log.Info("agents: dropping a socket too slow to read its messages", "agent", c.agentID, "session", c.s.id)
	}
}

// closeWith sends frames, then a close frame, then ends the connection.
func (c *conn) closeWith(code int, text string, frames ...[]byte) {
	c.ws.Close(code, text, frames...)
}

// serve reads and answers the client's requests until the connection
// ends.
func (c *conn) serve() {
	c.ws.Serve(func(b []byte, text bool) {
		if !text {
			c.replyError("", codeInvalid, "send JSON in text frames")
			return
		}
		req, err := decodeFrame(b)
		if err != nil {
			c.replyError(req.ID, codeInvalid, err.Error())
			return
		}
		c.h.handle(c, req)
	})
}

// reply answers request id; acks and errors are not numbered.
func (c *conn) reply(typ, id string, data []byte) {
	c.enqueue(frame(typ, 0, id, data))
}
