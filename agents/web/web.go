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

	"github.com/switchboard/switchboard/staticpage"
)

// Prefix is the path the desktop is served under; Handler expects request
// paths that start with it.
const Prefix = "/agent/"

// ContentSecurityPolicy is sent with every response (staticpage's).
const ContentSecurityPolicy = staticpage.ContentSecurityPolicy

//go:embed static
var static embed.FS

// Handler returns the handler of the agent desktop's static files under
// Prefix ("/agent/" is index.html), with routerd's pages' security
// headers (package staticpage). It is safe for concurrent use.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded static files: " + err.Error()) // programming error
	}
	return staticpage.Handler(files, Prefix)
}
