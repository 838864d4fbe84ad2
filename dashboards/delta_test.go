package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// boardModel is a viewer's board as a client keeps it: a snapshot, then
// each delta applied to it, as the page does (app.js, applyDelta).
type boardModel struct {
	version          uint64
	at               json.RawMessage
	queues, agents   modelRows
	staffing, trends map[string]json.RawMessage
	// snapshots and deltas count the frames applied.
	snapshots, deltas int
}

type modelRows struct {
	keys []string
	rows map[string]json.RawMessage
}

// wireSection is a section of a delta frame.
type wireSection struct {
	Changed json.RawMessage `json:"changed"`
	Removed []string        `json:"removed"`
	Order   []string        `json:"order"`
}

// wireDelta is a delta frame's data.
type wireDelta struct {
	From, To                         uint64
	At                               json.RawMessage
	Queues, Agents, Staffing, Trends *wireSection
}

// errGap is a delta that does not follow the model's version: a broken
// chain.
var errGap = errors.New("delta does not follow the board's version")

// errNotBoard is a frame that is neither a snapshot nor a delta.
var errNotBoard = errors.New("not a board frame")

func rowKey(row json.RawMessage, field string) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(row, &m); err != nil {
		return "", err
	}
	var k string
	err := json.Unmarshal(m[field], &k)
	return k, err
}

func modelOf(rows []json.RawMessage, field string) (modelRows, error) {
	m := modelRows{rows: map[string]json.RawMessage{}}
	for _, r := range rows {
		k, err := rowKey(r, field)
		if err != nil {
			return m, err
		}
		m.keys = append(m.keys, k)
		m.rows[k] = r
	}
	return m, nil
}

// apply applies a board or board_delta frame; errGap for a delta that
// does not start at the model's version, errNotBoard for other frames.
func (m *boardModel) apply(frame []byte) error {
	var f struct {
		Type string
		Data json.RawMessage
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		return err
	}
	switch f.Type {
	case frameBoard:
		var d struct {
			Version          uint64
			At               json.RawMessage
			Queues, Agents   []json.RawMessage
			Staffing, Trends map[string]json.RawMessage
		}
		if err := json.Unmarshal(f.Data, &d); err != nil {
			return err
		}
		if d.Version == 0 {
			return fmt.Errorf("snapshot without a version: %s", f.Data)
		}
		q, err := modelOf(d.Queues, "name")
		if err != nil {
			return err
		}
		a, err := modelOf(d.Agents, "id")
		if err != nil {
			return err
		}
		*m = boardModel{version: d.Version, at: d.At, queues: q, agents: a, staffing: d.Staffing, trends: d.Trends,
			snapshots: m.snapshots + 1, deltas: m.deltas}
		return nil
	case frameBoardDelta:
		var d wireDelta
		if err := json.Unmarshal(f.Data, &d); err != nil {
			return err
		}
		if m.version == 0 || d.From != m.version || d.To != d.From+1 {
			return fmt.Errorf("%w: model at %d, delta %d→%d", errGap, m.version, d.From, d.To)
		}
		if err := m.queues.apply(d.Queues, "name"); err != nil {
			return err
		}
		if err := m.agents.apply(d.Agents, "id"); err != nil {
			return err
		}
		if err := applyMap(&m.staffing, d.Staffing); err != nil {
			return err
		}
		if err := applyMap(&m.trends, d.Trends); err != nil {
			return err
		}
		m.version, m.at = d.To, d.At
		m.deltas++
		return nil
	}
	return errNotBoard
}

func (m *modelRows) apply(s *wireSection, field string) error {
	if s == nil {
		return nil
	}
	var changed []json.RawMessage
	if err := json.Unmarshal(s.Changed, &changed); err != nil {
		return err
	}
	for _, k := range s.Removed {
		if _, ok := m.rows[k]; !ok {
			return fmt.Errorf("removed %q: not on the board", k)
		}
		delete(m.rows, k)
	}
	for _, r := range changed {
		k, err := rowKey(r, field)
		if err != nil {
			return err
		}
		if _, ok := m.rows[k]; !ok && s.Order == nil {
			return fmt.Errorf("row %q added without an order", k)
		}
		m.rows[k] = r
	}
	if s.Order != nil {
		m.keys = s.Order
	} else {
		m.keys = slices.DeleteFunc(m.keys, func(k string) bool { _, ok := m.rows[k]; return !ok })
	}
	return nil
}

