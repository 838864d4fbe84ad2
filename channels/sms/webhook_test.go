package sms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/router"
)

// A text makes a contact on the queue of the number it was sent to, from
// a verified customer holding the number, answered with empty TwiML
// once committed; Twilio's retry of it (the same MessageSid) makes
// nothing more, also after the contact ended.
func TestTextMakesOneContactAcrossRetries(t *testing.T) {
	e := newEnv(t)
	sid := newSID()
	w := e.text(sid, adaNum, salesNum, "My card is blocked")
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") || w.Body.String() != emptyTwiML {
		t.Errorf("answer: %s %q, want empty TwiML", ct, w.Body)
	}
	cs := e.contactsOf(adaNum)
	if len(cs) != 1 {
		t.Fatalf("got %d contacts, want 1", len(cs))
	}
	c := cs[0]
	if c.Queue != "sales" || !c.Customer.Verified || c.Customer.ID == "" || c.Customer.Phone != adaNum {
		t.Errorf("contact: got %+v, want on sales, of a verified customer holding %s", c, adaNum)
	}
	e.text(sid, adaNum, salesNum, "My card is blocked")
	if ms := e.messages(c.ID); len(ms) != 1 || ms[0].ExternalID != sid || ms[0].Body != "My card is blocked" {
		t.Fatalf("after a retry: got %+v, want the one message", ms)
	}
	if _, err := e.rt.Abandon(e.ctx, c.ID, "test"); err != nil {
		t.Fatal(err)
	}
	e.text(sid, adaNum, salesNum, "My card is blocked")
	if cs := e.contactsOf(adaNum); len(cs) != 1 {
		t.Fatalf("a retry after the contact ended: got %d contacts, want 1", len(cs))
	}
}

// A burst of texts from one number, arriving together, joins one
// conversation; a text once that conversation ended starts a follow-up
// of it.
func TestBurstFromOneNumberJoinsOneConversation(t *testing.T) {
	e := newEnv(t)
	const n = 30
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = e.post(InboundPath, textForm(newSID(), adaNum, supportNum, fmt.Sprintf("part %d", i))).Code
		}()
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Fatalf("text %d: %d", i, code)
		}
	}
	cs := e.contactsOf(adaNum)
	if len(cs) != 1 {
		t.Fatalf("a burst made %d contacts, want 1", len(cs))
	}
	if ms := e.messages(cs[0].ID); len(ms) != n {
		t.Fatalf("got %d messages, want %d", len(ms), n)
	}
	c := e.assigned(adaNum)
	if _, err := e.rt.CloseContact(e.ctx, c.ID, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	e.text(newSID(), adaNum, supportNum, "One more thing")
	cs = e.contactsOf(adaNum)
	if len(cs) != 2 || cs[0].Follows != c.ID {
		t.Fatalf("after the end: got %+v, want a follow-up of %s", cs, c.ID)
	}
}

// An MMS's media are recorded as attachments with their URLs and types.
func TestMMSMediaRecorded(t *testing.T) {
	e := newEnv(t)
	form := textForm(newSID(), adaNum, supportNum, "", [2]string{"MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"},
		[2]string{"MediaContentType0", "image/jpeg"}, [2]string{"MediaUrl1", "https://api.twilio.com/media/ME2"}, [2]string{"MediaContentType1", "application/pdf"})
	for i := range form {
		if form[i][0] == "NumMedia" {
			form[i][1] = "2"
		}
	}
	if w := e.post(InboundPath, form); w.Code != http.StatusOK {
		t.Fatalf("MMS: %d %s", w.Code, w.Body)
	}
	cs := e.contactsOf(adaNum)
	if len(cs) != 1 {
		t.Fatalf("got %d contacts", len(cs))
	}
	ms := e.messages(cs[0].ID)
	if len(ms) != 1 || len(ms[0].Attachments) != 2 || ms[0].Attachments[0].Type != "image/jpeg" ||
		ms[0].Attachments[1].URL != "https://api.twilio.com/media/ME2" || ms[0].Body != "[2 media]" {
		t.Fatalf("got %+v, want the two media as attachments", ms)
	}
}

