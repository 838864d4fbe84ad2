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
// A tick encodes each row of the board once (encodeBoard) and compares
// its bytes with the previous tick's (boardFeed.next): the work grows
// with the rows, the bytes sent with what changed.

// frameBoardDelta is the frame of the changes from one version of the
// board to the next.
const frameBoardDelta = "board_delta"

// rowSet is one section of a board, row by row: each row's JSON by its
// key (a queue's name, an agent's id), the keys in the board's order.
// Never changed once built.
type rowSet struct {
	keys []string
	rows map[string][]byte
}

func (s *rowSet) add(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.keys = append(s.keys, key)
	s.rows[key] = b
	return nil
}

// boardRows is a board encoded section by section, row by row: what a
// tick keeps to tell the next what changed. Never changed once built.
type boardRows struct {
	at       []byte
	queues   rowSet // by name, in the board's order
	agents   rowSet // by id, in the board's order
	staffing rowSet // by queue name, sorted
	trends   rowSet // by queue name, sorted
}

// encodeBoard encodes each row of b once.
func encodeBoard(b *Board) (*boardRows, error) {
	at, err := json.Marshal(b.At)
	if err != nil {
		return nil, err
	}
	r := &boardRows{at: at,
		queues: rowSet{rows: make(map[string][]byte, len(b.Queues))}, agents: rowSet{rows: make(map[string][]byte, len(b.Agents))},
		staffing: rowSet{rows: make(map[string][]byte, len(b.Staffing))}, trends: rowSet{rows: make(map[string][]byte, len(b.Trends))}}
	for i := range b.Queues {
		if err := r.queues.add(b.Queues[i].Name, &b.Queues[i]); err != nil {
			return nil, err
		}
	}
	for i := range b.Agents {
		if err := r.agents.add(b.Agents[i].ID, &b.Agents[i]); err != nil {
			return nil, err
		}
	}
	for _, q := range slices.Sorted(maps.Keys(b.Staffing)) {
		if err := r.staffing.add(q, b.Staffing[q]); err != nil {
			return nil, err
		}
	}
	for _, q := range slices.Sorted(maps.Keys(b.Trends)) {
		if err := r.trends.add(q, b.Trends[q]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// boardFeed is the chain of the board's versions: it keeps the board
// last built, encoded, and its version, and turns each new board into
// the delta from it. Not safe for concurrent use: Live's loop alone
// uses it.
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

// next takes a tick's board. It reports whether the board changed, and
// if so returns the delta frame from the previous version to the new
// one (nil for the first board: there is nothing to apply it to). A
// board whose rows are all the same bytes is no change, whatever its
// time (at): the version stays, and its snapshot takes the new time.
func (f *boardFeed) next(b *Board) (delta []byte, changed bool, err error) {
	rows, err := encodeBoard(b)
	if err != nil {
		return nil, false, err
	}
	if f.cur == nil {
		f.cur, f.snap, f.version = rows, nil, f.version+1
		return nil, true, nil
	}
	var buf bytes.Buffer
	buf.WriteString(`{"type":"` + frameBoardDelta + `","data":{"from":`)
	buf.WriteString(uitoa(f.version))
	buf.WriteString(`,"to":`)
	buf.WriteString(uitoa(f.version + 1))
	buf.WriteString(`,"at":`)
	buf.Write(rows.at)
	n := buf.Len()
	diffRows(&buf, "queues", &f.cur.queues, &rows.queues, false)
	diffRows(&buf, "agents", &f.cur.agents, &rows.agents, false)
	diffRows(&buf, "staffing", &f.cur.staffing, &rows.staffing, true)
	diffRows(&buf, "trends", &f.cur.trends, &rows.trends, true)
	if buf.Len() == n {
		// The same rows: the version stays. Its time moves on, for the
		// snapshots sent from now on (times in state count from it).
		cur := *f.cur
		cur.at = rows.at
		f.cur, f.snap = &cur, nil
		return nil, false, nil
	}
	buf.WriteString(`}}`)
	f.cur, f.snap, f.version = rows, nil, f.version+1
	return buf.Bytes(), true, nil
}

// diffRows writes the section name of a delta from prev to next, if
// anything in it changed: the rows changed or added ("changed": an
// array, or an object by key when byKey), the keys removed, and the
// keys in order when the order or the membership changed (for arrays:
// an object's keys have no order).
func diffRows(buf *bytes.Buffer, name string, prev, next *rowSet, byKey bool) {
	var changed, removed []string
	for _, k := range next.keys {
		if old, ok := prev.rows[k]; !ok || !bytes.Equal(old, next.rows[k]) {
			changed = append(changed, k)
		}
	}
	for _, k := range prev.keys {
		if _, ok := next.rows[k]; !ok {
			removed = append(removed, k)
		}
	}
	reordered := !byKey && !slices.Equal(prev.keys, next.keys)
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
			buf.Write(next.rows[k])
		}
		buf.WriteByte('}')
	} else {
		buf.WriteByte('[')
		for i, k := range changed {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(next.rows[k])
		}
		buf.WriteByte(']')
	}
	buf.WriteString(`,"removed":`)
	writeKeys(buf, removed)
	if reordered {
		buf.WriteString(`,"order":`)
		writeKeys(buf, next.keys)
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
