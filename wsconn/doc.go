// Package wsconn is the WebSocket plumbing shared by routerd's sockets
// (the agent desktop, the customer chat, the dashboards): one origin
// policy, one upgrader, and per connection one reader goroutine, one
// writer goroutine that alone writes, pings, limits and the close
// handshake. What travels on a socket (its protocol) is the caller's.
//
// An Upgrader is built once from Options, whose zero value means the
// defaults. A handler checks the origin before its own checks, upgrades,
// and then serves the connection in its own goroutine:
//
//	up, err := wsconn.New(wsconn.Options{AllowedOrigins: cfg.AllowedOrigins})
//	...
//	func serve(w http.ResponseWriter, r *http.Request) {
//		if !up.CheckOrigin(r) {
//			http.Error(w, "origin not allowed", http.StatusForbidden)
//			return
//		}
//		// authenticate, count, ... before the upgrade
//		c, err := up.Upgrade(w, r)
//		if err != nil {
//			return // the upgrader answered
//		}
//		c.Send(snapshot) // never waits: a full buffer drops the client
//		c.Serve(func(data []byte, text bool) { /* one request */ })
//	}
//
// Sending never waits for a client: each connection has a bounded buffer
// of sends, and a client that lets it fill is dropped (Send returns
// ErrTooSlow) and is expected to reconnect and resume. Close sends a
// close frame with the caller's code after what is queued. A frame larger
// than Options.ReadLimit closes the connection with 1009 (message too
// big); a client silent (no frame, no pong) for Options.PongWait is
// dropped.
//
// Origins: a request without an Origin header (not a browser) is allowed,
// as is a browser on the daemon's own origin (http or https, the request's
// Host) or on one of Options.AllowedOrigins; every other origin is
// refused. The allow-list is the only way in: there is no "allow all".
//
// Upgrader and Conn are safe for concurrent use, except that Serve is
// called once per Conn.
package wsconn
