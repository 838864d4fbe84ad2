package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/router"
)

// inlineTypes are the media types a browser may show in place: images
// it renders without running anything. Every other file is served as
// application/octet-stream, to be downloaded.
var inlineTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// attachmentView is an uploaded file, as a message names it.
type attachmentView struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Name   string `json:"name"`
	Type   string `json:"type"`
}

// uploadAttachment keeps the request body as a file (POST
// /api/v1/attachments?name=NAME, Content-Type its type) and answers its
// hash, for a message to carry.
func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request) error {
	if s.files == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "attachments are not configured")
	}
	name := r.URL.Query().Get("name")
	if name == "" || len(name) > 255 {
		return invalidf("query parameter \"name\": the file's name, 1 to 255 bytes")
	}
	typ, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		typ = "application/octet-stream"
	}
	p, _ := PrincipalFrom(r.Context())
	done, wait, err := s.uploads.begin(r.Context(), p.Name)
	switch {
	case err != nil:
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the upload was cancelled while waiting for your earlier one")
	case done == nil:
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return errorf(http.StatusTooManyRequests, codeTooManyRequests,
			"you used your upload quota of %d bytes an hour; retry in %d s", s.uploads.perHour, secs)
	}
	limit := s.files.MaxFileBytes()
	sha, size, err := s.files.Put(r.Body) // it reads at most limit+1 bytes
	switch {
	case errors.Is(err, attachments.ErrTooLarge):
		done(limit) // read, if not kept
		return errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "a file holds at most %d bytes", limit)
	case err != nil:
		done(size)
		return internal("keep attachment", err)
	}
	done(size)
	return writeJSON(w, http.StatusCreated, attachmentView{SHA256: sha, Size: size, Name: name, Type: typ})
}

// messageFiles turns the files a message names into its attachments:
// each must have been uploaded, and together they hold at most
// maxMessageFiles bytes.
func (s *Server) messageFiles(in []attachmentView) ([]router.Attachment, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if s.files == nil {
		return nil, errorf(http.StatusServiceUnavailable, codeUnavailable, "attachments are not configured")
	}
	files := make([]attachments.File, len(in))
	for i, a := range in {
		if a.Name == "" {
			return nil, invalidf("field \"attachments[%d].name\" is missing", i)
		}
		files[i] = attachments.File{SHA256: a.SHA256, Name: a.Name, Type: a.Type}
	}
	out, err := s.files.Attach(files, s.maxMessageFiles)
	var fe *attachments.FileError
	switch {
	case errors.Is(err, attachments.ErrMessageTooLarge):
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge, "a message's files hold at most %d bytes", s.maxMessageFiles)
	case errors.As(err, &fe) && errors.Is(err, attachments.ErrBadHash):
		return nil, invalidf("field \"attachments[%d].sha256\": %q is not a SHA-256 in lowercase hex", fe.Index, in[fe.Index].SHA256)
	case errors.As(err, &fe) && errors.Is(err, attachments.ErrNotFound):
		return nil, invalidf("field \"attachments[%d].sha256\": no file %s; upload it first (POST /api/v1/attachments)", fe.Index, in[fe.Index].SHA256)
	case err != nil:
		return nil, internal("read attachment", err)
	}
	return out, nil
}

// getAttachment serves a file that a message of contact {id} carries,
// to whoever may read the contact: an image of inlineTypes in place,
// anything else as a download, never as a page.
func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) error {
	if s.files == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "attachments are not configured")
	}
	id, sha := r.PathValue("id"), r.PathValue("sha256")
	if err := s.readableContact(r, id); err != nil {
		return err
	}
	a, found, err := s.store.MessageAttachment(r.Context(), id, sha)
	if err != nil {
		return internal("read attachment", err)
	}
	if !found {
		return notFoundf("no message of contact %q carries file %q", id, sha)
	}
	f, err := s.files.Open(sha)
	if errors.Is(err, attachments.ErrNotFound) {
		return notFoundf("file %q is gone", sha) // erased
	}
	if err != nil {
		return internal("open attachment", err)
	}
	defer f.Close()
	disposition, typ := "attachment", "application/octet-stream"
	if inlineTypes[a.Type] {
		disposition, typ = "inline", a.Type
	}
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", fmt.Sprintf("%s; filename*=UTF-8''%s", disposition, url.PathEscape(a.Name)))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// removeOrphanedFiles removes the files that erasures let go of and no
// message holds any more, but for those put or named within the grace
// (attachments.sweep_after), which the sweeper removes once it has
// passed: an upload of the same content may be on its way to a message
// (package attachments). A failure is logged: the erasure is done, and
// the sweeper removes the file later.
func (s *Server) removeOrphanedFiles(ctx context.Context) {
	if s.files == nil {
		return
	}
	orphans, err := s.store.TakeOrphanedAttachments(ctx)
	if err != nil {
		s.log.Error("api: orphaned attachments", "err", err)
		return
	}
	removed := 0
	for _, sha := range orphans {
		gone, err := s.files.Remove(ctx, sha)
		if err != nil {
			s.log.Error("api: remove an erased attachment", "sha256", sha, "err", err)
		}
		if gone {
			removed++
		}
	}
	if len(orphans) > 0 {
		s.log.Info("api: erased files removed", "removed", removed, "left_to_sweep", len(orphans)-removed)
	}
}
