package agents

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard/switchboard/attachments"
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

// An email reply carries the agent's files (uploaded before, within the
// limits the snapshot tells) and the Cc the agent kept, which
// Options.Recipients settles; anything else is refused, naming the
// field, and nothing is stored.
func TestSendFilesAndCc(t *testing.T) {
	files, err := attachments.Open(filepath.Join(t.TempDir(), "attachments"), &attachments.Options{MaxFileBytes: 6})
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Value // the cc Recipients was last asked about, in brackets
	asked.Store("")
	e := newEnvWith(t, func(o *Options) {
		o.Files, o.MaxMessageFileBytes = files, 10
		o.Recipients = func(_ context.Context, c router.Contact, cc []string) ([]string, []string, error) {
			asked.Store("[" + strings.Join(cc, ",") + "]")
			if slices.Contains(cc, "mallory@other.example") {
				return nil, nil, router.Errorf(router.CodeInvalid, "cc[0]", "cc[0]: mallory@other.example is not in the conversation's Cc")
			}
			return []string{"ada@customer.example"}, cc, nil
		}
	})
	e.agent("alice")
	c, snap := e.connect("alice", "s1")
	if snap.Attachments == nil || snap.Attachments.MaxFileBytes != 6 || snap.Attachments.MaxMessageBytes != 10 {
		t.Errorf("snapshot's attachments: got %+v, want the limits 6 and 10", snap.Attachments)
	}
	c.ok(reqSetState, map[string]any{"state": "available"})
	mail := e.submit(router.NewContact{Channel: router.ChannelEmail})
	if _, err := e.rt.Accept(e.ctx, mail.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	chat := mustLive(t, e, "alice")
	a, _, _ := files.Put(strings.NewReader("12345"))
	b, _, _ := files.Put(strings.NewReader("1234"))
	d, _, _ := files.Put(strings.NewReader("123456"))

	ack := c.ok(reqSend, map[string]any{"contact_id": mail.ID, "body": "Attached.", "client_id": "k1",
		"attachments": []map[string]string{{"sha256": a, "name": "a.pdf", "type": "application/pdf"}, {"sha256": b, "name": "b.bin"}},
		"cc":          []string{"bob@customer.example"}})
	var got struct{ Message router.Message }
	decode(t, ack, &got)
	m := got.Message
	if len(m.Attachments) != 2 || m.Attachments[0] != (router.Attachment{Name: "a.pdf", Type: "application/pdf", Size: 5, SHA256: a}) ||
		m.Attachments[1] != (router.Attachment{Name: "b.bin", Type: "application/octet-stream", Size: 4, SHA256: b}) {
		t.Errorf("attachments: got %+v, want both files with their sizes", m.Attachments)
	}
	if strings.Join(m.To, ",") != "ada@customer.example" || strings.Join(m.Cc, ",") != "bob@customer.example" {
		t.Errorf("recipients: got to %v cc %v, want those Recipients settled", m.To, m.Cc)
	}
	// Without cc, the reply keeps the conversation's: Recipients is not
	// asked and the message names no recipients.
	asked.Store("")
	ack = c.ok(reqSend, map[string]any{"contact_id": mail.ID, "body": "No choice.", "client_id": "k2"})
	got.Message = router.Message{}
	decode(t, ack, &got)
	if asked.Load() != "" || got.Message.To != nil || got.Message.Cc != nil {
		t.Errorf("a reply without cc: Recipients asked %q, message to %v cc %v", asked.Load(), got.Message.To, got.Message.Cc)
	}
	// An empty cc takes every Cc off.
	ack = c.ok(reqSend, map[string]any{"contact_id": mail.ID, "body": "To Ada alone.", "client_id": "k3", "cc": []string{}})
	got.Message = router.Message{}
	decode(t, ack, &got)
	if asked.Load() != "[]" || strings.Join(got.Message.To, ",") != "ada@customer.example" || got.Message.Cc != nil {
		t.Errorf("an empty cc: Recipients asked about %q, message to %v cc %v; want asked about none, to Ada, no Cc", asked.Load(), got.Message.To, got.Message.Cc)
	}

	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"file-never-uploaded", map[string]any{"contact_id": mail.ID, "body": "x", "attachments": []map[string]string{
			{"sha256": a, "name": "a"}, {"sha256": strings.Repeat("0", 64), "name": "gone"}}}, "attachments[1].sha256: no file"},
		{"files-over-the-limit", map[string]any{"contact_id": mail.ID, "body": "x", "attachments": []map[string]string{
			{"sha256": a, "name": "a"}, {"sha256": d, "name": "d"}}}, "at most 10 bytes together"},
		{"file-without-name", map[string]any{"contact_id": mail.ID, "body": "x", "attachments": []map[string]string{{"sha256": a}}}, "attachments[0].name is missing"},
		{"cc-not-in-the-conversation", map[string]any{"contact_id": mail.ID, "body": "x", "cc": []string{"mallory@other.example"}}, "cc[0]: mallory@other.example is not in the conversation's Cc"},
		{"cc-empty-entry", map[string]any{"contact_id": mail.ID, "body": "x", "cc": []string{""}}, "cc[0] is missing"},
		{"note-with-files", map[string]any{"contact_id": mail.ID, "body": "x", "note": true, "attachments": []map[string]string{{"sha256": a, "name": "a"}}}, "a note carries text only"},
		{"files-on-chat", map[string]any{"contact_id": chat, "body": "x", "attachments": []map[string]string{{"sha256": a, "name": "a"}}}, "only a reply by email carries files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := c.request(reqSend, tc.data)
			var ed errorData
			decode(t, m, &ed)
			if m.Type != msgError || ed.Code != codeInvalid || !strings.Contains(ed.Message, tc.want) {
				t.Errorf("got %s %s, want invalid saying %q", m.Type, m.Data, tc.want)
			}
		})
	}
	for _, id := range []string{mail.ID, chat} {
		msgs, err := e.db.Messages(e.ctx, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range msgs {
			if x.Body == "x" {
				t.Errorf("a refused reply was stored: %+v", x)
			}
		}
	}
}
