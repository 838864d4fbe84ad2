package sms

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard/switchboard/router"
)

// mediaTimeout bounds the fetching of one text's media: Twilio waits 15
// seconds for the webhook's answer.
const mediaTimeout = 8 * time.Second

// MediaStore keeps fetched media by their content hash;
// *attachments.Store implements it.
type MediaStore interface {
	// Put keeps r's content and returns its SHA-256 (lowercase hex) and
	// size; it refuses a file over its limit.
	Put(r io.Reader) (sha string, size int64, err error)
}

// fetchMedia fetches the media of a text into o.Media, before the text
// is committed: each attachment then carries its SHA-256 and size
// besides its URL. The account's credentials go only to the REST API's
// host (Twilio's media URLs are under it; its redirect to the content
// host does not carry them). A medium on another host, or one that
// cannot be fetched (too large, an error, the time is up), keeps its URL
// only and the failure is logged: a text is never lost for its media.
func (c *Channel) fetchMedia(ctx context.Context, media []router.Attachment) []router.Attachment {
	if c.o.Media == nil || len(media) == 0 {
		return media
	}
	ctx, cancel := context.WithTimeout(ctx, mediaTimeout)
	defer cancel()
	out := make([]router.Attachment, len(media))
	for i, a := range media {
		out[i] = a
		sha, size, err := c.fetchOne(ctx, a.URL)
		if err != nil {
			c.o.Logger.Warn("sms: medium not fetched; its URL is kept", "medium", a.Name, "err", err)
			continue
		}
		out[i].SHA256, out[i].Size = sha, size
	}
	return out
}

func (c *Channel) fetchOne(ctx context.Context, rawURL string) (string, int64, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", 0, err
	}
	if u.Host != c.apiHost || u.Scheme != c.apiScheme {
		return "", 0, fmt.Errorf("%s://%s is not the REST API's (%s://%s): the credentials go only there", u.Scheme, u.Host, c.apiScheme, c.apiHost)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return "", 0, err
	}
	req.SetBasicAuth(c.o.AccountSID, c.o.AuthToken)
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	return c.o.Media.Put(resp.Body)
}
