package chat

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.URL.Path == "/chat/widget.js" {
			// Loaded by the firm's pages: it runs there, under their CSP.
			h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		} else {
			h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
				"connect-src 'self' "+wsOrigins(r.Host)+"; base-uri 'none'; form-action 'none'; frame-ancestors "+ancestors)
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
		}
		if strings.HasSuffix(r.URL.Path, ".js") {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		}
		files.ServeHTTP(w, r)
	})
}

// wsOrigins names routerd's own WebSocket origins for connect-src (older
// browsers do not let 'self' cover ws: and wss:).
func wsOrigins(host string) string {
	if host == "" || strings.ContainsAny(host, " ;'\"") {
		return ""
	}
	return "ws://" + host + " wss://" + host
}
