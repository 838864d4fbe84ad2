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
	o       Options
	clients chan *imapclient.Client // nil: a connection to dial again
	folder  string
	to      string
}

// openMailbox logs in imapClients connections to the IMAP server.
func openMailbox(o Options) (*mailbox, error) {
	if _, _, err := net.SplitHostPort(o.IMAPAddr); err != nil {
		return nil, fmt.Errorf("contactsim: -imap-addr %q: want host:port", o.IMAPAddr)
	}
	mb := &mailbox{o: o, clients: make(chan *imapclient.Client, imapClients), folder: o.IMAPFolder, to: o.EmailTo}
	for range imapClients {
		c, err := mb.dial()
		if err != nil {
			mb.close()
			return nil, err
		}
		mb.clients <- c
	}
	return mb, nil
}

// dial opens and logs in one connection.
func (mb *mailbox) dial() (*imapclient.Client, error) {
	o := mb.o
	host, _, _ := net.SplitHostPort(o.IMAPAddr)
	var (
		c   *imapclient.Client
		err error
	)
	if o.IMAPTLS {
		c, err = imapclient.DialTLS(o.IMAPAddr, &imapclient.Options{TLSConfig: &tls.Config{ServerName: host}})
	} else {
		c, err = imapclient.DialInsecure(o.IMAPAddr, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("contactsim: IMAP %s: %w", o.IMAPAddr, err)
	}
	if err := c.Login(o.IMAPUser, o.IMAPPassword).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("contactsim: IMAP %s: login as %s: %w", o.IMAPAddr, o.IMAPUser, err)
	}
	return c, nil
}

func (mb *mailbox) close() {
	for {
		select {
		case c := <-mb.clients:
			if c != nil {
				c.Logout().Wait()
				c.Close()
			}
		default:
			return
		}
	}
}

// append appends one raw message; it reports whether the server took it.
// A connection that failed is dropped and dialled again by the next
// append (the server may have been restarted).
func (mb *mailbox) append(raw []byte) (err error) {
	c := <-mb.clients
	defer func() {
		if err != nil && c != nil {
			c.Close()
			c = nil
		}
		mb.clients <- c
	}()
	if c == nil {
		if c, err = mb.dial(); err != nil {
			return err
		}
	}
	cmd := c.Append(mb.folder, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err = cmd.Wait()
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
	// With Restarts the IMAP server may be restarted too: the append is
	// retried, and one whose OK was lost appends the mail a second time,
	// with the same Message-ID, as a mail server retrying a delivery
	// would: routerd must take it once.
	var err error
	if !s.retry(func() bool { err = s.mailbox.append(raw); return err == nil }) {
		s.cut("email: append: " + errKind(err))
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
