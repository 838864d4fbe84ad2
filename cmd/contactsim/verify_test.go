package main

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestOffersAfterEnd(t *testing.T) {
	ended := []timelineEvent{
		{Seq: 1, At: at(0), Event: "created"},
		{Seq: 2, At: at(10), Event: "offered", AgentID: "alice"},
		{Seq: 3, At: at(20), Event: "offer_withdrawn", AgentID: "alice"},
		{Seq: 4, At: at(30), Event: "abandoned"},
	}
	tests := []struct {
		name      string
		timelines map[string][]timelineEvent
		seen      []seenOffer
		want      int
	}{
		{"offered-before-the-end-received-late", map[string][]timelineEvent{"c1": ended},
			[]seenOffer{{agent: "alice", contact: "c1", at: at(50)}}, 0},
		{"received-after-the-end-never-offered-to-the-agent", map[string][]timelineEvent{"c1": ended},
			[]seenOffer{{agent: "bob", contact: "c1", at: at(50)}}, 1},
		{"received-before-the-end", map[string][]timelineEvent{"c1": ended},
			[]seenOffer{{agent: "bob", contact: "c1", at: at(25)}}, 0},
		{"not-the-runs-contact", map[string][]timelineEvent{"c1": ended},
			[]seenOffer{{agent: "bob", contact: "c9", at: at(50)}}, 0},
		{"offered-in-the-timeline-after-the-end", map[string][]timelineEvent{"c1": append(ended[:4:4],
			timelineEvent{Seq: 5, At: at(40), Event: "offered", AgentID: "bob"})}, nil, 1},
		{"live-contact", map[string][]timelineEvent{"c1": ended[:2]},
			[]seenOffer{{agent: "bob", contact: "c1", at: at(50)}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := offersAfterEnd(tt.timelines, tt.seen); len(got) != tt.want {
				t.Errorf("got %d (%v), want %d", len(got), got, tt.want)
			}
		})
	}
}

func TestOverCapacity(t *testing.T) {
	held := func(agent string, from, to int) []timelineEvent {
		return []timelineEvent{
			{Seq: 1, At: at(from - 1), Event: "offered", AgentID: agent},
			{Seq: 2, At: at(from), Event: "assigned", AgentID: agent},
			{Seq: 3, At: at(to - 1), Event: "wrapup", AgentID: agent},
			{Seq: 4, At: at(to), Event: "closed", AgentID: agent},
		}
	}
	caps := map[string]map[string]int{"alice": {"chat": 2, "api": 1}}
	tests := []struct {
		name      string
		timelines map[string][]timelineEvent
		channels  map[string]string
		want      int
	}{
		{"two-chats-at-once-capacity-two", map[string][]timelineEvent{"a": held("alice", 10, 50), "b": held("alice", 20, 60)},
			map[string]string{"a": "chat", "b": "chat"}, 0},
		{"three-chats-at-once", map[string][]timelineEvent{"a": held("alice", 10, 50), "b": held("alice", 20, 60), "c": held("alice", 30, 70)},
			map[string]string{"a": "chat", "b": "chat", "c": "chat"}, 1},
		{"one-ends-as-the-next-is-taken", map[string][]timelineEvent{"a": held("alice", 10, 50), "b": held("alice", 50, 60)},
			map[string]string{"a": "api", "b": "api"}, 0},
		{"channels-apart", map[string][]timelineEvent{"a": held("alice", 10, 50), "b": held("alice", 20, 60)},
			map[string]string{"a": "api", "b": "chat"}, 0},
		{"returned-frees-the-slot", map[string][]timelineEvent{
			"a": {{Seq: 1, At: at(10), Event: "assigned", AgentID: "alice"}, {Seq: 2, At: at(20), Event: "returned", AgentID: "alice"},
				{Seq: 3, At: at(40), Event: "assigned", AgentID: "bob"}},
			"b": held("alice", 30, 60)},
			map[string]string{"a": "api", "b": "api"}, 0},
		{"agent-without-a-known-capacity", map[string][]timelineEvent{"a": held("zed", 10, 50), "b": held("zed", 20, 60)},
			map[string]string{"a": "api", "b": "api"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := overCapacity(tt.timelines, tt.channels, caps); len(got) != tt.want {
				t.Errorf("got %d (%v), want %d", len(got), got, tt.want)
			}
		})
	}
}
