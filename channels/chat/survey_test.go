package chat

import (
	"context"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
)

// surveyEnv asks the customers of billing, with "charged twice" a
// complaint.
func surveyEnv(t *testing.T) *env {
	return newEnv(t, func(o *Options) {
		o.CSAT = csat.Policy{Queues: []string{"billing"}, Question: "Did we help?",
			Rules: offers.Rules{ComplaintKeywords: []string{"charged twice"}}}
	})
}

// TestSurvey: a customer whose conversation an agent answered and
// wrapped up is asked, once, and answers once; a bad score is refused;
// the store keeps the answer.
func TestSurvey(t *testing.T) {
	e := surveyEnv(t)
	alice(e, 2, router.AgentAvailable)
	ctx := context.Background()
	cl := e.dial(nil)
	id := cl.start(startData{Name: "Ada", Topic: "billing", Message: "I want to change my plan"}).ConversationID
	if _, err := e.router.Accept(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: "out", Author: "alice", Body: "Done: you are on the annual plan."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.router.WrapUp(ctx, id, "alice", "solved", ""); err != nil {
		t.Fatal(err)
	}
	var s surveyData
	cl.decode(cl.expect(typeSurvey), &s)
	if s.Question != "Did we help?" || s.Min != 1 || s.Max != 5 {
		t.Errorf("survey %+v", s)
	}
	if code := cl.errorCode(cl.answer(cl.request(typeCSAT, csatData{Score: 9}))); code != codeInvalid {
		t.Errorf("score 9: %s, want invalid", code)
	}
	if f := cl.answer(cl.request(typeCSAT, csatData{Score: 4, Comment: "  quick and kind "})); f.Type != typeAck {
		t.Fatalf("answer: %s %s", f.Type, f.Data)
	}
	if code := cl.errorCode(cl.answer(cl.request(typeCSAT, csatData{Score: 1}))); code != codeConflict {
		t.Errorf("a second answer: %s, want conflict", code)
	}
	// The close after the wrap-up asks nobody again.
	if _, err := e.router.CloseContact(ctx, id, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	got, err := e.db.CSATs(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	if r := got[id]; r.Score != 4 || r.Comment != "quick and kind" || r.Queue != "billing" {
		t.Errorf("stored %+v", r)
	}
}

// TestSurveyNotAsked: nobody is asked whose complaint went unanswered,
// whose queue does not ask, or whom no agent answered; their answers
// are refused and nothing is stored.
func TestSurveyNotAsked(t *testing.T) {
	e := surveyEnv(t)
	alice(e, 3, router.AgentAvailable)
	e.agent("sam", "Sam", map[string]int{"sales": 1}, 3, router.AgentAvailable)
	ctx := context.Background()
	for _, tt := range []struct {
		name, topic, message string
		reply                bool
		then                 string // the customer's last word, after the reply
		leave                bool   // the customer leaves after the reply
	}{
		{"complaint unanswered", "billing", "Hello", true, "And I was charged twice!", false},
		{"not answered", "billing", "Hello?", false, "", false},
		{"queue does not ask", "sales", "Which plan suits me?", true, "", false},
		{"left", "billing", "Hello", true, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cl := e.dial(nil)
			conv := cl.start(startData{Name: "Bea", Topic: tt.topic, Message: tt.message})
			c := e.router.Snapshot()
			ct, _ := c.Contact(conv.ConversationID)
			if _, err := e.router.Accept(ctx, ct.ID, ct.AgentID); err != nil {
				t.Fatal(err)
			}
			if tt.reply {
				if _, _, err := e.router.AddMessage(ctx, ct.ID, router.Message{Direction: "out", Author: ct.AgentID, Body: "The annual one."}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.then != "" {
				if f, _ := cl.sendText(tt.then, "last"); f.Type != typeAck {
					t.Fatalf("send: %s %s", f.Type, f.Data)
				}
			}
			if tt.leave {
				if f := cl.answer(cl.request(typeLeave, struct{}{})); f.Type != typeAck {
					t.Fatalf("leave: %s %s", f.Type, f.Data)
				}
			}
			if _, err := e.router.CloseContact(ctx, ct.ID, ct.AgentID, "", ""); err != nil {
				t.Fatal(err)
			}
			cl.expect(typeClosed)
			fs := cl.until(cl.request(typeCSAT, csatData{Score: 5}))
			for _, f := range fs {
				if f.Type == typeSurvey {
					t.Errorf("asked: %s", f.Data)
				}
			}
			if code := cl.errorCode(fs[len(fs)-1]); code != codeConflict {
				t.Errorf("answer: %s, want conflict", code)
			}
			if got, err := e.db.CSATs(ctx, []string{ct.ID}); err != nil || len(got) != 0 {
				t.Errorf("stored %v (%v)", got, err)
			}
		})
	}
}

// TestSurveyComplaintAnswered: a complaint the agent answered is asked
// about like any other.
func TestSurveyComplaintAnswered(t *testing.T) {
	e := surveyEnv(t)
	alice(e, 2, router.AgentAvailable)
	ctx := context.Background()
	cl := e.dial(nil)
	id := cl.start(startData{Name: "Ada", Topic: "billing", Message: "I was charged twice!"}).ConversationID
	if _, err := e.router.Accept(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: "out", Author: "alice", Body: "Refunded, sorry."}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.router.CloseContact(ctx, id, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	cl.expect(typeSurvey)
}

// TestSurveyBurst: conversations that end together are surveyed by at
// most maxSurveyors goroutines at once, the others queued in order; each
// customer is asked once the surveyors get to them.
func TestSurveyBurst(t *testing.T) {
	const n = 3*maxSurveyors + 1
	e := surveyEnv(t)
	alice(e, n, router.AgentAvailable)
	entered := make(chan string, n)
	release := make(chan struct{})
	e.chat.testHookSurvey = func(ct router.Contact) {
		entered <- ct.ID
		<-release
	}
	ctx := context.Background()
	var (
		clients []*client
		ids     []string
	)
	for range n {
		cl := e.dial(nil)
		id := cl.start(startData{Name: "Ada", Topic: "billing", Message: "I want to change my plan"}).ConversationID
		if _, err := e.router.Accept(ctx, id, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: "out", Author: "alice", Body: "Done."}); err != nil {
			t.Fatal(err)
		}
		clients, ids = append(clients, cl), append(ids, id)
	}
	for _, id := range ids {
		// The router tells the chat before it answers: each survey is
		// queued when CloseContact returns.
		if _, err := e.router.CloseContact(ctx, id, "alice", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var first []string
	for range maxSurveyors {
		first = append(first, <-entered)
	}
	e.chat.smu.Lock()
	surveyors, pending := e.chat.surveyors, len(e.chat.pending)
	var next string
	if pending > 0 {
		next = e.chat.pending[0].ID
	}
	e.chat.smu.Unlock()
	if surveyors != maxSurveyors || pending != n-maxSurveyors {
		t.Errorf("with the surveyors busy: %d surveyors, %d queued; want %d, %d", surveyors, pending, maxSurveyors, n-maxSurveyors)
	}
	slices.Sort(first)
	if want := slices.Sorted(slices.Values(ids[:maxSurveyors])); !slices.Equal(first, want) || next != ids[maxSurveyors] {
		t.Errorf("order: surveyed %v first and %s next, want %v, then %s", first, next, want, ids[maxSurveyors])
	}
	close(release)
	for i, cl := range clients {
		cl.expect(typeSurvey)
		if f := cl.answer(cl.request(typeCSAT, csatData{Score: 4})); f.Type != typeAck {
			t.Errorf("customer %d answers: %s %s", i, f.Type, f.Data)
		}
	}
	e.chat.waitSurveys()
	e.chat.smu.Lock()
	surveyors, pending = e.chat.surveyors, len(e.chat.pending)
	e.chat.smu.Unlock()
	if surveyors != 0 || pending != 0 {
		t.Errorf("after the burst: %d surveyors, %d queued; want none", surveyors, pending)
	}
}

// TestSurveyOnceAcrossRestart: a customer whose conversation went to
// wrap-up before a restart (asked then), or while the chat fell behind
// the router's events (Resync), is asked as their page resumes (the page
// lost the question, or never got it), but not a second time on that
// page when the contact closes.
func TestSurveyOnceAcrossRestart(t *testing.T) {
	for _, tt := range []struct {
		name string
		// wrapUp puts the contact in wrap-up and loses the chat's memory
		// of it.
		wrapUp func(e *env, cl *client, wrap func())
	}{
		{"restart", func(e *env, cl *client, wrap func()) {
			wrap()
			cl.expect(typeSurvey)
			e.restart()
		}},
		{"resync", func(e *env, cl *client, wrap func()) {
			e.fw.p.Store(nil) // the chat misses the wrap-up
			wrap()
			e.fw.p.Store(e.chat)
			e.chat.Resync(e.router.Snapshot())
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := surveyEnv(t)
			alice(e, 2, router.AgentAvailable)
			ctx := context.Background()
			cl := e.dial(nil)
			conv := cl.start(startData{Name: "Ada", Topic: "billing", Message: "I want to change my plan"})
			id := conv.ConversationID
			if _, err := e.router.Accept(ctx, id, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.router.AddMessage(ctx, id, router.Message{Direction: "out", Author: "alice", Body: "Done: you are on the annual plan."}); err != nil {
				t.Fatal(err)
			}
			tt.wrapUp(e, cl, func() {
				if _, err := e.router.WrapUp(ctx, id, "alice", "solved", ""); err != nil {
					t.Fatal(err)
				}
			})

			r := e.dial(nil)
			if f := r.answer(r.request(typeResume, resumeData{ConversationID: id, Token: conv.Token})); f.Type != typeResumed {
				t.Fatalf("resume: %s %s", f.Type, f.Data)
			}
			r.expect(typeSurvey)
			if _, err := e.router.CloseContact(ctx, id, "alice", "", ""); err != nil {
				t.Fatal(err)
			}
			e.chat.waitSurveys() // whatever the close queued was sent
			fs := r.until(r.request(typeCSAT, csatData{Score: 5}))
			closed := false
			for _, f := range fs {
				switch f.Type {
				case typeSurvey:
					t.Errorf("asked again at the close: %s", f.Data)
				case typeClosed:
					closed = true
				}
			}
			if !closed {
				t.Errorf("frames %v: want the closed frame", fs)
			}
			if f := fs[len(fs)-1]; f.Type != typeAck {
				t.Errorf("answer: %s %s", f.Type, f.Data)
			}
		})
	}
}
