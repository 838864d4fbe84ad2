package chat

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard/switchboard/router"
)

// TestCustomerLimitOverChat: past the router's customer limit the
// customer gets a limit_reached error frame naming the limit, and nothing
// more is stored.
func TestCustomerLimitOverChat(t *testing.T) {
	e := newEnvRouter(t, router.Options{CustomerMessages: 2}, nil)
	alice(e, 1, router.AgentAvailable)
	c := e.dial(nil)
	d := ada
	d.Message = "first"
	conv := c.start(d)
	tests := []struct {
		name, body string
		wantCode   string // "" for an ack
	}{
		{"second-message", "second", ""},
		{"third-message-over-the-limit", "third", codeLimitReached},
		{"still-over-the-limit", "fourth", codeLimitReached},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, _ := c.sendText(tt.body, fmt.Sprint("c", i))
			if tt.wantCode == "" {
				if ans.Type != typeAck {
					t.Fatalf("got %s %s, want ack", ans.Type, ans.Data)
				}
				return
			}
			var fe struct{ Code, Message string }
			c.decode(ans, &fe)
			if ans.Type != typeError || fe.Code != tt.wantCode || !strings.Contains(fe.Message, "at most 2 messages") {
				t.Fatalf("got %s %s, want error %s naming the limit of 2 messages", ans.Type, ans.Data, tt.wantCode)
			}
		})
	}
	if n := len(e.storedMessages(conv.ConversationID)); n != 2 {
		t.Errorf("stored %d messages, want 2", n)
	}
}

