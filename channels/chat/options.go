package chat

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/clientaddr"
	"github.com/switchboard/switchboard/csat"
	"github.com/switchboard/switchboard/dashboards"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/wsconn"
)

// Defaults used where Options leaves a field zero.
const (
	DefaultMaxMessageBytes        = 4 << 10
	DefaultConversationsPerMinute = 5
	DefaultMessagesPer10s         = 20
	DefaultTokenTTL               = 24 * time.Hour
	// DefaultConnectionsPerAddress is how many sockets one customer
	// address may hold open at once.
	DefaultConnectionsPerAddress = 20
	// DefaultLeaveMessageWindow is how long after leaving a message the
	// customer may add to it.
	DefaultLeaveMessageWindow = 10 * time.Minute
	// DefaultStatsWindow is the window of the answered-contact pace
	// behind the estimated wait (as dashboards.DefaultWindow).
	DefaultStatsWindow = time.Hour
	// DefaultStandingsEvery is Options.StandingsEvery's default.
	DefaultStandingsEvery = time.Second
	// minSecret is the shortest HMAC key accepted.
	minSecret = 32
)

// Topic is one choice of the pre-chat form.
type Topic struct {
	// ID is what the form sends ("billing"); unique among Topics.
	ID string
	// Label is what the customer reads ("Billing and invoices").
	Label string
	// Queue is the router queue of live chats on this topic. Live chat
	// is offered during its business hours (router.Snapshot.Hours);
	// outside them the pre-chat form offers "leave a message".
	Queue string
	// OfflineQueue, if set, receives the "leave a message" contacts of
	// this topic (typically a queue without requirements that the back
	// office works through); empty means Queue.
	OfflineQueue string
}

// Options configure New. Router and Store are required; every other zero
// field means its default.
type Options struct {
	// Router takes the contacts and messages; never nil.
	Router *router.Router
	// Store gives a resuming customer the conversation's history; never nil.
	Store *store.DB
	// Topics are the pre-chat form's choices, in display order; at least one.
	Topics []Topic
	// AllowedOrigins are the sites that embed the widget
	// ("https://www.example.com"). Routerd's own origin (the request's
	// Host) is always allowed; a browser from any other origin is refused
	// with 403 on /ws/chat and may not frame /chat/.
	AllowedOrigins []string
	// Secret is the HMAC-SHA256 key of conversation tokens, at least 32
	// bytes, kept across restarts (in the data directory). Nil: a random
	// key, so that tokens do not survive a restart.
	Secret []byte
	// TokenTTL is how long a conversation token lets the customer resume
	// (default 24h).
	TokenTTL time.Duration
	// MaxMessageBytes bounds a message body (default 4 KiB); a frame
	// larger than twice that plus 1 KiB closes the socket.
	MaxMessageBytes int
	// ConversationsPerMinute bounds the conversations one address may
	// start per minute (default 5).
	ConversationsPerMinute int
	// ClientAddr returns the address of the customer behind a request,
	// the key of ConversationsPerMinute and ConnectionsPerAddress (behind
	// trusted proxies, clientaddr.Resolver.Addr); nil: the host of
	// RemoteAddr. It is called once per socket, possibly concurrently.
	ClientAddr func(*http.Request) string
	// ConnectionsPerAddress bounds the sockets one address holds open at
	// once (default 20); one more is refused with 429 before the upgrade.
	ConnectionsPerAddress int
	// LeaveMessageWindow is how long after a "leave a message" contact
	// is created its customer may add to it (default 10m); after it, or
	// once the customer closes the chat, the conversation is over for
	// the customer and the contact stays queued for an agent.
	LeaveMessageWindow time.Duration
	// MessagesPer10s bounds the messages one conversation may send per
	// ten seconds (default 20).
	MessagesPer10s int
	// Waits estimates the waits told in the queue frame, by each
	// queue's most accurate estimator; nil estimates by the pace of
	// answers over StatsWindow.
	Waits *dashboards.Waits
	// StatsWindow is the statistics window of the estimated wait
	// (default 1h, as the dashboards).
	StatsWindow time.Duration
	// The customer's typing (at most every few seconds) and receipts are
	// announced on the router's event stream (router.Signal), where the
	// agents' hub and the outbox hear them: no callback is wired between
	// them.

	// StandingsEvery is the least time between two rounds of the waiting
	// customers' standings (default DefaultStandingsEvery): the changes
	// of the router in between are told in one round, so that a queue of
	// thousands costs a round a second, not one at every change (each
	// customer's position moves whenever one ahead leaves).
	StandingsEvery time.Duration
	// testHookPaced, if set (by tests), is called when a round of
	// standings waits for StandingsEvery.
	testHookPaced func(wait time.Duration)

	// Intake is the way in of new conversations (package intake): it
	// resolves the customer of what the pre-chat form claims. Nil means
	// one over Router and Store that submits the form's customer as
	// given.
	Intake *intake.Intake
	// CSAT says whose customers are asked the satisfaction survey when
	// their conversation ends (package csat); the zero value asks none.
	CSAT csat.Policy
	// Clock gives the time of tokens, rate limits and business hours;
	// nil: time.Now. Give the router's clock's Now in tests.
	Clock func() time.Time
	// Logger; nil: slog.Default().
	Logger *slog.Logger
}

// resolve checks o and fills in the defaults.
func (o Options) resolve() (Options, error) {
	if o.Router == nil || o.Store == nil {
		return o, fmt.Errorf("%w: Router and Store are required", ErrOptions)
	}
	if o.Intake == nil {
		o.Intake = &intake.Intake{Router: o.Router, Store: o.Store}
	}
	if len(o.Topics) == 0 {
		return o, fmt.Errorf("%w: at least one topic is required", ErrOptions)
	}
	seen := map[string]bool{}
	for i, t := range o.Topics {
		if t.ID == "" || t.Queue == "" || t.Label == "" {
			return o, fmt.Errorf("%w: topics[%d]: id, label and queue are required", ErrOptions, i)
		}
		if seen[t.ID] {
			return o, fmt.Errorf("%w: topics[%d]: id %q twice", ErrOptions, i, t.ID)
		}
		seen[t.ID] = true
	}
	for i, s := range o.AllowedOrigins {
		if _, ok := wsconn.ParseOrigin(s); !ok {
			return o, fmt.Errorf("%w: allowed_origins[%d] %q: want scheme://host[:port], e.g. \"https://www.example.com\"", ErrOptions, i, s)
		}
	}
	if o.Secret == nil {
		o.Secret = make([]byte, minSecret)
		rand.Read(o.Secret)
	} else if len(o.Secret) < minSecret {
		return o, fmt.Errorf("%w: secret: want at least %d bytes, got %d", ErrOptions, minSecret, len(o.Secret))
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.ConversationsPerMinute <= 0 {
		o.ConversationsPerMinute = DefaultConversationsPerMinute
	}
	if o.MessagesPer10s <= 0 {
		o.MessagesPer10s = DefaultMessagesPer10s
	}
	if o.ConnectionsPerAddress <= 0 {
		o.ConnectionsPerAddress = DefaultConnectionsPerAddress
	}
	if o.LeaveMessageWindow <= 0 {
		o.LeaveMessageWindow = DefaultLeaveMessageWindow
	}
	if o.StatsWindow <= 0 {
		o.StatsWindow = DefaultStatsWindow
	}
	if o.StandingsEvery <= 0 {
		o.StandingsEvery = DefaultStandingsEvery
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.ClientAddr == nil {
		o.ClientAddr = clientaddr.Peer
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}
