package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// imapClients is how many IMAP connections append mail at once.
const imapClients = 4

// mailbox appends mail to the mailbox routerd reads, as a mail server
// delivering it would. Safe for concurrent use: each of its connections
// is used by one customer at a time.
type mailbox struct {
	clients chan *imapclient.Client
	folder  string
	to      string
}

// openMailbox logs in imapClients connections to the IMAP server.
func openMailbox(o Options) (*mailbox, error) {
	host, _, err := net.SplitHostPort(o.IMAPAddr)
	if err != nil {
		return nil, fmt.Errorf("contactsim: -imap-addr %q: want host:port", o.IMAPAddr)
	}
	mb := &mailbox{clients: make(chan *imapclient.Client, imapClients), folder: o.IMAPFolder, to: o.EmailTo}
	for range imapClients {
		var c *imapclient.Client
		if o.IMAPTLS {
			c, err = imapclient.DialTLS(o.IMAPAddr, &imapclient.Options{TLSConfig: &tls.Config{ServerName: host}})
		} else {
			c, err = imapclient.DialInsecure(o.IMAPAddr, nil)
		}
		if err != nil {
			mb.close()
			return nil, fmt.Errorf("contactsim: IMAP %s: %w", o.IMAPAddr, err)
		}
		if err := c.Login(o.IMAPUser, o.IMAPPassword).Wait(); err != nil {
			c.Close()
			mb.close()
			return nil, fmt.Errorf("contactsim: IMAP %s: login as %s: %w", o.IMAPAddr, o.IMAPUser, err)
		}
		mb.clients <- c
	}
	return mb, nil
}

func (mb *mailbox) close() {
	for {
		select {
		case c := <-mb.clients:
			c.Logout().Wait()
			c.Close()
		default:
			return
		}
	}
}

// append appends one raw message; it reports whether the server took it.
func (mb *mailbox) append(raw []byte) error {
	c := <-mb.clients
	defer func() { mb.clients <- c }()
	cmd := c.Append(mb.folder, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// emailCustomer writes one email: appended to the mailbox routerd reads,
// it is acknowledged when the IMAP server has it (routerd takes it from
// there: the screen pop's latency includes its fetcher's IDLE or poll).
// A writer of email does not abandon.
func (s *Sim) emailCustomer(ctx context.Context, c *simContact, st Stream) {
	defer c.end()
	rng := s.rng()
	from := fmt.Sprintf("Sim %s <sim-%s@example.net>", c.tag, c.tag)
	if k := c.customer; k != nil {
		from = k.email
	}
	raw := emailMessage(from, s.mailbox.to, c, c.firstMessage(rng), time.Now())
	c.sent()
	if err := s.mailbox.append(raw); err != nil {
		s.fail("email: append: " + errKind(err))
		return
	}
	c.markAcked("")
	s.ackMessage(c.tag + ".0")
	s.n.acked.Add(1)
	// The IMAP server's OK is not routerd's: routerd takes the mail on
	// its own time (IDLE or its poll). So the customer waits for an agent
	// even while the run drains (the drain bounds it): the check then
	// finds the contact, or counts it lost.
	<-c.assigned
	<-c.ended
}

// emailMessage is a plain-text email of body, with a Message-ID of the tag.
func emailMessage(from, to string, c *simContact, body string, at time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: sim %s\r\nDate: %s\r\nMessage-ID: <%s@contactsim.invalid>\r\n",
		from, to, c.tag, at.Format(time.RFC1123Z), c.tag)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(body + "\r\n")
	return []byte(b.String())
}
