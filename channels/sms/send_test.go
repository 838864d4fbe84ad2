package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/consent"
	"github.com/switchboard/switchboard/router"
)

// An agent's reply goes through the outbox to the Messages API, from the
// route's number, with the status callback; its MessageSid becomes the
// message's external id, and Twilio's reports move its status forward
// only.
func TestReplyAndStatusReports(t *testing.T) {
	e := newEnv(t)
	e.text(newSID(), adaNum, salesNum, "Hi")
	c := e.assigned(adaNum)
	m := e.reply(c, "Hello Ada, how can I help?")
	e.waitDelivery(c.ID, m.Seq, router.DeliveryQueued)
	sent := e.twilio.sent()
	if len(sent) != 1 || sent[0].Get("To") != adaNum || sent[0].Get("From") != salesNum || sent[0].Get("Body") != "Hello Ada, how can I help?" ||
		sent[0].Get("StatusCallback") != testPublic+StatusPath {
		t.Fatalf("created: %+v", sent)
	}
	stored, err := e.db.Message(e.ctx, c.ID, m.Seq)
	if err != nil || !sidRE.MatchString(stored.ExternalID) || stored.Delivery == nil || stored.Delivery.Attempts != 1 {
		t.Fatalf("stored: %+v %v, want the MessageSid as its external id", stored, err)
	}
	sid := stored.ExternalID
	report := func(status string, extra ...[2]string) int {
		f := append([][2]string{{"MessageSid", sid}, {"SmsSid", sid}, {"AccountSid", testAccount}, {"MessageStatus", status},
			{"SmsStatus", status}, {"To", adaNum}, {"From", salesNum}, {"ApiVersion", "2010-04-01"}}, extra...)
		return e.post(StatusPath, f).Code
	}
	if code := report("sent"); code != http.StatusNoContent {
		t.Fatalf("sent: %d", code)
	}
	e.waitDelivery(c.ID, m.Seq, router.DeliverySent)
	if code := report("delivered"); code != http.StatusNoContent {
		t.Fatalf("delivered: %d", code)
	}
	e.waitDelivery(c.ID, m.Seq, router.DeliveryDelivered)
	// Late, earlier reports and a failure after delivery change nothing.
	for _, st := range []string{"sent", "queued", "undelivered", "some_new_status"} {
		if code := report(st, [2]string{"ErrorCode", "30003"}); code != http.StatusNoContent {
			t.Fatalf("%s: %d", st, code)
		}
	}
	got, _ := e.db.Message(e.ctx, c.ID, m.Seq)
	if got.Delivery.Status != router.DeliveryDelivered {
		t.Fatalf("after late reports: %+v, want delivered", got.Delivery)
	}
	// A report on a message that is not ours, or forged: refused.
	f := [][2]string{{"MessageSid", newSID()}, {"AccountSid", testAccount}, {"MessageStatus", "delivered"}}
	if code := e.post(StatusPath, f).Code; code != http.StatusNotFound {
		t.Errorf("unknown MessageSid: got %d, want 404", code)
	}
	f = [][2]string{{"MessageSid", sid}, {"AccountSid", testAccount}, {"MessageStatus", "read"}}
	if code := e.postSigned(StatusPath, f, sign("forged", testPublic+StatusPath, f)).Code; code != http.StatusForbidden {
		t.Errorf("forged report: got %d, want 403", code)
	}
	if got, _ := e.db.Message(e.ctx, c.ID, m.Seq); got.Delivery.Status != router.DeliveryDelivered {
		t.Fatalf("after a forged report: %+v, want delivered", got.Delivery)
	}

	// A failure before delivery is recorded with Twilio's code.
	m2 := e.reply(c, "Are you there?")
	e.waitDelivery(c.ID, m2.Seq, router.DeliveryQueued)
	got, _ = e.db.Message(e.ctx, c.ID, m2.Seq)
	sid = got.ExternalID
	if code := report("undelivered", [2]string{"ErrorCode", "30003"}); code != http.StatusNoContent {
		t.Fatal(code)
	}
	d := e.waitDelivery(c.ID, m2.Seq, router.DeliveryFailed)
	if !strings.Contains(d.Reason, "30003") {
		t.Errorf("failure reason %q, want Twilio's code", d.Reason)
	}
}

