// Package staticpage serves routerd's own pages (the agent desktop, the
// supervisors' dashboard): embedded files, no build step, nothing from
// another origin, every response with the same strict security headers.
//
//	mux.Handle("GET /agent/", staticpage.Handler(files, "/agent/"))
package staticpage

import (
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// ContentSecurityPolicy is sent with every response: scripts, styles,
// images and connections only from routerd's own origin (WebSocket
// included), no inline script or style, no eval, no framing.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; script-src 'self'; " +
	"style-src 'self'; img-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// contentTypes maps the extensions of the files served to their types; a
// file with any other extension is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Handler serves the files at the top of files under prefix (prefix
// itself is index.html). Other paths, subdirectories and unknown
// extensions are 404; methods other than GET and HEAD are 405. Every
// response carries ContentSecurityPolicy, nosniff, DENY framing,
// no-referrer and no-cache (a new release is picked up at once). It is
// safe for concurrent use.
func Handler(files fs.FS, prefix string) http.Handler {
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
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
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
