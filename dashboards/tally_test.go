package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// TestTallyIsTheWholeBoard drives a router at random (agents come, go,
// change skills, names, capacity and state, connect and drop; contacts
// arrive, ring, are declined, accepted, wrapped up, closed, abandoned,
// transferred; queues change and go; time passes and offers expire) and
// after every step compares the board the tally keeps from the touched
// records with the board built whole from the same snapshot: the same
// JSON, byte for byte. Every 25 steps it also checks that building the
// tally anew gives the same, so a drift cannot hide behind a rebuild.
func TestTallyIsTheWholeBoard(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { tallyRandomly(t, seed, 400) })
	}
}

func tallyRandomly(t *testing.T, seed uint64, steps int) {
	f := newFixture(t)
	rnd := rand.New(rand.NewPCG(seed, 7))
	tl := newTally()
	f.live.to.Store(&batchTo{func(p router.Published) { tl.touch(p.Touched) }})

	skills := []string{"s0", "s1", "s2"}
	queue := func(i int) router.Queue {
		q := router.Queue{Name: fmt.Sprintf("q%d", i), Priority: i % 2}
		if i > 0 {
			q.Requirements = []router.Requirement{{Skill: skills[i%len(skills)], Min: 1 + i%2}}
		}
		return q
	}
	for i := range 3 {
		f.queue(queue(i))
	}
	agentIDs := []string{"a0", "a1", "a2", "a3", "a4", "a5"}
	names := []string{"Ann", "bob", "Cy", "ann"}
	putAgent := func(id string) {
		a := router.Agent{ID: id, Name: names[rnd.IntN(len(names))], Skills: map[string]int{}}
		for _, s := range skills {
			if rnd.IntN(2) == 0 {
				a.Skills[s] = 1 + rnd.IntN(2)
			}
		}
		if rnd.IntN(3) == 0 {
			a.Capacity = map[string]int{"chat": rnd.IntN(3)}
		}
		_, _, _ = f.r.PutAgent(f.ctx, a)
	}
	for _, id := range agentIDs[:4] {
		putAgent(id)
	}
	// live returns a random live contact in state s, if any.
	live := func(s router.ContactState) (router.Contact, bool) {
		var cs []router.Contact
		for _, c := range f.r.Snapshot().Contacts() {
			if c.State == s {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			return router.Contact{}, false
		}
		return cs[rnd.IntN(len(cs))], true
	}
	check := func(step int, what string) {
		t.Helper()
		snap := f.r.Snapshot()
		tl.update(snap)
		got, err := json.Marshal(tl.board(snap, nil, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(NewBoardOf(snap, nil, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("step %d (%s): the tally's board\n%s\nthe board built whole\n%s", step, what, got, want)
		}
	}
	for step := range steps {
		id := agentIDs[rnd.IntN(len(agentIDs))]
		var what string
		switch k := rnd.IntN(20); {
		case k == 0:
			what = "put agent " + id
			putAgent(id)
		case k == 1:
			what = "delete agent " + id
			_ = f.r.DeleteAgent(f.ctx, id)
		case k == 2:
			what = "connect " + id
			_, _ = f.r.AgentConnected(f.ctx, id)
		case k == 3:
			what = "disconnect " + id
			_, _ = f.r.AgentDisconnected(f.ctx, id)
		case k <= 6:
			what = "available " + id
			_, _ = f.r.SetAgentState(f.ctx, id, router.AgentAvailable, "")
		case k == 7:
			what = "away " + id
			_, _ = f.r.SetAgentState(f.ctx, id, router.AgentAway, []string{"break", "meeting", ""}[rnd.IntN(3)])
		case k <= 10:
			what = "submit"
			_, _, _ = f.r.Submit(f.ctx, router.NewContact{Channel: router.ChannelChat, Queue: fmt.Sprintf("q%d", rnd.IntN(3)), Priority: rnd.IntN(3)})
		case k == 11:
			if c, ok := live(router.ContactOffered); ok {
				what = "accept " + c.ID
				_, _ = f.r.Accept(f.ctx, c.ID, c.AgentID)
			}
		case k == 12:
			if c, ok := live(router.ContactOffered); ok {
				what = "decline " + c.ID
				_, _ = f.r.Decline(f.ctx, c.ID, c.AgentID, "busy")
			}
		case k == 13:
			if c, ok := live(router.ContactAssigned); ok {
				what = "close " + c.ID
				_, _ = f.r.CloseContact(f.ctx, c.ID, c.AgentID, "", "")
			}
		case k == 14:
			if c, ok := live(router.ContactQueued); ok {
				what = "abandon " + c.ID
				_, _ = f.r.Abandon(f.ctx, c.ID, "left")
			}
		case k == 15:
			if c, ok := live(router.ContactAssigned); ok {
				what = "transfer " + c.ID
				_, _ = f.r.Transfer(f.ctx, c.ID, c.AgentID, fmt.Sprintf("q%d", rnd.IntN(3)), "")
			}
		case k == 16:
			if c, ok := live(router.ContactQueued); ok {
				what = "message on " + c.ID
				_, _, _ = f.r.AddMessage(f.ctx, c.ID, router.Message{Direction: "in", AuthorKind: router.AuthorCustomer, Body: "still there?"})
			}
		case k == 17 && rnd.IntN(4) == 0:
			i := rnd.IntN(4)
			if rnd.IntN(3) == 0 {
				what = fmt.Sprintf("delete queue q%d", i)
				_ = f.r.DeleteQueue(f.ctx, fmt.Sprintf("q%d", i))
			} else {
				what = fmt.Sprintf("put queue q%d", i)
				q := queue(i)
				q.Requirements = []router.Requirement{{Skill: skills[rnd.IntN(len(skills))], Min: 1}}
				_, _ = f.r.PutQueue(f.ctx, q)
			}
		default:
			d := time.Duration(rnd.IntN(40)) * time.Second
			what = fmt.Sprint("advance ", d)
			f.advance(d)
		}
		check(step, what)
		if step%25 == 24 {
			tl.touchAll()
			check(step, "built anew")
		}
	}
}
