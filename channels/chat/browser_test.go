package chat

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/router"
)

// browserBound bounds the whole browser test; it only turns a hang into
// a failure.
const browserBound = 60 * time.Second

// chromium returns the browser's path, or skips the test when there is
// none outside CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium in CI")
	}
	t.Skip("no chromium installed")
	return ""
}

func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(420, 720),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, browserBound)
	return ctx, func() { cancelT(); cancelC(); cancelA() }
}

// screenshot saves the page to $CHAT_SCREENSHOTS/name.png when set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("CHAT_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserConversation(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	ctx, cancel := browser(t)
	defer cancel()

	dialogs := make(chan string, 1)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("browser: %v", err)
	}
	chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- d.Message:
			default:
			}
		}
	})

	const attack = `<img src=x onerror=alert(1)>`
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/chat/"),
		chromedp.WaitVisible(chromedp.CSS(`#prechat`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), "ada@example.com"),
		chromedp.SetValue(chromedp.CSS(`#f-topic`), "billing"),
		chromedp.Click(chromedp.CSS(`#f-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#conversation`)),
		chromedp.SendKeys(chromedp.CSS(`#input`), "Hello, I was charged twice "+attack),
		chromedp.Click(chromedp.CSS(`#send`)),
		// "Delivered" comes with the ack, after the commit.
		chromedp.WaitVisible(chromedp.CSS(`li.msg.in .mark`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`document.querySelector('li.msg.in .mark').textContent === 'Delivered'`)(ctx, tg)
			return err
		}),
	)
	if err != nil {
		t.Fatalf("customer writes: %v", err)
	}
	waiting := e.router.Snapshot().Contacts()
	if len(waiting) != 1 {
		t.Fatalf("%d contacts, want 1", len(waiting))
	}
	id := waiting[0].ID
	actx := context.Background()
	if _, err := e.router.Accept(actx, id, "alice"); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	// The agent types: the customer sees it, until the message comes.
	e.chat.AgentTyping(id)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#typing`))); err != nil {
		t.Fatalf("agent typing: %v", err)
	}
	reply := "Hi Ada, I see it: " + attack + " details at https://example.com/refunds?x=1."
	if _, _, err := e.router.AddMessage(actx, id, router.Message{Direction: "out", Author: "alice", Body: reply}); err != nil {
		t.Fatalf("AddMessage: %v", err)
	}
	// Read at once when the message shows: the note's own timer (5 s)
	// cannot have hidden it yet.
	var typingHidden bool
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`li.msg.out`)),
		into(&typingHidden, chromedp.Evaluate[bool](`document.getElementById('typing').hidden`)),
	); err != nil {
		t.Fatalf("agent message: %v", err)
	}
	if !typingHidden {
		t.Error(`"The agent is typing…" still shown after the agent's message arrived`)
	}

	check := func(stage string) {
		t.Helper()
		var (
			texts             []string
			imgs              int
			status, href, rel string
		)
		err := chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.CSS(`li.msg.out`)),
			into(&texts, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#messages li .body')].map(b => b.textContent)`)),
			into(&imgs, chromedp.Evaluate[int](`document.querySelectorAll('#messages img, #messages script').length`)),
			into(&href, chromedp.Evaluate[string](`document.querySelector('li.msg.out a').href`)),
			into(&rel, chromedp.Evaluate[string](`document.querySelector('li.msg.out a').rel`)),
			into(&status, chromedp.Text(chromedp.CSS(`#status`))),
		)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		want := []string{"Hello, I was charged twice " + attack, reply}
		if fmt.Sprint(texts) != fmt.Sprint(want) {
			t.Fatalf("%s: messages %q, want %q", stage, texts, want)
		}
		if imgs != 0 {
			t.Fatalf("%s: %d img or script elements in the conversation, want 0", stage, imgs)
		}
		if href != "https://example.com/refunds?x=1" || rel != "noopener noreferrer" {
			t.Fatalf("%s: link %q rel %q", stage, href, rel)
		}
		if status != "You are chatting with Alice Martin" {
			t.Fatalf("%s: status %q", stage, status)
		}
	}
	check("reply")
	screenshot(t, ctx, "chat-reply")

	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/chat/")); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#conversation`))); err != nil {
		t.Fatalf("reload: %v", err)
	}
	check("after reload")
	screenshot(t, ctx, "chat-reloaded")
	select {
	case m := <-dialogs:
		t.Fatalf("a dialog opened: %q (markup ran)", m)
	default:
	}
	if n := len(e.storedMessages(id)); n != 2 {
		t.Fatalf("stored %d messages, want 2", n)
	}
}

