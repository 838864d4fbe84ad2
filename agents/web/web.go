// Package web serves the agent desktop: the page an agent opens at
// /agent/ to log in, set their state, take offers with their screen pop,
// converse and wrap up. It is a handful of small ES modules embedded in
// the binary (no build step) that talk to routerd over the login API and
// the agent WebSocket of docs/protocol.md.
//
// The daemon mounts it under /agent/:
//
//	mux.Handle("GET /agent/", web.Handler())
//
// The page calls POST /api/v1/login, GET /api/v1/me, POST /api/v1/logout and
// GET /ws/agent on its own origin.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Prefix is the path the desktop is served under; Handler expects request
// paths that start with it.
const Prefix = "/agent/"

// ContentSecurityPolicy is sent with every response: scripts, styles and
// connections only from routerd's own origin (WebSocket included), no
// inline script or style, no eval, no framing.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; script-src 'self'; " +
	"style-src 'self'; img-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

// contentTypes maps the extensions of the embedded files to their types;
// a file with any other extension is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Handler returns the handler of the agent desktop's static files under
// Prefix ("/agent/" is index.html). Other paths are 404; methods other
// than GET and HEAD are 405. Every response carries a strict
// Content-Security-Policy, X-Content-Type-Options: nosniff and no-cache
// (so a new release is picked up at once). It is safe for concurrent use.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded static files: " + err.Error()) // programming error
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		ct, known := contentTypes[path.Ext(name)]
		if !known {
			http.NotFound(w, r)
			return
		}
		if _, err := fs.Stat(files, name); err != nil {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", ct)
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = new(url.URL)
		*r2.URL = *r.URL
		r2.URL.Path = "/" + strings.TrimSuffix(name, "index.html")
		r2.URL.RawPath = ""
		fileServer.ServeHTTP(w, r2)
	})
}
