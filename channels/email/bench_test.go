package email

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/email/emailtest"
	"github.com/switchboard/switchboard/router"
)

// BenchmarkDovecotBacklog takes a backlog of 10,000 messages in from a
// real Dovecot, each committed before it is flagged, and reports
// messages a second. Run with -benchtime=1x (docs/performance.md).
func BenchmarkDovecotBacklog(b *testing.B) {
	const n = 10000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d := emailtest.StartDovecot(b, map[string]string{"support": "s3cret"})
		var mails []string
		for j := 0; j < n; j++ {
			mails = append(mails, mkMail(fmt.Sprintf("m%d@customer.example", j), fmt.Sprintf("c%d@customer.example", j%500),
				fmt.Sprintf("Question %d", j), "Hello, I have a question about my invoice.\r\nThanks, a customer"))
		}
		emailtest.Append(b, d.Addr, "support", "s3cret", "INBOX", mails...)
		e := newEnv(b)
		e.bound = 10 * time.Minute
		b.StartTimer()
		began := time.Now()
		e.start(nil, dovecotMailbox("support", d.Addr, "support", "s3cret"))
		e.waitUID("support", n)
		b.ReportMetric(n/time.Since(began).Seconds(), "msgs/s")
		b.StopTimer()
		e.ch.Close()
	}
}

// BenchmarkReplySubmission measures an agent's reply from the send
// (AddMessage, which commits it with its outbox entry) to its arrival at
// the SMTP server (go-smtp's, in process), through the outbox and the
// Sender, one reply at a time; it reports p50 and p99.
func BenchmarkReplySubmission(b *testing.B) {
	e := newEnv(b)
	sink := emailtest.NewSMTPSink(b, "relay", "relay-pass")
	e.withOutbox(sink)
	ctx := context.Background()
	c, _, err := e.rt.Submit(ctx, router.NewContact{Channel: router.ChannelEmail, Queue: "support",
		Customer: router.Customer{Email: "ada@customer.example"}, Body: "Hi",
		First: router.Message{ExternalID: ExternalID("support", "q1@customer.example")}})
	if err != nil {
		b.Fatal(err)
	}
	e.agentReply(c.ID, "warm-up")
	sink.Wait(b, waitBound)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		began := time.Now()
		if _, _, err := e.rt.AddMessage(ctx, c.ID, router.Message{Direction: "out", Author: "a1", Body: fmt.Sprintf("Reply %d", i)}); err != nil {
			b.Fatal(err)
		}
		sink.Wait(b, waitBound)
		lat = append(lat, time.Since(began))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
