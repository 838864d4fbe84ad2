// Command smtpsink is the email demo's outgoing mail server: it listens
// on a loopback address, accepts every message (with any PLAIN login, or
// none) and writes each into a directory as an .eml file. For the demo
// only (scripts/email-demo.sh); it delivers nothing.
//
//	go run ./scripts/smtpsink -listen 127.0.0.1:2525 -dir /tmp/sent
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2525", "loopback address to listen on")
	dir := flag.String("dir", "sent", "directory the messages are written to")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		log.Fatal(err)
	}
	var n atomic.Int64
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{dir: *dir, n: &n}, nil
	}))
	s.Addr, s.Domain, s.AllowInsecureAuth = *listen, "smtpsink.localhost", true
	s.ReadTimeout, s.WriteTimeout = time.Minute, time.Minute
	log.Printf("smtpsink: listening on %s, writing to %s", *listen, *dir)
	log.Fatal(s.ListenAndServe())
}

type session struct {
	dir string
	n   *atomic.Int64
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(string, string, string) error { return nil }), nil
}
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	name := filepath.Join(s.dir, fmt.Sprintf("%06d.eml", s.n.Add(1)))
	if err := os.WriteFile(name, b, 0o600); err != nil {
		return err
	}
	log.Printf("smtpsink: wrote %s", name)
	return nil
}
