package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/switchboard/switchboard/channels/email"
	"github.com/switchboard/switchboard/channels/email/emailtest"
)

// sentMail is one message the SMTP server accepted: its Message-ID and
// its text.
type sentMail struct {
	id, text string
}

// readSent parses what the SMTP server accepted.
func readSent(t *testing.T, r emailtest.Received) sentMail {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("parse the sent mail: %v\n%s", err, r.Data)
	}
	id, err := mr.Header.MessageID()
	if err != nil {
		t.Fatalf("the sent mail's Message-ID: %v", err)
	}
	var text strings.Builder
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse the sent mail: %v", err)
		}
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				text.Write(b)
			}
		}
	}
	return sentMail{id: id, text: text.String()}
}

// TestEmailReplyCrashRecovery kills routerd (SIGKILL) between the commit
// of an agent's replies and their delivery: the SMTP server holds the
// first reply's DATA open, unanswered, until routerd is dead, the second
// waits behind it in the outbox. The held copy is then accepted (an MTA
// that took the message in as its sender died: the sender never learned
// it). After a restart both replies are delivered: the first again,
// under the same Message-ID, so that the receiver, deduplicating by
// Message-ID, sees each reply once; and both reach "sent".
func TestEmailReplyCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	dir := t.TempDir()
	d, dv, sink, session := emailDaemon(t, dir)
	held, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the sink stops
	sink.Reject(func(n int) error {
		if n == 1 {
			close(held)
			<-release
		}
		return nil
	})

	id := acceptedMail(t, d, dv, session.Token)
	key, err := os.ReadFile(filepath.Join(dir, "data", emailSecretFile))
	if err != nil {
		t.Fatalf("the Message-IDs' key: %v", err)
	}

	replies := []string{"Here is the invoice you asked for.", "And the receipt, while I am at it."}
	var ids []string            // the replies' Message-IDs, in order
	want := map[string]string{} // Message-ID → the reply's text
	reply := func(body string) {
		t.Helper()
		var m struct {
			Seq int `json:"seq"`
		}
		if code, err := call(d.base, "POST", "/api/v1/contacts/"+id+"/messages", map[string]string{"direction": "out", "author": "a0", "body": body}, nil, &m); err != nil || code != http.StatusCreated {
			t.Fatalf("reply: %d %v", code, err)
		}
		mid := email.OutboundID(key, "support.example.com", id, m.Seq)
		ids, want[mid] = append(ids, mid), body
	}
	reply(replies[0])
	select {
	case <-held:
	case <-time.After(emailWait):
		t.Fatal("the first reply never reached the SMTP server")
	}
	reply(replies[1])
	// Both are committed; neither was acknowledged.
	if got := deliveries(t, d.base, id); strings.Join(got, ",") != "queued,queued" {
		t.Fatalf("before the kill: got deliveries %v, want both queued", got)
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	d.wait()
	releaseOnce.Do(func() { close(release) })

	d2 := startDaemon(t, "-config", filepath.Join(dir, "routerd.yaml"))
	eventually(t, "both replies sent", func() bool { return strings.Join(deliveries(t, d2.base, id), ",") == "sent,sent" })
	// Three copies: the held one (in the sink once its DATA returned),
	// and the two sent after the restart (each in the sink before
	// routerd heard its 250, so before "sent"); any further copy would
	// be there by now too.
	var got []sentMail
	for range 3 {
		got = append(got, readSent(t, sink.Wait(t, emailWait)))
	}
	for len(sink.Received) > 0 {
		got = append(got, readSent(t, <-sink.Received))
	}
	copies := map[string]int{}
	for _, m := range got {
		body, ok := want[m.id]
		if !ok {
			t.Errorf("a mail with Message-ID %q, not one of the replies %v", m.id, want)
			continue
		}
		if !strings.Contains(m.text, body) {
			t.Errorf("%s: got text %q, want the reply %q", m.id, m.text, body)
		}
		copies[m.id]++
	}
	// Deduplicated by Message-ID, each reply once; the held one came
	// twice, both copies with its one Message-ID.
	if len(copies) != len(replies) {
		t.Errorf("got %d distinct Message-IDs %v, want %d, one per reply", len(copies), copies, len(replies))
	}
	for i, wantCopies := range []int{2, 1} {
		if copies[ids[i]] != wantCopies {
			t.Errorf("reply %d (%s): got %d copies, want %d", i+1, ids[i], copies[ids[i]], wantCopies)
		}
	}
}

// deliveries are the delivery statuses of contact id's outbound
// messages, in order.
func deliveries(t *testing.T, base, id string) []string {
	t.Helper()
	var c struct {
		Messages []struct {
			Direction string `json:"direction"`
			Delivery  *struct {
				Status string `json:"status"`
			} `json:"delivery"`
		} `json:"messages"`
	}
	if code, err := call(base, "GET", "/api/v1/contacts/"+id, nil, nil, &c); err != nil || code != http.StatusOK {
		t.Fatalf("get contact %s: %d %v", id, code, err)
	}
	var out []string
	for _, m := range c.Messages {
		if m.Direction != "out" {
			continue
		}
		status := "none"
		if m.Delivery != nil {
			status = m.Delivery.Status
		}
		out = append(out, status)
	}
	return out
}
