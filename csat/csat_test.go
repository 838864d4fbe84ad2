package csat

import (
	"errors"
	"testing"
	"time"

	"github.com/switchboard/switchboard/offers"
	"github.com/switchboard/switchboard/router"
)

func TestAsk(t *testing.T) {
	p := Policy{Queues: []string{"billing", "complaints"}, Rules: offers.Rules{ComplaintQueues: []string{"complaints"},
		ComplaintKeywords: []string{"charged twice"}, ComplaintDispositions: []string{"complaint"}}}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	contact := func(queue string, state router.ContactState, mods ...func(*router.Contact)) router.Contact {
		c := router.Contact{ID: "c", Queue: queue, State: state, AssignedAt: at}
		for _, m := range mods {
			m(&c)
		}
		return c
	}
	in := func(body string) router.Message { return router.Message{Direction: "in", Body: body} }
	out := router.Message{Direction: "out", Author: "alice", AuthorKind: router.AuthorAgent, Body: "done"}
	note := router.Message{Direction: router.DirectionNote, Author: "alice", Body: "note"}
	sam := router.Message{Direction: "out", Author: "sam", AuthorKind: router.AuthorSupervisor, Body: "refunded"}
	auto := router.Message{Direction: "out", AuthorKind: router.AuthorSystem, Body: "we got your message"}
	for _, tt := range []struct {
		name string
		c    router.Contact
		msgs []router.Message
		want bool
	}{
		{"answered", contact("billing", router.ContactClosed), []router.Message{in("hi"), out}, true},
		{"in wrap-up", contact("billing", router.ContactWrapUp), []router.Message{in("hi"), out}, true},
		{"customer wrote last, no complaint", contact("billing", router.ContactClosed), []router.Message{in("hi"), out, in("thanks")}, true},
		{"queue does not ask", contact("sales", router.ContactClosed), []router.Message{in("hi"), out}, false},
		{"never assigned", contact("billing", router.ContactClosed, func(c *router.Contact) { c.AssignedAt = time.Time{} }), []router.Message{in("hi"), out}, false},
		{"abandoned", contact("billing", router.ContactAbandoned), []router.Message{in("hi"), out}, false},
		{"still assigned", contact("billing", router.ContactAssigned), []router.Message{in("hi"), out}, false},
		{"no agent reply (a note is none)", contact("billing", router.ContactClosed), []router.Message{in("hi"), note}, false},
		{"complaint answered", contact("billing", router.ContactClosed), []router.Message{in("I was charged twice"), out}, true},
		{"complaint answered by a supervisor who took it over", contact("billing", router.ContactClosed), []router.Message{in("hi"), out, in("I was charged twice"), sam}, true},
		{"an automatic reply is no answer", contact("billing", router.ContactClosed), []router.Message{in("hi"), auto}, false},
		{"complaint unanswered", contact("billing", router.ContactClosed), []router.Message{in("hi"), out, in("I was CHARGED TWICE")}, false},
		{"complaint queue, customer last", contact("complaints", router.ContactClosed), []router.Message{in("hi"), out, in("well")}, false},
		{"complaint disposition, customer last", contact("billing", router.ContactClosed, func(c *router.Contact) { c.Disposition = "complaint" }), []router.Message{in("hi"), out, in("well")}, false},
		{"complaint subject, answered", contact("billing", router.ContactClosed, func(c *router.Contact) { c.Subject = "Charged twice" }), []router.Message{in("hi"), out}, true},
	} {
		if got := p.Ask(tt.c, tt.msgs, nil); got != tt.want {
			t.Errorf("%s: Ask = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (Policy{}).Ask(contact("billing", router.ContactClosed), []router.Message{out}, nil) {
		t.Error("a policy without queues asks")
	}
	left := []router.Event{{Event: router.EventAssigned}, {Event: router.EventCustomerLeft}}
	if p.Ask(contact("billing", router.ContactClosed), []router.Message{in("hi"), out}, left) {
		t.Error("a customer who left is asked")
	}
}

func TestOpenAndValidate(t *testing.T) {
	end := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	p := Policy{Window: time.Hour}
	if !p.Open(time.Time{}, end) || !p.Open(end, end.Add(time.Hour)) || p.Open(end, end.Add(time.Hour+time.Second)) {
		t.Error("Open: want open in wrap-up and for an hour after the end")
	}
	if !(Policy{}).Open(end, end.Add(DefaultWindow)) || (Policy{}).Open(end, end.Add(DefaultWindow+time.Second)) {
		t.Error("Open: the default window")
	}
	long := make([]byte, MaxCommentBytes+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, r := range []Response{{Score: 0}, {Score: 6}, {Score: 3, Comment: string(long)}, {Score: 3, Comment: "\xff"}} {
		if err := r.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: got %v, want ErrInvalid", r, err)
		}
	}
	if err := (Response{Score: 5, Comment: "good"}).Validate(); err != nil {
		t.Error(err)
	}
}
