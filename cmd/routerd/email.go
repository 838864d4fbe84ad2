package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/switchboard/switchboard/attachments"
	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/intake"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/store"
)

// emailSecretFile keeps the key our Message-IDs are tagged with, so that
// replies to the mail sent before a restart still find their
// conversations.
const emailSecretFile = "email-secret"

// secretEmailKey is the name of that key among the secrets the nodes
// share in the database.
const secretEmailKey = "email_message_id_key"

// emailKey returns the key of our Message-IDs' tags (email.OutboundID):
// kept in the data directory, or on PostgreSQL shared by the nodes in
// the database, so that a reply finds its conversation whichever node
// sent the mail and whichever reads the answer.
func emailKey(ctx context.Context, cfg *config.Config, db *store.DB) ([]byte, error) {
	key, err := sharedKey(ctx, cfg, db, emailSecretFile, secretEmailKey)
	if err != nil {
		return nil, fmt.Errorf("email message-id key: %w", err)
	}
	return key, nil
}

// newEmail makes the email channel of cfg's mailboxes (not started);
// each mailbox's password is read from its environment variable or file
// now.
func newEmail(cfg *config.Config, rt *router.Router, db *store.DB, in *intake.Intake, files *attachments.Store, log *slog.Logger) (*email.Channel, error) {
	key, err := emailKey(context.Background(), cfg, db)
	if err != nil {
		return nil, err
	}
	o := email.Options{Intake: in, Store: db, Files: files, Deliveries: rt, MaxAttachmentBytes: cfg.Attachments.MaxMessageBytes,
		Domain: cfg.Email.Domain, MessageIDKey: key, AuthservID: cfg.Email.AuthservID, Logger: log}
	if cfg.Email.Acknowledge {
		o.Acknowledge = &email.Acknowledge{Router: rt, Every: cfg.Email.AcknowledgeEvery.D()}
	}
	for _, m := range cfg.Email.Mailboxes {
		var (
			pw    string
			oauth *email.OAuth
			err   error
		)
		if m.OAuth2.Set() {
			oauth, err = newOAuth(m.OAuth2, cfg, db, "mailbox:"+m.Name)
		} else {
			pw, err = m.Password(cfg.Env)
		}
		if err != nil {
			return nil, fmt.Errorf("email mailbox %s: %w", m.Name, err)
		}
		start, err := m.StartTime()
		if err != nil {
			return nil, fmt.Errorf("email mailbox %s: %w", m.Name, err)
		}
		mb := email.Mailbox{Name: m.Name, Desk: m.DeskName(), Addr: m.Addr(),
			User: m.User, Password: pw, OAuth: oauth, Folder: m.Folder, Queue: m.Queue, Start: start,
			PollInterval: m.PollInterval.D(), Resync: m.Resync.D(), CommandTimeout: m.CommandTimeout.D()}
		mb.Security = emailSecurity(m.Security)
		if m.After == config.AfterMove {
			mb.MoveTo = m.MoveTo
		}
		o.Mailboxes = append(o.Mailboxes, mb)
	}
	return email.New(o)
}

// newEmailSender makes the sender of agents' replies on email contacts:
// cfg's SMTP server, each queue's From (the first queue's for the
// others), the agents' files from files.
func newEmailSender(cfg *config.Config, rt *router.Router, db *store.DB, files *attachments.Store, log *slog.Logger) (*email.Sender, error) {
	key, err := emailKey(context.Background(), cfg, db)
	if err != nil {
		return nil, err
	}
	s := cfg.Email.SMTP
	o := email.SenderOptions{Domain: cfg.Email.Domain, MessageIDKey: key, Store: db, Queues: map[string]email.From{},
		Files: files, MaxAttachmentBytes: cfg.Attachments.MaxMessageBytes,
		SMTP: email.SMTP{Addr: s.Addr(), User: s.User}, Timeline: rt, Logger: log}
	o.SMTP.Security = emailSecurity(s.Security)
	switch {
	case s.OAuth2.Set():
		oauth, err := newOAuth(s.OAuth2, cfg, db, "smtp")
		if err != nil {
			return nil, fmt.Errorf("email smtp: %w", err)
		}
		o.SMTP.OAuth = oauth
	case s.User != "":
		pw, err := s.Password(cfg.Env)
		if err != nil {
			return nil, fmt.Errorf("email smtp: %w", err)
		}
		o.SMTP.Password = pw
	}
	for i, q := range cfg.Email.Queues {
		f := email.From{Address: q.Address, Name: q.DisplayName, Signature: q.Signature, NoQuote: q.NoQuote}
		o.Queues[q.Queue] = f
		if i == 0 {
			o.Default = f
		}
	}
	return email.NewSender(o)
}

// newOAuth is the OAuth 2.0 login of o: tokens from its provider,
// refreshed with the refresh token the store keeps under name (o's
// configured one the first time), each request to the provider bounded
// by email.DefaultTokenTimeout.
func newOAuth(o config.OAuth2, cfg *config.Config, db *store.DB, name string) (*email.OAuth, error) {
	secret, refresh, err := o.Secrets(cfg.Env)
	if err != nil {
		return nil, err
	}
	oc := &oauth2.Config{ClientID: o.ClientID, ClientSecret: secret, Scopes: o.Scopes, Endpoint: oauth2.Endpoint{TokenURL: o.TokenURL}}
	ts, err := email.NewTokenSource(context.Background(), oc, db, name, refresh, nil)
	if err != nil {
		return nil, err
	}
	return &email.OAuth{Mechanism: strings.ToUpper(o.Mechanism), Tokens: ts}, nil
}

// mailboxMetrics exposes each mailbox's status (email.Channel.Status) to
// Prometheus at each scrape (docs/metrics.md): whether it is connected,
// its failures in a row, the messages it took in, its checkpoint.
type mailboxMetrics struct {
	ch                           *email.Channel
	up, failures, taken, lastUID *prometheus.Desc
}

func newMailboxMetrics(ch *email.Channel) *mailboxMetrics {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("switchboard_email_"+name, help, []string{"mailbox"}, nil)
	}
	return &mailboxMetrics{ch: ch,
		up:       d("mailbox_up", "1 while the mailbox is connected and read, 0 while it connects or fails."),
		failures: d("mailbox_failures", "Failed sessions of the mailbox in a row; 0 once one succeeds."),
		taken:    d("messages_taken_total", "Messages taken in (committed) from the mailbox since routerd started."),
		lastUID:  d("mailbox_last_uid", "The highest UID of the mailbox committed (its checkpoint)."),
	}
}

func (m *mailboxMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.up, m.failures, m.taken, m.lastUID} {
		ch <- d
	}
}

func (m *mailboxMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range m.ch.Status() {
		up := 0.0
		if s.State == email.StateOK {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, up, s.Name)
		ch <- prometheus.MustNewConstMetric(m.failures, prometheus.GaugeValue, float64(s.Failures), s.Name)
		ch <- prometheus.MustNewConstMetric(m.taken, prometheus.CounterValue, float64(s.Taken), s.Name)
		ch <- prometheus.MustNewConstMetric(m.lastUID, prometheus.GaugeValue, float64(s.LastUID), s.Name)
	}
}

// emailSecurity is the email package's name of a configured security
// (config.Security*; Validate allows no other).
func emailSecurity(s string) email.Security {
	switch s {
	case config.SecurityTLS:
		return email.TLS
	case config.SecurityStartTLS:
		return email.StartTLS
	default:
		return email.Plain
	}
}
