package email

import (
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// policy is what an email's HTML may keep: the user-generated-content
// policy (no scripts, styles, forms, frames or event handlers), links
// that open in a new tab with rel="nofollow noopener", and images from
// cid: (the message's own parts) or http(s), which the desktop blocks
// until the agent asks. Safe for concurrent use once built.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto", "cid")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("align").OnElements("p", "div", "td", "th", "table")
	return p
}()

// textPolicy keeps no element at all.
var textPolicy = bluemonday.StrictPolicy()

// Sanitize returns html as an agent may see it (policy).
func Sanitize(s string) string { return policy.Sanitize(s) }

var (
	blockEnd   = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/tr|/li|/h[1-6])\b[^>]*>`)
	blankLines = regexp.MustCompile(`\n{3,}`)
	spaces     = regexp.MustCompile(`[ \t\r\f\v]+`)
)

// HTMLText returns the text of html, for a message without a text part.
func HTMLText(s string) string {
	s = blockEnd.ReplaceAllString(s, "$0\n")
	s = html.UnescapeString(textPolicy.Sanitize(s))
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(spaces.ReplaceAllString(l, " "))
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}
