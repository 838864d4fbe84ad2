package agents

import (
	"encoding/json"

	"github.com/switchboard/switchboard/router"
)

// Snapshots: the whole state an agent's desktop starts from (or resyncs
// to), read from the router's snapshot.

// snapshot builds the snapshot of an agent: its state, its contacts with
// their conversations, its offer, and the desktop's configuration.
func (h *Hub) snapshot(agentID string) []byte {
	snap := h.rt.Snapshot()
	a, ok := snap.Agent(agentID)
	if !ok {
		a = router.Agent{ID: agentID, State: router.AgentOffline}
	}
	d := snapshotData{
		Agent: a, Contacts: []activeContact{},
		Dispositions: h.dispositions, Segments: h.segments, Products: h.products,
		AwayReasons: h.awayReasons, VerificationMethods: h.methods,
		SMSMaxSegments:    h.smsSegments,
		OwnEmailAddresses: h.ownEmail,
	}
	if h.files != nil {
		d.Attachments = &fileLimits{MaxFileBytes: h.files.MaxFileBytes(), MaxMessageBytes: h.maxFiles}
	}
	for _, id := range a.Contacts {
		c, ok := snap.Contact(id)
		if !ok || c.AgentID != agentID {
			continue
		}
		switch c.State {
		case router.ContactOffered:
			o := h.offer(c, "")
			o.Reason = o.ScreenPop.Contact.RoutedBecause
			d.Offer = &o
		case router.ContactAssigned, router.ContactWrapUp:
			d.Contacts = append(d.Contacts, h.active(c))
		}
	}
	b, err := json.Marshal(d)
	if err != nil {
		h.log.Error("agents: encode snapshot", "agent", agentID, "err", err)
		return []byte("{}")
	}
	return b
}
