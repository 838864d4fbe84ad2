package wsconn

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
)

// Upgrader turns HTTP requests into Conns under one set of Options. It
// is safe for concurrent use.
type Upgrader struct {
	o       Options         // resolved, never changed
	allowed map[string]bool // normalized AllowedOrigins; never changed
	up      websocket.Upgrader
}

// New returns an Upgrader; an error wraps ErrOptions.
func New(o Options) (*Upgrader, error) {
	o, allowed, err := o.resolve()
	if err != nil {
		return nil, err
	}
	u := &Upgrader{o: o, allowed: allowed}
	u.up = websocket.Upgrader{
		HandshakeTimeout: o.WriteWait,
		ReadBufferSize:   readBufferSize,
		WriteBufferSize:  writeBufferSize,
		WriteBufferPool:  &sync.Pool{},
		CheckOrigin:      u.CheckOrigin,
	}
	return u, nil
}

// CheckOrigin reports whether r's Origin may open a socket: no Origin
// (not a browser), the daemon's own origin (http or https with r's
// Host), or one of Options.AllowedOrigins. Handlers call it before their
// own checks, to answer 403 first; Upgrade checks it again.
func (u *Upgrader) CheckOrigin(r *http.Request) bool {
	h := r.Header.Get("Origin")
	if h == "" {
		return true
	}
	origin, ok := ParseOrigin(h)
	if !ok {
		return false
	}
	if _, host, _ := strings.Cut(origin, "://"); strings.EqualFold(host, r.Host) {
		return true
	}
	return u.allowed[origin]
}

// Upgrade answers the opening handshake and returns the connection, whose
// Serve the caller then runs. On an error the upgrader has answered the
// request (400, 403).
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (*Conn, error) {
	ws, err := u.up.Upgrade(w, r, nil)
	if err != nil {
		return nil, fmt.Errorf("wsconn: upgrade: %w", err)
	}
	return newConn(ws, &u.o), nil
}
