// Package publicurl holds the rule of a public URL: where people and
// providers reach routerd (the configuration's public_url, which Twilio
// signs its webhooks over): scheme://host[:port], http or https, and
// nothing else. The configuration and the SMS channel check it here.
package publicurl

import (
	"errors"
	"net/url"
)

// ErrInvalid is returned for a URL that is not a public URL.
var ErrInvalid = errors.New("not a public URL (want scheme://host[:port] with no path, such as \"https://contact.example.com\")")

// Parse returns s as scheme://host[:port] if it is a public URL: http or
// https, a host, no user, no path but "/", no query, fragment or opaque
// part.
func Parse(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", ErrInvalid
	}
	return u.Scheme + "://" + u.Host, nil
}