// TestConnectionsPerAddress: one more socket than ConnectionsPerAddress
// from one client (as ClientAddr resolves it; over IPv6 its /64) is
// refused with 429 before the upgrade; another client is not affected.
func TestConnectionsPerAddress(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.ConnectionsPerAddress = 2
		o.ClientAddr = func(r *http.Request) string { return r.Header.Get("X-Client") }
	})
	from := func(addr string) http.Header { return http.Header{"X-Client": {addr}} }
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/chat"
	tests := []struct {
		name, addr string
		want       int
	}{
		{"first-of-a", "a", http.StatusSwitchingProtocols},
		{"second-of-a", "a", http.StatusSwitchingProtocols},
		{"third-of-a", "a", http.StatusTooManyRequests},
		{"first-of-b", "b", http.StatusSwitchingProtocols},
		// An IPv6 client's network counts as one client: it may send
		// from any address of its /64.
		{"first-of-a-64", "2001:db8:1:2::1", http.StatusSwitchingProtocols},
		{"second-of-a-64", "2001:db8:1:2:aaaa::9", http.StatusSwitchingProtocols},
		{"third-of-a-64", "2001:db8:1:2:ffff:ffff:ffff:ffff", http.StatusTooManyRequests},
		{"first-of-another-64", "2001:db8:1:3::1", http.StatusSwitchingProtocols},
	}
	for _, tt := range tests {
		outer := t // the sockets stay open until the last row ran
		t.Run(tt.name, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(url, from(tt.addr))
			if ws != nil {
				outer.Cleanup(func() { ws.Close() })
			}
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("got status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestAcquireRelease(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.ConnectionsPerAddress = 2 })
	c := e.chat
	steps := []struct {
		op   string // "acquire" or "release"
		addr string
		want bool // acquire's answer
	}{
		{"acquire", "a", true},
		{"acquire", "a", true},
		{"acquire", "a", false},
		{"acquire", "b", true},
		{"release", "a", false},
		{"acquire", "a", true},
		{"acquire", "a", false},
		{"release", "a", false},
		{"release", "a", false},
		{"release", "b", false},
	}
	for i, s := range steps {
		if s.op == "release" {
			c.release(s.addr)
			continue
		}
		if got := c.acquire(s.addr); got != s.want {
			t.Fatalf("step %d: acquire(%s) = %v, want %v", i, s.addr, got, s.want)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byAddr) != 0 {
		t.Errorf("after every release: %v, want no address", c.byAddr)
	}
}

// TestLeftMessageStaysQueued: a left message may be added to within the
// window; closing the chat ends the customer's conversation but never
// abandons the contact, which waits for an agent; after the window the
// conversation is over for the customer.
func TestLeftMessageStaysQueued(t *testing.T) {
	const window = 5 * time.Minute
	e := newEnv(t, func(o *Options) { o.LeaveMessageWindow = window })
	d := ada
	d.Message, d.LeaveMessage = "Please refund invoice 42", true
	c := e.dial(nil)
	conv := c.start(d)
	id := conv.ConversationID
	if conv.Mode != "message" || conv.AddUntil == nil || !conv.AddUntil.Equal(epoch.Add(window)) || conv.Token == "" {
		t.Fatalf("started %+v, want a message that takes more until %s, with a token", conv, epoch.Add(window))
	}
	queued := func(stage string) {
		t.Helper()
		if ct, ok := e.router.Snapshot().Contact(id); !ok || ct.State != router.ContactQueued {
			t.Fatalf("%s: contact %+v (live %v), want it queued", stage, ct, ok)
		}
	}
	if ans, _ := c.sendText("It was charged twice.", "m1"); ans.Type != typeAck {
		t.Fatalf("add within the window: got %s %s, want ack", ans.Type, ans.Data)
	}

	// "End chat" on a left message: acked, the conversation is over for
	// the customer, the contact still waits.
	fs := c.until(c.request(typeLeave, nil))
	if last := fs[len(fs)-1]; last.Type != typeAck {
		t.Fatalf("leave: got %s %s, want ack", last.Type, last.Data)
	}
	var closed closedData
	c.decode(c.expect(typeClosed), &closed)
	if closed.State != stateLeft {
		t.Fatalf("closed %+v, want state %s", closed, stateLeft)
	}
	queued("after leave")

	// A reconnection within the window still may add; after it, the
	// conversation is closed for the customer and takes nothing.
	r := e.dial(nil)
	resumed := func() conversationData {
		t.Helper()
		f := r.answer(r.request(typeResume, resumeData{ConversationID: id, Token: conv.Token}))
		if f.Type != typeResumed {
			t.Fatalf("resume: got %s %s", f.Type, f.Data)
		}
		var cd conversationData
		r.decode(f, &cd)
		return cd
	}
	if cd := resumed(); cd.State != "queued" || cd.AddUntil == nil {
		t.Fatalf("resume within the window: %+v, want queued with add_until", cd)
	}
	e.clock.Advance(window)
	ans, before := r.sendText("one more thing", "m2")
	if code := r.errorCode(ans); code != codeConflict {
		t.Fatalf("add after the window: got %s, want %s", code, codeConflict)
	}
	if len(before) == 0 || before[len(before)-1].Type != typeClosed {
		t.Fatalf("add after the window: frames %v before the error, want closed last", before)
	}
	r.decode(before[len(before)-1], &closed)
	if closed.State != stateLeft {
		t.Fatalf("closed %+v, want state %s", closed, stateLeft)
	}
	r = e.dial(nil)
	if cd := resumed(); cd.State != "closed" || cd.Token != "" || cd.AddUntil != nil {
		t.Fatalf("resume after the window: %+v, want closed without a token", cd)
	}
	queued("after the window")
	if n := len(e.storedMessages(id)); n != 2 {
		t.Errorf("stored %d messages, want 2", n)
	}
}

// TestResumePagesHistory: a resumption sends at most the latest
// historyPage messages after last_seq and says where the rest begins;
// history requests read the pages before, down to the first message.
func TestResumePagesHistory(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	conv := e.dial(nil).start(ada)
	id := conv.ConversationID
	ctx := context.Background()
	if _, err := e.router.Accept(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	const total = 2*historyPage + 30
	for i := range total {
		if _, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: "out", Author: "alice", Body: fmt.Sprint("m", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(ms []messageData) (first, last, n int) {
		if len(ms) == 0 {
			return 0, 0, 0
		}
		return ms[0].Seq, ms[len(ms)-1].Seq, len(ms)
	}
	tests := []struct {
		name              string
		lastSeq           int
		wantFirst, wantN  int
		wantHistoryBefore int
	}{
		{"from-nothing", 0, total - historyPage + 1, historyPage, total - historyPage + 1},
		{"from-far-back", 10, total - historyPage + 1, historyPage, total - historyPage + 1},
		{"from-near-the-end", total - 5, total - 4, 5, 0},
		{"up-to-date", total, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial(nil)
			fs := c.until(c.request(typeResume, resumeData{ConversationID: id, Token: conv.Token, LastSeq: tt.lastSeq}))
			var cd conversationData
			c.decode(fs[len(fs)-1], &cd)
			if cd.HistoryBefore != tt.wantHistoryBefore {
				t.Errorf("history_before: got %d, want %d", cd.HistoryBefore, tt.wantHistoryBefore)
			}
			// The messages follow the answer; one more request marks
			// their end.
			var ms []messageData
			if tt.wantN > 0 {
				for len(ms) < tt.wantN {
					ms = append(ms, messagesOf(t, []frame{c.expect(typeMessage)})...)
				}
			}
			more := c.until(c.request(typeRead, readData{UpToSeq: 0}))
			ms = append(ms, messagesOf(t, more)...)
			if first, _, n := seqs(ms); first != tt.wantFirst || n != tt.wantN {
				t.Errorf("sent %d messages from %d, want %d from %d", n, first, tt.wantN, tt.wantFirst)
			}
		})
	}

	t.Run("history-pages-down-to-the-first", func(t *testing.T) {
		c := e.dial(nil)
		cd := conversationData{}
		c.decode(c.answer(c.request(typeResume, resumeData{ConversationID: id, Token: conv.Token, LastSeq: total})), &cd)
		before := total + 1
		var got [][3]int
		for range 4 {
			f := c.answer(c.request(typeHistory, historyRequest{BeforeSeq: before}))
			var h historyData
			c.decode(f, &h)
			first, last, n := seqs(h.Messages)
			got = append(got, [3]int{first, last, n})
			if h.HistoryBefore == 0 {
				break
			}
			before = h.HistoryBefore
		}
		want := [][3]int{{total - historyPage + 1, total, historyPage}, {31, 30 + historyPage, historyPage}, {1, 30, 30}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages (first, last, count): got %v, want %v", got, want)
		}
	})
	t.Run("history-before-zero-is-invalid", func(t *testing.T) {
		c := e.dial(nil)
		c.answer(c.request(typeResume, resumeData{ConversationID: id, Token: conv.Token, LastSeq: total}))
		if code := c.errorCode(c.answer(c.request(typeHistory, historyRequest{}))); code != codeInvalid {
			t.Errorf("got %s, want %s", code, codeInvalid)
		}
	})
}
