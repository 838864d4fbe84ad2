package dashboards

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// statesFail is a store whose agents' state spans cannot be read.
type statesFail struct{ *store.DB }

func (statesFail) EachAgentStateSpan(context.Context, time.Time, time.Time, func(string, router.AgentState, time.Time, time.Time) error) error {
	return errors.New("disk on fire")
}

// One pass over the day's contacts gives each agent's and each queue's
// row; when the agents' states cannot be read, the queues' day is still
// there, with the error.
func TestReadDays(t *testing.T) {
	ctx := context.Background()
	db := benchStore(t)
	midnight := t0.Truncate(24 * time.Hour)
	at := midnight.Add(9 * time.Hour)
	c := router.Contact{ID: "c1", Channel: router.ChannelChat, Queue: "billing", State: router.ContactClosed, AgentID: "alice",
		CreatedAt: at, EnqueuedAt: at, QueuedAt: at, AssignedAt: at.Add(10 * time.Second), EndedAt: at.Add(5 * time.Minute)}
	if err := db.Commit(ctx, &router.Batch{Contacts: []router.Contact{c}}); err != nil {
		t.Fatal(err)
	}
	levels := map[string]router.ServiceLevel{"billing": {}, "sales": {}}
	now := midnight.Add(10 * time.Hour)
	agents, queues, err := readDays(ctx, db, levels, midnight, now)
	if err != nil {
		t.Fatal(err)
	}
	if agents["alice"].Handled != 1 || queues["billing"].Answered != 1 || len(queues) != 2 {
		t.Fatalf("agents %+v, queues %+v; want alice's one contact handled, answered in billing, and sales", agents, queues)
	}
	agents, queues, err = readDays(ctx, statesFail{db}, levels, midnight, now)
	if err == nil || agents != nil || queues["billing"].Answered != 1 {
		t.Fatalf("states failing: agents %v, queues %+v, %v; want no agents, the queues, an error", agents, queues, err)
	}
}