func TestBrowserWidget(t *testing.T) {
	// The firm's site, on its own origin, with one script tag.
	var routerd string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Shop</title></head><body><h1>Our shop</h1>`+
			`<script src="%s/chat/widget.js" defer></script></body></html>`, routerd)
	}))
	defer site.Close()
	e := newEnv(t, func(o *Options) { o.AllowedOrigins = []string{site.URL} })
	routerd = strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1) // another site than the shop
	alice(e, 1, router.AgentAvailable)
	ctx, cancel := browser(t)
	defer cancel()

	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("browser: %v", err)
	}
	var frames int
	err := chromedp.Do(ctx,
		chromedp.Navigate(site.URL),
		chromedp.WaitVisible(chromedp.CSS(`#switchboard-chat-launcher`)),
		chromedp.Click(chromedp.CSS(`#switchboard-chat-launcher`)),
		chromedp.WaitVisible(chromedp.CSS(`#switchboard-chat-panel iframe`)),
		into(&frames, chromedp.Evaluate[int](`document.querySelectorAll('iframe').length`)),
	)
	if err != nil {
		t.Fatalf("widget: %v", err)
	}
	if frames != 1 {
		t.Fatalf("%d iframes, want 1", frames)
	}
	// The framed page (routerd's origin) reaches the pre-chat form over
	// its socket.
	// Once the parent saw the frame load, its target exists.
	loaded := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`performance.getEntriesByType('resource').some(e => e.initiatorType === 'iframe')`)(ctx, tg)
		return err
	})
	if err := chromedp.Do(ctx, loaded); err != nil {
		t.Fatalf("frame load: %v", err)
	}
	infos, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var id target.ID
	for _, i := range infos {
		if i.Type == "iframe" && strings.HasPrefix(i.URL, routerd+"/chat/") {
			id = i.TargetID
		}
	}
	if id == "" {
		t.Fatalf("no chat frame among %d targets", len(infos))
	}
	fctx, fcancel := chromedp.NewContext(ctx, chromedp.WithTargetID(id))
	defer fcancel()
	var label string
	err = chromedp.Do(fctx,
		chromedp.WaitVisible(chromedp.CSS(`#prechat`)),
		into(&label, chromedp.TextContent(chromedp.CSS(`#f-topic option`))),
	)
	if err != nil {
		t.Fatalf("framed chat: %v", err)
	}
	if label != "Billing" {
		t.Fatalf("first topic %q, want Billing (online)", label)
	}
	screenshot(t, ctx, "widget")

	// On a site that may not frame the chat, the widget shows nothing.
	other := httptest.NewServer(site.Config.Handler)
	defer other.Close()
	var launchers int
	var state string
	err = chromedp.Do(ctx,
		chromedp.Navigate(other.URL),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`document.querySelector('script[data-state]') !== null`)(ctx, tg)
			return err
		}),
		into(&state, chromedp.Evaluate[string](`document.querySelector('script[data-state]').dataset.state`)),
		into(&launchers, chromedp.Evaluate[int](`document.querySelectorAll('#switchboard-chat-launcher, iframe').length`)),
	)
	if err != nil {
		t.Fatalf("widget on another site: %v", err)
	}
	if state != "refused" || launchers != 0 {
		t.Errorf("widget on a site not allowed: state %q, %d launchers or frames; want refused, none", state, launchers)
	}
}

// into runs a; its value goes to *dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		v, err := a(ctx, tg)
		*dst = v
		return err
	})
}

