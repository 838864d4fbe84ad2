package wsconn

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// testTimeout bounds every wait of a test: reaching it is a failure, never
// a step of the test.
const testTimeout = 10 * time.Second

// served is a server side connection and what its Serve returned.
type served struct {
	c    *Conn
	msgs chan []byte // text messages read, in order
	err  chan error  // Serve's result
}

// server starts an httptest server whose handler upgrades under o and
// hands each connection to the test.
func server(t *testing.T, o Options) (*httptest.Server, chan *served) {
	t.Helper()
	up, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan *served, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.CheckOrigin(r) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		s := &served{c: c, msgs: make(chan []byte, 16), err: make(chan error, 1)}
		conns <- s
		s.err <- c.Serve(func(data []byte, text bool) {
			if text {
				s.msgs <- data
			}
		})
	}))
	t.Cleanup(srv.Close)
	return srv, conns
}

func wsURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// dial connects a client and returns it with the server's side.
func dial(t *testing.T, srv *httptest.Server, conns chan *served) (*websocket.Conn, *served) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	select {
	case s := <-conns:
		return ws, s
	case <-time.After(testTimeout):
		t.Fatal("the server never got the connection")
	}
	return nil, nil
}

// serveErr waits for Serve to return.
func serveErr(t *testing.T, s *served) error {
	t.Helper()
	select {
	case err := <-s.err:
		return err
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return")
	}
	return nil
}

// closeCode reads until the client gets the server's close frame.
func closeCode(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(testTimeout))
	for {
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("got %v, want a close frame", err)
		}
	}
}

func TestOrigins(t *testing.T) {
	srv, conns := server(t, Options{AllowedOrigins: []string{"https://Shop.Example.com", "http://localhost:3000"}})
	for _, tc := range []struct {
		name, origin string
		want         int
	}{
		{"no-origin", "", http.StatusSwitchingProtocols},
		{"own-origin", srv.URL, http.StatusSwitchingProtocols},
		{"allowed-origin", "https://shop.example.com", http.StatusSwitchingProtocols},
		{"allowed-origin-port", "http://localhost:3000", http.StatusSwitchingProtocols},
		{"foreign-origin", "https://evil.example", http.StatusForbidden},
		{"lookalike-scheme", "http://shop.example.com", http.StatusForbidden},
		{"lookalike-port", "https://shop.example.com:8443", http.StatusForbidden},
		{"lookalike-suffix", "https://shop.example.com.evil.example", http.StatusForbidden},
		{"own-host-other-scheme", "ftp://" + strings.TrimPrefix(srv.URL, "http://"), http.StatusForbidden},
		{"opaque", "null", http.StatusForbidden},
		{"with-a-path", "https://shop.example.com/", http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			ws, resp, err := websocket.DefaultDialer.Dial(wsURL(srv), h)
			if resp == nil {
				t.Fatalf("no answer: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
			}
			if ws != nil {
				ws.Close()
				<-conns
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"zero", Options{}, true},
		{"origin", Options{AllowedOrigins: []string{"https://www.example.com"}}, true},
		{"origin-path", Options{AllowedOrigins: []string{"https://www.example.com/chat"}}, false},
		// The configuration refused it, the sockets took it: one rule now.
		{"origin-trailing-slash", Options{AllowedOrigins: []string{"https://www.example.com/"}}, false},
		{"origin-scheme", Options{AllowedOrigins: []string{"chrome-extension://abc"}}, false},
		{"origin-host", Options{AllowedOrigins: []string{"www.example.com"}}, false},
		{"ping-not-below-pong", Options{PongWait: time.Second, PingPeriod: time.Second}, false},
		{"negative", Options{ReadLimit: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.o)
			if (err == nil) != tc.ok {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrOptions) {
				t.Fatalf("got %v, want ErrOptions", err)
			}
		})
	}
}

func TestSendAndRead(t *testing.T) {
	srv, conns := server(t, Options{})
	ws, s := dial(t, srv, conns)
	written := make(chan struct{})
	if err := s.c.SendThen(func() { close(written) }, []byte("one"), []byte("two")); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(testTimeout))
	for _, want := range []string{"one", "two"} {
		typ, b, err := ws.ReadMessage()
		if err != nil || typ != websocket.TextMessage || string(b) != want {
			t.Fatalf("got %d %q %v, want text %q", typ, b, err, want)
		}
	}
	<-written
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-s.msgs:
		if string(b) != "hello" {
			t.Fatalf("got %q, want hello", b)
		}
	case <-time.After(testTimeout):
		t.Fatal("the server never read the message")
	}
}

