package wsconn_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/wsconn"
)

// An echo server: the origin is checked first, then the handler's own
// checks, then the upgrade; the first message is the server's, and each
// request is answered in order by the single writer.
func Example() {
	up, err := wsconn.New(wsconn.Options{AllowedOrigins: []string{"https://www.example.com"}})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.CheckOrigin(r) {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		c, err := up.Upgrade(w, r)
		if err != nil {
			return // the upgrader answered
		}
		c.Send([]byte("welcome"))
		c.Serve(func(data []byte, text bool) {
			if !text {
				c.Close(websocket.CloseUnsupportedData, "text only")
				return
			}
			c.Send(append([]byte("echo: "), data...))
		})
	}))
	defer srv.Close()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		panic(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte("hello"))
	for range 2 {
		_, b, _ := ws.ReadMessage()
		fmt.Println(string(b))
	}
	// Output:
	// welcome
	// echo: hello
}