// TestBrowserForgetsEndedConversation: when a conversation ends, the page
// forgets its token (and unsent messages), so that the next person at a
// shared browser gets the pre-chat form, not the conversation; a left
// message closed by the customer stays queued for an agent.
func TestBrowserForgetsEndedConversation(t *testing.T) {
	tests := []struct {
		name string
		// staffed: alice is available, so the chat is live.
		staffed bool
		// end ends the conversation: from the router, or nil to click
		// the page's end button.
		end func(e *env, id string) error
		// wantText is the page's ending text.
		wantText string
		// wantState is the contact's state after the end.
		wantState router.ContactState
	}{
		{
			name:    "agent-closes-a-live-chat",
			staffed: true,
			end: func(e *env, id string) error {
				ctx := context.Background()
				if _, err := e.router.Accept(ctx, id, "alice"); err != nil {
					return err
				}
				_, err := e.router.CloseContact(ctx, id, "alice", "", "")
				return err
			},
			wantText:  "The conversation has ended.",
			wantState: router.ContactClosed,
		},
		{
			name:      "customer-ends-a-live-chat",
			staffed:   true,
			wantText:  "You left the conversation.",
			wantState: router.ContactAbandoned,
		},
		{
			name:      "customer-closes-a-left-message",
			wantText:  "Your message is with us: we will answer by email or phone. You can close this window.",
			wantState: router.ContactQueued,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.staffed {
				alice(e, 1, router.AgentAvailable)
			}
			ctx, cancel := browser(t)
			defer cancel()
			poll := func(expr string) chromedp.Action[chromedp.Void] {
				return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := chromedp.Poll[bool](expr)(ctx, tg)
					return err
				})
			}
			const saved = `localStorage.getItem('switchboard.chat.v1') !== null`
			err := chromedp.Do(ctx,
				chromedp.Navigate(e.srv.URL+"/chat/"),
				chromedp.WaitVisible(chromedp.CSS(`#prechat`)),
				chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ada Lovelace"),
				chromedp.SendKeys(chromedp.CSS(`#f-email`), "ada@example.com"),
				chromedp.SetValue(chromedp.CSS(`#f-topic`), "billing"),
				chromedp.SendKeys(chromedp.CSS(`#f-message`), "Please refund invoice 42"),
				chromedp.Click(chromedp.CSS(`#f-submit`)),
				chromedp.WaitVisible(chromedp.CSS(`#conversation`)),
				poll(saved),
			)
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			cs := e.router.Snapshot().Contacts()
			if len(cs) != 1 {
				t.Fatalf("%d contacts, want 1", len(cs))
			}
			id := cs[0].ID
			if tt.end != nil {
				if err := tt.end(e, id); err != nil {
					t.Fatalf("end: %v", err)
				}
			} else if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#end`))); err != nil {
				t.Fatalf("click end: %v", err)
			}
			var text string
			err = chromedp.Do(ctx,
				chromedp.WaitVisible(chromedp.CSS(`#ended`)),
				poll(`!(`+saved+`) && localStorage.getItem('switchboard.chat.outbox.v1') === null`),
				into(&text, chromedp.Text(chromedp.CSS(`#ended-text`))),
			)
			if err != nil {
				t.Fatalf("ended: %v", err)
			}
			if text != tt.wantText {
				t.Errorf("ending text %q, want %q", text, tt.wantText)
			}
			screenshot(t, ctx, "chat-ended-"+tt.name)

			// The next person at this browser gets the form.
			var shown int
			err = chromedp.Do(ctx,
				chromedp.Navigate(e.srv.URL+"/chat/"),
				chromedp.WaitVisible(chromedp.CSS(`#prechat`)),
				into(&shown, chromedp.Evaluate[int](`document.querySelectorAll('#messages li').length`)),
			)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if shown != 0 {
				t.Errorf("after a reload %d messages shown, want 0", shown)
			}
			ct, ok := e.router.Snapshot().Contact(id)
			if !ok {
				if ct, err = e.db.Contact(context.Background(), id); err != nil {
					t.Fatal(err)
				}
			}
			if ct.State != tt.wantState {
				t.Errorf("contact %s, want %s", ct.State, tt.wantState)
			}
		})
	}
}

