package agents

import (
	"sync"
	"time"

	"github.com/switchboard/switchboard/router"
)

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
