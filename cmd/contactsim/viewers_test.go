package main

import (
	"slices"
	"testing"
	"time"
)

// The board's frames as docs/protocol.md shows them: the time from the
// head, the agents' rows from a snapshot and from a delta.
func TestBoardFrames(t *testing.T) {
	snapshot := []byte(`{"type":"board","data":{"version":41,"at":"2026-03-02T09:00:00.25Z","queues":[],` +
		`"agents":[{"id":"alice","ringing":"c1","contacts":["c0"]},{"id":"bob","contacts":[]}]}}`)
	delta := []byte(`{"type":"board_delta","data":{"from":41,"to":42,"at":"2026-03-02T09:00:01Z",` +
		`"agents":{"changed":[{"id":"bob","ringing":"","contacts":["c2"]}],"removed":[]}}}`)
	if at, ok := frameAt(snapshot); !ok || !at.Equal(time.Date(2026, 3, 2, 9, 0, 0, 250e6, time.UTC)) {
		t.Errorf("snapshot's time: %v %v", at, ok)
	}
	if at, ok := frameAt(delta); !ok || !at.Equal(time.Date(2026, 3, 2, 9, 0, 1, 0, time.UTC)) {
		t.Errorf("delta's time: %v %v", at, ok)
	}
	if _, ok := frameAt([]byte(`{"type":"conversation","data":{}}`)); ok {
		t.Error("a frame without a time has one")
	}
	rows, err := boardRows(snapshot)
	if err != nil || len(rows) != 2 || !slices.Equal(rows[0].held(), []string{"c1", "c0"}) || !rows[0].holds("c0") || rows[1].holds("c1") {
		t.Errorf("snapshot's rows: %+v %v", rows, err)
	}
	rows, err = boardRows(delta)
	if err != nil || len(rows) != 1 || rows[0].ID != "bob" || !slices.Equal(rows[0].held(), []string{"c2"}) {
		t.Errorf("delta's rows: %+v %v", rows, err)
	}
	if _, err := boardRows([]byte(`{"type":"board","data":{"agents":{}}}`)); err == nil {
		t.Error("a board whose agents are not an array was read")
	}
}
