package dashboards

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// The board travels as a snapshot, then deltas (docs/protocol.md):
//
//	{"type": "board", "data": {"version": 7, "at": …, "queues": […], "agents": […], "staffing": {…}, "trends": {…}}}
//	{"type": "board_delta", "data": {"from": 7, "to": 8, "at": …,
//	    "agents": {"changed": [AgentView, …], "removed": ["id", …], "order": ["id", …]},
//	    "queues": {…}, "staffing": {"changed": {"billing": Advice}, "removed": […]}, "trends": {…}}}
//
// A tick encodes the rows that may have changed (all of them for a
// board built whole, the agents the router touched for the board kept
// from its event stream: tally) and compares their bytes with the
// previous tick's (boardFeed.update): the work grows with the rows sent
// to it, the bytes sent to viewers with what changed.

// frameBoardDelta is the frame of the changes from one version of the
// board to the next.
const frameBoardDelta = "board_delta"

// rowSet is one section of a board, row by row: each row's JSON by its
// key (a queue's name, an agent's id), the keys in the board's order.
// The feed changes its own in place, tick by tick.
type rowSet struct {
	keys []string
	rows map[string][]byte
}

// boardRows is a board encoded section by section, row by row: what the
// feed keeps to tell the next tick what changed.
type boardRows struct {
	at       []byte
	queues   rowSet // by name, in the board's order
	agents   rowSet // by id, in the board's order
	staffing rowSet // by queue name, sorted
	trends   rowSet // by queue name, sorted
}

// keyedRow is one row of a section, encoded.
type keyedRow struct {
	key  string
	json []byte
}

// sectionUpdate is a tick's news of one section: the rows that may have
// changed (the others are as before), and, when the membership or the
// order may have changed, every key in order (nil: as before). The
// board kept from the event stream (tally) sends the agents it read
// again; a board built whole sends every row and every key.
type sectionUpdate struct {
	rows  []keyedRow
	order []string
}

// boardUpdate is a tick's news of the whole board: its time, then each
// section.
type boardUpdate struct {
	at                               []byte
	queues, agents, staffing, trends sectionUpdate
}

// add encodes v as the row of key, and adds key to the order.
func (u *sectionUpdate) add(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	u.rows = append(u.rows, keyedRow{key, b})
	u.order = append(u.order, key)
	return nil
}

