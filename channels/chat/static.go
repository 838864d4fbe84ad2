package chat

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// static holds the page, its ES modules and CSS, and the widget; no build
// step, nothing from another origin.
//
//go:embed static
var staticFS embed.FS

// staticHandler serves /chat/ from staticFS with a strict CSP (no inline
// script or style, sockets only to routerd itself, framed only by
// routerd and AllowedOrigins) and nosniff.
func (c *Channel) staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees it
	}
	files := http.StripPrefix("/chat/", http.FileServerFS(sub))
	ancestors := "'self'"
	for _, o := range c.o.AllowedOrigins {
		ancestors += " " + o
	}
	widget, err := widgetScript(sub, c.o.AllowedOrigins)
	if err != nil {
		panic(err) // the embedded file lacks its placeholder: a build bug
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.URL.Path == "/chat/widget.js" {
			// Loaded by the firm's pages: it runs there, under their CSP.
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
			h.Set("Content-Type", "text/javascript; charset=utf-8")
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				h.Set("Allow", "GET, HEAD")
				http.Error(w, "use GET", http.StatusMethodNotAllowed)
				return
			}
			http.ServeContent(w, r, "widget.js", time.Time{}, bytes.NewReader(widget))
			return
		}
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self' "+wsOrigins(r.Host)+"; base-uri 'none'; form-action 'none'; frame-ancestors "+ancestors)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasSuffix(r.URL.Path, ".js") {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		}
		files.ServeHTTP(w, r)
	})
}

// widgetPlaceholder is where widget.js takes the allowed origins.
const widgetPlaceholder = "/*ALLOWED_ORIGINS*/[]"

// widgetScript returns widget.js with the origins that may frame the
// chat written in, so that on another site it shows nothing.
func widgetScript(static fs.FS, origins []string) ([]byte, error) {
	src, err := fs.ReadFile(static, "widget.js")
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(src, []byte(widgetPlaceholder)) {
		return nil, fmt.Errorf("chat: widget.js lacks %s", widgetPlaceholder)
	}
	list, err := json.Marshal(append([]string{}, origins...))
	if err != nil {
		return nil, err
	}
	return bytes.Replace(src, []byte(widgetPlaceholder), list, 1), nil
}

// wsOrigins names routerd's own WebSocket origins for connect-src (older
// browsers do not let 'self' cover ws: and wss:).
func wsOrigins(host string) string {
	if host == "" || strings.ContainsAny(host, " ;'\"") {
		return ""
	}
	return "ws://" + host + " wss://" + host
}
