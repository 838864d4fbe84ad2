package dashboards

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Board is what the supervisors' live page shows at one instant: every
// queue (QueueView) and every agent (AgentView).
type Board struct {
	// At is the snapshot's time: the page counts waits and times in
	// state from it.
	At     time.Time   `json:"at"`
	Queues []QueueView `json:"queues"`
	Agents []AgentView `json:"agents"`
}

// AgentView is one agent as a supervisor sees it.
type AgentView struct {
	ID    string            `json:"id"`
	Name  string            `json:"name"`
	State router.AgentState `json:"state"`
	// Reason is the away reason, or why the agent is offline
	// (disconnected, signed_out).
	Reason     string    `json:"reason,omitempty"`
	StateSince time.Time `json:"state_since"`
	// Connected says whether a desktop of the agent is open.
	Connected bool `json:"connected"`
	// Load is the slots in use of each channel the agent may take, with
	// its capacity: "chat": {"used": 2, "capacity": 3}.
	Load map[string]Load `json:"load"`
	// Ringing is the contact being offered to the agent, if any.
	Ringing string `json:"ringing,omitempty"`
	// Contacts are the agent's offered, assigned and wrap-up contacts.
	Contacts []string `json:"contacts"`
	// Queues are the queues whose requirements the agent meets.
	Queues []string `json:"queues"`
}

// Load is the use of one channel's slots.
type Load struct {
	Used     int `json:"used"`
	Capacity int `json:"capacity"`
}

// NewBoard builds the board of snap with the window's statistics, as
// Queues does for the queues. It reads only its arguments.
func NewBoard(snap *router.Snapshot, stats map[string]store.QueueStats, window time.Duration) Board {
	b := Board{At: snap.At, Queues: Queues(snap, stats, window), Agents: []AgentView{}}
	if b.Queues == nil {
		b.Queues = []QueueView{}
	}
	queues := snap.Queues()
	slices.SortFunc(queues, func(x, y router.Queue) int { return strings.Compare(x.Name, y.Name) })
	channels := snap.Channels()
	for _, a := range snap.Agents() {
		v := AgentView{
			ID: a.ID, Name: a.Name, State: a.State, Reason: a.Reason, StateSince: a.StateSince,
			Connected: a.Connected, Ringing: a.Offer, Contacts: slices.Clone(a.Contacts),
			Load: map[string]Load{}, Queues: []string{},
		}
		if v.Contacts == nil {
			v.Contacts = []string{}
		}
		for _, ch := range slices.Sorted(maps.Keys(channels)) {
			if c := snap.Capacity(a, ch); c > 0 || a.Active[ch] > 0 {
				v.Load[ch] = Load{Used: a.Active[ch], Capacity: c}
			}
		}
		for _, q := range queues {
			if a.Eligible(q.Requirements) {
				v.Queues = append(v.Queues, q.Name)
			}
		}
		b.Agents = append(b.Agents, v)
	}
	slices.SortFunc(b.Agents, func(x, y AgentView) int {
		return cmp(strings.ToLower(x.Name), strings.ToLower(y.Name), x.ID, y.ID)
	})
	return b
}

func cmp(a1, b1, a2, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}
