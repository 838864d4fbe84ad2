package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// smsPath is routerd's webhook for inbound texts.
const smsPath = "/webhooks/twilio/sms"

// newMessageSid returns a fresh Twilio MessageSid: SM and 32 hex digits.
func newMessageSid() string {
	var b [16]byte
	rand.Read(b[:])
	return "SM" + hex.EncodeToString(b[:])
}

// text posts one text as Twilio does, signed over the public URL. With
// retry, Twilio's retry is played too: the same MessageSid again, at
// the same time or after the first answer. It reports whether routerd
// acknowledged it (200).
func (s *Sim) text(ctx context.Context, from, to, body string, retry bool, concurrent bool) bool {
	form := url.Values{
		"MessageSid": {newMessageSid()}, "SmsSid": {""}, "AccountSid": {s.opts.TwilioAccountSID},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
	}
	form.Set("SmsSid", form.Get("MessageSid"))
	if s.opts.TwilioAccountSID == "" {
		form.Del("AccountSid")
	}
	post := func() (int, error) {
		var code int
		var err error
		s.retry(func() bool { // Twilio's retries
			code, err = s.postText(ctx, form)
			return err == nil && code < 500
		})
		return code, err
	}
	var codes [2]int
	var errs [2]error
	posts := 1
	switch {
	case retry && concurrent:
		posts = 2
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() { codes[i], errs[i] = post() })
		}
		wg.Wait()
	case retry:
		posts = 2
		codes[0], errs[0] = post()
		codes[1], errs[1] = post()
	default:
		codes[0], errs[0] = post()
	}
	// Acknowledged: routerd answered one of Twilio's posts 200 (Twilio
	// stops retrying then). Anything else is an error, or with Restarts
	// a post cut by a restart.
	ok, failed := false, false
	for i := range posts {
		switch {
		case errs[i] != nil:
			s.cut("sms: webhook: " + errKind(errs[i]))
			failed = true
		case codes[i] >= 500 && s.opts.Restarts:
			s.cut(fmt.Sprintf("sms: webhook: %d", codes[i]))
			failed = true
		case codes[i] != http.StatusOK:
			s.fail(fmt.Sprintf("sms: webhook: %d", codes[i]))
			failed = true
		default:
			ok = true
		}
	}
	return ok && (!failed || s.opts.Restarts)
}

// postText sends the signed form once.
func (s *Sim) postText(ctx context.Context, form url.Values) (int, error) {
	enc := form.Encode()
	req, err := http.NewRequestWithContext(ctx, "POST", s.opts.URL+smsPath, strings.NewReader(enc))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSignature(s.opts.TwilioAuthToken, s.opts.PublicURL+smsPath, form))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// smsCustomer texts from a number of its own: the first text starts the
// contact; once an agent has it, the other texts join it. A texter does
// not abandon: the contact waits for an agent (or the end of the run).
func (s *Sim) smsCustomer(ctx context.Context, c *simContact, st Stream) {
	defer c.end()
	rng := s.rng()
	ctx = context.WithoutCancel(ctx)
	from := s.smsNumber(c)
	retries := s.sc.Customers.TwilioRetries
	c.sent()
	if !s.text(ctx, from, st.To, c.firstMessage(rng), rng.Float64() < retries, rng.IntN(2) == 0) {
		return
	}
	c.markAcked("")
	s.ackMessage(c.tag + ".0")
	s.n.acked.Add(1)
	select {
	case <-c.assigned:
	case <-s.draining:
		return
	}
	for i := 1; i <= s.sc.Customers.ExtraMessages.Draw(rng); i++ {
		if !s.pause(c, s.sc.Customers.MessageGap.Draw(rng)) {
			return
		}
		tag := fmt.Sprintf("%s.%d", c.tag, i)
		if s.text(ctx, from, st.To, fmt.Sprintf("[sim %s] One more thing (%d).", tag, i), rng.Float64() < retries, rng.IntN(2) == 0) {
			s.ackMessage(tag)
			s.n.messages.Add(1)
		}
	}
	<-c.ended
}

// smsNumber is the number a simulated texter writes from: country code
// 999 (reserved, never a real number), 3 digits of the run, 9 of the
// contact: unique in the run, so a text never joins another customer's
// conversation.
func (s *Sim) smsNumber(c *simContact) string {
	var n int
	fmt.Sscanf(c.tag[strings.LastIndexByte(c.tag, '-')+1:], "%d", &n)
	return fmt.Sprintf("+999%03d%09d", s.numberBase%1000, n%1000000000)
}
