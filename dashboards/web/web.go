// Package web serves the supervisors' live page (/dashboard/): static
// files embedded in the binary, no build step and nothing from another
// origin. The page signs in like the agent desktop (POST /api/v1/login),
// reads the board from /ws/dashboard (package dashboards) and renders
// every value as text.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the page is served.
const Prefix = "/dashboard/"

// ContentSecurityPolicy allows only routerd's own scripts, styles and
// socket.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; script-src 'self'; " +
	"style-src 'self'; img-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// Handler serves the page under Prefix with a strict CSP, nosniff and
// no-cache (a new release is picked up at once).
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic("dashboards/web: embedded static files: " + err.Error()) // programming error
	}
	fileServer := http.StripPrefix(Prefix, http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if ct, ok := contentTypes[path.Ext(r.URL.Path)]; ok {
			h.Set("Content-Type", ct)
		} else if strings.HasSuffix(r.URL.Path, "/") {
			h.Set("Content-Type", contentTypes[".html"])
		}
		fileServer.ServeHTTP(w, r)
	})
}