// Bad input is refused with a clear 4xx and changes nothing.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	good := func() [][2]string { return textForm(newSID(), adaNum, supportNum, "hello") }
	with := func(key, value string) [][2]string {
		f := good()
		for i := range f {
			if f[i][0] == key {
				f[i][1] = value
			}
		}
		return f
	}
	without := func(key string) [][2]string {
		var f [][2]string
		for _, kv := range good() {
			if kv[0] != key {
				f = append(f, kv)
			}
		}
		return f
	}
	replay := good()
	replaySig := sign(testToken, testPublic+InboundPath, replay)
	tests := []struct {
		name string
		req  func() *httptest.ResponseRecorder
		want int
	}{
		{"no-signature", func() *httptest.ResponseRecorder { return e.postSigned(InboundPath, good(), "") }, http.StatusForbidden},
		{"forged-signature", func() *httptest.ResponseRecorder {
			return e.postSigned(InboundPath, good(), sign("not-the-token", testPublic+InboundPath, good()))
		}, http.StatusForbidden},
		{"replay-with-another-body", func() *httptest.ResponseRecorder {
			f := append([][2]string(nil), replay...)
			f[5][1] = "send me money" // Body
			return e.postSigned(InboundPath, f, replaySig)
		}, http.StatusForbidden},
		{"signed-for-another-url", func() *httptest.ResponseRecorder {
			return e.postSigned(InboundPath, good(), sign(testToken, "https://evil.example.com"+InboundPath, good()))
		}, http.StatusForbidden},
		{"signed-for-another-query", func() *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, InboundPath+"?queue=vip", strings.NewReader(encode(good())))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Twilio-Signature", sign(testToken, testPublic+InboundPath, good()))
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			return w
		}, http.StatusForbidden},
		{"missing-from", func() *httptest.ResponseRecorder { return e.post(InboundPath, without("From")) }, http.StatusBadRequest},
		{"national-number", func() *httptest.ResponseRecorder { return e.post(InboundPath, with("From", "5551234567")) }, http.StatusBadRequest},
		{"short-code", func() *httptest.ResponseRecorder { return e.post(InboundPath, with("From", "+1234")) }, http.StatusBadRequest},
		{"formatted-number", func() *httptest.ResponseRecorder { return e.post(InboundPath, with("From", "+1 555 123 4567")) }, http.StatusBadRequest},
		{"bad-sid", func() *httptest.ResponseRecorder { return e.post(InboundPath, with("MessageSid", "SM123")) }, http.StatusBadRequest},
		{"another-account", func() *httptest.ResponseRecorder {
			return e.post(InboundPath, with("AccountSid", "ACffffffffffffffffffffffffffffffff"))
		}, http.StatusForbidden},
		{"repeated-from", func() *httptest.ResponseRecorder {
			return e.post(InboundPath, append(good(), [2]string{"From", "+15559999999"}))
		}, http.StatusBadRequest},
		{"too-many-media", func() *httptest.ResponseRecorder { return e.post(InboundPath, with("NumMedia", "11")) }, http.StatusBadRequest},
		{"media-without-url", func() *httptest.ResponseRecorder { return e.post(InboundPath, with("NumMedia", "1")) }, http.StatusBadRequest},
		{"empty-body", func() *httptest.ResponseRecorder { return e.post(InboundPath, with("Body", "  ")) }, http.StatusBadRequest},
		{"body-too-long", func() *httptest.ResponseRecorder {
			return e.post(InboundPath, with("Body", strings.Repeat("é", 4000)))
		}, http.StatusRequestEntityTooLarge},
		{"oversized-request", func() *httptest.ResponseRecorder {
			return e.post(InboundPath, append(good(), [2]string{"Padding", strings.Repeat("x", DefaultMaxBodyBytes)}))
		}, http.StatusRequestEntityTooLarge},
		{"bad-escape", func() *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, InboundPath, strings.NewReader(encode(good())+"&x=%zz"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Twilio-Signature", "anything")
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			return w
		}, http.StatusBadRequest},
		{"not-a-form", func() *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, InboundPath, strings.NewReader("<xml/>"))
			r.Header.Set("Content-Type", "text/xml")
			r.Header.Set("X-Twilio-Signature", sign(testToken, testPublic+InboundPath, nil))
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			return w
		}, http.StatusUnsupportedMediaType},
		{"get", func() *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, InboundPath, nil))
			return w
		}, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := tt.req(); w.Code != tt.want {
				t.Fatalf("got %d %s, want %d", w.Code, w.Body, tt.want)
			}
		})
	}
	if cs := e.contactsOf(adaNum); len(cs) != 0 {
		t.Fatalf("refused requests made %d contacts", len(cs))
	}
	// Parameters we do not know are Twilio's newer ones: signed, taken.
	if w := e.post(InboundPath, append(good(), [2]string{"AddOns", `{"status":"successful"}`}, [2]string{"FutureParam", "x"})); w.Code != http.StatusOK {
		t.Fatalf("unknown parameters: got %d %s, want 200", w.Code, w.Body)
	}
	// The channel's health counts each answer by what Twilio got (the
	// GET never reached the webhook).
	var want [4]int64
	want[0] = 1
	for _, tt := range tests {
		switch {
		case tt.want == http.StatusForbidden:
			want[2]++
		case tt.want != http.StatusMethodNotAllowed:
			want[1]++
		}
	}
	if got := e.ch.Stats(); got[0].Path != InboundPath || got[0].Counts != want || got[1].Counts != [4]int64{} {
		t.Errorf("stats %+v, want inbound %v (accepted, refused, forbidden, failed)", got, want)
	}
}