// TestBrowserStartsAgain: a customer who ended a chat and clicks "Start
// a new conversation" starts one on the same page (on a new socket: a
// socket carries one conversation).
func TestBrowserStartsAgain(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 2, router.AgentAvailable)
	ctx, cancel := browser(t)
	defer cancel()
	err := chromedp.Do(ctx,
		startBilling(e, "Ada Lovelace"),
		chromedp.Click(chromedp.CSS(`#end`)),
		chromedp.WaitVisible(chromedp.CSS(`#again`)),
		chromedp.Click(chromedp.CSS(`#again`)),
		chromedp.WaitVisible(chromedp.CSS(`#prechat`)),
		chromedp.SetValue(chromedp.CSS(`#f-name`), "Ada Lovelace"),
		chromedp.SetValue(chromedp.CSS(`#f-topic`), "billing"),
		chromedp.SendKeys(chromedp.CSS(`#f-message`), "One more question"),
		chromedp.WaitEnabled(chromedp.CSS(`#f-submit`)),
		chromedp.Click(chromedp.CSS(`#f-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#conversation`)),
	)
	if err != nil {
		t.Fatalf("start, end, start again: %v", err)
	}
	var formErr string
	if err := chromedp.Do(ctx, into(&formErr, chromedp.Text(chromedp.CSS(`#form-error`)))); err != nil {
		t.Fatal(err)
	}
	if formErr != "" {
		t.Errorf("the form says %q", formErr)
	}
	live := 0
	for _, c := range e.router.Snapshot().Contacts() {
		if !c.State.Final() {
			live++
		}
	}
	if live != 1 {
		t.Errorf("%d live contacts, want the second conversation", live)
	}
}

// TestBrowserPagesLongHistory: a reload of a long conversation shows the
// latest messages and "Show earlier messages" reads the rest, in order.
func TestBrowserPagesLongHistory(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	ctx, cancel := browser(t)
	defer cancel()
	if err := chromedp.Do(ctx, startBilling(e, "Ada Lovelace")); err != nil {
		t.Fatalf("start: %v", err)
	}
	id := e.router.Snapshot().Contacts()[0].ID
	actx := context.Background()
	if _, err := e.router.Accept(actx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	const total = 2*historyPage + 5
	for i := range total {
		if _, _, err := e.router.AddMessage(actx, id, router.Message{Direction: "out", Author: "alice", Body: fmt.Sprint("m", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](expr)(ctx, tg)
			return err
		})
	}
	var first, afterAll []string
	const bodies = `[...document.querySelectorAll('#messages li .body')].map(b => b.textContent)`
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/chat/"),
		chromedp.WaitVisible(chromedp.CSS(`#earlier`)),
		poll(fmt.Sprintf(`document.querySelectorAll('#messages li').length === %d`, historyPage)),
		into(&first, chromedp.Evaluate[[]string](bodies)),
		chromedp.Click(chromedp.CSS(`#earlier`)),
		poll(fmt.Sprintf(`document.querySelectorAll('#messages li').length === %d && !document.querySelector('#earlier').disabled`, 2*historyPage)),
		chromedp.Click(chromedp.CSS(`#earlier`)),
		poll(fmt.Sprintf(`document.querySelectorAll('#messages li').length === %d && document.querySelector('#earlier').hidden`, total)),
		into(&afterAll, chromedp.Evaluate[[]string](bodies)),
	)
	if err != nil {
		t.Fatalf("reload and page: %v", err)
	}
	if first[0] != fmt.Sprint("m", total-historyPage+1) || first[len(first)-1] != fmt.Sprint("m", total) {
		t.Errorf("after the reload: %s … %s, want m%d … m%d", first[0], first[len(first)-1], total-historyPage+1, total)
	}
	for i, b := range afterAll {
		if want := fmt.Sprint("m", i+1); b != want {
			t.Fatalf("message %d: %q, want %q (in order)", i, b, want)
		}
	}
}

