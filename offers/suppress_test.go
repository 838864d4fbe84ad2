package offers

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/consent"
)

func ptr(b bool) *bool { return &b }

// consenting is a customer who consents to everything.
func consenting() CustomerView {
	return CustomerView{Segment: "premium", Consent: consent.Flags{Marketing: ptr(true), Profiling: ptr(true)}}
}

func TestSuppressed(t *testing.T) {
	rules := Rules{ComplaintQueues: []string{"complaints"}, ComplaintKeywords: []string{"Refund", "unacceptable"}}
	with := func(f func(*Env)) Env {
		e := Env{Customer: consenting(), Contact: ContactView{Channel: "chat", Queue: "sales", Subject: "New card"}}
		f(&e)
		return e
	}
	tests := []struct {
		name  string
		rules Rules
		env   Env
		want  string // "" for not suppressed
	}{
		{"consenting", rules, with(func(*Env) {}), ""},
		{"profiling-unknown-allowed", rules, with(func(e *Env) { e.Customer.Consent.Profiling = nil }), ""},
		{"marketing-unknown", rules, with(func(e *Env) { e.Customer.Consent.Marketing = nil }), NoMarketingConsent},
		{"marketing-false", rules, with(func(e *Env) { e.Customer.Consent.Marketing = ptr(false) }), NoMarketingConsent},
		{"profiling-false", rules, with(func(e *Env) { e.Customer.Consent.Profiling = ptr(false) }), NoProfiling},
		{"complaint-queue", rules, with(func(e *Env) { e.Contact.Queue = "complaints" }), Complaint},
		{"complaint-disposition-default", rules, with(func(e *Env) { e.Contact.Disposition = "Complaint" }), Complaint},
		{"configured-disposition", Rules{ComplaintDispositions: []string{"escalated"}}, with(func(e *Env) { e.Contact.Disposition = "escalated" }), Complaint},
		{"configured-disposition-replaces-default", Rules{ComplaintDispositions: []string{"escalated"}}, with(func(e *Env) { e.Contact.Disposition = "complaint" }), ""},
		{"keyword-in-subject-any-case", rules, with(func(e *Env) { e.Contact.Subject = "I want a REFUND now" }), Complaint},
		{"keyword-in-first-message", rules, with(func(e *Env) { e.Contact.FirstMessage = "This is Unacceptable." }), Complaint},
		{"no-keyword", rules, with(func(e *Env) { e.Contact.FirstMessage = "Hello, about my card" }), ""},
		{"sms-opt-out-on-sms", rules, with(func(e *Env) { e.Customer.SMSOptOut = true; e.Contact.Channel = "sms" }), SMSOptOut},
		{"sms-opt-out-on-chat", rules, with(func(e *Env) { e.Customer.SMSOptOut = true }), ""},
		{"sms-stop-on-sms", rules, with(func(e *Env) { e.Customer.SMSStopped = true; e.Contact.Channel = "sms" }), SMSStopped},
		{"sms-stop-on-chat", rules, with(func(e *Env) { e.Customer.SMSStopped = true }), SMSStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.rules.Suppressed(tt.env)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("got %q, %v, want %q", got, ok, tt.want)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	o := Offer{Title: "T", ID: "savings", Cooldown: 30 * 24 * time.Hour, CapPerContact: 2}
	tests := []struct {
		name    string
		offer   Offer
		history []Result
		want    bool
	}{
		{"no-history", o, nil, true},
		{"declined-within-cooldown", o, []Result{{OfferID: "savings", ContactID: "old", Outcome: Declined, At: now.Add(-29 * 24 * time.Hour)}}, false},
		{"declined-after-cooldown", o, []Result{{OfferID: "savings", ContactID: "old", Outcome: Declined, At: now.Add(-31 * 24 * time.Hour)}}, true},
		{"other-offer-declined", o, []Result{{OfferID: "fiber", Outcome: Declined, At: now}}, true},
		{"declined-no-cooldown", Offer{Title: "T", ID: "savings"}, []Result{{OfferID: "savings", Outcome: Declined, At: now}}, true},
		{"below-cap", o, []Result{{OfferID: "savings", ContactID: "c1", Outcome: Presented, At: now}}, true},
		{"cap-reached", o, []Result{
			{OfferID: "savings", ContactID: "c1", Outcome: Presented, At: now},
			{OfferID: "savings", ContactID: "c1", Outcome: Presented, At: now},
		}, false},
		{"cap-counts-this-contact-only", o, []Result{
			{OfferID: "savings", ContactID: "c0", Outcome: Presented, At: now},
			{OfferID: "savings", ContactID: "c0", Outcome: Presented, At: now},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Allowed(tt.offer, "c1", now, tt.history); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	cat, err := NewCatalog([]Offer{{ID: "a", Title: "A", Cooldown: time.Hour}, {ID: "b", Title: "B", Eligible: `contact.channel == "chat"`}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	req := Request{Env: Env{Customer: consenting(), Contact: ContactView{Channel: "chat"}}, ContactID: "c1", Now: now,
		History: []Result{{OfferID: "a", Outcome: Declined, At: now.Add(-time.Minute)}}}
	got, err := cat.Candidates(Rules{}, req)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "b" {
		t.Errorf("got %q, want %q", ids(got), "b")
	}
	req.Env.Customer.Consent.Marketing = ptr(false)
	if got, _ := cat.Candidates(Rules{}, req); len(got) != 0 {
		t.Errorf("got %q without marketing consent, want none", ids(got))
	}
}

// TestComplaintLater: a complaint keyword in any message of the
// customer, not only the first, makes the contact a complaint; a recent
// complaint of the customer withholds offers too.
func TestComplaintLater(t *testing.T) {
	rules := Rules{ComplaintKeywords: []string{"charged twice", "unacceptable"}}
	env := Env{Customer: consenting(), Contact: ContactView{Channel: "chat", Queue: "billing",
		FirstMessage: "", CustomerMessages: []string{"", "Hello?"}}}
	if got, ok := rules.Suppressed(env); ok {
		t.Fatalf("before the complaint: suppressed %q", got)
	}
	env.Contact.CustomerMessages = append(env.Contact.CustomerMessages, "I was CHARGED TWICE, this is unacceptable")
	if got, _ := rules.Suppressed(env); got != Complaint {
		t.Errorf("after a complaint typed later: got %q, want %q", got, Complaint)
	}
	env.Contact.CustomerMessages = nil
	env.Customer.RecentComplaint = true
	if got, _ := rules.Suppressed(env); got != RecentComplaint {
		t.Errorf("a customer with a recent complaint: got %q, want %q", got, RecentComplaint)
	}
	for text, want := range map[string]bool{"": false, "fine": false, "Unacceptable!": true, "you charged twice": true} {
		if got := rules.ComplaintText(text); got != want {
			t.Errorf("ComplaintText(%q) = %v, want %v", text, got, want)
		}
	}
	for d, want := range map[string]bool{"": false, "solved": false, "COMPLAINT": true} {
		if got := (Rules{}).ComplaintDisposition(d); got != want {
			t.Errorf("ComplaintDisposition(%q) = %v, want %v", d, got, want)
		}
	}
}