func applyMap(m *map[string]json.RawMessage, s *wireSection) error {
	if s == nil {
		return nil
	}
	var changed map[string]json.RawMessage
	if err := json.Unmarshal(s.Changed, &changed); err != nil {
		return err
	}
	if *m == nil {
		*m = map[string]json.RawMessage{}
	}
	for _, k := range s.Removed {
		delete(*m, k)
	}
	maps.Copy(*m, changed)
	return nil
}

// raw is the model's board as JSON, as json.Marshal writes a Board, with
// at for its time (nil: the model's).
func (m *boardModel) raw(at json.RawMessage) []byte {
	if at == nil {
		at = m.at
	}
	var b bytes.Buffer
	b.WriteString(`{"at":`)
	b.Write(at)
	for _, s := range []struct {
		name string
		rows modelRows
	}{{"queues", m.queues}, {"agents", m.agents}} {
		b.WriteString(`,"` + s.name + `":[`)
		for i, k := range s.rows.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(s.rows.rows[k])
		}
		b.WriteByte(']')
	}
	for _, s := range []struct {
		name string
		rows map[string]json.RawMessage
	}{{"staffing", m.staffing}, {"trends", m.trends}} {
		if len(s.rows) == 0 {
			continue
		}
		b.WriteString(`,"` + s.name + `":{`)
		for i, k := range slices.Sorted(maps.Keys(s.rows)) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeKey(&b, k)
			b.WriteByte(':')
			b.Write(s.rows[k])
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// deltaOf decodes a delta frame.
func deltaOf(t *testing.T, frame []byte) wireDelta {
	t.Helper()
	var f struct {
		Type string
		Data wireDelta
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		t.Fatalf("delta %s: %v", frame, err)
	}
	if f.Type != frameBoardDelta {
		t.Fatalf("frame %q, want %s", f.Type, frameBoardDelta)
	}
	return f.Data
}

// changedKeys are the keys of a section's changed rows.
func changedKeys(t *testing.T, s *wireSection, field string) []string {
	t.Helper()
	if s == nil {
		return nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(s.Changed, &rows); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range rows {
		k, err := rowKey(r, field)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

// handBoard is a board of two queues and three agents, built by hand.
func handBoard() Board {
	at := t0
	agent := func(id, name string, st router.AgentState) AgentView {
		return AgentView{ID: id, Name: name, State: st, StateSince: t0.Add(-time.Minute), Load: map[string]Load{"chat": {0, 1}},
			Contacts: []string{}, Queues: []string{"billing"}}
	}
	return Board{At: at,
		Queues:   []QueueView{{Name: "billing", Waiting: 1}, {Name: "sales"}},
		Agents:   []AgentView{agent("a1", "Ann", router.AgentAvailable), agent("b2", "Bob", router.AgentAway), agent("c3", "Cid", router.AgentOffline)},
		Staffing: map[string]Advice{"billing": {Needed: 3, Met: true}},
	}
}

func TestBoardDelta(t *testing.T) {
	t.Run("first-board-is-a-snapshot", func(t *testing.T) {
		var f boardFeed
		b := handBoard()
		delta, changed, err := f.next(&b)
		if err != nil || !changed || delta != nil || f.version != 1 {
			t.Fatalf("first board: delta %s, changed %v, err %v, version %d; want no delta, changed, version 1", delta, changed, err, f.version)
		}
		var m boardModel
		if err := m.apply(f.snapshot()); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(b)
		if got := m.raw(nil); !bytes.Equal(got, want) || m.version != 1 {
			t.Errorf("snapshot: version %d\n%s\nwant version 1\n%s", m.version, got, want)
		}
	})
	t.Run("one-agent-changed-sends-that-row", func(t *testing.T) {
		var f boardFeed
		b := handBoard()
		f.next(&b)
		b2 := handBoard()
		b2.At = b.At.Add(time.Second)
		b2.Agents[1].State, b2.Agents[1].Reason = router.AgentAway, "meeting"
		delta, changed, err := f.next(&b2)
		if err != nil || !changed {
			t.Fatalf("changed %v, err %v", changed, err)
		}
		d := deltaOf(t, delta)
		if d.From != 1 || d.To != 2 {
			t.Errorf("from %d to %d, want 1 to 2", d.From, d.To)
		}
		if got := changedKeys(t, d.Agents, "id"); !slices.Equal(got, []string{"b2"}) || len(d.Agents.Removed) != 0 || d.Agents.Order != nil {
			t.Errorf("agents: changed %v, removed %v, order %v; want b2 alone", got, d.Agents.Removed, d.Agents.Order)
		}
		if d.Queues != nil || d.Staffing != nil || d.Trends != nil {
			t.Errorf("unchanged sections sent: %s", delta)
		}
		row, _ := json.Marshal(b2.Agents[1])
		if !bytes.Contains(delta, row) {
			t.Errorf("delta %s lacks the row %s", delta, row)
		}
		for _, other := range []string{`"a1"`, `"c3"`, `"sales"`} {
			if bytes.Contains(delta, []byte(other)) {
				t.Errorf("delta %s names %s, which did not change", delta, other)
			}
		}
	})
	t.Run("removed-agent-listed", func(t *testing.T) {
		var f boardFeed
		b := handBoard()
		f.next(&b)
		b2 := handBoard()
		b2.Agents = slices.Delete(b2.Agents, 0, 1)
		delete(b2.Staffing, "billing")
		delta, _, _ := f.next(&b2)
		d := deltaOf(t, delta)
		if d.Agents == nil || !slices.Equal(d.Agents.Removed, []string{"a1"}) || len(changedKeys(t, d.Agents, "id")) != 0 {
			t.Errorf("agents section %+v, want a1 removed and nothing changed", d.Agents)
		}
		if d.Agents != nil && !slices.Equal(d.Agents.Order, []string{"b2", "c3"}) {
			t.Errorf("order %v, want [b2 c3]", d.Agents.Order)
		}
		if d.Staffing == nil || !slices.Equal(d.Staffing.Removed, []string{"billing"}) {
			t.Errorf("staffing section %+v, want billing removed", d.Staffing)
		}
	})
	t.Run("no-change-no-frame", func(t *testing.T) {
		var f boardFeed
		b := handBoard()
		f.next(&b)
		b2 := handBoard()
		b2.At = b.At.Add(3 * time.Second) // the time alone is no change
		delta, changed, err := f.next(&b2)
		if delta != nil || changed || err != nil || f.version != 1 {
			t.Errorf("same rows: delta %s, changed %v, err %v, version %d; want none, version 1", delta, changed, err, f.version)
		}
		var m boardModel
		if err := m.apply(f.snapshot()); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(b2)
		if got := m.raw(nil); !bytes.Equal(got, want) {
			t.Errorf("snapshot after no change:\n%s\nwant the new time:\n%s", got, want)
		}
	})
}

// TestBoardDeltaReplay: over random sequences of router changes (agents
// added, renamed, removed, connected, changing state; contacts arriving,
// accepted, closed, abandoned; queues added and removed; time passing;
// the advice and trends changing), a client that applies each delta to
// the first snapshot holds exactly the board built at that tick, and a
// snapshot taken at any version is that board too.
func TestBoardDeltaReplay(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) { replayBoard(t, seed, 60) })
	}
}

func replayBoard(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0))
	f := newFixture(t)
	queues := []string{"billing", "sales", "support"}
	for i, q := range queues[:2] {
		f.queue(router.Queue{Name: q, Requirements: []router.Requirement{{Skill: fmt.Sprintf("s%d", i), Min: 1}}})
	}
	staffing, trends := map[string]Advice{}, map[string]Trend{}
	ids := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"}
	names := []string{"Ann", "bob", "Cid", "dee", "Eve", "ann"}
	ops := []func(){
		func() { // an agent put: new, or renamed and re-skilled
			id := ids[rng.IntN(len(ids))]
			f.r.PutAgent(f.ctx, router.Agent{ID: id, Name: names[rng.IntN(len(names))],
				Skills: map[string]int{fmt.Sprintf("s%d", rng.IntN(3)): 1 + rng.IntN(3)}})
		},
		func() { f.r.DeleteAgent(f.ctx, ids[rng.IntN(len(ids))]) },
		func() {
			id := ids[rng.IntN(len(ids))]
			f.r.AgentConnected(f.ctx, id)
			f.r.SetAgentState(f.ctx, id, router.AgentAvailable, "")
		},
		func() {
			f.r.SetAgentState(f.ctx, ids[rng.IntN(len(ids))], router.AgentAway, []string{"meeting", "lunch"}[rng.IntN(2)])
		},
		func() { f.r.AgentDisconnected(f.ctx, ids[rng.IntN(len(ids))]) },
		func() { f.r.Submit(f.ctx, router.NewContact{Channel: router.ChannelChat, Queue: queues[rng.IntN(2)]}) },
		func() { f.r.Submit(f.ctx, router.NewContact{Channel: router.ChannelChat, Queue: queues[rng.IntN(2)]}) },
		func() { // an offer accepted
			for _, a := range f.r.Snapshot().Agents() {
				if a.Offer != "" {
					f.r.Accept(f.ctx, a.Offer, a.ID)
					return
				}
			}
		},
		func() { // a contact closed
			for _, a := range f.r.Snapshot().Agents() {
				for _, c := range a.Contacts {
					if c != a.Offer {
						f.r.CloseContact(f.ctx, c, a.ID, "", "")
						return
					}
				}
			}
		},
		func() { // a waiting customer leaves
			snap := f.r.Snapshot()
			if w := snap.Waiting(queues[rng.IntN(2)]); len(w) > 0 {
				f.r.Abandon(f.ctx, w[0].ID, "left")
			}
		},
		func() { f.advance(time.Duration(1+rng.IntN(30)) * time.Second) },
		func() { // the third queue comes and goes
			if rng.IntN(2) == 0 {
				f.r.PutQueue(f.ctx, router.Queue{Name: queues[2], Requirements: []router.Requirement{{Skill: "s2", Min: 1}}})
			} else {
				f.r.DeleteQueue(f.ctx, queues[2])
			}
		},
		func() { // the advice and trends, once a minute
			q := queues[rng.IntN(3)]
			if rng.IntN(3) == 0 {
				delete(staffing, q)
				delete(trends, q)
				return
			}
			staffing[q] = Advice{Needed: rng.IntN(20), Met: rng.IntN(2) == 0, Model: "erlang_c"}
			trends[q] = Trend{Minutes: []time.Time{t0}, Waiting: []*float64{ptr(float64(rng.IntN(5)))}, ServiceLevel: []*float64{nil},
				Arrivals: []int{rng.IntN(9)}, Abandoned: []int{0}}
		},
		func() {}, // nothing: a tick with no change
	}
	board := func() Board {
		snap := f.r.Snapshot()
		b := NewBoardOf(snap, f.waits.Figures(snap), time.Hour)
		f.waits.Apply(b.Queues)
		b.Staffing, b.Trends = maps.Clone(staffing), maps.Clone(trends)
		return b
	}
	var feed boardFeed
	var client boardModel
	frames, deltas, unchanged := 0, 0, 0
	for step := 0; step < steps; step++ {
		for n := rng.IntN(4); n >= 0; n-- {
			ops[rng.IntN(len(ops))]()
		}
		b := board()
		want, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		delta, changed, err := feed.next(&b)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case step == 0:
			if err := client.apply(feed.snapshot()); err != nil {
				t.Fatal(err)
			}
		case changed:
			if err := client.apply(delta); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			deltas++
			frames += len(delta)
		default:
			unchanged++
		}
		if changed {
			if got := client.raw(nil); !bytes.Equal(got, want) {
				t.Fatalf("step %d: the snapshot and %d deltas give\n%s\nwant the board\n%s", step, deltas, got, want)
			}
		} else {
			at, _ := json.Marshal(b.At)
			if got := client.raw(at); !bytes.Equal(got, want) {
				t.Fatalf("step %d: no delta, yet the board changed:\n%s\nwant\n%s", step, got, want)
			}
		}
		if client.version != feed.version {
			t.Fatalf("step %d: client at version %d, feed at %d", step, client.version, feed.version)
		}
		var late boardModel
		if err := late.apply(feed.snapshot()); err != nil {
			t.Fatal(err)
		}
		if got := late.raw(nil); !bytes.Equal(got, want) || late.version != feed.version {
			t.Fatalf("step %d: a snapshot now, version %d:\n%s\nwant version %d\n%s", step, late.version, got, feed.version, want)
		}
	}
	if deltas < steps/3 || unchanged == 0 {
		t.Errorf("%d deltas and %d ticks without change in %d steps: the sequence did not exercise both", deltas, unchanged, steps)
	}
	t.Logf("%d deltas (%d bytes), %d ticks without change, version %d", deltas, frames, unchanged, feed.version)
}
