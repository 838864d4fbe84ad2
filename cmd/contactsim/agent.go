package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// agentConn is one simulated agent's desktop: a session and its socket.
// One goroutine reads, one writes; requests wait for their answer by id.
// With Options.Restarts a socket that drops is opened again (a new
// login if the session is gone) and the agent takes up, from the
// snapshot, what it holds and what rings.
type agentConn struct {
	s        *Sim
	id       string
	shift    agentShift
	password string

	mu       sync.Mutex
	token    string                   // guarded by mu
	conn     *deskConn                // the socket now; guarded by mu
	pending  map[string]chan frame    // by request id; guarded by mu
	nextID   int                      // guarded by mu
	contacts map[string]*agentContact // by contact id; guarded by mu
	state    string                   // the state last asked for; guarded by mu
}

// deskConn is one socket of an agent's desktop.
type deskConn struct {
	ws     *websocket.Conn
	out    chan outFrame
	closed chan struct{} // closed when its reader ends
}

// errSocketClosed is a request whose socket closed before its answer.
var errSocketClosed = errors.New("socket closed")

// agentContact is a contact that rang at the agent.
type agentContact struct {
	id  string
	sim *simContact // nil for a contact that is not this run's
	// in receives the tags of the customer's messages; gone is closed
	// when the contact left the agent (withdrawn, closed, abandoned).
	in       chan string
	gone     chan struct{}
	goneOnce sync.Once
}

func (ac *agentContact) leave() { ac.goneOnce.Do(func() { close(ac.gone) }) }

// wsError is an error frame's answer.
type wsError struct{ Code, Message string }

func (e *wsError) Error() string { return e.Code + ": " + e.Message }

// startAgents logs every agent in, opens its desktop and makes those
// on shift available.
func (s *Sim) startAgents(ctx context.Context) error {
	if s.mailbox == nil {
		for _, st := range s.sc.Streams {
			if st.Channel == channelEmail {
				s.skipped = append(s.skipped, "email: no mailbox (-imap-addr, -imap-user, -imap-password): the email streams were skipped")
				break
			}
		}
	}
	if s.opts.TwilioAuthToken == "" {
		for _, st := range s.sc.Streams {
			if st.Channel == channelSMS {
				s.skipped = append(s.skipped, "sms: no Twilio auth token (-twilio-auth-token or TWILIO_AUTH_TOKEN): the SMS streams were skipped")
				break
			}
		}
	}
	password := s.sc.Agents.Password
	if s.opts.AgentPassword != "" {
		password = s.opts.AgentPassword
	}
	if password == "" {
		return errors.New("contactsim: the agents' password is unknown: give -agent-password, CONTACTSIM_AGENT_PASSWORD or the scenario's agents.password")
	}
	hour := 0.0
	if s.sc.StartHour != nil {
		hour = *s.sc.StartHour
	} else {
		now := time.Now().UTC()
		hour = float64(now.Hour()) + float64(now.Minute())/60
	}
	for _, sh := range s.sc.agentIDs() {
		a := &agentConn{s: s, id: sh.id, shift: sh, password: strings.ReplaceAll(password, passwordIDVar, sh.id),
			pending: map[string]chan frame{}, contacts: map[string]*agentContact{}}
		if err := a.login(ctx); err != nil {
			return err
		}
		if err := a.connect(ctx); err != nil {
			return err
		}
		s.agents = append(s.agents, a)
		if sh.on(hour) {
			if err := a.setState(ctx, "available"); err != nil {
				return fmt.Errorf("contactsim: agent %s: available: %w", a.id, err)
			}
		}
	}
	return nil
}

// errLoginRefused is a login refused for its id or password.
var errLoginRefused = errors.New("login refused")

// login logs the agent in: a new session.
func (a *agentConn) login(ctx context.Context) error {
	s := a.s
	var login struct {
		Token string `json:"token"`
	}
	code, err := s.api(ctx, "POST", "/api/v1/login", map[string]string{"id": a.id, "password": a.password}, nil, &login)
	switch {
	case err != nil:
		return fmt.Errorf("contactsim: agent %s: login: %w", a.id, err)
	case code == http.StatusUnauthorized:
		return fmt.Errorf("contactsim: agent %s: %w (wrong id or password): is the agent in routerd's configuration, and the password (-agent-password) right?", a.id, errLoginRefused)
	case code != http.StatusOK:
		return fmt.Errorf("contactsim: agent %s: login: %d", a.id, code)
	}
	a.mu.Lock()
	a.token = login.Token
	a.mu.Unlock()
	return nil
}

