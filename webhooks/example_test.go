package webhooks_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/webhooks"
)

// verify is a receiver's check of a delivery (docs/api.md, "Verifying a
// delivery"): the signature over the timestamp and the raw body, and a
// timestamp within five minutes of now, against replays.
func verify(secret string, r *http.Request, body []byte, now time.Time) error {
	ts := r.Header.Get("Switchboard-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp too old or too new")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("Switchboard-Signature")), []byte(want)) {
		return errors.New("bad signature")
	}
	return nil
}

// A receiver verifies each delivery before it trusts it.
func Example_verify() {
	const secret = "s3cret-s3cret-s3cret"
	body := []byte(`{"id":"evt_42","type":"message.out","at":"2026-12-04T21:58:29Z","data":{}}`)
	now := time.Now()
	r := httptest.NewRequest("POST", "/hook", bytes.NewReader(body))
	r.Header.Set("Switchboard-Timestamp", strconv.FormatInt(now.Unix(), 10))
	r.Header.Set("Switchboard-Signature", webhooks.Sign(secret, now.Unix(), body))
	fmt.Println(verify(secret, r, body, now))
	fmt.Println(verify("another-secret-entirely", r, body, now))
	// Output:
	// <nil>
	// bad signature
}
