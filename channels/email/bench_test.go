package email

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard/switchboard/channels/email/emailtest"
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