// Twilio's 429 and 5xx are retried: one message, created once.
func TestRetriesOn429And5xx(t *testing.T) {
	e := newEnv(t)
	e.twilio.then(adaNum, twilioError(429, 20429, "Too Many Requests"), twilioError(503, 20503, "Service Unavailable"))
	e.text(newSID(), adaNum, supportNum, "Hi")
	c := e.assigned(adaNum)
	m := e.reply(c, "Hello")
	d := e.waitDelivery(c.ID, m.Seq, router.DeliveryQueued)
	for d.Attempts < 3 {
		d = e.waitDelivery(c.ID, m.Seq, router.DeliveryQueued)
	}
	got, _ := e.db.Message(e.ctx, c.ID, m.Seq)
	if e.twilio.callCount() != 3 || len(e.twilio.sent()) != 1 || got.ExternalID == "" || got.Delivery.Attempts != 3 {
		t.Fatalf("got %d calls, %d created, stored %+v; want 3 calls, the third creating it", e.twilio.callCount(), len(e.twilio.sent()), got)
	}
}

// Other 4xx fail the message at once, with Twilio's reason.
func TestPermanentErrorFailsTheMessage(t *testing.T) {
	e := newEnv(t)
	e.twilio.then(adaNum, twilioError(400, 21211, "Invalid 'To' Phone Number"))
	e.text(newSID(), adaNum, supportNum, "Hi")
	c := e.assigned(adaNum)
	m := e.reply(c, "Hello")
	d := e.waitDelivery(c.ID, m.Seq, router.DeliveryFailed)
	if !strings.Contains(d.Reason, "21211") || e.twilio.callCount() != 1 {
		t.Fatalf("got %+v after %d calls, want failed with 21211 after one", d, e.twilio.callCount())
	}
}

// Error 21610 (the recipient opted out) records the opt-out and fails
// the message with that reason; the next reply is refused before it is
// written, and the sender refuses one written anyway.
func TestError21610RecordsTheOptOut(t *testing.T) {
	e := newEnv(t)
	e.twilio.then(adaNum, twilioError(400, 21610, "Attempt to send to unsubscribed recipient"))
	e.text(newSID(), adaNum, supportNum, "Hi")
	c := e.assigned(adaNum)
	m := e.reply(c, "Hello")
	d := e.waitDelivery(c.ID, m.Seq, router.DeliveryFailed)
	if !strings.Contains(d.Reason, "21610") || !strings.Contains(d.Reason, "opted out") {
		t.Fatalf("reason %q, want the opt-out", d.Reason)
	}
	st, found, err := e.db.ConsentState(e.ctx, router.ChannelSMS, adaNum)
	if err != nil || !found || !st.Blocks() || st.CustomerID != c.Customer.ID {
		t.Fatalf("ledger: %+v %v %v, want ada's opt-out", st, found, err)
	}
	if err := e.ch.CheckReply(e.ctx, c); !errors.Is(err, router.ErrConflict) {
		t.Fatalf("CheckReply: got %v, want a conflict", err)
	}
	m2 := e.reply(c, "Written anyway")
	d = e.waitDelivery(c.ID, m2.Seq, router.DeliveryFailed)
	if !strings.Contains(d.Reason, "opted out") || e.twilio.callCount() != 1 {
		t.Fatalf("got %+v after %d calls, want refused without calling Twilio", d, e.twilio.callCount())
	}
}

