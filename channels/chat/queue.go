package chat

import (
	"bytes"
	"encoding/json"
	"math"
	"time"

	"github.com/switchboard/switchboard/dashboards"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// queueData is a waiting customer's standing.
type queueData struct {
	// Position is 1 for the next contact served; 0 while an agent is
	// being offered the contact.
	Position int `json:"position"`
	// EstimatedWaitSeconds is nil when it cannot be told honestly.
	EstimatedWaitSeconds *float64 `json:"estimated_wait_seconds"`
}

func (q *queueData) same(o *queueData) bool {
	if q == nil || o == nil {
		return q == o
	}
	if q.Position != o.Position || (q.EstimatedWaitSeconds == nil) != (o.EstimatedWaitSeconds == nil) {
		return false
	}
	return q.EstimatedWaitSeconds == nil || *q.EstimatedWaitSeconds == *o.EstimatedWaitSeconds
}

// queueLoop recomputes the waiting customers' standings whenever the
// router reports a change (and every queueRefresh, as the estimate's
// window moves), at most once every StandingsEvery, and pushes those
// that changed.
func (c *Channel) queueLoop() {
	defer close(c.stopped)
	tick := time.NewTicker(queueRefresh)
	defer tick.Stop()
	var (
		stats   map[string]store.QueueStats
		statsAt time.Time
		topics  []byte    // the topics frame last sent
		last    time.Time // the last round's start
	)
	for {
		select {
		case <-c.quit:
			return
		case <-c.dirty:
		case <-tick.C:
		}
		if wait := c.o.StandingsEvery - time.Since(last); wait > 0 {
			// Paced: what changes meanwhile is told in the next round.
			if c.o.testHookPaced != nil {
				c.o.testHookPaced(wait)
			}
			t := time.NewTimer(wait)
			select {
			case <-c.quit:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		// The changes so far are all in this round's snapshot: a
		// signal left from the wait would only ask for another round.
		select {
		case <-c.dirty:
		default:
		}
		// Taken before the snapshot: one offered after it is left for
		// the next round (lookAgain marks the channel dirty).
		offered := c.takeOffered()
		snap := c.o.Router.Snapshot()
		if c.o.Waits != nil {
			// The figures kept as they happen: nothing to read.
			c.pushStandings(snap, nil, offered)
			topics = c.pushTopics(snap, topics)
			continue
		}
		if c.statsStale.Swap(false) || stats == nil || snap.At.Sub(statsAt) >= statsTTL || snap.At.Before(statsAt) {
			ctx, cancel := c.ctx()
			s, err := c.o.Store.QueueStats(ctx, snap.At.Add(-c.o.StatsWindow))
			cancel()
			if err != nil {
				c.o.Logger.Warn("chat: queue statistics", "err", err)
			} else {
				stats, statsAt = s, snap.At
			}
		}
		c.pushStandings(snap, stats, offered)
		topics = c.pushTopics(snap, topics)
	}
}

// pushTopics sends every socket the topics, online or not, when they
// changed since last (an agent went offline, a queue closed), so that a
// customer on the form sees "leave a message" before writing one; it
// returns the frame's data as sent.
func (c *Channel) pushTopics(snap *router.Snapshot, last []byte) []byte {
	raw, err := json.Marshal(c.topicsNow(snap))
	if err != nil || bytes.Equal(raw, last) {
		return last
	}
	c.mu.RLock()
	conns := make([]*conn, 0, len(c.conns))
	for cn := range c.conns {
		conns = append(conns, cn)
	}
	c.mu.RUnlock()
	for _, cn := range conns {
		cn.push(typeTopics, "", raw, 0)
	}
	return raw
}

// pushStandings sends each live, waiting conversation its standing if it
// changed since the last one sent. It looks at the queued contacts (the
// router's waiting index) and at the conversations offered or joined
// since the last push (offered: lookAgain, takeOffered), not at every
// conversation: an agent's open chats are most of them, and they do not
// wait.
func (c *Channel) pushStandings(snap *router.Snapshot, stats map[string]store.QueueStats, offered []string) {
	type sub struct {
		ct    router.Contact
		conns []*conn
	}
	queued := snap.Queued()
	var subs []sub
	add := func(ct router.Contact) {
		if set := c.convs[ct.ID]; len(set) > 0 {
			s := sub{ct: ct, conns: make([]*conn, 0, len(set))}
			for cn := range set {
				s.conns = append(s.conns, cn)
			}
			subs = append(subs, s)
		}
	}
	c.mu.RLock()
	for _, ct := range queued {
		add(ct)
	}
	for _, id := range offered {
		if ct, ok := snap.Contact(id); ok && ct.State == router.ContactOffered {
			add(ct)
		}
	}
	c.mu.RUnlock()
	if len(subs) == 0 {
		return
	}
	var (
		views     map[string]*dashboards.QueueView
		positions = map[string]map[string]int{}
	)
	for _, s := range subs {
		ct := &s.ct
		var q queueData
		if ct.State == router.ContactOffered {
			q.EstimatedWaitSeconds = ptr(0)
		} else {
			if views == nil {
				views = map[string]*dashboards.QueueView{}
				var all []dashboards.QueueView
				if c.o.Waits != nil {
					all = dashboards.QueuesOf(snap, c.o.Waits.Figures(snap), c.o.Waits.Window())
				} else {
					all = dashboards.Queues(snap, stats, c.o.StatsWindow)
				}
				for i := range all {
					views[all[i].Name] = &all[i]
				}
			}
			pos := positions[ct.Queue]
			if pos == nil {
				pos = map[string]int{}
				for i, w := range snap.Waiting(ct.Queue) {
					pos[w.ID] = i + 1
				}
				positions[ct.Queue] = pos
			}
			q.Position = pos[ct.ID]
			// Whole seconds: a customer reads no more, and the frame
			// changes less often.
			if est := c.o.Waits.EstimateFor(views[ct.Queue], q.Position-1); est != nil {
				q.EstimatedWaitSeconds = ptr(math.Round(*est))
			}
		}
		raw, _ := json.Marshal(q)
		for _, cn := range s.conns {
			cn.mu.Lock()
			if cn.live && cn.ready && !cn.queue.same(&q) {
				qc := q
				cn.queue = &qc
				cn.pushLocked(typeQueue, "", raw, 0)
			}
			cn.mu.Unlock()
		}
	}
}

// takeOffered returns the conversations lookAgain named since the last
// call, and forgets them.
func (c *Channel) takeOffered() []string {
	c.omu.Lock()
	defer c.omu.Unlock()
	if len(c.offered) == 0 {
		return nil
	}
	ids := make([]string, 0, len(c.offered))
	for id := range c.offered {
		ids = append(ids, id)
	}
	clear(c.offered)
	return ids
}

func ptr(f float64) *float64 { return &f }
