package agents

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard/switchboard/router"
)

// Options.CheckReply refuses an agent's reply before it is written: the
// agent reads the reason, and nothing is stored. The snapshot tells the
// composer the SMS segment limit.
func TestCheckReplyRefusesBeforeWriting(t *testing.T) {
	var refused atomic.Value // the contact whose replies are refused
	refused.Store("")
	e := newEnvWith(t, func(o *Options) {
		o.SMSMaxSegments = 4
		o.CheckReply = func(_ context.Context, c router.Contact) error {
			if c.ID == refused.Load().(string) {
				return router.Errorf(router.CodeConflict, "", "the customer opted out of SMS: they sent STOP")
			}
			return nil
		}
	})
	e.agent("alice")
	c, snap := e.connect("alice", "s1")
	if snap.SMSMaxSegments != 4 {
		t.Errorf("snapshot's sms_max_segments: got %d, want 4", snap.SMSMaxSegments)
	}
	c.ok(reqSetState, map[string]any{"state": "available"})
	id := mustLive(t, e, "alice")
	refused.Store(id)
	m := c.request(reqSend, map[string]any{"contact_id": id, "body": "Hello?", "client_id": "k1"})
	var ed errorData
	decode(t, m, &ed)
	if m.Type != msgError || ed.Code != codeConflict || !strings.Contains(ed.Message, "opted out of SMS") {
		t.Fatalf("got %s %s, want a conflict naming the opt-out", m.Type, m.Data)
	}
	msgs, err := e.db.Messages(e.ctx, id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range msgs {
		if x.Direction == "out" {
			t.Fatalf("a refused reply was stored: %+v", x)
		}
	}
	refused.Store("")
	c.ok(reqSend, map[string]any{"contact_id": id, "body": "Hello?", "client_id": "k2"})
}