// errNoSession is a desktop socket refused for its session (401).
var errNoSession = errors.New("session refused")

// connect opens the desktop socket with the session.
func (a *agentConn) connect(ctx context.Context) error {
	s := a.s
	a.mu.Lock()
	h := http.Header{"Authorization": {"Bearer " + a.token}}
	a.mu.Unlock()
	ws, resp, err := (&websocket.Dialer{HandshakeTimeout: dialTimeout}).DialContext(ctx, s.wsURL("/ws/agent"), h)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			err = errNoSession
		}
		return fmt.Errorf("contactsim: agent %s: desktop socket: %w", a.id, err)
	}
	cn := &deskConn{ws: ws, out: make(chan outFrame, 256), closed: make(chan struct{})}
	a.mu.Lock()
	a.conn = cn
	a.mu.Unlock()
	go a.write(cn)
	go a.read(cn)
	return nil
}

// reconnect opens the desktop again after its socket dropped, for up
// to restartWait (routerd may be restarting), logging in again when the
// session is refused, and asks for the state the agent had chosen.
func (a *agentConn) reconnect() {
	s := a.s
	ctx := context.Background()
	deadline := time.Now().Add(restartWait)
	pause := 100 * time.Millisecond
	for {
		err := a.connect(ctx)
		if errors.Is(err, errNoSession) {
			if err = a.login(ctx); err == nil {
				err = a.connect(ctx)
			}
		}
		if err == nil {
			break
		}
		if a.stopping() {
			return
		}
		if time.Now().After(deadline) {
			s.fail("agent: reconnect: " + errKind(err))
			return
		}
		time.Sleep(pause) // a reconnect's back-off, not a synchronisation
		pause = min(2*pause, time.Second)
	}
	s.n.reconnects.Add(1)
	a.mu.Lock()
	want, cn := a.state, a.conn
	a.mu.Unlock()
	if want == "offline" {
		// The run ended meanwhile: stopAgents closed the socket before.
		cn.ws.Close()
		return
	}
	if want != "" {
		if err := a.setState(ctx, want); err != nil {
			a.expected("set_state", err)
		}
	}
}

// stopping reports whether the run took the agent offline for good.
func (a *agentConn) stopping() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state == "offline"
}

func (a *agentConn) write(cn *deskConn) {
	for {
		select {
		case f := <-cn.out:
			cn.ws.SetWriteDeadline(time.Now().Add(frameWait))
			if err := cn.ws.WriteJSON(f); err != nil {
				cn.ws.Close()
				return
			}
		case <-cn.closed:
			return
		}
	}
}

// call sends a request and waits for its answer.
func (a *agentConn) call(typ string, data any) (json.RawMessage, error) {
	a.mu.Lock()
	a.nextID++
	id := strconv.Itoa(a.nextID)
	ch := make(chan frame, 1)
	a.pending[id] = ch
	cn := a.conn
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.pending, id)
		a.mu.Unlock()
	}()
	select {
	case cn.out <- outFrame{Type: typ, ID: id, Data: data}:
	case <-cn.closed:
		return nil, errSocketClosed
	}
	t := time.NewTimer(frameWait)
	defer t.Stop()
	select {
	case f := <-ch:
		if f.Type == "error" {
			var e wsError
			json.Unmarshal(f.Data, &e)
			return nil, &e
		}
		return f.Data, nil
	case <-cn.closed:
		return nil, errSocketClosed
	case <-t.C:
		return nil, errors.New("timeout")
	}
}

func (a *agentConn) setState(ctx context.Context, state string) error {
	a.mu.Lock()
	a.state = state
	a.mu.Unlock()
	_, err := a.call("set_state", map[string]string{"state": state})
	return err
}

// offerData is an offer frame's data, as far as contactsim reads it.
type offerData struct {
	ContactID string `json:"contact_id"`
	ScreenPop struct {
		Contact struct {
			FirstMessages []struct {
				Body string `json:"body"`
			} `json:"first_messages"`
		} `json:"contact"`
		Customer struct {
			ID         string  `json:"id"`
			Identified bool    `json:"identified"`
			Segment    *string `json:"segment"`
		} `json:"customer"`
		Offers []struct {
			ID string `json:"id"`
		} `json:"offers"`
		OffersWithheld string `json:"offers_withheld"`
	} `json:"screen_pop"`
}

