package sms

import (
	"fmt"
	"math/rand/v2"
	"testing"

	twclient "github.com/twilio/twilio-go/client"
)

// On forms whose keys are single, our validator agrees with twilio-go's
// RequestValidator (which takes a map): the same signature is valid for
// both, a changed one for neither. With a repeated key, ours counts
// every value (TestSignatureOverRepeatedKeys) where twilio-go's keeps one.
func TestSignatureAgreesWithTwilioGo(t *testing.T) {
	rv := twclient.NewRequestValidator(testToken)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcXYZ09 +%&=?é€\n")
	word := func(n int) string {
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(r)
	}
	urls := []string{testPublic + InboundPath, testPublic + InboundPath + "?x=1&y=%20", "http://127.0.0.1:8080/webhooks/twilio/sms", "https://sms.example.com:443/webhooks/twilio/sms"}
	for i := range 300 {
		u := urls[i%len(urls)]
		m := map[string]string{}
		var ps []Param
		for j := range rng.IntN(12) {
			k := fmt.Sprintf("K%d%s", j, word(rng.IntN(4)))
			v := word(rng.IntN(20))
			m[k] = v
			ps = append(ps, Param{k, v})
		}
		rng.Shuffle(len(ps), func(a, b int) { ps[a], ps[b] = ps[b], ps[a] })
		sig := Signature(testToken, u, ps)
		if !rv.Validate(u, m, sig) {
			t.Fatalf("case %d: twilio-go refuses our signature of %s %v", i, u, ps)
		}
		if !validSignature(testToken, u, ps, sig) {
			t.Fatalf("case %d: we refuse our own signature", i)
		}
		var form [][2]string
		for _, p := range ps {
			form = append(form, [2]string{p.Key, p.Value})
		}
		if want := sign(testToken, u, form); sig != want && !validSignature(testToken, u, ps, want) {
			t.Fatalf("case %d: the documented algorithm's signature %s is refused", i, want)
		}
		bad := Signature("another-token", u, ps)
		if rv.Validate(u, m, bad) || validSignature(testToken, u, ps, bad) {
			t.Fatalf("case %d: a signature under another token accepted", i)
		}
	}
	// JSON bodies: twilio-go's ValidateBody and ours agree.
	body := []byte(`{"MessageSid":"SM0","Body":"hi"}`)
	u := testPublic + InboundPath + "?bodySHA256=" + bodySHA(body)
	sig := Signature(testToken, u, nil)
	if !rv.ValidateBody(u, body, sig) || !validSignature(testToken, u, nil, sig) || !validBodyHash(body, bodySHA(body)) {
		t.Fatal("JSON body: a valid signature refused")
	}
	if validBodyHash([]byte(`{"MessageSid":"SM1"}`), bodySHA(body)) || validBodyHash(body, "") {
		t.Fatal("JSON body: another body's hash accepted")
	}
}
