package api

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/store"
)

// Limits of the inline images an email's HTML shows in place.
const (
	maxInlineImage  = 2 << 20
	maxInlineImages = 8 << 20
)

// EmailFrameCSP is the policy of an email's HTML in the desktop's
// sandboxed frame: nothing runs, nothing is fetched (remote images
// included) but the data: URLs of the message's own inline images and
// inline styles; links may open a new tab, outside the sandbox. With
// remote images asked for (?images=remote) they may load too.
const (
	EmailFrameCSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; " +
		"frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
	EmailFrameCSPRemote = "default-src 'none'; img-src data: https: http:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; " +
		"frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)

// cidSrc finds an image's cid: source in HTML as the email channel's
// sanitizer writes it (attributes in double quotes).
var cidSrc = regexp.MustCompile(`src="cid:([^"]{1,400})"`)

// messageHTML serves the sanitized HTML of message {seq} of contact {id}
// (an email's, sanitized by its channel before it was stored) as a
// document for the desktop's sandboxed frame, under EmailFrameCSP; its
// inline images (cid:) as data: URLs from the message's files.
func (s *Server) messageHTML(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.readableContact(r, id); err != nil {
		return err
	}
	seq, err := strconv.Atoi(r.PathValue("seq"))
	if err != nil || seq < 1 {
		return invalidf("path: message %q: want a number from 1", r.PathValue("seq"))
	}
	images := r.URL.Query().Get("images")
	if images != "" && images != "remote" {
		return invalidf("query parameter \"images\": %q: want remote, or leave it out", images)
	}
	m, err := s.store.Message(r.Context(), id, seq)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.HTML == "" {
		return notFoundf("message %d of contact %q has no HTML", seq, id)
	}
	if err != nil {
		return internal("read message", err)
	}
	budget := int64(maxInlineImages)
	html := cidSrc.ReplaceAllStringFunc(m.HTML, func(src string) string {
		cid := cidSrc.FindStringSubmatch(src)[1]
		for _, a := range m.Attachments {
			if !strings.HasPrefix(a.Name, "cid:"+cid+" ") || !inlineTypes[a.Type] || a.Size > maxInlineImage || a.Size > budget || s.files == nil {
				continue
			}
			f, err := s.files.Open(a.SHA256)
			if err != nil {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(f, maxInlineImage+1))
			f.Close()
			if err != nil || len(b) > maxInlineImage {
				continue
			}
			budget -= int64(len(b))
			return `src="data:` + a.Type + `;base64,` + base64.StdEncoding.EncodeToString(b) + `"`
		}
		return src
	})
	h := w.Header()
	if images == "remote" {
		h.Set("Content-Security-Policy", EmailFrameCSPRemote)
	} else {
		h.Set("Content-Security-Policy", EmailFrameCSP)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private, no-store")
	_, err = io.WriteString(w, `<!doctype html><html><head><meta charset="utf-8"><base target="_blank"></head><body>`+html+`</body></html>`)
	return err
}
