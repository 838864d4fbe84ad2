package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Timeouts of the customers' and agents' sockets.
const (
	// dialTimeout bounds a WebSocket's dial and upgrade.
	dialTimeout = 10 * time.Second
	// frameWait bounds the wait for an answer to a frame.
	frameWait = 15 * time.Second
)

// frame is the envelope of both WebSockets (docs/protocol.md).
type frame struct {
	Type string          `json:"type"`
	Seq  int64           `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// outFrame is a client's frame: type, id, data (the servers refuse a seq).
type outFrame struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Data any    `json:"data"`
}

// wsURL turns routerd's base URL into the WebSocket URL of path.
func (s *Sim) wsURL(path string) string {
	u, _ := url.Parse(s.opts.URL + path)
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	return u.String()
}

// dialer returns the dialer of a customer's socket: from its own
// loopback address when routerd is on loopback.
func (s *Sim) dialer() *websocket.Dialer {
	d := &websocket.Dialer{HandshakeTimeout: dialTimeout}
	u, _ := url.Parse(s.opts.URL)
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && ip.To4() != nil {
		src := s.nextLoopback()
		d.NetDialContext = (&net.Dialer{Timeout: dialTimeout, LocalAddr: &net.TCPAddr{IP: src}}).DialContext
	}
	return d
}

// chatMessage is a message frame's data on the customer's socket.
type chatMessage struct {
	Seq       int    `json:"seq"`
	Direction string `json:"direction"`
	Body      string `json:"body"`
}

// chatSocket is one socket of a chat customer: a reader goroutine
// passes its frames on until the socket closes (frames is then closed).
type chatSocket struct {
	ws     *websocket.Conn
	frames chan frame
	done   chan struct{} // closed when the customer stops reading
}

// dialChat opens a customer's socket; a 429 is refused (nil, nil).
func (s *Sim) dialChat(ctx context.Context) (*chatSocket, error) {
	ws, resp, err := s.dialer().DialContext(ctx, s.wsURL("/ws/chat"), nil)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
			return nil, nil
		}
		return nil, err
	}
	cs := &chatSocket{ws: ws, frames: make(chan frame, 64), done: make(chan struct{})}
	go func() {
		defer close(cs.frames)
		for {
			var f frame
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			select {
			case cs.frames <- f:
			case <-cs.done: // the customer is gone: nobody reads
				return
			}
		}
	}()
	return cs, nil
}

func (cs *chatSocket) close() {
	close(cs.done)
	cs.ws.Close()
}

func (cs *chatSocket) write(f outFrame) error {
	cs.ws.SetWriteDeadline(time.Now().Add(frameWait))
	return cs.ws.WriteJSON(f)
}

// chatCustomer is a customer of the web chat: start with the first
// message, wait for an agent within their patience (else leave), then
// write their other messages and read the agent's replies until the
// agent ends the conversation. With Restarts a socket that drops after
// `started` is opened again and the conversation resumed with its token;
// the sends not yet acknowledged are sent again with their client_id.
func (s *Sim) chatCustomer(ctx context.Context, c *simContact, st Stream) {
	rng := s.rng()
	cs, err := s.dialChat(ctx)
	if err != nil && s.opts.Restarts {
		// routerd may be restarting: the customer tries again (nothing
		// was sent yet).
		s.retry(func() bool { cs, err = s.dialChat(ctx); return err == nil })
	}
	switch {
	case err != nil:
		s.fail("chat: dial: " + errKind(err))
		return
	case cs == nil:
		s.refuse("chat: too many sockets from one address (429)")
		return
	}
	defer func() { cs.close() }()
	write := func(f outFrame) error { return cs.write(f) }
	c.sent()
	if err := write(outFrame{Type: "start", ID: "start", Data: map[string]any{
		"name": "Sim " + c.tag, "topic": st.Topic, "message": c.firstMessage(rng),
	}}); err != nil {
		s.fail("chat: start: " + errKind(err))
		return
	}
	// answers of the customer's own requests, by id
	type send struct{ tag, body string }
	pending := map[string]send{} // request id → the message
	assigned, started := false, false
	var conv struct {
		ConversationID string `json:"conversation_id"`
		Token          string `json:"token"`
		State          string `json:"state"`
	}
	lastSeq := 0 // the conversation's last message seen
	var patience <-chan time.Time
	var nextSend <-chan time.Time
	extra, sent := s.sc.Customers.ExtraMessages.Draw(rng), 0
	leaving := false
	draining := s.draining
	defer c.end()
	deadline := time.NewTimer(frameWait)
	defer deadline.Stop()
	// resume opens a new socket and asks for the conversation again.
	resume := func() bool {
		ok := s.retry(func() bool {
			next, err := s.dialChat(ctx)
			if err != nil || next == nil {
				return false
			}
			if err := next.write(outFrame{Type: "resume", ID: "resume", Data: map[string]any{
				"conversation_id": conv.ConversationID, "token": conv.Token, "last_seq": lastSeq,
			}}); err != nil {
				next.close()
				return false
			}
			cs.close()
			cs = next
			return true
		})
		if ok {
			s.n.reconnects.Add(1)
		}
		return ok
	}
	for {
		select {
		case f, ok := <-cs.frames:
			if !ok {
				switch {
				case leaving:
				case !s.opts.Restarts:
					s.fail("chat: socket closed by routerd")
				case !started:
					// The start's answer was lost: not acknowledged, so
					// the conversation may exist once or not at all.
					s.cut("chat: start")
				case resume():
					continue
				default:
					s.fail("chat: resume: routerd did not come back")
				}
				return
			}
			switch f.Type {
			case "started", "resumed":
				json.Unmarshal(f.Data, &conv)
				if f.Type == "started" {
					c.markAcked(conv.ConversationID)
					s.ackMessage(c.tag + ".0")
					s.n.acked.Add(1)
					started = true
					deadline.Stop()
					patience = time.After(s.sc.Customers.Patience.Draw(rng))
					if draining == nil && !assigned {
						s.leave(c, write)
						leaving, patience = true, nil
					}
					continue
				}
				if conv.State == "closed" {
					return
				}
				if conv.State == "assigned" && !assigned {
					assigned, patience = true, nil
					if sent < extra && nextSend == nil {
						nextSend = time.After(s.sc.Customers.MessageGap.Draw(rng))
					}
				}
				// What was sent and not acknowledged goes again, with its
				// client_id: routerd stores it once.
				for id, m := range pending {
					if err := write(outFrame{Type: "send", ID: id, Data: map[string]string{"body": m.body, "client_id": m.tag}}); err != nil {
						break // the socket dropped again: the reader says so
					}
				}
			case "queue":
				var q struct {
					Position int `json:"position"`
				}
				json.Unmarshal(f.Data, &q)
				if q.Position > 0 {
					c.mu.Lock()
					c.waited = c.waited || c.offeredAt.IsZero()
					c.mu.Unlock()
				}
			case "assigned":
				assigned = true
				patience = nil
				if sent < extra && nextSend == nil {
					nextSend = time.After(s.sc.Customers.MessageGap.Draw(rng))
				}
			case "message":
				var m chatMessage
				json.Unmarshal(f.Data, &m)
				lastSeq = max(lastSeq, m.Seq)
				if m.Direction != "out" {
					continue
				}
				if _, tag, ok := parseTag(m.Body); ok {
					s.mu.Lock()
					at, mine := s.replyAt[tag]
					s.mu.Unlock()
					if mine {
						s.replyLat.Add(time.Since(at))
					}
				}
			case "closed":
				if !started {
					s.fail("chat: closed before started")
				}
				return
			case "ack":
				if m, ok := pending[f.ID]; ok {
					s.ackMessage(m.tag)
					s.n.messages.Add(1)
					delete(pending, f.ID)
				}
				if f.ID == "leave" {
					return
				}
			case "error":
				var e struct{ Code, Message string }
				json.Unmarshal(f.Data, &e)
				switch {
				case f.ID == "start" && (e.Code == "unavailable" || e.Code == "rate_limited"):
					s.refuse("chat: start: " + e.Code)
					return
				case f.ID == "start":
					s.fail("chat: start: " + e.Code)
					return
				case f.ID == "leave" && e.Code == "conflict", strings.HasPrefix(f.ID, "m") && e.Code == "conflict":
					// The conversation ended meanwhile: nothing was stored.
					delete(pending, f.ID)
				default:
					s.fail("chat: " + f.ID + ": " + e.Code)
				}
			}
		case <-deadline.C:
			s.fail("chat: no answer to start")
			return
		case <-patience:
			s.leave(c, write)
			leaving, patience = true, nil
		case <-draining:
			// The run ends: a customer still waiting leaves (one whose
			// start is unanswered waits for it: the deadline bounds it).
			draining = nil
			if started && !assigned && !leaving {
				s.leave(c, write)
				leaving = true
			}
		case <-nextSend:
			nextSend = nil
			sent++
			tag := fmt.Sprintf("%s.%d", c.tag, sent)
			id := fmt.Sprintf("m%d", sent)
			m := send{tag: tag, body: fmt.Sprintf("[sim %s] One more thing (%d).", tag, sent)}
			pending[id] = m
			if err := write(outFrame{Type: "send", ID: id, Data: map[string]string{"body": m.body, "client_id": m.tag}}); err != nil && !s.opts.Restarts {
				s.fail("chat: send: " + errKind(err))
				return
			}
			if sent < extra {
				nextSend = time.After(s.sc.Customers.MessageGap.Draw(rng))
			}
		}
	}
}

// leave sends the chat's leave: a contact not taken yet is abandoned.
func (s *Sim) leave(c *simContact, write func(outFrame) error) {
	select {
	case <-c.assigned:
		return
	default:
	}
	if err := write(outFrame{Type: "leave", ID: "leave", Data: map[string]any{}}); err != nil {
		s.fail("chat: leave: " + errKind(err))
		return
	}
	c.mu.Lock()
	c.abandoned = true
	c.mu.Unlock()
	s.n.abandoned.Add(1)
}
