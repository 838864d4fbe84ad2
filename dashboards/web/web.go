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

	"github.com/switchboard/switchboard/staticpage"
)

// Prefix is where the page is served.
const Prefix = "/dashboard/"

//go:embed static
var static embed.FS

// Handler serves the page under Prefix with routerd's pages' security
// headers (package staticpage).
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic("dashboards/web: embedded static files: " + err.Error()) // programming error
	}
	return staticpage.Handler(files, Prefix)
}