// STOP records the opt-out (who, when, which message) and joins the live
// conversation; the agent's reply is then refused with the reason; START
// takes it back and replies flow again. HELP is answered with the text.
func TestStopThenReplyThenStart(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.HelpText = "Acme support: reply STOP to opt out." })
	e.text(newSID(), adaNum, supportNum, "Hi")
	c := e.assigned(adaNum)
	stopSID := newSID()
	w := e.text(stopSID, adaNum, supportNum, "  Stop ")
	if w.Body.String() != emptyTwiML {
		t.Errorf("STOP answered %q, want nothing", w.Body)
	}
	e.text(stopSID, adaNum, supportNum, "  Stop ") // Twilio's retry
	led, err := e.db.ConsentLedger(e.ctx, c.Customer.ID)
	if err != nil || len(led) != 1 || led[0].Action != consent.OptOut || led[0].MessageID != stopSID || led[0].Detail != "STOP" || led[0].Address != adaNum {
		t.Fatalf("ledger: %+v %v, want the one STOP", led, err)
	}
	if ms := e.messages(c.ID); len(ms) != 2 || ms[1].Body != "  Stop " {
		t.Errorf("the conversation: %+v, want the STOP in it once", ms)
	}
	err = e.ch.CheckReply(e.ctx, c)
	var re *router.Error
	if !errors.As(err, &re) || re.Code != router.CodeConflict || !strings.Contains(err.Error(), "STOP") {
		t.Fatalf("CheckReply after STOP: got %v, want a conflict naming STOP", err)
	}
	// Not a keyword unless it is the whole message.
	e.text(newSID(), adaNum, supportNum, "please stop calling me at work")
	if led, _ := e.db.ConsentLedger(e.ctx, c.Customer.ID); len(led) != 1 {
		t.Fatalf("a sentence with stop in it: ledger %+v", led)
	}
	w = e.text(newSID(), adaNum, supportNum, "help")
	if !strings.Contains(w.Body.String(), "<Message>Acme support: reply STOP to opt out.</Message>") {
		t.Errorf("HELP: answered %q", w.Body)
	}
	e.text(newSID(), adaNum, supportNum, "UNSTOP")
	if err := e.ch.CheckReply(e.ctx, c); err != nil {
		t.Fatalf("CheckReply after START: %v", err)
	}
	m := e.reply(c, "Welcome back")
	e.waitDelivery(c.ID, m.Seq, router.DeliveryQueued)
	if len(e.twilio.sent()) != 1 {
		t.Fatalf("after START: %d messages created, want 1", len(e.twilio.sent()))
	}
	// Twilio's own opt-out handling tells us by OptOutType.
	e.text(newSID(), adaNum, supportNum, "arrêtez", [2]string{"OptOutType", "STOP"})
	if st, _, _ := e.db.ConsentState(e.ctx, router.ChannelSMS, adaNum); !st.Blocks() || st.Detail != "OptOutType=STOP" {
		t.Fatalf("OptOutType=STOP: in force %+v", st)
	}
}

// A keyword from a number without a live contact records what it says
// and starts no contact; YES from a number that never opted out is an
// answer like any other.
func TestKeywordsStartNoContact(t *testing.T) {
	e := newEnv(t)
	e.text(newSID(), adaNum, supportNum, "STOP")
	if cs := e.contactsOf(adaNum); len(cs) != 0 {
		t.Fatalf("STOP started %d contacts", len(cs))
	}
	if st, found, _ := e.db.ConsentState(e.ctx, router.ChannelSMS, adaNum); !found || !st.Blocks() {
		t.Fatalf("STOP from a new number: %+v %v", st, found)
	}
	e.text(newSID(), "+15557654321", supportNum, "Yes")
	if cs := e.contactsOf("+15557654321"); len(cs) != 1 {
		t.Fatalf("YES from a number that never opted out: %d contacts, want 1", len(cs))
	}
}

// Twilio's retry of a START (its answer lost) is still the START: it
// starts no contact, though the number no longer opted out.
func TestStartRetried(t *testing.T) {
	e := newEnv(t)
	e.text(newSID(), adaNum, supportNum, "STOP")
	start := newSID()
	e.text(start, adaNum, supportNum, "START")
	e.text(start, adaNum, supportNum, "START") // the retry
	if cs := e.contactsOf(adaNum); len(cs) != 0 {
		t.Fatalf("START and its retry started %d contacts, want none", len(cs))
	}
	if st, found, _ := e.db.ConsentState(e.ctx, router.ChannelSMS, adaNum); !found || st.Blocks() || st.MessageID != start {
		t.Fatalf("after START: %+v %v, want the START in force", st, found)
	}
}

