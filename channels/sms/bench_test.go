package sms

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/router"
)

// BenchmarkInboundWebhook measures Twilio's view of the inbound webhook
// at 500 texts a second over HTTP: from the request's start to the
// answer, which comes after the text is committed to SQLite
// (synchronous=full, as routerd's default). 500 numbers text ten times
// each: a number's first text starts a contact, the others join it.
func BenchmarkInboundWebhook(b *testing.B) {
	const (
		rate    = 500
		numbers = 500
	)
	e := newEnvSync(b, "full")
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	n := max(b.N, 5000)
	type req struct{ body, sig string }
	reqs := make([]req, n)
	for i := range n {
		form := textForm(newSID(), fmt.Sprintf("+1555200%04d", i%numbers), supportNum, fmt.Sprintf("text %d", i))
		reqs[i] = req{encode(form), sign(testToken, testPublic+InboundPath, form)}
	}
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	b.ResetTimer()
	tick := time.NewTicker(time.Second / rate)
	for i := range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := http.NewRequest(http.MethodPost, srv.URL+InboundPath, strings.NewReader(reqs[i].body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Twilio-Signature", reqs[i].sig)
			start := time.Now()
			resp, err := client.Do(r)
			if err != nil {
				b.Errorf("text %d: %v", i, err)
				return
			}
			resp.Body.Close()
			lat[i] = time.Since(start)
			if resp.StatusCode != http.StatusOK {
				b.Errorf("text %d: %d", i, resp.StatusCode)
			}
		}()
	}
	tick.Stop()
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[n-1].Microseconds())/1000, "max-ms")
}

// BenchmarkOutboundDispatch measures how fast agents' replies go out:
// n replies on 100 contacts committed at once, each handed by the outbox
// to the channel, created on the stand-in's Messages API through
// twilio-go, and its MessageSid and status committed. It reports the
// replies a second until the last is recorded.
func BenchmarkOutboundDispatch(b *testing.B) {
	const contacts = 100
	e := newEnvSync(b, "full")
	ctx := context.Background()
	if _, err := e.rt.SetAgentState(ctx, "alice", router.AgentAvailable, ""); err != nil {
		b.Fatal(err)
	}
	var cs []router.Contact
	for i := range contacts {
		num := fmt.Sprintf("+1555300%04d", i)
		e.text(newSID(), num, supportNum, "hi")
		c, _ := e.rt.Snapshot().Contact(e.contactsOf(num)[0].ID)
		if _, err := e.rt.Accept(ctx, c.ID, "alice"); err != nil {
			b.Fatalf("contact %d (%s, with %q): %v", i, c.State, c.AgentID, err)
		}
		cs = append(cs, c)
	}
	n := max(b.N, 2000)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := e.rt.AddMessage(ctx, cs[i%contacts].ID, router.Message{Direction: "out", Author: "alice", Body: fmt.Sprintf("reply %d", i)}); err != nil {
				b.Errorf("reply %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	for recorded := 0; recorded < n; {
		select {
		case p := <-e.sub.C:
			for _, note := range p.Notes {
				if note.Kind == router.NoteDelivery && note.Message.ExternalID != "" {
					recorded++
				}
			}
		case <-time.After(time.Minute):
			b.Fatalf("%d of %d replies recorded", recorded, n)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "replies/s")
	if got := len(e.twilio.sent()); got != n {
		b.Fatalf("the stand-in created %d messages, want %d", got, n)
	}
}