func (a *agentConn) read(cn *deskConn) {
	for {
		var f frame
		if err := cn.ws.ReadJSON(&f); err != nil {
			cn.ws.Close()
			// What rang or was held on this socket is left: after a
			// reconnect the snapshot says what the agent still holds.
			a.mu.Lock()
			held := a.contacts
			a.contacts = map[string]*agentContact{}
			a.mu.Unlock()
			close(cn.closed)
			for _, ac := range held {
				ac.leave()
			}
			switch {
			case a.stopping():
			case a.s.opts.Restarts:
				go a.reconnect()
			default:
				a.s.fail("agent: socket closed by routerd")
			}
			return
		}
		now := time.Now()
		if f.ID != "" && (f.Type == "ack" || f.Type == "error") {
			a.mu.Lock()
			ch := a.pending[f.ID]
			a.mu.Unlock()
			if ch != nil {
				ch <- f
			}
			continue
		}
		switch f.Type {
		case "offer":
			var o offerData
			if err := json.Unmarshal(f.Data, &o); err != nil {
				a.s.fail("agent: offer: " + err.Error())
				continue
			}
			a.s.mu.Lock()
			a.s.seen = append(a.s.seen, seenOffer{agent: a.id, contact: o.ContactID, at: now})
			a.s.mu.Unlock()
			if a.s.opts.Restarts && a.s.rng().Float64() < a.s.opts.DropOnOffer {
				// The desktop drops while the offer rings: routerd
				// withdraws it and offers the contact elsewhere.
				a.s.n.drops.Add(1)
				cn.ws.Close()
				continue
			}
			a.offer(now, o)
		case "snapshot":
			if a.s.opts.Restarts {
				a.resume(now, f.Data)
			}
		case "offer_withdrawn", "contact_closed":
			var d struct {
				ContactID string `json:"contact_id"`
				State     string `json:"state"`
			}
			json.Unmarshal(f.Data, &d)
			if ac := a.contact(d.ContactID); ac != nil {
				ac.leave()
			}
		case "message":
			var d struct {
				ContactID string `json:"contact_id"`
				Message   struct {
					Direction string `json:"direction"`
					Body      string `json:"body"`
				} `json:"message"`
			}
			json.Unmarshal(f.Data, &d)
			if d.Message.Direction != "in" {
				continue
			}
			if ac := a.contact(d.ContactID); ac != nil {
				if _, tag, ok := parseTag(d.Message.Body); ok {
					select {
					case ac.in <- tag:
					default: // the agent is behind: it answers the next one
					}
				}
			}
		}
	}
}

func (a *agentConn) contact(id string) *agentContact {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.contacts[id]
}

func (a *agentConn) contactsSnapshot() []*agentContact {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*agentContact, 0, len(a.contacts))
	for _, ac := range a.contacts {
		out = append(out, ac)
	}
	return out
}

// resume takes up, after a reconnect, what the snapshot says the agent
// holds (each contact wrapped up and closed, as if the agent had gone on
// handling it) and the offer that rings.
func (a *agentConn) resume(now time.Time, data json.RawMessage) {
	var snap struct {
		Contacts []struct {
			Contact struct {
				ID string `json:"id"`
			} `json:"contact"`
			Messages []struct {
				Body string `json:"body"`
			} `json:"messages"`
		} `json:"contacts"`
		Offer *offerData `json:"offer"`
	}
	if err := json.Unmarshal(data, &snap); err != nil {
		a.s.fail("agent: snapshot: " + err.Error())
		return
	}
	for _, ac := range snap.Contacts {
		var o offerData
		o.ContactID = ac.Contact.ID
		for _, m := range ac.Messages {
			o.ScreenPop.Contact.FirstMessages = append(o.ScreenPop.Contact.FirstMessages, struct {
				Body string `json:"body"`
			}{m.Body})
		}
		a.take(now, o, true)
	}
	if snap.Offer != nil {
		a.s.mu.Lock()
		a.s.seen = append(a.s.seen, seenOffer{agent: a.id, contact: snap.Offer.ContactID, at: now})
		a.s.mu.Unlock()
		a.take(now, *snap.Offer, false)
	}
}

// offer takes an offer: the screen pop's latency is recorded and the
// contact handled on its own goroutine.
func (a *agentConn) offer(now time.Time, o offerData) { a.take(now, o, false) }