// wholeUpdate encodes every row of b: the update of a board built
// whole.
func wholeUpdate(b *Board) (*boardUpdate, error) {
	at, err := json.Marshal(b.At)
	if err != nil {
		return nil, err
	}
	u := &boardUpdate{at: at, queues: sectionUpdate{order: []string{}}, agents: sectionUpdate{order: []string{}},
		staffing: sectionUpdate{order: []string{}}, trends: sectionUpdate{order: []string{}}}
	for i := range b.Queues {
		if err := u.queues.add(b.Queues[i].Name, &b.Queues[i]); err != nil {
			return nil, err
		}
	}
	for i := range b.Agents {
		if err := u.agents.add(b.Agents[i].ID, &b.Agents[i]); err != nil {
			return nil, err
		}
	}
	for _, q := range slices.Sorted(maps.Keys(b.Staffing)) {
		if err := u.staffing.add(q, b.Staffing[q]); err != nil {
			return nil, err
		}
	}
	for _, q := range slices.Sorted(maps.Keys(b.Trends)) {
		if err := u.trends.add(q, b.Trends[q]); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// boardFeed is the chain of the board's versions: it keeps the board
// last built, encoded, and its version, and turns each tick's update
// into the delta from it. Not safe for concurrent use: Live's loop
// alone uses it.
type boardFeed struct {
	// version is cur's; 0 before the first board, then one more at each
	// board that changed something, and at a first board again after
	// cur was let go (nil).
	version uint64
	cur     *boardRows // nil before the first board
	// snap is the snapshot frame of cur, assembled when first asked;
	// nil until then.
	snap []byte
}

// next takes a board built whole (next is update for it).
func (f *boardFeed) next(b *Board) (delta []byte, changed bool, err error) {
	u, err := wholeUpdate(b)
	if err != nil {
		return nil, false, err
	}
	delta, changed = f.update(u)
	return delta, changed, nil
}

// update takes a tick's news. It reports whether the board changed, and
// if so returns the delta frame from the previous version to the new
// one (nil for the first board, whose sections' orders must all be
// given: there is nothing to apply a delta to). A tick whose rows are
// all the same bytes is no change, whatever its time (at): the version
// stays, and its snapshot takes the new time. Its cost grows with the
// rows u sends, and with the section's keys where u sends its order.
func (f *boardFeed) update(u *boardUpdate) (delta []byte, changed bool) {
	if f.cur == nil {
		cur := &boardRows{at: u.at}
		for _, s := range []struct {
			set *rowSet
			u   *sectionUpdate
		}{{&cur.queues, &u.queues}, {&cur.agents, &u.agents}, {&cur.staffing, &u.staffing}, {&cur.trends, &u.trends}} {
			s.set.rows = make(map[string][]byte, len(s.u.rows))
			s.set.keys = slices.Clone(s.u.order)
			for _, r := range s.u.rows {
				s.set.rows[r.key] = r.json
			}
		}
		f.cur, f.snap, f.version = cur, nil, f.version+1
		return nil, true
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"` + frameBoardDelta + `","data":{"from":`)
	buf.WriteString(uitoa(f.version))
	buf.WriteString(`,"to":`)
	buf.WriteString(uitoa(f.version + 1))
	buf.WriteString(`,"at":`)
	buf.Write(u.at)
	n := buf.Len()
	diffRows(&buf, "queues", &f.cur.queues, &u.queues, false)
	diffRows(&buf, "agents", &f.cur.agents, &u.agents, false)
	diffRows(&buf, "staffing", &f.cur.staffing, &u.staffing, true)
	diffRows(&buf, "trends", &f.cur.trends, &u.trends, true)
	f.cur.at, f.snap = u.at, nil
	if buf.Len() == n {
		// The same rows: the version stays. Its time moves on, for the
		// snapshots sent from now on (times in state count from it).
		return nil, false
	}
	buf.WriteString(`}}`)
	f.version++
	return buf.Bytes(), true
}

// diffRows applies u to the section name of the board kept (cur) and
// writes its delta, if anything in it changed: the rows changed or
// added ("changed": an array, or an object by key when byKey), the keys
// removed, and the keys in order when the order or the membership
// changed (for arrays: an object's keys have no order).
func diffRows(buf *bytes.Buffer, name string, cur *rowSet, u *sectionUpdate, byKey bool) {
	var changed, removed []string
	for _, r := range u.rows {
		if old, ok := cur.rows[r.key]; !ok || !bytes.Equal(old, r.json) {
			changed = append(changed, r.key)
			cur.rows[r.key] = r.json
		}
	}
	reordered := false
	if u.order != nil {
		in := make(map[string]bool, len(u.order))
		for _, k := range u.order {
			in[k] = true
		}
		for _, k := range cur.keys {
			if !in[k] {
				removed = append(removed, k)
				delete(cur.rows, k)
			}
		}
		reordered = !byKey && !slices.Equal(cur.keys, u.order)
		if len(removed) > 0 || !slices.Equal(cur.keys, u.order) {
			cur.keys = slices.Clone(u.order)
		}
	}
	if len(changed) == 0 && len(removed) == 0 && !reordered {
		return
	}
	buf.WriteString(`,"` + name + `":{"changed":`)
	if byKey {
		buf.WriteByte('{')
		for i, k := range changed {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeKey(buf, k)
			buf.WriteByte(':')
			buf.Write(cur.rows[k])
		}
		buf.WriteByte('}')
	} else {
		buf.WriteByte('[')
		for i, k := range changed {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(cur.rows[k])
		}
		buf.WriteByte(']')
	}
	buf.WriteString(`,"removed":`)
	writeKeys(buf, removed)
	if reordered {
		buf.WriteString(`,"order":`)
		writeKeys(buf, cur.keys)
	}
	buf.WriteByte('}')
}

// snapshot returns the board frame of the current version, the whole
// board; nil before the first. It is assembled from the rows kept, once
// per version, and is the JSON of Board with "version" first.
func (f *boardFeed) snapshot() []byte {
	if f.cur == nil {
		return nil
	}
	if f.snap != nil {
		return f.snap
	}
	size := 128
	for _, s := range []*rowSet{&f.cur.queues, &f.cur.agents, &f.cur.staffing, &f.cur.trends} {
		for _, r := range s.rows {
			size += len(r) + 1
		}
		size += 32 * len(s.keys)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteString(`{"type":"` + frameBoard + `","data":{"version":`)
	buf.WriteString(uitoa(f.version))
	buf.WriteString(`,"at":`)
	buf.Write(f.cur.at)
	for _, s := range []struct {
		name string
		rows *rowSet
		obj  bool
	}{{"queues", &f.cur.queues, false}, {"agents", &f.cur.agents, false}, {"staffing", &f.cur.staffing, true}, {"trends", &f.cur.trends, true}} {
		if s.obj && len(s.rows.keys) == 0 {
			continue // omitempty, as Board's
		}
		buf.WriteString(`,"` + s.name + `":`)
		open, end := byte('['), byte(']')
		if s.obj {
			open, end = '{', '}'
		}
		buf.WriteByte(open)
		for i, k := range s.rows.keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			if s.obj {
				writeKey(buf, k)
				buf.WriteByte(':')
			}
			buf.Write(s.rows.rows[k])
		}
		buf.WriteByte(end)
	}
	buf.WriteString(`}}`)
	f.snap = buf.Bytes()
	return f.snap
}

// writeKey writes k as a JSON string, as encoding/json writes a map's
// key.
func writeKey(buf *bytes.Buffer, k string) {
	b, _ := json.Marshal(k) // a string always encodes
	buf.Write(b)
}

// writeKeys writes keys as a JSON array of strings ([] when none).
func writeKeys(buf *bytes.Buffer, keys []string) {
	buf.WriteByte('[')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeKey(buf, k)
	}
	buf.WriteByte(']')
}

func uitoa(v uint64) string { return strconv.FormatUint(v, 10) }
