package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"
)

// tokenVersion is the first byte of every token's payload.
const tokenVersion = 1

// maxTokenLen bounds what verify reads.
const maxTokenLen = 256

var b64 = base64.RawURLEncoding

// sign returns a token that lets its holder read and write conversation
// contactID until expires: base64url(version ‖ expiry ‖ id) "." base64url(HMAC-SHA256).
func sign(secret []byte, contactID string, expires time.Time) string {
	p := make([]byte, 9, 9+len(contactID))
	p[0] = tokenVersion
	binary.BigEndian.PutUint64(p[1:], uint64(expires.Unix()))
	p = append(p, contactID...)
	return b64.EncodeToString(p) + "." + b64.EncodeToString(mac(secret, p))
}

func mac(secret, p []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(p)
	return h.Sum(nil)
}

// verify checks token at now and returns its conversation and expiry.
func verify(secret []byte, token string, now time.Time) (contactID string, expires time.Time, err error) {
	if len(token) > maxTokenLen {
		return "", time.Time{}, fmt.Errorf("%w: too long", ErrToken)
	}
	var payload, sig string
	for i := 0; i < len(token); i++ {
		if token[i] == '.' {
			payload, sig = token[:i], token[i+1:]
			break
		}
	}
	p, err1 := b64.DecodeString(payload)
	s, err2 := b64.DecodeString(sig)
	if err1 != nil || err2 != nil || len(p) < 10 {
		return "", time.Time{}, fmt.Errorf("%w: malformed", ErrToken)
	}
	if !hmac.Equal(s, mac(secret, p)) {
		return "", time.Time{}, fmt.Errorf("%w: bad signature", ErrToken)
	}
	if p[0] != tokenVersion {
		return "", time.Time{}, fmt.Errorf("%w: unknown version", ErrToken)
	}
	expires = time.Unix(int64(binary.BigEndian.Uint64(p[1:9])), 0).UTC()
	if !now.Before(expires) {
		return "", time.Time{}, fmt.Errorf("%w: expired", ErrToken)
	}
	return string(p[9:]), expires, nil
}
