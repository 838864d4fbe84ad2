package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// Defaults of Options and Mailbox.
const (
	// DefaultMaxMessageBytes is the largest message fetched whole; a
	// larger one is taken in from its header only, with the reason.
	DefaultMaxMessageBytes = 25 << 20
	DefaultPollInterval    = time.Minute
	DefaultResync          = 15 * time.Minute
	DefaultCommandTimeout  = time.Minute
	// DefaultMinBackoff is the wait before the first reconnect; each
	// failure in a row doubles it, up to DefaultMaxBackoff, ±20 %.
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	// DefaultRefusalSpan is how long a message must have been refused
	// (over maxRefusals sessions at least) before it is taken in from
	// what the server serves of it: a server's passing trouble lasts
	// less.
	DefaultRefusalSpan = 10 * time.Minute
	// dialTimeout bounds a connection's setup.
	dialTimeout = 30 * time.Second
	// batchSize is how many messages are fetched, committed, flagged and
	// checkpointed together.
	batchSize = 25
	// takeParallel bounds the messages of a batch taken in at once
	// (takeAll).
	takeParallel = 8
	// batchBytes bounds the bodies fetched at once.
	batchBytes = 32 << 20
)

// Security is how a mailbox's connection is protected.
type Security int

// Securities.
const (
	// TLS connects with implicit TLS (port 993).
	TLS Security = iota
	// StartTLS upgrades a plain connection before logging in.
	StartTLS
	// Plain sends everything, the password included, in the clear: for
	// tests and a local demo on loopback only.
	Plain
)

// Mailbox is one IMAP mailbox the channel reads.
type Mailbox struct {
	// Name identifies it in logs, Status and the store's checkpoint.
	Name string
	// Desk names the mailboxes whose messages are one set: the same
	// Message-ID in two mailboxes of one desk is one message. Empty is
	// Name.
	Desk     string
	Addr     string // host:port
	Security Security
	// TLSConfig is used for TLS and StartTLS; nil verifies the server
	// against the system's roots.
	TLSConfig      *tls.Config
	User, Password string
	// OAuth, when set, logs in with an OAuth 2.0 token instead of
	// Password.
	OAuth *OAuth
	// Folder is read; empty is INBOX.
	Folder string
	// Queue takes the new contacts.
	Queue string
	// MoveTo, when set, is where a message goes once its contact is
	// committed; otherwise it is flagged \Seen.
	MoveTo string
	// Start is the day a mailbox never read before starts from; zero
	// reads only mail that arrives after the first connect.
	Start time.Time
	// PollInterval is how often a server without IDLE (or with Poll set)
	// is asked for new mail; Resync how often the mailbox is read again
	// from the checkpoint, IDLE or not. Zero means the defaults.
	PollInterval, Resync time.Duration
	// CommandTimeout is how long a command waits with nothing from the
	// server before the connection counts as dead; zero means
	// DefaultCommandTimeout.
	CommandTimeout time.Duration
	// Poll polls even where the server has IDLE.
	Poll bool
}

func (mb Mailbox) desk() string {
	if mb.Desk != "" {
		return mb.Desk
	}
	return mb.Name
}

// Intake takes contacts and messages in; *intake.Intake implements it.
// Like Store, Deliveries and Files, it must be safe for concurrent use:
// a mailbox takes several messages in at once (takeAll).
type Intake interface {
	Contact(ctx context.Context, nc router.NewContact) (router.Contact, bool, error)
	Message(ctx context.Context, contactID string, m router.Message) (router.Message, router.Contact, bool, error)
}

var _ Intake = (*intake.Intake)(nil)

// Store keeps the mailboxes' checkpoints and finds the messages and
// contacts a reply joins; *store.DB implements it. Contact fails with an
// error wrapping store.ErrNotFound for a contact it does not have.
type Store interface {
	EmailCheckpoint(ctx context.Context, mailbox string) (store.EmailCheckpoint, bool, error)
	PutEmailCheckpoint(ctx context.Context, mailbox string, cp store.EmailCheckpoint) error
	MessageByExternalID(ctx context.Context, externalID string) (router.Message, bool, error)
	Contacts(ctx context.Context, f store.ContactFilter) (store.ContactPage, error)
	Contact(ctx context.Context, id string) (router.Contact, error)
}

