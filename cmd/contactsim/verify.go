package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// clockSkew is how far before the run's start the check reads contacts:
// routerd's clock may be a little behind contactsim's.
const clockSkew = time.Minute

// Check is what routerd holds of the run at the end, against what it
// acknowledged to contactsim.
type Check struct {
	// Contacts is how many of the run's contacts routerd holds;
	// Answered how many of them an agent accepted (assigned at some
	// point: an agent_id and a state past offered), Replied how many hold
	// an agent's message, Abandoned how many ended abandoned.
	Contacts, Answered, Replied, Abandoned int
	// LostContacts: acknowledged contacts routerd does not hold;
	// DuplicatedContacts: held more than once (two contacts begun by
	// the same first message). Same for messages, by their tags.
	LostContacts, DuplicatedContacts, LostMessages, DuplicatedMessages int
	// Examples names a few lost or duplicated tags.
	Examples []string
}

// verify reads every contact routerd created since the run started and
// compares the tagged messages it holds with what it acknowledged.
func (s *Sim) verify(ctx context.Context) (*Check, error) {
	since := s.start.Add(-clockSkew)
	var ids []string
	cursor := ""
	for {
		q := url.Values{"limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Contacts []contactAnswer `json:"contacts"`
			Next     string          `json:"next"`
		}
		code, err := s.api(ctx, "GET", "/api/v1/contacts?"+q.Encode(), nil, nil, &page)
		if err != nil || code != http.StatusOK {
			return nil, fmt.Errorf("list contacts: %d %v", code, err)
		}
		old := false
		for _, c := range page.Contacts {
			if c.CreatedAt.Before(since) {
				old = true
				break
			}
			ids = append(ids, c.ID)
		}
		if old || page.Next == "" {
			break
		}
		cursor = page.Next
	}

	var (
		mu       sync.Mutex
		firstErr error
		ck       Check
		contacts = map[string]int{} // contact tag → contacts begun by it
		messages = map[string]int{} // message tag → messages
	)
	work := make(chan string)
	var wg sync.WaitGroup
	for range lookupWorkers {
		wg.Go(func() {
			for id := range work {
				msgs, c, err := s.contactMessages(ctx, id)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				ours, firstIn, replied := false, true, false
				for _, m := range msgs {
					ct, mt, ok := parseTag(m.Body)
					if !ok || !strings.HasPrefix(ct, s.runID+"-") {
						if m.Direction == "in" {
							firstIn = false
						}
						continue
					}
					ours = true
					messages[mt]++
					if m.Direction == "in" && firstIn && strings.HasSuffix(mt, ".0") {
						contacts[ct]++
					}
					if m.Direction == "in" {
						firstIn = false
					}
					if m.Direction == "out" {
						replied = true
					}
				}
				if ours {
					ck.Contacts++
					if c.AgentID != "" && c.State != "queued" && c.State != "offered" && c.State != "abandoned" {
						ck.Answered++
					}
					if c.State == "abandoned" {
						ck.Abandoned++
					}
					if replied {
						ck.Replied++
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	example := func(what, tag string) {
		if len(ck.Examples) < 10 {
			ck.Examples = append(ck.Examples, what+" "+tag)
		}
	}
	for tag, c := range s.contacts {
		c.mu.Lock()
		acked := c.acked
		c.mu.Unlock()
		if !acked {
			continue
		}
		switch n := contacts[tag]; {
		case n == 0:
			ck.LostContacts++
			example("lost contact", tag)
		case n > 1:
			ck.DuplicatedContacts++
			example("duplicated contact", tag)
		}
	}
	for tag := range s.ackedMsg {
		switch n := messages[tag]; {
		case n == 0:
			ck.LostMessages++
			example("lost message", tag)
		case n > 1:
			ck.DuplicatedMessages++
			example("duplicated message", tag)
		}
	}
	return &ck, nil
}

// contactMessages reads a contact and all its messages.
func (s *Sim) contactMessages(ctx context.Context, id string) ([]struct {
	Seq       int    `json:"seq"`
	Direction string `json:"direction"`
	Body      string `json:"body"`
}, contactAnswer, error) {
	var first contactAnswer
	path := "/api/v1/contacts/" + url.PathEscape(id)
	code, err := s.api(ctx, "GET", path, nil, nil, &first)
	if err != nil || code != http.StatusOK {
		return nil, first, fmt.Errorf("read contact %s: %d %v", id, code, err)
	}
	msgs := first.Messages
	for next := first.MessagesNext; next != ""; {
		var more contactAnswer
		code, err := s.api(ctx, "GET", path+"?messages_after="+url.QueryEscape(next), nil, nil, &more)
		if err != nil || code != http.StatusOK {
			return nil, first, fmt.Errorf("read contact %s: %d %v", id, code, err)
		}
		msgs = append(msgs, more.Messages...)
		next = more.MessagesNext
	}
	return msgs, first, nil
}
