package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const (
	smsCrashToken   = "crashtesttwiliotoken0123456789ab"
	smsCrashAccount = "AC00000000000000000000000000000001"
	smsCrashPublic  = "https://sms.crash.example"
)

// twilioText is a text as Twilio posts it, signed as Twilio documents
// (HMAC-SHA1 over the URL and the sorted parameters), apart from the code
// under test.
func twilioText(sid, from, body string) (string, string) {
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {smsCrashAccount}, "From": {from},
		"To": {"+15550001111"}, "Body": {body}, "NumMedia": {"0"}, "ApiVersion": {"2010-04-01"}}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := smsCrashPublic + "/webhooks/twilio/sms"
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(smsCrashToken))
	m.Write([]byte(s))
	return form.Encode(), base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// postText sends a text to the daemon at base: its status, or an error
// when no answer came.
func postText(base, sid, from, body string) (int, error) {
	form, sig := twilioText(sid, from, body)
	req, err := http.NewRequest("POST", base+"/webhooks/twilio/sms", strings.NewReader(form))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestSMSCrashBetweenCommitAndAnswer kills routerd (SIGKILL) the moment
// it has answered one text of a burst, so that the others are caught
// before, during and after their commit, and the answered one never
// reached "Twilio" (the test drops it). After a restart, Twilio retries
// every text: each MessageSid is then stored exactly once, and each
// number's texts are in one conversation.
func TestSMSCrashBetweenCommitAndAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`listen: 127.0.0.1:0
data_dir: %s
public_url: %s
auth:
  admin_token: %s
twilio:
  account_sid: %s
  auth_token: %s
  api_base_url: http://127.0.0.1:9
  routes:
    - {queue: support, from: "+15550001111"}
agents:
  - {id: a0, name: Agent 0, capacity: {sms: 3}}
queues:
  - name: support
`, filepath.Join(dir, "data"), smsCrashPublic, testAdminToken, smsCrashAccount, smsCrashToken)
	cfgPath := filepath.Join(dir, "routerd.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "-config", cfgPath)

	const numbers, perNumber = 8, 12
	type text struct{ sid, from, body string }
	var texts []text
	for n := range numbers {
		for i := range perNumber {
			texts = append(texts, text{fmt.Sprintf("SM%032x", n*1000+i+1), fmt.Sprintf("+1555100%04d", n), fmt.Sprintf("text %d of %d", i, n)})
		}
	}
	// Every text at once; the first answer kills the daemon before the
	// test (Twilio) takes it.
	var (
		once     sync.Once
		wg       sync.WaitGroup
		answered text // the text whose answer came first
	)
	for _, tx := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := postText(d.base, tx.sid, tx.from, tx.body); err == nil {
				once.Do(func() {
					d.cmd.Process.Signal(syscall.SIGKILL)
					answered = tx
				})
			}
		}()
	}
	wg.Wait()
	d.wait()

	if answered.sid == "" {
		t.Fatal("no text was answered before the kill")
	}
	d2 := startDaemon(t, "-config", cfgPath)
	// The answered text was committed before its answer: it is there
	// before any retry.
	stored := storedSIDs(t, d2.base, answered.from)
	if stored[answered.sid] != 1 {
		t.Fatalf("the answered text %s: stored %d times after the restart, want once (committed before the answer)", answered.sid, stored[answered.sid])
	}
	t.Logf("after the kill, %d texts of %s were stored before any retry", len(stored), answered.from)
	// Twilio retries what it got no answer for: here, everything.
	for _, tx := range texts {
		if code, err := postText(d2.base, tx.sid, tx.from, tx.body); err != nil || code != http.StatusOK {
			t.Fatalf("retry of %s: %d %v", tx.sid, code, err)
		}
	}
	seen := map[string]int{}
	for n := range numbers {
		from := fmt.Sprintf("+1555100%04d", n)
		if cs := smsContacts(t, d2.base, from); len(cs) != 1 {
			t.Errorf("%s: %d contacts, want its texts in one", from, len(cs))
		}
		for sid, k := range storedSIDs(t, d2.base, from) {
			seen[sid] += k
		}
	}
	for _, tx := range texts {
		if seen[tx.sid] != 1 {
			t.Errorf("%s stored %d times, want once", tx.sid, seen[tx.sid])
		}
	}
	if len(seen) != len(texts) {
		t.Errorf("%d messages stored for %d texts", len(seen), len(texts))
	}
}

// smsContacts lists the SMS contacts of a number.
func smsContacts(t *testing.T, base, from string) []contactReply {
	t.Helper()
	var page struct {
		Contacts []contactReply `json:"contacts"`
	}
	if code, err := call(base, "GET", "/api/v1/contacts?channel=sms&customer="+url.QueryEscape(from), nil, nil, &page); err != nil || code != http.StatusOK {
		t.Fatalf("contacts of %s: %d %v", from, code, err)
	}
	return page.Contacts
}

// storedSIDs counts the MessageSids stored on the SMS contacts of a
// number.
func storedSIDs(t *testing.T, base, from string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, c := range smsContacts(t, base, from) {
		var full struct {
			Messages []struct {
				ExternalID string `json:"external_id"`
			} `json:"messages"`
		}
		if code, err := call(base, "GET", "/api/v1/contacts/"+c.ID, nil, nil, &full); err != nil || code != http.StatusOK {
			t.Fatalf("contact %s: %d %v", c.ID, code, err)
		}
		for _, m := range full.Messages {
			out[m.ExternalID]++
		}
	}
	return out
}