// The signature counts every value of a repeated key, as Twilio signs
// them; the request is taken only with that signature.
func TestSignatureOverRepeatedKeys(t *testing.T) {
	e := newEnv(t)
	form := append(textForm(newSID(), adaNum, supportNum, "two tags"), [2]string{"Tag", "b"}, [2]string{"Tag", "a"})
	// Signed over one value of the key only (as a map would keep it).
	partial := append(textForm(form[1][1], adaNum, supportNum, "two tags"), [2]string{"Tag", "b"})
	if w := e.postSigned(InboundPath, form, sign(testToken, testPublic+InboundPath, partial)); w.Code != http.StatusForbidden {
		t.Fatalf("signed over one of the repeated values: got %d, want 403", w.Code)
	}
	if w := e.post(InboundPath, form); w.Code != http.StatusOK {
		t.Fatalf("signed over both: got %d %s, want 200", w.Code, w.Body)
	}
}

// Behind a proxy, the signature is over the public URL and the path and
// query as received, whatever Host the proxy sent.
func TestSignatureOverThePublicURLAndTheQueryAsReceived(t *testing.T) {
	e := newEnv(t)
	form := textForm(newSID(), adaNum, supportNum, "via the proxy")
	target := InboundPath + "?a=1&b=%7Ex"
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(encode(form)))
	r.Host = "10.0.0.7:8080"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", sign(testToken, testPublic+target, form))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	// Signed with the default port: Twilio's console may show either.
	form = textForm(newSID(), adaNum, supportNum, "with the port")
	r = httptest.NewRequest(http.MethodPost, InboundPath, strings.NewReader(encode(form)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Twilio-Signature", sign(testToken, "https://sms.example.com:443"+InboundPath, form))
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("with :443: got %d %s, want 200", w.Code, w.Body)
	}
}

// A JSON body is taken when the URL's signature holds and bodySHA256 is
// its hash; another body under the same URL is refused.
func TestJSONBody(t *testing.T) {
	e := newEnv(t)
	sid := newSID()
	body := []byte(fmt.Sprintf(`{"MessageSid":%q,"AccountSid":%q,"From":%q,"To":%q,"Body":"in JSON"}`, sid, testAccount, adaNum, supportNum))
	post := func(b []byte, hash string) int {
		target := InboundPath + "?bodySHA256=" + hash
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(b)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Twilio-Signature", sign(testToken, testPublic+target, nil))
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		return w.Code
	}
	other := []byte(strings.Replace(string(body), "in JSON", "changed", 1))
	if code := post(other, bodySHA(body)); code != http.StatusForbidden {
		t.Fatalf("another body: got %d, want 403", code)
	}
	if code := post(body, bodySHA(body)); code != http.StatusOK {
		t.Fatalf("JSON: got %d, want 200", code)
	}
	cs := e.contactsOf(adaNum)
	if len(cs) != 1 || e.messages(cs[0].ID)[0].Body != "in JSON" {
		t.Fatalf("got %+v", cs)
	}
	_ = router.ChannelSMS
}

