// Package email is the email channel: it reads support mailboxes over
// IMAP (github.com/emersion/go-imap/v2) and turns each new message into
// a contact, or into a message of the conversation it answers, through
// package intake. No IMAP or MIME type crosses its API.
//
//	ch, err := email.New(email.Options{
//		Mailboxes: []email.Mailbox{{Name: "support", Addr: "imap.example.com:993", Security: email.TLS,
//			User: "support@example.com", Password: pw, Queue: "support"}},
//		Intake: in, Store: db, Files: files, Domain: "support.example.com", MessageIDKey: key})
//	ch.Start()
//	defer ch.Close()
//	statuses := ch.Status() // for /readyz
//
// Each mailbox has its own fetcher and supervisor: it connects, catches
// up from its checkpoint, then waits for new mail in IDLE (polling where
// the server has no IDLE), and reconnects with capped exponential
// backoff and jitter when anything fails; a failing mailbox never stops
// the others. The IMAP reader goroutine only signals new mail through a
// buffered channel; the fetcher does the work.
//
// Exactly once: every message is stored under its external id,
// "email:<desk>:<Message-ID>" (or a hash of its header block when it has
// no Message-ID), which the store keeps unique forever. A batch of
// messages is committed first (each through the router, durable before
// it answers), then flagged \Seen or moved, then the mailbox's checkpoint
// (UIDVALIDITY and last UID) is written. A crash between any two steps
// replays the batch from the older checkpoint, and the external ids make
// the replay store nothing twice; after a UIDVALIDITY change the mailbox
// is read again by date, deduplicated the same way. A message the server
// will not serve ends the session; refused in maxRefusals (3) sessions
// in a row, it is taken in from its header or envelope with the
// server's words, and the checkpoint moves past it. See docs/email.md.
//
// Parse reads a message with github.com/emersion/go-message (charsets,
// multipart alternative and mixed, attachments, inline cid: images, a
// delivery report's original id); its HTML is sanitized with
// github.com/microcosm-cc/bluemonday (Sanitize) before any agent sees
// it. A message that cannot be read, or that the router refuses, is
// still taken in with the reason shown and the raw message attached.
package email
