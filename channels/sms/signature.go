package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
)

// Param is one parameter of a webhook's form, as received.
type Param struct {
	Key, Value string
}

// Signature is Twilio's X-Twilio-Signature of a request to rawURL with
// the form params: the base64 HMAC-SHA1, keyed by the auth token, of
// the URL followed by each parameter's key and value, sorted by key and,
// for a key given more than once, by value. Every parameter counts,
// repeated keys included (twilio-go's validator, which takes a map, keeps
// one value of each).
func Signature(token, rawURL string, params []Param) string {
	sorted := slices.Clone(params)
	slices.SortFunc(sorted, func(a, b Param) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(rawURL))
	for _, p := range sorted {
		mac.Write([]byte(p.Key))
		mac.Write([]byte(p.Value))
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// validSignature reports whether sig is the signature of a request to
// rawURL with params, under token. Twilio signs the URL as configured in
// its console, with or without the scheme's default port: both are
// tried, as twilio-go does.
func validSignature(token, rawURL string, params []Param, sig string) bool {
	if sig == "" || token == "" {
		return false
	}
	ok := false
	for _, u := range urlVariants(rawURL) {
		// Every variant is computed: the time taken does not say which
		// matched.
		if subtle.ConstantTimeCompare([]byte(Signature(token, u, params)), []byte(sig)) == 1 {
			ok = true
		}
	}
	return ok
}

// urlVariants returns rawURL, and rawURL with its default port added or
// removed.
func urlVariants(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return []string{rawURL}
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if def == "" {
		return []string{rawURL}
	}
	other := *u
	switch u.Port() {
	case "":
		other.Host = u.Host + ":" + def
	case def:
		other.Host = u.Hostname()
		if strings.Contains(other.Host, ":") {
			other.Host = "[" + other.Host + "]"
		}
	default:
		return []string{rawURL}
	}
	return []string{rawURL, other.String()}
}

// validBodyHash reports whether hexSHA is the hex SHA-256 of body (a
// JSON webhook's bodySHA256 query parameter).
func validBodyHash(body []byte, hexSHA string) bool {
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(hexSHA))) == 1 && hexSHA != ""
}