var _ Store = (*store.DB)(nil)

// Deliveries records what a bounce says of one of our messages;
// *router.Router implements it.
type Deliveries interface {
	RecordDelivery(ctx context.Context, e router.OutboxEntry, d *router.Delivery) error
}

var _ Deliveries = (*router.Router)(nil)

// Files keeps attachments and raw messages; *attachments.Store
// implements it. Put refuses a file over its own limit per file
// (attachments.max_file_bytes): that limit is the store's, and the
// intake asks nothing else of it.
type Files interface {
	Put(r io.Reader) (sha string, size int64, err error)
}

var _ Files = (*attachments.Store)(nil)

// Options configure New. Intake, Store, Domain and MessageIDKey are
// required.
type Options struct {
	Mailboxes []Mailbox
	Intake    Intake
	Store     Store
	// Files keeps attachments and each raw message (for audit and
	// re-parsing); nil keeps neither (the mailbox still has them).
	Files Files
	// MaxAttachmentBytes bounds the files of one message together
	// (the raw message not counted); 0 is unbounded but for Files' own
	// limit per file (its Put's).
	MaxAttachmentBytes int64
	// MaxMessageBytes: zero means DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// Deliveries, if set, has a bounce (a delivery report that an
	// action failed) mark the message of ours it reports on failed.
	Deliveries Deliveries
	// Acknowledge, if set, answers an email that starts a contact with
	// its reference and the queue's hours.
	Acknowledge *Acknowledge
	// Domain is the right-hand side of routerd's Message-IDs.
	Domain string
	// MessageIDKey is the secret our Message-IDs are tagged with
	// (OutboundID), at least MinMessageIDKeyBytes random bytes: a
	// reference joins a conversation only when its tag verifies. The
	// Sender's must be the same, and so must every node's.
	MessageIDKey []byte
	// AuthservID is the firm's receiving server's authserv-id: only its
	// Authentication-Results make a sender verified. Empty: none is.
	AuthservID string
	// MinBackoff and MaxBackoff: zero means the defaults.
	MinBackoff, MaxBackoff time.Duration
	// RefusalSpan: zero means DefaultRefusalSpan, negative none (the
	// sessions alone count).
	RefusalSpan time.Duration
	// OnStatus, if set, is told each change of a mailbox's status, on
	// the mailbox's goroutine; it must not block.
	OnStatus func(MailboxStatus)
	Logger   *slog.Logger
}

func (o *Options) check() error {
	if o.Intake == nil || o.Store == nil {
		return errors.New("email: options: Intake and Store are required")
	}
	if o.Domain == "" {
		return errors.New("email: options: Domain is required")
	}
	if err := checkMessageIDKey(o.MessageIDKey); err != nil {
		return fmt.Errorf("email: options: %w", err)
	}
	names := map[string]bool{}
	for i := range o.Mailboxes {
		mb := &o.Mailboxes[i]
		if mb.Name == "" || names[mb.Name] {
			return fmt.Errorf("email: options: mailbox %d: empty or duplicate name %q", i, mb.Name)
		}
		names[mb.Name] = true
		if mb.Queue == "" || mb.Addr == "" {
			return fmt.Errorf("email: options: mailbox %s: Queue and Addr are required", mb.Name)
		}
		if mb.Folder == "" {
			mb.Folder = "INBOX"
		}
		if mb.PollInterval <= 0 {
			mb.PollInterval = DefaultPollInterval
		}
		if mb.Resync <= 0 {
			mb.Resync = DefaultResync
		}
		if mb.CommandTimeout <= 0 {
			mb.CommandTimeout = DefaultCommandTimeout
		}
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	switch {
	case o.RefusalSpan == 0:
		o.RefusalSpan = DefaultRefusalSpan
	case o.RefusalSpan < 0:
		o.RefusalSpan = 0
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
