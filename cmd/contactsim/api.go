package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// api sends a JSON request to routerd with the run's token (or the
// given bearer token when bearer is set) and decodes a 2xx answer into
// out; it returns the status.
func (s *Sim) api(ctx context.Context, method, path string, body any, headers map[string]string, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.opts.URL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.opts.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode/100 == 2 && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// contactAnswer is the part of a contact that contactsim reads.
type contactAnswer struct {
	Timeline     []timelineEvent `json:"timeline"`
	ID           string          `json:"id"`
	State        string          `json:"state"`
	AgentID      string          `json:"agent_id"`
	Channel      string          `json:"channel"`
	CreatedAt    time.Time       `json:"created_at"`
	Messages     []messageAnswer `json:"messages"`
	MessagesNext string          `json:"messages_next"`
}

// messageAnswer is the part of a message that contactsim reads.
type messageAnswer struct {
	Seq        int    `json:"seq"`
	Direction  string `json:"direction"`
	Body       string `json:"body"`
	ExternalID string `json:"external_id"`
	Delivery   *struct {
		Status string `json:"status"`
	} `json:"delivery"`
}

// timelineEvent is one event of a contact's timeline.
type timelineEvent struct {
	Seq     int       `json:"seq"`
	At      time.Time `json:"at"`
	Event   string    `json:"event"`
	AgentID string    `json:"agent_id"`
}

// apiCustomer is a customer of an integration: the contact is POSTed
// (retried with its Idempotency-Key), and abandoned over the API when
// the customer's patience runs out before an agent takes it.
func (s *Sim) apiCustomer(ctx context.Context, c *simContact, st Stream) {
	rng := s.rng()
	first := c.firstMessage(rng)
	cust := map[string]any{"name": "Sim " + c.tag}
	if k := c.customer; k != nil {
		cust = map[string]any{"email": k.email, "verified": true}
	}
	body := map[string]any{"channel": channelAPI, "queue": st.Queue, "subject": "sim " + c.tag, "body": first, "customer": cust}
	key := map[string]string{"Idempotency-Key": "sim-" + c.tag}
	c.sent()
	var (
		ans  contactAnswer
		code int
		err  error
	)
	s.retry(func() bool {
		code, err = s.api(context.WithoutCancel(ctx), "POST", "/api/v1/contacts", body, key, &ans)
		return err == nil && code < 500 && code != http.StatusTooManyRequests
	})
	switch {
	case err != nil:
		s.cut("api: create contact: " + errKind(err))
		return
	case code >= 500 && s.opts.Restarts:
		s.cut(fmt.Sprintf("api: create contact: %d", code))
		return
	case code != http.StatusCreated && code != http.StatusOK:
		s.fail(fmt.Sprintf("api: create contact: %d", code))
		return
	}
	c.markAcked(ans.ID)
	if ans.State == "queued" {
		c.mu.Lock()
		c.waited = true
		c.mu.Unlock()
	}
	s.ackMessage(c.tag + ".0")
	s.n.acked.Add(1)
	if s.waitAssigned(c, s.sc.Customers.Patience.Draw(rng)) {
		<-c.ended
		return
	}
	var left contactAnswer
	s.retry(func() bool {
		code, err = s.api(context.WithoutCancel(ctx), "POST", "/api/v1/contacts/"+ans.ID+"/abandon", map[string]string{"reason": "sim: out of patience"}, nil, &left)
		return err == nil && code < 500 && code != http.StatusTooManyRequests
	})
	switch {
	case err != nil:
		s.cut("api: abandon: " + errKind(err))
	case code == http.StatusConflict:
		// It ended meanwhile (an agent took and closed it).
	case code != http.StatusOK:
		s.fail(fmt.Sprintf("api: abandon: %d", code))
	case left.State == "abandoned":
		c.mu.Lock()
		c.abandoned = true
		c.mu.Unlock()
		s.n.abandoned.Add(1)
	}
	c.end()
}

// errKind is an error's kind for the summary, without addresses.
func errKind(err error) string {
	switch {
	case err == nil:
		return ""
	case isTimeout(err):
		return "timeout"
	default:
		return "connection failed"
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