// A "yes" taken in as an answer before a STOP, retried by Twilio (or
// replayed) after it, opts nothing back in: the STOP stays in force and
// the conversation holds the "yes" once.
func TestAnswerRetriedAfterStop(t *testing.T) {
	e := newEnv(t)
	yes := newSID()
	e.text(yes, adaNum, supportNum, "Yes")
	c := e.assigned(adaNum)
	e.text(newSID(), adaNum, supportNum, "STOP")
	e.text(yes, adaNum, supportNum, "Yes") // the retry
	if st, found, _ := e.db.ConsentState(e.ctx, router.ChannelSMS, adaNum); !found || !st.Blocks() {
		t.Fatalf("after the answer's retry: in force %+v %v, want the STOP", st, found)
	}
	var yeses int
	for _, m := range e.messages(c.ID) {
		if m.Body == "Yes" {
			yeses++
		}
	}
	if yeses != 1 {
		t.Errorf("the conversation holds the yes %d times, want once", yeses)
	}
}

// spyStore tells looked of each MessageSid the channel looks up; a
// first look at a sid of hold returns only once the channel is closed.
type spyStore struct {
	Store
	looked chan string
	mu     sync.Mutex
	hold   map[string]chan struct{} // guarded by mu
}

func (s *spyStore) MessageByExternalID(ctx context.Context, id string) (router.Message, bool, error) {
	m, found, err := s.Store.MessageByExternalID(ctx, id)
	s.looked <- id
	s.mu.Lock()
	ch, ok := s.hold[id]
	delete(s.hold, id)
	s.mu.Unlock()
	if ok {
		<-ch
	}
	return m, found, err
}

// A status report that arrives while the Messages API's answer is still
// on its way to routerd (which has not read the sid yet) waits for that
// answer and is applied, instead of being refused as a message not ours:
// Twilio does not send it again. Found by the chaos test
// (cmd/contactsim), whose Twilio reports at once.
func TestStatusReportBeforeTheAnswer(t *testing.T) {
	looked := make(chan string, 16)
	e := newEnv(t, func(o *Options) { o.Store = &spyStore{Store: o.Store, looked: looked} })
	sid := newSID()
	reported := reportBeforeAnswer(e, sid, looked)
	e.text(newSID(), adaNum, supportNum, "Hi")
	c := e.assigned(adaNum)
	m := e.reply(c, "Hello")
	if code := <-reported; code != http.StatusNoContent {
		t.Fatalf("report before the answer: got %d, want 204", code)
	}
	e.waitDelivery(c.ID, m.Seq, router.DeliveryDelivered)
}

// reportBeforeAnswer makes the stand-in's answer to the next reply to
// Ada wait until the delivered report of sid, posted meanwhile, has
// looked for it in the store; the report's status code comes on the
// channel returned.
func reportBeforeAnswer(e *env, sid string, looked <-chan string) <-chan int {
	reported := make(chan int, 1)
	e.twilio.then(adaNum, func(w http.ResponseWriter) {
		go func() {
			f := [][2]string{{"MessageSid", sid}, {"AccountSid", testAccount}, {"MessageStatus", "delivered"}}
			reported <- e.post(StatusPath, f).Code
		}()
		for id := range looked {
			if id == sid {
				break
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid": %q, "account_sid": %q, "to": %q, "status": "queued"}`, sid, testAccount, adaNum)
	})
	return reported
}

// A report whose first look in the store comes just before the sid is
// stored (Twilio's answer read, the delivery committed, the wait for it
// over before the report waits) is applied: the report looks again.
func TestStatusReportAsTheSidIsStored(t *testing.T) {
	looked := make(chan string, 16)
	sid := newSID()
	release := make(chan struct{})
	spy := &spyStore{looked: looked, hold: map[string]chan struct{}{sid: release}}
	e := newEnv(t, func(o *Options) { spy.Store = o.Store; o.Store = spy })
	reported := reportBeforeAnswer(e, sid, looked)
	e.text(newSID(), adaNum, supportNum, "Hi")
	c := e.assigned(adaNum)
	m := e.reply(c, "Hello")
	// The sid is stored (and no longer pending) while the report's
	// first look, which found nothing, has not returned yet.
	e.waitDelivery(c.ID, m.Seq, router.DeliveryQueued)
	close(release)
	if code := <-reported; code != http.StatusNoContent {
		t.Fatalf("report as the sid is stored: got %d, want 204", code)
	}
	e.waitDelivery(c.ID, m.Seq, router.DeliveryDelivered)
}
