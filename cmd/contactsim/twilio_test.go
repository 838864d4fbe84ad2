package main

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"

	twclient "github.com/twilio/twilio-go/client"
)

// contactsim's signature is checked against twilio-go's own validator,
// an implementation independent of contactsim's and of routerd's.
func TestTwilioSignatureAgreesWithTwilioGo(t *testing.T) {
	const token = "12345678901234567890123456789012"
	rv := twclient.NewRequestValidator(token)
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []rune("abcXYZ09 +%&=?é€\n[]")
	word := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	urls := []string{"http://127.0.0.1:8080/webhooks/twilio/sms", "https://contact.example.com/webhooks/twilio/sms?x=1"}
	for i := range 200 {
		u := urls[i%len(urls)]
		form := url.Values{}
		m := map[string]string{}
		for j := range 1 + rng.IntN(10) {
			k, v := fmt.Sprintf("K%d%s", j, word(rng.IntN(4))), word(rng.IntN(30))
			form.Set(k, v)
			m[k] = v
		}
		sig := twilioSignature(token, u, form)
		if !rv.Validate(u, m, sig) {
			t.Fatalf("case %d: twilio-go refuses contactsim's signature of %s %v", i, u, form)
		}
		// Any change to a value, the URL or the token makes it wrong.
		for k := range m {
			m[k] += "x"
			break
		}
		if rv.Validate(u, m, sig) {
			t.Fatalf("case %d: a changed parameter still validates", i)
		}
	}
	form := url.Values{"Body": {"hello"}, "From": {"+15551234567"}}
	if twilioSignature(token, urls[0], form) == twilioSignature(token+"x", urls[0], form) {
		t.Error("got the same signature for two tokens")
	}
}