// With a media store, an MMS's media are fetched with the account's
// credentials from the REST API's host and kept by their hash, before
// the text is committed; a medium that cannot be fetched, or on another
// host, keeps its URL only, and the text is taken all the same.
func TestMMSMediaFetched(t *testing.T) {
	dir := t.TempDir()
	files, err := attachments.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.Media = files })
	base := e.twilio.srv.URL + "/2010-04-01/Accounts/" + testAccount + "/Messages/MM1/Media/"
	form := textForm(newSID(), adaNum, supportNum, "look", [2]string{"MediaUrl0", base + "ME1"}, [2]string{"MediaContentType0", "image/jpeg"},
		[2]string{"MediaUrl1", base + "missing"}, [2]string{"MediaContentType1", "image/png"},
		[2]string{"MediaUrl2", "https://elsewhere.example.com/ME3"}, [2]string{"MediaContentType2", "image/gif"})
	for i := range form {
		if form[i][0] == "NumMedia" {
			form[i][1] = "3"
		}
	}
	if w := e.post(InboundPath, form); w.Code != http.StatusOK {
		t.Fatalf("MMS: %d %s", w.Code, w.Body)
	}
	ms := e.messages(e.contactsOf(adaNum)[0].ID)
	if len(ms) != 1 || len(ms[0].Attachments) != 3 {
		t.Fatalf("got %+v", ms)
	}
	want := "JPEG bytes of /2010-04-01/Accounts/" + testAccount + "/Messages/MM1/Media/ME1"
	sum := sha256.Sum256([]byte(want))
	a := ms[0].Attachments
	if a[0].SHA256 != hex.EncodeToString(sum[:]) || a[0].Size != int64(len(want)) || a[0].URL != base+"ME1" {
		t.Errorf("fetched medium: %+v, want its hash and size", a[0])
	}
	f, err := files.Open(a[0].SHA256)
	if err != nil {
		t.Fatalf("the fetched file is not kept: %v", err)
	}
	f.Close()
	for _, x := range a[1:] {
		if x.SHA256 != "" || x.Size != 0 || x.URL == "" {
			t.Errorf("unfetched medium: %+v, want its URL only", x)
		}
	}
}

// A picture with "STOP" under it is a message; but Twilio's own opt-out
// handling (OptOutType=STOP) opts the number out, media or not.
func TestMediaAndKeywords(t *testing.T) {
	e := newEnv(t)
	withMedia := func(body string, extra ...[2]string) [][2]string {
		form := textForm(newSID(), adaNum, supportNum, body, append([][2]string{{"MediaUrl0", "https://api.twilio.com/media/ME9"}, {"MediaContentType0", "image/jpeg"}}, extra...)...)
		for i := range form {
			if form[i][0] == "NumMedia" {
				form[i][1] = "1"
			}
		}
		return form
	}
	if w := e.post(InboundPath, withMedia("STOP")); w.Code != http.StatusOK {
		t.Fatalf("picture captioned STOP: %d %s", w.Code, w.Body)
	}
	if st, found, err := e.db.ConsentState(context.Background(), router.ChannelSMS, adaNum); err != nil || (found && st.Blocks()) {
		t.Fatalf("a picture captioned STOP opted the number out: %+v %v %v", st, found, err)
	}
	if w := e.post(InboundPath, withMedia("please stop", [2]string{"OptOutType", "STOP"})); w.Code != http.StatusOK {
		t.Fatalf("OptOutType=STOP with media: %d %s", w.Code, w.Body)
	}
	if st, found, err := e.db.ConsentState(context.Background(), router.ChannelSMS, adaNum); err != nil || !found || !st.Blocks() {
		t.Fatalf("Twilio's OptOutType=STOP with media did not opt the number out: %+v %v %v", st, found, err)
	}
}