// TestBrowserHidesConversationEndedWhileAway: a conversation that ended
// while no page was open is not shown when the page opens again: the
// next person at the browser gets the form, and the token is forgotten.
func TestBrowserHidesConversationEndedWhileAway(t *testing.T) {
	e := newEnv(t, nil)
	alice(e, 1, router.AgentAvailable)
	ctx, cancel := browser(t)
	defer cancel()
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/chat/"),
		chromedp.WaitVisible(chromedp.CSS(`#prechat`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ada Lovelace"),
		chromedp.SetValue(chromedp.CSS(`#f-topic`), "billing"),
		chromedp.SendKeys(chromedp.CSS(`#f-message`), "My account number is 12345"),
		chromedp.Click(chromedp.CSS(`#f-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`li.msg.in`)),
		chromedp.Navigate("about:blank"),
	)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	id := e.router.Snapshot().Contacts()[0].ID
	actx := context.Background()
	if _, err := e.router.Accept(actx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.router.CloseContact(actx, id, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	var note string
	var shown int
	err = chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/chat/"),
		chromedp.WaitVisible(chromedp.CSS(`#form-error`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](`localStorage.getItem('switchboard.chat.v1') === null`)(ctx, tg)
			return err
		}),
		into(&note, chromedp.Text(chromedp.CSS(`#form-error`))),
		into(&shown, chromedp.Evaluate[int](`document.querySelectorAll('#messages li').length`)),
	)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if note != "Your previous conversation has ended. You can start a new one." {
		t.Errorf("note %q", note)
	}
	if shown != 0 {
		t.Errorf("%d messages in the page, want 0", shown)
	}
	// The form starts a new conversation: the socket that found the old
	// one ended carries it, so the page takes a new socket.
	err = chromedp.Do(ctx,
		chromedp.WaitEnabled(chromedp.CSS(`#f-submit`)),
		chromedp.SendKeys(chromedp.CSS(`#f-name`), "Ada Lovelace"),
		chromedp.SetValue(chromedp.CSS(`#f-topic`), "billing"),
		chromedp.SendKeys(chromedp.CSS(`#f-message`), "Another question"),
		chromedp.Click(chromedp.CSS(`#f-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`li.msg.in`)),
	)
	if err != nil {
		t.Fatalf("start again: %v", err)
	}
	if cs := e.router.Snapshot().Contacts(); len(cs) != 1 || cs[0].ID == id {
		t.Errorf("live contacts after starting again: %+v, want a new one", cs)
	}
}

// TestBrowserSurvey: at the end of an answered conversation the page
// asks the survey's question; the customer picks a score, adds a word
// and sends it; the page thanks them and the store keeps it.
func TestBrowserSurvey(t *testing.T) {
	e := surveyEnv(t)
	alice(e, 1, router.AgentAvailable)
	ctx, cancel := browser(t)
	defer cancel()
	err := chromedp.Do(ctx,
		startBilling(e, "Ada Lovelace"),
		chromedp.SendKeys(chromedp.CSS(`#input`), "Can I pay yearly?"),
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`li.msg.in .mark`)),
	)
	if err != nil {
		t.Fatalf("customer writes: %v", err)
	}
	id := e.router.Snapshot().Contacts()[0].ID
	actx := context.Background()
	if _, err := e.router.Accept(actx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.router.AddMessage(actx, id, router.Message{Direction: "out", Author: "alice", Body: "Yes: it is on your account now."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.router.WrapUp(actx, id, "alice", "solved", ""); err != nil {
		t.Fatal(err)
	}
	var question string
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#survey`)),
		into(&question, chromedp.Text(chromedp.CSS(`#survey-question`))),
		chromedp.Click(chromedp.CSS(`label[for="survey-4"]`)),
		chromedp.SendKeys(chromedp.CSS(`#survey-comment`), "Quick, thank you"),
		chromedp.Click(chromedp.CSS(`#survey-send`)),
		chromedp.WaitVisible(chromedp.CSS(`#survey-thanks`)),
	)
	if err != nil {
		t.Fatalf("survey: %v", err)
	}
	screenshot(t, ctx, "chat-survey")
	if question != "Did we help?" {
		t.Errorf("question %q", question)
	}
	got, err := e.db.CSATs(actx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if r := got[id]; r.Score != 4 || r.Comment != "Quick, thank you" {
		t.Errorf("stored %+v, want 4 with the comment", r)
	}
}

// startBilling opens the chat page and starts a billing conversation as
// name, up to the conversation's view.
func startBilling(e *env, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		return chromedp.Do(ctx,
			chromedp.Navigate(e.srv.URL+"/chat/"),
			chromedp.WaitVisible(chromedp.CSS(`#prechat`)),
			chromedp.SendKeys(chromedp.CSS(`#f-name`), name),
			chromedp.SetValue(chromedp.CSS(`#f-topic`), "billing"),
			chromedp.Click(chromedp.CSS(`#f-submit`)),
			chromedp.WaitVisible(chromedp.CSS(`#conversation`)),
		)
	})
}