// take handles a contact on its own goroutine: one that rings (held
// false: the screen pop's latency is recorded) or one the agent holds
// already (after a reconnect).
func (a *agentConn) take(now time.Time, o offerData, held bool) {
	s := a.s
	if a.contact(o.ContactID) != nil {
		return // a repeated offer (deltas may repeat): already handled
	}
	if !held {
		s.boards.offer(o.ContactID, now)
	}
	ac := &agentContact{id: o.ContactID, in: make(chan string, 16), gone: make(chan struct{})}
	for _, m := range o.ScreenPop.Contact.FirstMessages {
		if tag, _, ok := parseTag(m.Body); ok {
			ac.sim = s.contact(tag)
			break
		}
	}
	if c := ac.sim; c != nil && !held {
		c.mu.Lock()
		first := c.offeredAt.IsZero()
		if first {
			c.offeredAt = now
			c.id = o.ContactID
		}
		latency := now.Sub(c.sentAt)
		c.mu.Unlock()
		if first {
			s.popLat.Add(latency)
			s.n.offered.Add(1)
		}
	}
	a.mu.Lock()
	a.contacts[o.ContactID] = ac
	a.mu.Unlock()
	s.handling.Add(1)
	go func() {
		defer s.handling.Done()
		defer func() {
			a.mu.Lock()
			if a.contacts[o.ContactID] == ac {
				delete(a.contacts, o.ContactID)
			}
			a.mu.Unlock()
		}()
		a.handle(ac, o, held)
	}()
}

// handle plays the agent on one contact: think, accept (or decline),
// record the offer's outcome, reply, handle, wrap up, close. A contact
// held already (after a reconnect) starts at the reply.
func (a *agentConn) handle(ac *agentContact, o offerData, held bool) {
	s := a.s
	rng := s.rng()
	c := ac.sim
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ac.gone:
		case <-s.draining:
		}
		return false
	}
	if !held && !a.accept(ac, wait, rng) {
		return
	}
	if c != nil {
		c.mu.Lock()
		first := c.assignedAt.IsZero()
		if first {
			c.assignedAt = time.Now()
		}
		wait := c.assignedAt.Sub(c.sentAt)
		c.mu.Unlock()
		if first {
			// Once: a contact taken back (a returned or transferred one) may be accepted again.
			close(c.assigned)
			s.waitLat.Add(wait)
			s.n.answered.Add(1)
			if wait <= s.opts.SLWithin {
				s.n.answeredInSL.Add(1)
			}
		}
		if !held {
			a.offers(c, ac, o, rng)
		}
	}
	reply := func() {
		if c == nil || c.channel == channelSMS && !s.opts.SMSReplies || c.channel == channelEmail && !s.opts.EmailReplies {
			return
		}
		tag := fmt.Sprintf("%s.r%d", c.tag, s.replySeq.Add(1))
		s.mu.Lock()
		s.replyAt[tag] = time.Now()
		s.mu.Unlock()
		if _, err := a.call("send", map[string]string{"contact_id": ac.id, "client_id": tag,
			"body": fmt.Sprintf("[sim %s] Thanks, I am looking into it.", tag)}); err != nil {
			a.expected("send", err)
			return
		}
		s.ackMessage(tag)
		s.n.replies.Add(1)
	}
	reply()
	handle := time.NewTimer(s.sc.Agents.Handle.Draw(rng))
	defer handle.Stop()
	draining := s.draining
loop:
	for {
		select {
		case <-ac.in:
			reply()
		case <-handle.C:
			break loop
		case <-ac.gone:
			break loop
		case <-draining:
			break loop
		}
	}
	_, err := a.call("wrapup", map[string]string{"contact_id": ac.id, "disposition": s.sc.Agents.Disposition})
	wrapped := err == nil
	if err != nil {
		a.expected("wrapup", err)
	}
	wait(s.sc.Agents.WrapUp.Draw(rng))
	var e *wsError
	switch _, err := a.call("close", map[string]string{"contact_id": ac.id}); {
	case wrapped && errors.As(err, &e) && e.Code == "not_found":
		// The agent wrapped it up and closes it well within the queue's
		// wrap-up time, yet routerd had closed it already.
		s.anomaly("a contact in wrap-up closed by routerd before its wrap-up time (" + channelOf(c) + ")")
	case err != nil:
		a.expected("close "+channelOf(c), err)
	default:
		s.n.closed.Add(1)
	}
	if c != nil {
		c.end()
	}
}

