package email

import (
	"errors"
	"fmt"
	"io"
	"mime"

	"github.com/emersion/go-message/mail"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/outbox"
	"github.com/switchboard/switchboard/router"
)

// outFile is one of a reply's files, read from the store.
type outFile struct {
	name string
	// typ and params are the stored media type as a Content-Type
	// writes them; application/octet-stream when it was none.
	typ    string
	params map[string]string
	data   []byte
}

// readFiles reads the files of a reply from Options.Files, within the
// limits: each at most Files.MaxFileBytes, together at most
// MaxAttachmentBytes. A file that is not kept (never uploaded, or
// erased since), or over a limit, wraps outbox.ErrPermanent: the reply
// fails, naming the file, rather than go without it. A failure to read
// one is retried.
func (s *Sender) readFiles(list []router.Attachment) ([]outFile, error) {
	if len(list) == 0 {
		return nil, nil
	}
	if s.o.Files == nil {
		return nil, fmt.Errorf("%w: email: the reply carries %d files and no attachment store is configured to send them from", outbox.ErrPermanent, len(list))
	}
	limit := s.o.Files.MaxFileBytes()
	var total int64
	out := make([]outFile, 0, len(list))
	for _, a := range list {
		if a.SHA256 == "" {
			return nil, fmt.Errorf("%w: email: attachment %q is a link, not a file routerd keeps: the reply was not sent", outbox.ErrPermanent, a.Name)
		}
		data, err := readFile(s.o.Files, a.SHA256, limit)
		switch {
		case errors.Is(err, attachments.ErrNotFound) || errors.Is(err, attachments.ErrBadHash):
			return nil, fmt.Errorf("%w: email: attachment %q (sha256 %s) is missing from the attachment store: the reply was not sent", outbox.ErrPermanent, a.Name, a.SHA256)
		case errors.Is(err, attachments.ErrTooLarge):
			return nil, fmt.Errorf("%w: email: attachment %q is over %d bytes (attachments.max_file_bytes): the reply was not sent", outbox.ErrPermanent, a.Name, limit)
		case err != nil:
			return nil, fmt.Errorf("email: read attachment %q: %w", a.Name, err)
		}
		if total += int64(len(data)); s.o.MaxAttachmentBytes > 0 && total > s.o.MaxAttachmentBytes {
			return nil, fmt.Errorf("%w: email: the reply's files hold more than %d bytes together (attachments.max_message_bytes): the reply was not sent", outbox.ErrPermanent, s.o.MaxAttachmentBytes)
		}
		typ, params, err := mime.ParseMediaType(a.Type)
		if err != nil {
			typ, params = "application/octet-stream", nil
		}
		out = append(out, outFile{name: a.Name, typ: typ, params: params, data: data})
	}
	return out, nil
}

// readFile reads the file of sha, at most limit bytes (ErrTooLarge
// beyond).
func readFile(files FileReader, sha string, limit int64) ([]byte, error) {
	f, err := files.Open(sha)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, attachments.ErrTooLarge
	}
	return data, nil
}

// writeBody writes the message of header h: the text and its HTML as a
// multipart/alternative, and, when the reply carries files, that inside
// a multipart/mixed followed by one attachment part per file
// (Content-Disposition: attachment with its name, encoded as go-message
// does for names outside ASCII; base64).
func writeBody(w io.Writer, h mail.Header, text, html string, files []outFile) error {
	if len(files) == 0 {
		iw, err := mail.CreateInlineWriter(w, h)
		if err != nil {
			return err
		}
		if err := writeAlternative(iw, text, html); err != nil {
			return err
		}
		return iw.Close()
	}
	mw, err := mail.CreateWriter(w, h)
	if err != nil {
		return err
	}
	iw, err := mw.CreateInline()
	if err != nil {
		return err
	}
	if err := writeAlternative(iw, text, html); err != nil {
		return err
	}
	if err := iw.Close(); err != nil {
		return err
	}
	for _, f := range files {
		var ah mail.AttachmentHeader
		params := map[string]string{"name": f.name} // for mailers that read the name only there
		for k, v := range f.params {
			if k != "name" {
				params[k] = v
			}
		}
		ah.SetContentType(f.typ, params)
		ah.SetFilename(f.name)
		pw, err := mw.CreateAttachment(ah)
		if err != nil {
			return err
		}
		if _, err := pw.Write(f.data); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	return mw.Close()
}

// writeAlternative writes the text and the HTML parts, in that order.
func writeAlternative(w *mail.InlineWriter, text, html string) error {
	for _, p := range []struct{ typ, body string }{{"text/plain", text}, {"text/html", html}} {
		var ph mail.InlineHeader
		ph.SetContentType(p.typ, map[string]string{"charset": "utf-8"})
		pw, err := w.CreatePart(ph)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, p.body); err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
	}
	return nil
}
