package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
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
	// OverCapacity counts the times an agent held more contacts of a
	// channel than its capacity, from the contacts' timelines (an
	// assigned event to the end that takes the contact from the agent:
	// closed, abandoned, transferred, returned). OffersAfterEnd counts
	// offers an agent's socket received of a contact whose timeline
	// shows no offer to that agent before the contact ended, and offers
	// the timelines record after the end.
	OverCapacity, OffersAfterEnd int
	// Examples names a few lost or duplicated tags and broken rules.
	Examples []string
}

// Failed reports whether the check found anything lost, duplicated or
// against the rules.
func (ck *Check) Failed() bool {
	return ck.LostContacts+ck.DuplicatedContacts+ck.LostMessages+ck.DuplicatedMessages+ck.OverCapacity+ck.OffersAfterEnd > 0
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
		mu        sync.Mutex
		firstErr  error
		ck        Check
		contacts  = map[string]int{}             // contact tag → contacts begun by it
		messages  = map[string]int{}             // message tag → messages
		timelines = map[string][]timelineEvent{} // contact id → its timeline
		channels  = map[string]string{}          // contact id → its channel
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
					timelines[id], channels[id] = c.Timeline, c.Channel
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
	// Acknowledged: there exactly once. Anything else of the run: at
	// most once (an unacknowledged attempt may or may not have been
	// stored, never twice).
	for tag, c := range s.contacts {
		c.mu.Lock()
		acked := c.acked
		c.mu.Unlock()
		switch n := contacts[tag]; {
		case n == 0 && acked:
			ck.LostContacts++
			example("lost contact", tag)
		case n > 1:
			ck.DuplicatedContacts++
			example("duplicated contact", tag)
		}
	}
	for tag := range s.ackedMsg {
		if messages[tag] == 0 {
			ck.LostMessages++
			example("lost message", tag)
		}
	}
	for tag, n := range messages {
		if n > 1 {
			ck.DuplicatedMessages++
			example("duplicated message", tag)
		}
	}
	for _, v := range offersAfterEnd(timelines, s.seen) {
		ck.OffersAfterEnd++
		example("offer after the end:", v)
	}
	caps, err := s.capacities(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range overCapacity(timelines, channels, caps) {
		ck.OverCapacity++
		example("over capacity:", v)
	}
	return &ck, nil
}

// contactMessages reads a contact and all its messages.
func (s *Sim) contactMessages(ctx context.Context, id string) ([]messageAnswer, contactAnswer, error) {
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

// endsHold are the events that take a contact from the agent who held it.
var endsHold = map[string]bool{"closed": true, "abandoned": true, "transferred": true, "returned": true}

// endedAt returns the seq of the event that ended the contact (closed or
// abandoned), or 0.
func endedAt(tl []timelineEvent) int {
	for _, e := range tl {
		if e.Event == "closed" || e.Event == "abandoned" {
			return e.Seq
		}
	}
	return 0
}

// offersAfterEnd names the offers that rang for a contact that had
// ended: in the timelines, an offered event after the end; on the
// agents' sockets, an offer received after the contact's end with no
// offered event to that agent before the end. Contacts not read (not
// the run's) are left aside.
func offersAfterEnd(timelines map[string][]timelineEvent, seen []seenOffer) []string {
	var out []string
	for id, tl := range timelines {
		end := endedAt(tl)
		for _, e := range tl {
			if end != 0 && e.Event == "offered" && e.Seq > end {
				out = append(out, fmt.Sprintf("%s offered to %s at event %d, ended at %d", id, e.AgentID, e.Seq, end))
			}
		}
	}
	for _, o := range seen {
		tl, ok := timelines[o.contact]
		if !ok {
			continue
		}
		end := endedAt(tl)
		if end == 0 {
			continue
		}
		rang := false
		var endAt time.Time
		for _, e := range tl {
			if e.Event == "offered" && e.AgentID == o.agent && e.Seq < end {
				rang = true
			}
			if e.Seq == end {
				endAt = e.At
			}
		}
		// An offer the timeline records before the end rang for a live
		// contact (it may reach the socket after the end: a race, not a
		// fault); one it does not, received after the end, rang for an
		// ended contact.
		if !rang && o.at.After(endAt) {
			out = append(out, fmt.Sprintf("%s rang at %s at %s, ended at %s", o.contact, o.agent, o.at.Format(time.RFC3339Nano), endAt.Format(time.RFC3339Nano)))
		}
	}
	return out
}

// overCapacity names the moments an agent held more contacts of one
// channel than its capacity (caps: agent → channel → contacts; a
// channel it lacks is not checked). A contact is held from its assigned
// event to the event that takes it from the agent; at one instant
// releases count before takes (a commit may close one and assign the
// next).
func overCapacity(timelines map[string][]timelineEvent, channels map[string]string, caps map[string]map[string]int) []string {
	type edge struct {
		at    time.Time
		delta int
		id    string
	}
	edges := map[[2]string][]edge{} // agent, channel → its takes and releases
	for id, tl := range timelines {
		holder := ""
		for _, e := range tl {
			switch {
			case e.Event == "assigned" && holder == "":
				holder = e.AgentID
				k := [2]string{holder, channels[id]}
				edges[k] = append(edges[k], edge{e.At, 1, id})
			case endsHold[e.Event] && holder != "":
				k := [2]string{holder, channels[id]}
				edges[k] = append(edges[k], edge{e.At, -1, id})
				holder = ""
			}
		}
	}
	var out []string
	for k, es := range edges {
		limit, ok := caps[k[0]][k[1]]
		if !ok {
			continue
		}
		slices.SortFunc(es, func(a, b edge) int {
			if c := a.at.Compare(b.at); c != 0 {
				return c
			}
			return a.delta - b.delta
		})
		held := 0
		for _, e := range es {
			held += e.delta
			if held > limit {
				out = append(out, fmt.Sprintf("%s held %d %s contacts at %s (capacity %d; took %s)", k[0], held, k[1], e.at.Format(time.RFC3339Nano), limit, e.id))
			}
		}
	}
	return out
}

// capacities reads each agent's capacity per channel: its own, over
// Options.DefaultCapacity.
func (s *Sim) capacities(ctx context.Context) (map[string]map[string]int, error) {
	var list struct {
		Agents []struct {
			ID       string         `json:"id"`
			Capacity map[string]int `json:"capacity"`
		} `json:"agents"`
	}
	if code, err := s.api(ctx, "GET", "/api/v1/agents", nil, nil, &list); err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("list agents: %d %v", code, err)
	}
	out := map[string]map[string]int{}
	for _, a := range list.Agents {
		m := maps.Clone(s.opts.DefaultCapacity)
		if m == nil {
			m = map[string]int{}
		}
		maps.Copy(m, a.Capacity)
		out[a.ID] = m
	}
	return out, nil
}