// accept thinks, then declines (the scenario's share) or accepts the
// offer; it reports whether the agent now holds the contact.
func (a *agentConn) accept(ac *agentContact, wait func(time.Duration) bool, rng *mrand.Rand) bool {
	s := a.s
	if !wait(s.sc.Agents.Think.Draw(rng)) {
		select {
		case <-ac.gone:
			return false
		default: // draining: take it all the same, and finish at once
		}
	}
	if rng.Float64() < s.sc.Agents.Decline {
		if _, err := a.call("decline", map[string]string{"contact_id": ac.id, "reason": "sim"}); err != nil {
			a.expected("decline", err)
		} else {
			s.n.declined.Add(1)
		}
		return false
	}
	if _, err := a.call("accept", map[string]string{"contact_id": ac.id}); err != nil {
		a.expected("accept", err)
		s.n.withdrawn.Add(1)
		return false
	}
	return true
}

// expected counts a refused request: conflict and not_found are the
// daemon's right answers to a race (the customer left, the offer went
// elsewhere), anything else an error.
func (a *agentConn) expected(op string, err error) {
	if errors.Is(err, errSocketClosed) {
		a.s.cut("agent: " + op + ": socket closed")
		return
	}
	var e *wsError
	if errors.As(err, &e) && (e.Code == "conflict" || e.Code == "not_found") {
		a.s.refuse("agent: " + op + ": " + e.Code + " (the contact moved on)")
		return
	}
	if errors.As(err, &e) {
		a.s.fail("agent: " + op + ": " + e.Code)
		return
	}
	a.s.fail("agent: " + op + ": " + err.Error())
}

// offers scores the screen pop's offers against their true acceptance,
// checks that none was shown where none may be, and records the
// customer's answer to the first one.
func (a *agentConn) offers(c *simContact, ac *agentContact, o offerData, rng interface{ Float64() float64 }) {
	s := a.s
	pop := o.ScreenPop
	st := &s.offers
	if len(pop.Offers) == 0 {
		if pop.OffersWithheld != "" {
			st.mu.Lock()
			st.withheld[pop.OffersWithheld]++
			st.mu.Unlock()
		}
		return
	}
	var why []string
	switch k := c.customer; {
	case c.complaining:
		why = append(why, "complaining")
	case k == nil:
		why = append(why, "not a known customer")
	case !k.marketing:
		why = append(why, "no marketing consent")
	case !k.profiling:
		why = append(why, "profiling refused")
	case k.optedOut.Load():
		why = append(why, "opted out (STOP)")
	}
	segment := ""
	if pop.Customer.Segment != nil {
		segment = *pop.Customer.Segment
	}
	ps := make([]float64, len(pop.Offers))
	best, sum := 0.0, 0.0
	for i, of := range pop.Offers {
		ps[i] = s.sc.acceptance(of.ID, segment, demoAcceptance)
		best = max(best, ps[i])
		sum += ps[i]
	}
	accepted := rng.Float64() < ps[0]
	st.mu.Lock()
	for _, w := range why {
		st.violations[w]++
	}
	st.pops++
	st.learned += ps[0]
	st.random += sum / float64(len(ps))
	st.best += best
	st.mu.Unlock()
	outcome := "declined"
	if accepted {
		outcome = "accepted"
	}
	if _, err := a.call("offer_outcome", map[string]string{"contact_id": ac.id, "offer_id": pop.Offers[0].ID, "outcome": outcome}); err != nil {
		a.expected("offer_outcome", err)
		return
	}
	st.mu.Lock()
	st.recorded++
	if accepted {
		st.accepted++
	}
	st.mu.Unlock()
}

// shifts moves agents between available and away as the simulated day
// passes their shifts' ends, until ctx ends.
func (s *Sim) shifts(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h := s.arr.HourAt(time.Since(s.start))
		for _, a := range s.agents {
			want := "away"
			if a.shift.on(h) {
				want = "available"
			}
			a.mu.Lock()
			cur := a.state
			a.mu.Unlock()
			if cur != want {
				if err := a.setState(ctx, want); err != nil {
					a.expected("set_state", err)
				}
			}
		}
	}
}

// stopAgents sets every agent offline, logs it out and closes its socket.
func (s *Sim) stopAgents() {
	ctx := context.Background()
	for _, a := range s.agents {
		a.setState(ctx, "offline")
		if a.token != "" {
			req, _ := http.NewRequestWithContext(ctx, "POST", s.opts.URL+"/api/v1/logout", nil)
			req.Header.Set("Authorization", "Bearer "+a.token)
			if resp, err := s.http.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		a.mu.Lock()
		cn := a.conn
		a.mu.Unlock()
		cn.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		cn.ws.Close()
	}
}

// channelOf names a contact's channel in the summary's counts.
func channelOf(c *simContact) string {
	if c == nil {
		return "(not the run's)"
	}
	return c.channel
}
