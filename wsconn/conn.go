package wsconn

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is one WebSocket connection. Serve runs its reader and writer
// goroutines; Send, SendThen and Close queue for the writer, which alone
// writes. Conn is safe for concurrent use; Serve is called once.
type Conn struct {
	ws *websocket.Conn
	o  *Options // resolved; never changed

	send chan batch
	// done is closed when the connection is dropped (ended).
	done     chan struct{}
	dropOnce sync.Once
	serving  atomic.Bool

	// mu orders sends, and guards closed.
	mu sync.Mutex
	// closed is set once Close is queued or the connection dropped: no
	// more sends are taken; guarded by mu.
	closed bool

	// dl orders the read deadline's changes: once closing is set (the
	// close frame is written) the reader no longer extends it.
	dl      sync.Mutex
	closing bool // guarded by dl
}

// batch is one send: frames written in order, then written called, then,
// if closeCode is not zero, the close frame.
type batch struct {
	frames    [][]byte
	written   func()
	closeCode int
	closeText string
}

func newConn(ws *websocket.Conn, o *Options) *Conn {
	return &Conn{ws: ws, o: o, send: make(chan batch, o.SendBuffer), done: make(chan struct{})}
}

// Send queues frames, as text messages written in order, without
// waiting. It returns ErrClosed if the connection has ended or is
// closing, and ErrTooSlow if the buffer was full: the connection is then
// dropped. A nil error means queued, not written.
func (c *Conn) Send(frames ...[]byte) error {
	return c.enqueue(batch{frames: frames})
}

// SendThen is Send, and calls written on the writer goroutine once every
// frame is written (not if the connection fails first). written must
// not block.
func (c *Conn) SendThen(written func(), frames ...[]byte) error {
	return c.enqueue(batch{frames: frames, written: written})
}

// Close queues frames, then a close frame with code and text, and no
// sends after them. The connection ends when the client answers the
// close frame, or after Options.CloseWait. A full buffer drops the
// connection instead. Close on a closed connection does nothing.
func (c *Conn) Close(code int, text string, frames ...[]byte) {
	c.enqueue(batch{frames: frames, closeCode: code, closeText: text})
}

// Done is closed when the connection has ended (dropped, failed or
// closed); its Serve then returns.
func (c *Conn) Done() <-chan struct{} {
	return c.done
}

func (c *Conn) enqueue(b batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case <-c.done:
		c.closed = true
		return ErrClosed
	default:
	}
	if b.closeCode != 0 {
		c.closed = true
	}
	select {
	case c.send <- b:
		return nil
	default:
		c.closed = true
		c.drop()
		return ErrTooSlow
	}
}

// drop ends the connection at once, without a close frame; the reader
// then fails and Serve returns.
func (c *Conn) drop() {
	c.dropOnce.Do(func() {
		close(c.done)
		c.ws.Close()
	})
}

// Serve reads the client's messages and hands each to handle, on the
// calling goroutine, while a writer goroutine writes what is queued and
// pings, until the connection ends. handle gets a message's payload and
// whether it was a text (not binary) message; it may send, and should
// not block for long: pongs are read between messages. Serve returns the
// error that ended the connection, after the writer has stopped and the
// network connection is closed.
func (c *Conn) Serve(handle func(data []byte, text bool)) error {
	if c.serving.Swap(true) {
		panic("wsconn: Serve called twice")
	}
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		c.writeLoop()
	}()
	defer func() {
		c.drop()
		<-writer
	}()
	c.ws.SetReadLimit(c.o.ReadLimit)
	c.extendRead()
	c.ws.SetPongHandler(func(string) error { c.extendRead(); return nil })
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			// Over the limit, gorilla has sent 1009; a close frame
			// was answered by its close handler.
			return fmt.Errorf("wsconn: read: %w", err)
		}
		c.extendRead()
		handle(b, typ == websocket.TextMessage)
	}
}

// extendRead pushes back the read deadline: the client is alive.
func (c *Conn) extendRead() {
	c.dl.Lock()
	defer c.dl.Unlock()
	if !c.closing {
		c.ws.SetReadDeadline(time.Now().Add(c.o.PongWait))
	}
}

// writeLoop writes what is queued and pings; it is the only writer.
func (c *Conn) writeLoop() {
	ping := time.NewTicker(c.o.PingPeriod)
	defer ping.Stop()
	for {
		select {
		case b := <-c.send:
			for _, f := range b.frames {
				if !c.write(websocket.TextMessage, f) {
					return
				}
			}
			if b.written != nil {
				b.written()
			}
			if b.closeCode != 0 {
				c.dl.Lock()
				c.closing = true
				c.dl.Unlock()
				if !c.write(websocket.CloseMessage, websocket.FormatCloseMessage(b.closeCode, b.closeText)) {
					return
				}
				// The reader ends on the client's answer, or soon without.
				c.ws.SetReadDeadline(time.Now().Add(c.o.CloseWait))
				return
			}
		case <-ping.C:
			if !c.write(websocket.PingMessage, nil) {
				return
			}
		case <-c.done:
			return
		}
	}
}

// write writes one message within WriteWait; a failure drops the
// connection.
func (c *Conn) write(typ int, b []byte) bool {
	c.ws.SetWriteDeadline(time.Now().Add(c.o.WriteWait))
	if err := c.ws.WriteMessage(typ, b); err != nil {
		c.drop()
		return false
	}
	return true
}
