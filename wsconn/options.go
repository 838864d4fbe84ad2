package wsconn

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults used where Options leaves a field zero.
const (
	// DefaultWriteWait is how long one write (a frame, a ping, a close
	// frame) and the opening handshake may take; a client that does not
	// take a write in time is dropped.
	DefaultWriteWait = 10 * time.Second
	// DefaultPongWait is how long a connection may stay silent (no
	// frame, no pong) before it is dropped.
	DefaultPongWait = 60 * time.Second
	// DefaultCloseWait is how long the server waits for the client's
	// answer to its close frame before it drops the connection.
	DefaultCloseWait = 2 * time.Second
	// DefaultReadLimit bounds a client's frame, in bytes; a bigger one
	// closes the connection with 1009 (message too big).
	DefaultReadLimit = 64 << 10
	// DefaultSendBuffer is how many sends may wait for the writer; the
	// send that finds the buffer full drops the client.
	DefaultSendBuffer = 64
)

// Buffers of the opening handshake's upgrader.
const (
	// readBufferSize is the read buffer each connection keeps for its
	// life; small, because most sockets are idle and frames are small
	// (bigger ones are read in several reads).
	readBufferSize = 1 << 10
	// writeBufferSize is the write buffer, taken from a pool for each
	// write, so that idle connections hold none.
	writeBufferSize = 4 << 10
)

// Close codes used by the package and its callers (RFC 6455 7.4.1).
// Codes 4000 to 4999 are the callers' own.
const (
	// CloseGoingAway ends a connection because the server is stopping.
	CloseGoingAway = 1001
	// CloseTooBig is sent when a client's frame exceeds the read limit.
	CloseTooBig = 1009
)

// Options configure an Upgrader. The zero value means the defaults; a
// negative duration or size is an error.
type Options struct {
	// AllowedOrigins are the browser origins (scheme://host[:port],
	// http or https) allowed besides the daemon's own; compared without
	// regard to case. Nil allows only the daemon's own origin.
	AllowedOrigins []string
	// ReadLimit bounds a client's frame in bytes (0: DefaultReadLimit).
	ReadLimit int64
	// SendBuffer is how many sends may wait for a client
	// (0: DefaultSendBuffer); one send is one batch of frames.
	SendBuffer int
	// WriteWait bounds each write (0: DefaultWriteWait).
	WriteWait time.Duration
	// PongWait is how long a silent connection lives (0:
	// DefaultPongWait).
	PongWait time.Duration
	// PingPeriod is how often the server pings (0: half of PongWait);
	// it must be shorter than PongWait, so that a live client's pong
	// always arrives in time.
	PingPeriod time.Duration
	// CloseWait is how long the client has to answer a close frame
	// (0: DefaultCloseWait).
	CloseWait time.Duration
}

// resolve checks o, fills in the defaults and returns the allowed
// origins, normalized.
func (o Options) resolve() (Options, map[string]bool, error) {
	if o.ReadLimit < 0 || o.SendBuffer < 0 || o.WriteWait < 0 || o.PongWait < 0 || o.PingPeriod < 0 || o.CloseWait < 0 {
		return o, nil, fmt.Errorf("%w: negative limit or duration", ErrOptions)
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.SendBuffer == 0 {
		o.SendBuffer = DefaultSendBuffer
	}
	if o.WriteWait == 0 {
		o.WriteWait = DefaultWriteWait
	}
	if o.PongWait == 0 {
		o.PongWait = DefaultPongWait
	}
	if o.PingPeriod == 0 {
		o.PingPeriod = o.PongWait / 2
	}
	if o.PingPeriod >= o.PongWait {
		return o, nil, fmt.Errorf("%w: PingPeriod %v: want less than PongWait %v", ErrOptions, o.PingPeriod, o.PongWait)
	}
	if o.CloseWait == 0 {
		o.CloseWait = DefaultCloseWait
	}
	allowed := make(map[string]bool, len(o.AllowedOrigins))
	for i, s := range o.AllowedOrigins {
		origin, ok := ParseOrigin(s)
		if !ok {
			return o, nil, fmt.Errorf("%w: AllowedOrigins[%d] %q: want scheme://host[:port], e.g. \"https://www.example.com\"", ErrOptions, i, s)
		}
		allowed[origin] = true
	}
	return o, allowed, nil
}

// ParseOrigin returns origin s as scheme://host[:port], lowercased; ok
// is false unless s is an http or https origin as a browser sends it: a
// host, and no user, path (not even "/"), query or fragment. This is the
// one rule of an origin: the sockets' allow-lists (Options.AllowedOrigins),
// the Origin a browser sends them, and the configuration's
// allowed_origins.
func ParseOrigin(s string) (origin string, ok bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	return scheme + "://" + strings.ToLower(u.Host), true
}