func TestCloseHandshake(t *testing.T) {
	srv, conns := server(t, Options{})
	ws, s := dial(t, srv, conns)
	s.c.Close(4001, "session replaced", []byte("bye"))
	if err := s.c.Send([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after Close: got %v, want ErrClosed", err)
	}
	ws.SetReadDeadline(time.Now().Add(testTimeout))
	if _, b, err := ws.ReadMessage(); err != nil || string(b) != "bye" {
		t.Fatalf("got %q %v, want bye", b, err)
	}
	// gorilla's client answers the close frame, which ends Serve.
	if code := closeCode(t, ws); code != 4001 {
		t.Fatalf("got close %d, want 4001", code)
	}
	err := serveErr(t, s)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 {
		t.Fatalf("Serve: got %v, want the client's answer 4001", err)
	}
	<-s.c.Done()
}

func TestCloseWaitWithoutAnswer(t *testing.T) {
	// A client that never answers the close frame (it does not read) is
	// dropped after CloseWait.
	srv, conns := server(t, Options{CloseWait: 50 * time.Millisecond})
	_, s := dial(t, srv, conns)
	s.c.Close(CloseGoingAway, "server shutting down")
	if err := serveErr(t, s); err == nil {
		t.Fatal("Serve: got nil, want the read deadline's error")
	}
}

func TestReadLimit(t *testing.T) {
	srv, conns := server(t, Options{ReadLimit: 1024})
	ws, s := dial(t, srv, conns)
	if err := ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 1024)); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-s.msgs:
		if len(b) != 1024 {
			t.Fatalf("got %d bytes, want 1024", len(b))
		}
	case <-time.After(testTimeout):
		t.Fatal("a frame at the limit was not read")
	}
	if err := ws.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 1025)); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, ws); code != CloseTooBig {
		t.Fatalf("got close %d, want %d", code, CloseTooBig)
	}
	if err := serveErr(t, s); !errors.Is(err, websocket.ErrReadLimit) {
		t.Fatalf("Serve: got %v, want ErrReadLimit", err)
	}
}

func TestSlowReaderDropped(t *testing.T) {
	// The client never reads: the writer blocks once the socket buffers
	// are full (WriteWait is long), the send buffer fills, and the send
	// that finds it full drops the client at once.
	srv, conns := server(t, Options{SendBuffer: 4, WriteWait: time.Hour})
	_, s := dial(t, srv, conns)
	fast, fs := dial(t, srv, conns)
	frame := bytes.Repeat([]byte("x"), 64<<10)
	var err error
	sent := 0
	for ; sent < 100_000 && err == nil; sent++ {
		err = s.c.Send(frame)
	}
	if !errors.Is(err, ErrTooSlow) {
		t.Fatalf("after %d sends: got %v, want ErrTooSlow", sent, err)
	}
	select {
	case <-s.c.Done():
	case <-time.After(testTimeout):
		t.Fatal("the dropped connection did not end")
	}
	if err := s.c.Send(frame); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after the drop: got %v, want ErrClosed", err)
	}
	serveErr(t, s)
	// Another client is not affected.
	if err := fs.c.Send([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	fast.SetReadDeadline(time.Now().Add(testTimeout))
	if _, b, err := fast.ReadMessage(); err != nil || string(b) != "still here" {
		t.Fatalf("got %q %v, want still here", b, err)
	}
}

func TestPingKeepsIdleConnection(t *testing.T) {
	const (
		// A stall of either side under the race detector on a busy
		// machine must stay well within pongWait.
		pongWait   = 2 * time.Second
		pingPeriod = 200 * time.Millisecond
	)
	srv, conns := server(t, Options{PongWait: pongWait, PingPeriod: pingPeriod})
	ws, s := dial(t, srv, conns)
	// The client sends nothing but pongs. Enough pings to span two
	// PongWaits: without the pongs the server would have dropped it.
	pings := make(chan struct{}, 64)
	ws.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	read := make(chan []byte)
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				close(read)
				return
			}
			read <- b
		}
	}()
	for n := 0; n < int(2*pongWait/pingPeriod)+1; n++ {
		select {
		case <-pings:
		case <-s.c.Done():
			t.Fatalf("dropped after %d pings, although it answered them", n)
		case <-time.After(testTimeout):
			t.Fatal("no ping")
		}
	}
	if err := s.c.Send([]byte("alive")); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-read:
		if string(b) != "alive" {
			t.Fatalf("got %q, want alive", b)
		}
	case <-time.After(testTimeout):
		t.Fatal("no message")
	}
}

func TestSilentClientDropped(t *testing.T) {
	srv, conns := server(t, Options{PongWait: 100 * time.Millisecond, PingPeriod: 20 * time.Millisecond})
	ws, s := dial(t, srv, conns)
	// The client reads (so it sees pings) but never answers them.
	ws.SetPingHandler(func(string) error { return nil })
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	err := serveErr(t, s)
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Serve: got %v, want a read timeout", err)
	}
}
